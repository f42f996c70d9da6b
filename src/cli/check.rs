//! `mlwatch check`: validate everything the agent would load, report all errors.

use std::path::Path;
use std::process::ExitCode;

use crate::config::{self, Diagnostics};

pub fn check(path: &Path) -> ExitCode {
    let mut problems = Diagnostics::default();
    let config = match config::load(path) {
        Ok(c) => Some(c),
        Err(d) => {
            problems.extend(d);
            None
        }
    };
    if let Some(c) = &config {
        if let Err(d) = config::load_baselines(c) {
            problems.extend(d);
        }
        for r in c.receivers.values() {
            if let Err(e) = r.build(c.base_dir()) {
                problems.push(config::Diagnostic { file: c.path.clone(), line: 0, column: 0, message: format!("receiver `{}`: {e}", r.name) });
            }
        }
    }
    if !problems.is_empty() {
        println!("{problems}");
        eprintln!("{} error{} found", problems.len(), if problems.len() == 1 { "" } else { "s" });
        return ExitCode::from(1);
    }
    let c = config.expect("no problems means a config");
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
