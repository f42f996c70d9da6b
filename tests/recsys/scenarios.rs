//! The recommendation-quality example (examples/recsys/quality.py and
//! quality.yaml) through `mlwatch backtest` with the ready rules of `rules/`:
//! each incident is caught for its tenant, and the healthy tenant is quiet.

use std::path::Path;

use serde_json::Value;

use super::mlwatch;

/// The example's config over freshly generated data, with the rule files
/// named by absolute path.
fn example() -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let out = std::process::Command::new("python3")
        .arg(root.join("examples/recsys/quality.py"))
        .arg(dir.path().join("data/quality"))
        .output()
        .expect("python3 runs");
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let config = std::fs::read_to_string(root.join("examples/recsys/quality.yaml")).unwrap();
    let config = config.replace("../../rules/", &format!("{}/rules/", root.display()));
    std::fs::write(dir.path().join("quality.yaml"), config).unwrap();
    dir
}

#[test]
fn the_recsys_and_ab_rules_catch_the_collapse_the_broken_split_and_the_ctr_drop() {
    let dir = example();
    let config = dir.path().join("quality.yaml");
    let out = mlwatch(&["backtest", "--config", config.to_str().unwrap(), "--from", "2026-11-09T00:00:00Z", "--to", "2026-11-16T00:00:00Z", "--format", "json"]);
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(!stderr.contains("evaluation failed"), "{stderr}");
    let report: Value = serde_json::from_slice(&out.stdout).unwrap();
    let mut fired: Vec<(String, String, String)> = report["alerts"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|a| !a["firing_at"].is_null())
        .map(|a| {
            let arm = a["labels"]["arm"].as_str().map(|c| format!("/{c}")).unwrap_or_default();
            let who = format!("{}/{}{arm}", a["rule"].as_str().unwrap(), a["labels"]["tenant"].as_str().unwrap());
            (who, a["firing_at"].as_str().unwrap().to_string(), a["resolved_at"].as_str().unwrap_or("-").to_string())
        })
        .collect();
    fired.sort();
    // The CTR alert's value is the rule's `value: lift`: about 40% below control.
    let lift = report["alerts"].as_array().unwrap().iter().find(|a| a["rule"] == "ABArmCtrDropped" && !a["firing_at"].is_null()).unwrap()["last_value"].as_f64().unwrap();
    assert!((-0.6..-0.2).contains(&lift), "lift {lift}");
    let p = |who: &str, firing: &str, resolved: &str| (who.to_string(), firing.to_string(), resolved.to_string());
    assert_eq!(
        fired,
        [
            // acme's treatment arm clicks 6% from the 14th, 12:00: with a day's
            // window, the drop is significant (p < 0.001, over 20%) that night.
            p("ABArmCtrDropped/acme/treatment", "2026-11-15T01:00:00Z", "-"),
            // initech's 45/55 from the 14th, 00:00; `for: 1h`.
            p("ABSampleRatioMismatch/initech/all", "2026-11-14T10:45:00Z", "-"),
            // globex's lists of the 13th: everyone gets 10 of 30 popular items;
            // the churn of that one day against the day before fires too.
            p("RecommendationListsChurned/globex", "2026-11-13T03:00:00Z", "2026-11-14T03:00:00Z"),
            p("RecommendationsCollapsedToPopular/globex", "2026-11-13T03:00:00Z", "-"),
        ],
        "umbrella is healthy throughout, and each incident fires for its tenant only"
    );
}

#[test]
fn a_recsys_rule_names_a_missing_side_source_at_its_check() {
    let dir = tempfile::tempdir().unwrap();
    super::write_config_and_rules(
        dir.path(),
        r#"lists: { kind: file, path: "lists/{tenant}/*.csv", timestamp: ts }
  api: { kind: log, path: "api.log", timestamp: ts, tenant_field: tenant, fields: { arm: string } }"#,
        r#"groups:
  - name: g
    source: lists
    per_tenant: true
    rules:
      - alert: A
        check: { recsys: { user: u, item: i, catalog: { source: catalgo } } }
        when: "coverage < 0.1"
      - alert: B
        check: { recsys: { user: u, item: i, catalog: { source: api } } }
        when: "coverage < 0.1"
      - alert: C
        check: { recsys: { user: u, item: i, stability: true } }
        when: "stability < 0.1"
      - alert: D
        check: { recsys: { user: u, item: i } }
        when: "coverage < 0.1"
      - alert: E
        check: { recsys: { user: u, item: i } }
        when: "lists < 10"
        value: listz
"#,
    );
    let out = mlwatch(&["check", "--config", dir.path().join("mlwatch.yaml").to_str().unwrap()]);
    let text = String::from_utf8_lossy(&out.stdout).into_owned() + &String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "{text}");
    for want in [
        "rules.yaml:7:16: rule `A`: unknown source `catalgo`",
        "rules.yaml:10:16: rule `B`: source `api` is a log source; a check reads tables (rows) from `file` sources",
        "rules.yaml:13:16: rule `C`: comparing with the previous window needs the group's `window`",
        // Coverage needs the catalog: the condition names a value this check cannot yield.
        "rules.yaml:17:15: rule `D`: when:",
        "rules.yaml:21:16: rule `E`: value: `listz` is not a value of this recsys check (lists, list_length_mean,",
    ] {
        assert!(text.contains(want), "missing `{want}` in:\n{text}");
    }
}

