//! `mlwatch test FILE...`: run rule unit tests, print what failed as a diff.

use std::process::ExitCode;

use super::TestArgs;
use crate::ruletest::{self, FileOutcome};

pub fn test(args: TestArgs) -> ExitCode {
    let run = match args.run.as_deref().map(regex::Regex::new).transpose() {
        Ok(r) => r,
        Err(e) => {
            eprintln!("mlwatch test: --run: {e}");
            return ExitCode::from(2);
        }
    };
    let selected = |name: &str| run.as_ref().is_none_or(|r| r.is_match(name));
    let (mut tests, mut failed) = (0, 0);
    for path in &args.files {
        let outcome = ruletest::run_file(path, &selected);
        print!("{}", render(&outcome));
        tests += outcome.tests.len();
        failed += outcome.failed();
    }
    println!("{} file{}, {tests} test{}, {failed} failed", args.files.len(), plural(args.files.len()), plural(tests));
    if failed > 0 { ExitCode::from(1) } else { ExitCode::SUCCESS }
}

/// `file: N tests`, then `ok`/`FAIL` per test with its failures indented.
fn render(o: &FileOutcome) -> String {
    let mut out = String::new();
    if let Some(e) = &o.error {
        out += &format!("{}: FAIL: {e}\n", o.path.display());
        return out;
    }
    out += &format!("{}: {} test{}\n", o.path.display(), o.tests.len(), plural(o.tests.len()));
    for t in &o.tests {
        if t.failures.is_empty() {
            out += &format!("  ok    {} ({} assertion{})\n", t.name, t.assertions, plural(t.assertions));
            continue;
        }
        out += &format!("  FAIL  {}: {}: {} problem{}\n", o.path.display(), t.name, t.failures.len(), plural(t.failures.len()));
        for lines in &t.failures {
            for (i, line) in lines.iter().enumerate() {
                out += if i == 0 { "        " } else { "          " };
                out += line;
                out.push('\n');
            }
        }
    }
    out
}

fn plural(n: usize) -> &'static str {
    if n == 1 { "" } else { "s" }
}
