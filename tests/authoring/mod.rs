//! The SRE authoring loop: `mlwatch test`, `mlwatch eval`, the warnings of
//! `mlwatch check`, and the ready rule library with its tests and runbooks.

use std::path::Path;

use super::support::{fixture, mlwatch};

fn root() -> &'static Path {
    Path::new(env!("CARGO_MANIFEST_DIR"))
}

fn run(args: &[&str]) -> (Option<i32>, String) {
    let out = mlwatch(args);
    (out.status.code(), format!("{}{}", String::from_utf8_lossy(&out.stdout), String::from_utf8_lossy(&out.stderr)))
}

#[test]
fn mlwatch_test_passes_pending_firing_resolved_and_flapping() {
    let (code, out) = run(&["test", fixture("ruletest/pass.yaml").to_str().unwrap()]);
    assert_eq!(code, Some(0), "{out}");
    assert!(out.contains("ok    pending, firing, resolved (7 assertions)"), "{out}");
    assert!(out.contains("ok    flapping data does not fire (7 assertions)"), "{out}");
    assert!(out.contains("1 file, 2 tests, 0 failed"), "{out}");
}

#[test]
fn mlwatch_test_fails_each_way_naming_the_file_and_test_with_a_diff() {
    let file = fixture("ruletest/fail.yaml");
    let (code, out) = run(&["test", file.to_str().unwrap()]);
    assert_eq!(code, Some(1), "{out}");
    let at = |test: &str| format!("FAIL  {}: {test}: 1 problem", file.display());
    let expected: [(&str, &[&str]); 5] = [
        ("wrong labels", &["alert_rule_test: Busy at 40m: expected 1 firing alert, got 1:", "labels differ:", "severity: expected \"page\", got \"ticket\""]),
        (
            "missing alert",
            &["alert_rule_test: Busy at 30m: expected 1 firing alert, got 0:", "- {alertname=\"Busy\", severity=\"ticket\", tenant=\"acme\"}  expected, missing (it is pending, active since +10m)"],
        ),
        ("unexpected alert", &["expected 0 firing alerts, got 1:", "+ {alertname=\"Busy\", severity=\"ticket\", tenant=\"acme\"}  not expected, got it"]),
        ("value out of tolerance", &["value_test: Busy count{tenant=\"acme\"} at 10m: expected 5 ± 1, got 3 (off by -2)"]),
        ("bad fixture path", &["input `events`[0] (events/acme.jsonl): fixture `fixtures/nothing-here.jsonl`: cannot read", "no such file"]),
    ];
    for (test, lines) in expected {
        let block: String = out.split("  FAIL  ").find(|b| b.starts_with(&format!("{}: {test}:", file.display()))).unwrap_or_else(|| panic!("no failure of `{test}` in:\n{out}")).to_string();
        assert!(out.contains(&at(test)), "{out}");
        for line in lines {
            assert!(block.contains(line), "`{test}` lacks `{line}`:\n{block}");
        }
    }
    assert!(out.contains("1 file, 5 tests, 5 failed"), "{out}");
    // One test picked by name; a passing run of it exits 0.
    let (code, out) = run(&["test", "--run", "^bad fixture", file.to_str().unwrap()]);
    assert_eq!(code, Some(1), "{out}");
    assert!(out.contains("1 file, 1 test, 1 failed"), "{out}");
    let (code, out) = run(&["test", "--run", "^pending", fixture("ruletest/pass.yaml").to_str().unwrap()]);
    assert_eq!(code, Some(0), "{out}");
    assert!(out.contains("1 test, 0 failed"), "{out}");
}

#[test]
fn mlwatch_test_names_a_malformed_test_file() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("broken.yaml");
    std::fs::write(&file, "rule_files: [r.yaml]\ntests:\n  - name: x\n    alert_rul_test: []\n").unwrap();
    let (code, out) = run(&["test", file.to_str().unwrap()]);
    assert_eq!(code, Some(1), "{out}");
    assert!(out.contains("broken.yaml:4:5") && out.contains("unknown field `alert_rul_test`"), "{out}");
}

#[test]
fn check_warns_about_rules_that_will_disappoint() {
    let file = fixture("ruletest/lint.yaml");
    let (code, out) = run(&["check", file.to_str().unwrap()]);
    assert_eq!(code, Some(0), "{out}");
    for (rule, warning) in [
        ("NoRunbook", "no `runbook_url` annotation"),
        ("NoDescription", "no `description` annotation"),
        ("ForShorterThanInterval", "`for: 5m` is shorter than the group's interval (10m)"),
        ("PValueOnly", "the condition tests a p-value without an effect size"),
        ("SharedBaseline", "a per-tenant rule compares every tenant with one shared profile"),
        ("HistoryBeyondRetention", "the check reads 20days of its recorded history, but `storage.retention` keeps 15days"),
    ] {
        assert!(out.lines().any(|l| l.contains("lint-rules.yaml:") && l.contains(&format!("warning: rule `{rule}`: {warning}"))), "{rule}: {out}");
    }
    assert!(!out.contains("rule `Fine`"), "{out}");
    assert!(out.contains("lint.yaml: OK: 1 test, 1 source, 1 rule file, 1 group, 7 rules, 6 warnings"), "{out}");
    let (code, out) = run(&["check", "--strict", file.to_str().unwrap()]);
    assert_eq!(code, Some(1), "{out}");
    assert!(out.contains("6 warnings found (--strict)"), "{out}");
}

