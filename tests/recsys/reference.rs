//! The recsys check's values against an independent Python computation
//! (tests/reference/recsys.py, committed with its output under
//! tests/fixtures/recsys/): a hand-checked small case and a seeded larger one.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use mlwatch::checks::recsys::RecsysConfig;
use mlwatch::checks::{CheckKind, EvalContext};
use mlwatch::sources::SourceMeta;
use mlwatch::sources::read::read_file;
use polars::prelude::DataFrame;

fn fixtures() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/recsys")
}

fn expected() -> serde_json::Value {
    serde_json::from_str(&std::fs::read_to_string(fixtures().join("expected.json")).unwrap()).unwrap()
}

/// Every value of the check over the given tables, per series (`all`, or the arm).
fn evaluate(lists: &DataFrame, catalog: &DataFrame, feedback: &DataFrame, previous: &DataFrame, k: u64, by_arm: bool) -> BTreeMap<String, BTreeMap<&'static str, f64>> {
    let arm = if by_arm { "arm: arm, " } else { "" };
    let yaml = format!(
        "{{ user: user_id, item: item_id, {arm}k: {k}, stability: true, personalization: {{ pairs: 100000000 }}, \
         catalog: {{ source: catalog, category: category, popularity: popularity, embedding: embedding }}, \
         feedback: {{ source: feedback, clicked: clicked }} }}"
    );
    let check = serde_saphyr::from_str::<RecsysConfig>(&yaml).unwrap().validate().unwrap();
    run(&check, lists, &[catalog, feedback, previous])
        .into_iter()
        .map(|s| (s.labels.get("arm").cloned().unwrap_or_else(|| "all".into()), s.values))
        .collect()
}

/// The check's series over `lists` with its side tables.
fn run(check: &impl CheckKind, lists: &DataFrame, side: &[&DataFrame]) -> Vec<mlwatch::checks::Series> {
    let meta = SourceMeta { rows: lists.height() as u64, ..Default::default() };
    let cx = EvalContext { tenant: Some("acme"), side, ..EvalContext::new(lists, &meta, chrono::DateTime::UNIX_EPOCH) };
    check.evaluate(&cx).unwrap()
}

fn compare(got: &BTreeMap<String, BTreeMap<&'static str, f64>>, want: &serde_json::Value, case: &str) {
    for (series, want) in want.as_object().unwrap() {
        let got = &got[series];
        let want = want.as_object().unwrap();
        let names: Vec<&str> = got.keys().copied().collect();
        assert_eq!(names, want.keys().map(String::as_str).collect::<Vec<_>>(), "{case}/{series}: which values are defined");
        for (name, w) in want {
            let (g, w) = (got[name.as_str()], w.as_f64().unwrap());
            assert!((g - w).abs() <= 1e-10 * w.abs().max(1.0), "{case}/{series}/{name}: got {g}, want {w}");
        }
    }
}

fn read(path: &Path) -> DataFrame {
    read_file(path, None, None).unwrap()
}

#[test]
fn recsys_values_match_the_hand_checked_small_case() {
    let small = &expected()["small"];
    let dir = tempfile::tempdir().unwrap();
    let table = |name: &str| {
        let path = dir.path().join(format!("{name}.jsonl"));
        let lines: String = small["inputs"][name].as_array().unwrap().iter().map(|r| format!("{r}\n")).collect();
        std::fs::write(&path, lines).unwrap();
        read(&path)
    };
    let (lists, catalog, feedback, previous) = (table("lists"), table("catalog"), table("feedback"), table("previous"));
    let k = small["k"].as_u64().unwrap();
    let all = evaluate(&lists, &catalog, &feedback, &previous, k, false);
    let mut got = evaluate(&lists, &catalog, &feedback, &previous, k, true);
    got.extend(all);
    compare(&got, &small["values"], "small");
}