#[test]
fn side_tables_are_read_per_tenant_in_the_window_or_shared_when_they_name_no_tenant() {
    use mlwatch::rules::eval::{EvalEnv, evaluate_group};
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path();
    let now = chrono::DateTime::parse_from_rfc3339("2026-11-10T12:00:00Z").unwrap().with_timezone(&chrono::Utc);
    let ago = |minutes: i64| (now - chrono::Duration::minutes(minutes)).timestamp_millis();
    let write = |path: &str, text: String| {
        let path = root.join(path);
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        std::fs::write(path, text).unwrap();
    };
    // Lists with a list column, one file per tenant; acme's u2 has an empty list.
    write("lists/acme/l.jsonl", format!("{{\"ts\":{t},\"user\":\"u1\",\"items\":[\"a\",\"b\"]}}\n{{\"ts\":{t},\"user\":\"u2\",\"items\":[]}}\n", t = ago(60)));
    write("lists/globex/l.jsonl", format!("{{\"ts\":{t},\"user\":\"g1\",\"items\":[\"a\",\"c\",\"d\"]}}\n", t = ago(60)));
    // One catalog for every tenant (its path names none).
    write("catalog.csv", "item,category\na,x\nb,y\nc,x\nd,x\n".into());
    // acme's impressions: one is older than the 2h window; globex has none.
    write(
        "impressions/acme/i.csv",
        format!("ts,user,item,clicked\n{n},u1,a,true\n{n},u1,b,false\n{old},u1,b,true\n{n},u2,a,false\n", n = ago(30), old = ago(180)),
    );
    super::write_config_and_rules(
        root,
        r#"lists: { kind: file, path: "lists/{tenant}/*.jsonl", timestamp: ts, timestamp_unit: ms }
  items: { kind: file, path: "catalog.csv" }
  impressions: { kind: file, path: "impressions/{tenant}/*.csv", timestamp: ts, timestamp_unit: ms }"#,
        r#"groups:
  - name: g
    source: lists
    window: 2h
    per_tenant: true
    rules:
      - alert: R
        check: &lists
          recsys:
            user: user
            item: items
            k: 2
            catalog: { source: items, item: item, category: category }
            feedback: { source: impressions, item: item, clicked: clicked }
        when: "ctr < 0.5"
      # The same check: computed once in the evaluation, judged by each rule.
      - alert: R2
        check: *lists
        when: "coverage > 0.6"
"#,
    );
    let prepared = mlwatch::agent::Prepared::load(&root.join("mlwatch.yaml")).unwrap();
    let known = Default::default();
    let env = EvalEnv { baselines: &prepared.baselines, store: None, known_tenants: &known, mode: mlwatch::sources::log::ReadMode::Replay, shard: None };
    let group = &prepared.config.rules.groups[0];
    let result = evaluate_group(group, &prepared.config.sources["lists"], &env, now);
    let rule = &result.rules[0];
    assert!(rule.failures.is_empty(), "{:?}", rule.failures);
    let of = |tenant: &str| &rule.series.iter().find(|s| s.labels["tenant"] == tenant).unwrap().values;
    let acme = of("acme");
    assert_eq!((acme["lists"], acme["empty_list_ratio"], acme["coverage"], acme["category_diversity"]), (2.0, 0.5, 0.5, 1.0));
    // Three impressions in the window, one clicked, on an item of u1's list.
    assert_eq!((acme["impressions"], acme["clicks"], acme["hit_rate"]), (3.0, 1.0, 0.5));
    assert!((acme["ctr"] - 1.0 / 3.0).abs() < 1e-12);
    let globex = of("globex");
    assert_eq!((globex["coverage"], globex["impressions"]), (0.75, 0.0));
    assert!(!globex.contains_key("ctr"), "no impressions: no CTR, and no alert");
    let firing: Vec<&str> = rule.series.iter().filter(|s| s.holds == Some(true)).map(|s| s.labels["tenant"].as_str()).collect();
    assert_eq!(firing, ["acme"]);
    let (r2, values) = (&result.rules[1], |r: &mlwatch::rules::eval::RuleResult| r.series.iter().map(|s| s.values.clone()).collect::<Vec<_>>());
    assert_eq!(values(r2), values(rule));
    let firing: Vec<&str> = r2.series.iter().filter(|s| s.holds == Some(true)).map(|s| s.labels["tenant"].as_str()).collect();
    assert_eq!(firing, ["globex"]);
}