#[test]
fn every_shipped_rule_has_a_test_a_runbook_and_no_warning() {
    let names = |dir: &str, key: &str| -> Vec<String> {
        let mut out = Vec::new();
        for entry in std::fs::read_dir(root().join(dir)).unwrap() {
            let text = std::fs::read_to_string(entry.unwrap().path()).unwrap();
            out.extend(text.lines().filter_map(|l| l.trim().trim_start_matches("- ").trim_start_matches("{ ").strip_prefix(key)).map(|n| n.trim().trim_end_matches([',', '}']).trim().to_string()));
        }
        out
    };
    let rules = names("rules", "alert:");
    let tested = names("tests/rules", "alertname:");
    assert!(rules.len() >= 20, "{rules:?}");
    let cookbook = std::fs::read_to_string(root().join("docs/cookbook.md")).unwrap();
    for rule in &rules {
        assert!(tested.contains(rule), "rule `{rule}` has no test in tests/rules/");
        assert!(cookbook.contains(&format!("| `{rule}` |")), "rule `{rule}` is not in docs/cookbook.md's table of ready rules");
    }
    for url in names("rules", "runbook_url:") {
        let file = url.trim_matches('"').split("/docs/runbooks/").nth(1).unwrap_or_else(|| panic!("{url}")).split('#').next().unwrap().to_string();
        assert!(root().join("docs/runbooks").join(&file).is_file(), "{url}: no docs/runbooks/{file}");
    }
    let files: Vec<String> = std::fs::read_dir(root().join("tests/rules")).unwrap().map(|e| e.unwrap().path().to_string_lossy().into_owned()).filter(|p| p.ends_with(".yaml")).collect();
    let mut args = vec!["check", "--strict"];
    args.extend(files.iter().map(String::as_str));
    let (code, out) = run(&args);
    assert_eq!(code, Some(0), "{out}");
    let mut args = vec!["test"];
    args.extend(files.iter().map(String::as_str));
    let (code, out) = run(&args);
    assert_eq!(code, Some(0), "{out}");
}

/// A config over the fixture rule (events per tenant in 10 minutes) with
/// acme busy and globex quiet at 2026-03-01T12:00:00Z.
fn eval_setup() -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    let events = dir.path().join("events");
    std::fs::create_dir(&events).unwrap();
    let at = 1_772_366_400; // 2026-03-01T12:00:00Z
    let lines = |ts: &[i64]| ts.iter().map(|t| format!("{{\"ts\": {}}}\n", at - t)).collect::<String>();
    std::fs::write(events.join("acme.jsonl"), lines(&[60, 120, 180, 240])).unwrap();
    std::fs::write(events.join("globex.jsonl"), lines(&[60])).unwrap();
    std::fs::copy(fixture("ruletest/rules.yaml"), dir.path().join("rules.yaml")).unwrap();
    std::fs::write(
        dir.path().join("mlwatch.yaml"),
        "sources:\n  events: { kind: file, path: \"events/{tenant}.jsonl\", timestamp: ts }\n\
         rule_files: [rules.yaml]\nstorage: { path: state }\nroute: { receiver: r }\nreceivers: [{ name: r, stdout: [{}] }]\n",
    )
    .unwrap();
    dir
}

#[test]
fn eval_prints_values_condition_and_alert_state_and_changes_nothing() {
    let dir = eval_setup();
    let config = dir.path().join("mlwatch.yaml");
    let config = config.to_str().unwrap();
    let (code, out) = run(&["eval", "--config", config, "--at", "2026-03-01T12:00:00Z", "--format", "json"]);
    assert_eq!(code, Some(0), "{out}");
    let e: serde_json::Value = serde_json::from_str(&out).unwrap();
    assert_eq!((e["format"].as_str(), e["version"].as_u64()), (Some("mlwatch-eval"), Some(1)));
    let rule = &e["groups"][0]["rules"][0];
    assert_eq!((rule["rule"].as_str(), rule["when"].as_str(), rule["for_seconds"].as_f64()), (Some("Busy"), Some("count >= 3"), Some(1800.0)));
    let series = rule["series"].as_array().unwrap();
    let of = |tenant: &str| series.iter().find(|s| s["labels"]["tenant"] == tenant).unwrap();
    assert_eq!((of("acme")["values"]["count"].as_f64(), of("acme")["holds"].as_bool(), of("acme")["alert"].as_str()), (Some(4.0), Some(true), Some("pending")));
    assert_eq!((of("globex")["values"]["count"].as_f64(), of("globex")["holds"].as_bool(), of("globex")["alert"].as_str()), (Some(1.0), Some(false), Some("inactive")));

    let (code, out) = run(&["eval", "--config", config, "--at", "2026-03-01T12:00:00Z", "--rule", "Busy", "--tenant", "acme"]);
    assert_eq!(code, Some(0), "{out}");
    assert!(out.contains("Busy  when count >= 3 for 30m"), "{out}");
    assert!(out.contains("{tenant=\"acme\"}  holds → pending since 2026-03-01T12:00:00Z"), "{out}");
    assert!(!out.contains("globex"), "{out}");
    // It sent nothing (stdout receivers print nothing) and wrote no state.
    assert!(!out.contains("FIRING"), "{out}");
    assert!(!dir.path().join("state").exists());

    let (code, out) = run(&["eval", "--config", config, "--rule", "Bussy"]);
    assert_eq!(code, Some(2), "{out}");
    assert!(out.contains("--rule: no rule `Bussy` (did you mean `Busy`?)"), "{out}");
}
