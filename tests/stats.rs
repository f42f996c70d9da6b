//! Statistics against reference values computed with numpy/scipy
//! (`tests/reference/generate.py` → `tests/reference/drift.json`), and the
//! recsys and A/B figures against `tests/reference/recsys.py`'s.

#[path = "recsys/reference.rs"]
mod recsys_reference;

use mlwatch::stats::multiple::{Correction, adjust};
use mlwatch::stats::{chi2, divergence, ks, psi, quantile, sorted};
use serde::Deserialize;

#[derive(Deserialize)]
struct Reference {
    psi_epsilon: f64,
    cases: Vec<Case>,
    ks_cases: Vec<KsCase>,
    kstwo_sf: Vec<(u64, f64, f64)>,
    categorical: Vec<CategoricalCase>,
    corrections: Corrections,
}

#[derive(Deserialize)]
struct CategoricalCase {
    name: String,
    reference: Vec<u64>,
    observed: Vec<u64>,
    unseen: u64,
    chi2_statistic: f64,
    chi2_pvalue: f64,
    chi2_dof: usize,
    psi: f64,
    js_distance: f64,
}

#[derive(Deserialize)]
struct Corrections {
    p: Vec<f64>,
    bh: Vec<f64>,
    bonferroni: Vec<f64>,
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
    psi_uniform_edges: Vec<f64>,
    psi_uniform: f64,
    js_distance: f64,
    wasserstein: f64,
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

#[test]
fn uniform_psi_js_and_wasserstein_match_numpy_and_scipy() {
    let r = reference();
    for c in r.cases {
        let base = sorted(c.reference.clone());
        let cur = sorted(c.current.clone());
        let edges = quantile::uniform_edges(base[0], base[base.len() - 1], 10);
        assert_eq!(edges.len(), c.psi_uniform_edges.len(), "{}", c.name);
        assert!(edges.iter().zip(&c.psi_uniform_edges).all(|(a, b)| close(*a, *b, 1e-12)), "{}: {edges:?}", c.name);
        let got = psi::psi_from_counts(&psi::bin_counts(&edges, &base), &psi::bin_counts(&edges, &cur), r.psi_epsilon).unwrap();
        assert!(close(got, c.psi_uniform, 1e-9), "{}: uniform psi {got} vs {}", c.name, c.psi_uniform);
        let js = divergence::jensen_shannon(&c.psi_reference_counts, &c.psi_current_counts).unwrap();
        assert!((js - c.js_distance).abs() < 1e-9, "{}: js {js} vs {}", c.name, c.js_distance);
        let w = divergence::wasserstein_1(&base, &cur).unwrap();
        assert!(close(w, c.wasserstein, 1e-9), "{}: wasserstein {w} vs {}", c.name, c.wasserstein);
    }
}

#[test]
fn categorical_statistics_match_scipy_with_unseen_categories() {
    let r = reference();
    for c in r.categorical {
        let res = chi2::chi2_gof(&c.reference, &c.observed, c.unseen, r.psi_epsilon).unwrap();
        assert_eq!(res.dof, c.chi2_dof, "{}", c.name);
        assert!(close(res.statistic, c.chi2_statistic, 1e-9), "{}: chi2 {} vs {}", c.name, res.statistic, c.chi2_statistic);
        assert!((res.p_value - c.chi2_pvalue).abs() < 1e-6, "{}: p {} vs {}", c.name, res.p_value, c.chi2_pvalue);
        let mut rc = c.reference.clone();
        rc.push(0);
        let mut cc = c.observed.clone();
        cc.push(c.unseen);
        let psi = psi::psi_from_counts(&rc, &cc, r.psi_epsilon).unwrap();
        assert!(close(psi, c.psi, 1e-9), "{}: psi {psi} vs {}", c.name, c.psi);
        let js = divergence::jensen_shannon(&rc, &cc).unwrap();
        assert!((js - c.js_distance).abs() < 1e-9, "{}: js {js} vs {}", c.name, c.js_distance);
    }
}

#[test]
fn corrections_match_scipy() {
    let c = reference().corrections;
    for (got, want) in adjust(&c.p, Correction::BenjaminiHochberg).iter().zip(&c.bh) {
        assert!(close(*got, *want, 1e-12), "bh {got} vs {want}");
    }
    for (got, want) in adjust(&c.p, Correction::Bonferroni).iter().zip(&c.bonferroni) {
        assert!(close(*got, *want, 1e-12), "bonferroni {got} vs {want}");
    }
}

/// On samples from one distribution, a test at α = 0.05 rejects about 5% of the time.
#[test]
fn ks_is_calibrated_under_the_null() {
    use rand::SeedableRng;
    use rand_distr::{Distribution, Normal};
    let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(20261128);
    let normal = Normal::new(0.0, 1.0).unwrap();
    let trials = 1000;
    let mut rejected = 0;
    for _ in 0..trials {
        let a = sorted((0..200).map(|_| normal.sample(&mut rng)).collect());
        let b = sorted((0..150).map(|_| normal.sample(&mut rng)).collect());
        if ks::ks_2samp(&a, &b).unwrap().p_value < 0.05 {
            rejected += 1;
        }
    }
    let rate = rejected as f64 / trials as f64;
    assert!((0.035..=0.065).contains(&rate), "rejection rate {rate}");
}

mod properties {
    use mlwatch::stats::{chi2, divergence, ks, psi, sorted};
    use proptest::prelude::*;