#[test]
fn recsys_values_match_the_independent_computation() {
    let f = fixtures();
    let (lists, catalog) = (read(&f.join("lists.csv")), read(&f.join("catalog.jsonl")));
    let (feedback, previous) = (read(&f.join("feedback.csv")), read(&f.join("lists_previous.csv")));
    let k = expected()["k"].as_u64().unwrap();
    let all = evaluate(&lists, &catalog, &feedback, &previous, k, false);
    let mut got = evaluate(&lists, &catalog, &feedback, &previous, k, true);
    got.extend(all);
    compare(&got, &expected()["values"], "seeded");
}

#[test]
fn sampled_personalization_estimates_the_exact_value() {
    let f = fixtures();
    let lists = read(&f.join("lists.csv"));
    let exact = expected()["values"]["all"]["personalization"].as_f64().unwrap();
    let sampled = |seed: u64| {
        let yaml = format!("{{ user: user_id, item: item_id, personalization: {{ pairs: 20000, seed: {seed} }} }}");
        let check = serde_saphyr::from_str::<RecsysConfig>(&yaml).unwrap().validate().unwrap();
        run(&check, &lists, &[])[0].values["personalization"]
    };
    // 20,000 pairs of overlaps bounded by 1: the estimate's standard error is
    // under 0.003, so 0.02 is far beyond chance; one seed gives one answer.
    assert_eq!(sampled(7), sampled(7));
    for seed in [1, 2, 3] {
        assert!((sampled(seed) - exact).abs() < 0.02, "seed {seed}: {} vs {exact}", sampled(seed));
    }
}

fn ab() -> serde_json::Value {
    serde_json::from_str(&std::fs::read_to_string(fixtures().join("ab.json")).unwrap()).unwrap()
}

#[test]
fn sample_ratio_mismatch_matches_scipy_chisquare() {
    use mlwatch::stats::ab::srm;
    for case in ab()["srm"].as_array().unwrap() {
        let observed: Vec<u64> = case["observed"].as_array().unwrap().iter().map(|v| v.as_u64().unwrap()).collect();
        let split: Vec<f64> = case["split"].as_array().unwrap().iter().map(|v| v.as_f64().unwrap()).collect();
        let r = srm(&observed, &split).unwrap();
        let (chi2, p) = (case["chi2"].as_f64().unwrap(), case["p_value"].as_f64().unwrap());
        assert!((r.statistic - chi2).abs() <= 1e-9 * chi2.max(1.0), "{observed:?}: chi2 {} vs {chi2}", r.statistic);
        assert!((r.p_value - p).abs() <= 1e-6 * p, "{observed:?}: p {} vs {p}", r.p_value);
    }
    // GrowthBook's threshold, p < 0.001: an even split and a 90/10 split
    // observed as declared are healthy; 5,250/4,750 of a 50/50 split is not.
    let fires = |o: &[u64], s: &[f64]| srm(o, s).unwrap().p_value < 0.001;
    assert!(!fires(&[5000, 5000], &[50.0, 50.0]));
    assert!(fires(&[5250, 4750], &[50.0, 50.0]));
    assert!(!fires(&[9000, 1000], &[90.0, 10.0]));
}

#[test]
fn two_proportion_z_test_matches_statsmodels() {
    use mlwatch::stats::ab::two_proportions;
    for case in ab()["ztest"].as_array().unwrap() {
        let pair = |k: &str| (case[k][0].as_u64().unwrap(), case[k][1].as_u64().unwrap());
        let r = two_proportions(pair("arm"), pair("control"), 0.95).unwrap();
        let name = case["name"].as_str().unwrap();
        let close = |got: f64, key: &str| {
            let want = case[key].as_f64().unwrap();
            assert!((got - want).abs() <= 1e-9 * want.abs().max(1e-300) || (got - want).abs() < 1e-15, "{name}/{key}: {got} vs {want}");
        };
        close(r.z, "z");
        close(r.p_worse, "p_worse");
        close(r.p_two_sided, "p_two_sided");
        close(r.diff, "diff");
        close(r.low, "ci95_low");
        close(r.high, "ci95_high");
        close(r.lift.unwrap(), "lift");
    }
}
