//! `mlwatch check`: validate everything the agent would load, report all errors.

use std::path::Path;
use std::process::ExitCode;

use crate::agent::Prepared;

/// Everything the agent would load at start or reload, through the agent's own
/// preparation, so `check` and the agent cannot disagree.
pub fn check(path: &Path) -> ExitCode {
    let prepared = match Prepared::load(path) {
        Ok(p) => p,
        Err(problems) => {
            println!("{problems}");
            eprintln!("{} error{} found", problems.len(), if problems.len() == 1 { "" } else { "s" });
            return ExitCode::from(1);
        }
    };
    let c = &prepared.config;
    let rules: usize = c.rules.groups.iter().map(|g| g.rules.len()).sum();
    println!(
        "{}: OK: {} source{}, {} rule file{}, {} group{}, {} rule{}, {} receiver{}",
        path.display(),
        c.sources.len(),
        plural(c.sources.len()),
        c.rule_files.len(),
        plural(c.rule_files.len()),
        c.rules.groups.len(),
        plural(c.rules.groups.len()),
        rules,
        plural(rules),
        c.receivers.len(),
        plural(c.receivers.len()),
    );
    ExitCode::SUCCESS
}

fn plural(n: usize) -> &'static str {
    if n == 1 { "" } else { "s" }
}
