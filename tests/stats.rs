//! Statistics against reference values computed with numpy/scipy
//! (`tests/reference/generate.py` → `tests/reference/drift.json`).

use mlwatch::stats::{ks, psi, quantile, sorted};
use serde::Deserialize;

#[derive(Deserialize)]
struct Reference {
    psi_epsilon: f64,
    cases: Vec<Case>,
}

#[derive(Deserialize)]
struct Case {
    name: String,
    reference: Vec<f64>,
    current: Vec<f64>,
    ks_statistic: f64,
    ks_pvalue_asymptotic: f64,
    psi_edges: Vec<f64>,
    psi_reference_counts: Vec<u64>,
    psi_current_counts: Vec<u64>,
    psi: f64,
}

fn reference() -> Reference {
    let path = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/reference/drift.json");
    serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap()
}

fn close(got: f64, want: f64, rel: f64) -> bool {
    (got - want).abs() <= rel * want.abs().max(1e-300) || (got - want).abs() < 1e-15
}

#[test]
fn ks_matches_scipy() {
    for c in reference().cases {
        let r = ks::ks_2samp(&sorted(c.reference.clone()), &sorted(c.current.clone())).unwrap();
        assert!(close(r.statistic, c.ks_statistic, 1e-9), "{}: statistic {} vs {}", c.name, r.statistic, c.ks_statistic);
        assert!((r.p_value - c.ks_pvalue_asymptotic).abs() < 1e-6, "{}: p {} vs {}", c.name, r.p_value, c.ks_pvalue_asymptotic);
    }
}

#[test]
fn psi_matches_numpy() {
    let r = reference();
    for c in r.cases {
        let base = sorted(c.reference.clone());
        let edges = quantile::quantile_edges(&base, 10);
        assert_eq!(edges.len(), c.psi_edges.len(), "{}", c.name);
        for (a, b) in edges.iter().zip(&c.psi_edges) {
            assert!(close(*a, *b, 1e-12), "{}: edge {a} vs {b}", c.name);
        }
        assert_eq!(psi::bin_counts(&edges, &c.reference), c.psi_reference_counts, "{}", c.name);
        let cur_counts = psi::bin_counts(&edges, &c.current);
        assert_eq!(cur_counts, c.psi_current_counts, "{}", c.name);
        let got = psi::psi_from_counts(&c.psi_reference_counts, &cur_counts, r.psi_epsilon).unwrap();
        assert!(close(got, c.psi, 1e-9), "{}: psi {got} vs {}", c.name, c.psi);
    }
}