    fn sample() -> impl Strategy<Value = Vec<f64>> {
        prop::collection::vec(-1e3f64..1e3, 1..200)
    }

    fn counts() -> impl Strategy<Value = Vec<u64>> {
        prop::collection::vec(0u64..1000, 2..20)
    }

    proptest! {
        #[test]
        fn psi_is_nonnegative_and_zero_on_itself(a in counts(), b in counts()) {
            let n = a.len().min(b.len());
            let (a, b) = (&a[..n], &b[..n]);
            prop_assume!(a.iter().sum::<u64>() > 0 && b.iter().sum::<u64>() > 0);
            prop_assert!(psi::psi_from_counts(a, b, 1e-4).unwrap() >= 0.0);
            prop_assert_eq!(psi::psi_from_counts(a, a, 1e-4).unwrap(), 0.0);
        }

        #[test]
        fn ks_is_bounded_and_symmetric(a in sample(), b in sample()) {
            let (a, b) = (sorted(a), sorted(b));
            let ab = ks::ks_2samp(&a, &b).unwrap();
            let ba = ks::ks_2samp(&b, &a).unwrap();
            prop_assert!((0.0..=1.0).contains(&ab.statistic));
            prop_assert!((0.0..=1.0).contains(&ab.p_value));
            prop_assert_eq!(ab.statistic, ba.statistic);
            prop_assert!((ab.p_value - ba.p_value).abs() < 1e-12);
            prop_assert_eq!(ks::ks_2samp(&a, &a).unwrap().statistic, 0.0);
        }

        #[test]
        fn a_larger_shift_drifts_at_least_as_much(a in sample(), s1 in 0.0f64..100.0, extra in 0.0f64..100.0) {
            let a = sorted(a);
            let shifted = |s: f64| a.iter().map(|x| x + s).collect::<Vec<_>>();
            let (near, far) = (shifted(s1), shifted(s1 + extra));
            prop_assert!(ks::ks_statistic(&a, &near) <= ks::ks_statistic(&a, &far) + 1e-12);
            let w = divergence::wasserstein_1(&a, &far).unwrap();
            prop_assert!((w - (s1 + extra)).abs() <= 1e-9 * (1.0 + s1 + extra) + 1e-9);
        }

        #[test]
        fn js_is_bounded_and_symmetric(a in counts(), b in counts()) {
            let n = a.len().min(b.len());
            let (a, b) = (&a[..n], &b[..n]);
            prop_assume!(a.iter().sum::<u64>() > 0 && b.iter().sum::<u64>() > 0);
            let ab = divergence::jensen_shannon(a, b).unwrap();
            prop_assert!((0.0..=1.0 + 1e-12).contains(&ab));
            prop_assert!((ab - divergence::jensen_shannon(b, a).unwrap()).abs() < 1e-12);
        }

        #[test]
        fn chi2_p_value_is_a_probability(a in counts(), b in counts(), unseen in 0u64..50) {
            let n = a.len().min(b.len());
            prop_assume!(a[..n].iter().sum::<u64>() > 0 && b[..n].iter().sum::<u64>() + unseen > 0);
            let r = chi2::chi2_gof(&a[..n], &b[..n], unseen, 1e-4).unwrap();
            prop_assert!((0.0..=1.0).contains(&r.p_value));
            prop_assert!(r.statistic >= 0.0);
        }
    }
}
