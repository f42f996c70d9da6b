//! `mlwatch check`: validate everything the agent would load, report all
//! errors, and warn about rules that load but will likely disappoint.
//! Given files, checks each: a config, or a rule unit-test file (its
//! sources, rule files and what its tests name).

use std::path::Path;
use std::process::ExitCode;

use super::CheckArgs;
use crate::agent::Prepared;
use crate::config::{Config, Diagnostic};
use crate::rules::lint::lint;
use crate::ruletest;

pub fn check(args: &CheckArgs) -> ExitCode {
    let targets: Vec<&Path> = if args.files.is_empty() { vec![args.config.config.as_path()] } else { args.files.iter().map(|p| p.as_path()).collect() };
    let (mut errors, mut warnings) = (0, 0);
    for path in targets {
        let checked = if is_test_file(path) { check_test_file(path) } else { check_config(path) };
        match checked {
            Ok((summary, found)) => {
                for w in &found {
                    println!("{w}");
                }
                warnings += found.len();
                let w = if found.is_empty() { String::new() } else { format!(", {} warning{}", found.len(), plural(found.len())) };
                println!("{}: OK: {summary}{w}", path.display());
            }
            Err(problems) => {
                for p in &problems {
                    println!("{p}");
                }
                errors += problems.len();
            }
        }
    }
    if errors > 0 {
        eprintln!("{errors} error{} found", plural(errors));
        return ExitCode::from(1);
    }
    if args.strict && warnings > 0 {
        eprintln!("{warnings} warning{} found (--strict)", plural(warnings));
        return ExitCode::from(1);
    }
    ExitCode::SUCCESS
}

/// Everything the agent would load at start or reload, through the agent's own
/// preparation, so `check` and the agent cannot disagree.
fn check_config(path: &Path) -> Result<(String, Vec<Diagnostic>), Vec<String>> {
    let prepared = Prepared::load(path).map_err(|d| d.0.iter().map(ToString::to_string).collect::<Vec<_>>())?;
    let c = &prepared.config;
    Ok((summary(c, true), lint(&c.rules, c.retention)))
}

/// A rule unit-test file: its YAML, its sources and rule files as a test
/// runs them (baselines are the tests' own, so not read), the sources its
/// inputs name and the rules its assertions name.
fn check_test_file(path: &Path) -> Result<(String, Vec<Diagnostic>), Vec<String>> {
    let loaded = ruletest::load(path).map_err(|e| vec![e])?;
    let scratch = tempfile::tempdir().map_err(|e| vec![format!("cannot make a scratch directory: {e}")])?;
    let config = loaded.config(scratch.path()).map_err(|e| e.lines().map(str::to_string).collect::<Vec<_>>())?;
    let rules: Vec<&str> = config.rules.groups.iter().flat_map(|g| &g.rules).map(|r| r.name.as_str()).collect();
    let mut problems = Vec::new();
    for (i, t) in loaded.file.tests.iter().enumerate() {
        let name = t.name.clone().unwrap_or_else(|| format!("test {}", i + 1));
        for source in t.input.keys().filter(|s| !loaded.sources.contains_key(*s)) {
            problems.push(format!("{}: test `{name}`: input: no source `{source}` in the file's `sources`", path.display()));
        }
        let named = t.alert_rule_test.iter().map(|a| &a.alertname).chain(t.value_test.iter().map(|v| &v.alertname));
        for rule in named.filter(|r| !rules.contains(&r.as_str())) {
            problems.push(format!("{}: test `{name}`: no rule `{rule}` in the rule files{}", path.display(), crate::config::diag::did_you_mean(rule, rules.iter().copied())));
        }
    }
    if !problems.is_empty() {
        return Err(problems);
    }
    let tests = loaded.file.tests.len();
    Ok((format!("{tests} test{}, {}", plural(tests), summary(&config, false)), lint(&config.rules, config.retention)))
}

/// Whether the file is a rule unit-test file (it has top-level `tests`).
fn is_test_file(path: &Path) -> bool {
    let Ok(text) = crate::util::fs::read_text(path, crate::config::diag::MAX_YAML_BYTES) else { return false };
    serde_saphyr::from_str::<std::collections::BTreeMap<String, serde::de::IgnoredAny>>(&text).is_ok_and(|top| top.contains_key("tests"))
}

fn summary(c: &Config, receivers: bool) -> String {
    let rules: usize = c.rules.groups.iter().map(|g| g.rules.len()).sum();
    let mut s = format!(
        "{} source{}, {} rule file{}, {} group{}, {} rule{}",
        c.sources.len(),
        plural(c.sources.len()),
        c.rule_files.len(),
        plural(c.rule_files.len()),
        c.rules.groups.len(),
        plural(c.rules.groups.len()),
        rules,
        plural(rules),
    );
    if receivers {
        s += &format!(", {} receiver{}", c.receivers.len(), plural(c.receivers.len()));
    }
    s
}

fn plural(n: usize) -> &'static str {
    if n == 1 { "" } else { "s" }
}
