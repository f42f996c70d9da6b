//! Statistics against reference values computed with numpy/scipy
//! (`tests/reference/generate.py` → `tests/reference/drift.json`).

use mlwatch::stats::{ks, psi, quantile, sorted};
use serde::Deserialize;

#[derive(Deserialize)]
struct Reference {
    psi_epsilon: f64,
    cases: Vec<Case>,
    ks_cases: Vec<KsCase>,
    kstwo_sf: Vec<(u64, f64, f64)>,
}

#[derive(Deserialize)]
struct KsCase {
    name: String,
    reference: Lattice,
    current: Lattice,
    statistic: f64,
    p_value: f64,
}

/// The deterministic samples of `generate.py`'s `lattice`, bit for bit.
#[derive(Deserialize)]
struct Lattice {
    n: u64,
    a: u64,
    b: u64,
    p: u64,
    scale: f64,
    shift: f64,
    sqrt: bool,
}

impl Lattice {
    fn values(&self) -> Vec<f64> {
        (0..self.n)
            .map(|i| {
                let mut u = ((i * self.a + self.b) % self.p) as f64 / self.p as f64;
                if self.sqrt {
                    u = u.sqrt();
                }
                u * self.scale + self.shift
            })
            .collect()
    }
}

#[derive(Deserialize)]
struct Case {
    name: String,
    reference: Vec<f64>,
    current: Vec<f64>,
    ks_statistic: f64,
    ks_pvalue: f64,
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
fn ks_matches_scipy_on_small_samples() {
    for c in reference().cases {
        let r = ks::ks_2samp(&sorted(c.reference.clone()), &sorted(c.current.clone())).unwrap();
        assert!(close(r.statistic, c.ks_statistic, 1e-9), "{}: statistic {} vs {}", c.name, r.statistic, c.ks_statistic);
        assert!((r.p_value - c.ks_pvalue).abs() < 1e-6, "{}: p {} vs {}", c.name, r.p_value, c.ks_pvalue);
    }
}

#[test]
fn ks_matches_scipy_in_exact_and_asymptotic_regimes() {
    for c in reference().ks_cases {
        let (a, b) = (sorted(c.reference.values()), sorted(c.current.values()));
        let r = ks::ks_2samp(&a, &b).unwrap();
        let want = if a.len().max(b.len()) <= ks::EXACT_MAX_N { ks::KsMethod::Exact } else { ks::KsMethod::Asymptotic };
        assert_eq!(r.method, want, "{}", c.name);
        assert!(close(r.statistic, c.statistic, 1e-9), "{}: statistic {} vs {}", c.name, r.statistic, c.statistic);
        assert!((r.p_value - c.p_value).abs() < 1e-6, "{}: p {} vs {}", c.name, r.p_value, c.p_value);
    }
}

#[test]
fn kstwo_sf_matches_scipy_over_every_branch() {
    let mut worst = (0.0f64, 0u64, 0.0f64);
    for (n, x, want) in reference().kstwo_sf {
        let got = mlwatch::stats::kolmogorov::kstwo_sf(n, x);
        let err = (got - want).abs();
        if err > worst.0 {
            worst = (err, n, x);
        }
        assert!(err < 1e-9, "kstwo.sf(x={x}, n={n}): got {got}, want {want}");
    }
    eprintln!("largest kstwo_sf error {:.2e} at n={} x={}", worst.0, worst.1, worst.2);
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
