//! Two-sample Kolmogorov–Smirnov test (two-sided), agreeing with scipy's
//! `ks_2samp(a, b, method="auto")`.
//!
//! When both samples have at most [`EXACT_MAX_N`] values the p-value is exact
//! (lattice-path counting, `ks_exact`), and the statistic is reported as the
//! exact lattice value h/lcm(n, m) it was computed from. Above that, the
//! p-value is the finite-n Kolmogorov distribution at the effective sample size
//! round(n·m/(n+m)) (`kolmogorov::kstwo_sf`).

use serde::Serialize;

use super::StatError;
use super::kolmogorov::kstwo_sf;
use super::ks_exact;

pub use super::kolmogorov::kolmogorov_sf;

/// Largest sample size for which the exact p-value is computed (as scipy).
pub const EXACT_MAX_N: usize = 10_000;

/// How the p-value was computed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum KsMethod {
    Exact,
    Asymptotic,
}

/// The KS statistic and its two-sided p-value.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct KsResult {
    /// sup |F_ref(x) − F_cur(x)| over all x, in [0, 1].
    pub statistic: f64,
    pub p_value: f64,
    pub method: KsMethod,
}

/// The KS statistic of two ascending samples of finite values; ties are handled by
/// evaluating both empirical CDFs after every distinct value.
pub fn ks_statistic(a: &[f64], b: &[f64]) -> f64 {
    let (n, m) = (a.len() as i64, b.len() as i64);
    if n == 0 || m == 0 {
        return 0.0;
    }
    // |F_a − F_b| = |i·m − j·n| / (n·m): compare integers in the loop, divide once.
    let (mut i, mut j) = (0usize, 0usize);
    let mut widest: i64 = 0;
    while i < a.len() && j < b.len() {
        let x = a[i].min(b[j]);
        while i < a.len() && a[i] == x {
            i += 1;
        }
        while j < b.len() && b[j] == x {
            j += 1;
        }
        widest = widest.max((i as i64 * m - j as i64 * n).abs());
    }
    // Once one sample is exhausted its CDF is 1 and the other's only rises towards
    // 1, so the gap can only shrink: nothing more to check.
    widest as f64 / (n as f64 * m as f64)
}

/// Two-sample KS test on ascending samples of finite values.
pub fn ks_2samp(reference: &[f64], current: &[f64]) -> Result<KsResult, StatError> {
    for (side, s) in [("baseline", reference), ("current", current)] {
        if s.is_empty() {
            return Err(StatError::NotEnoughData { side, got: 0, need: 1 });
        }
    }
    let d = ks_statistic(reference, current);
    let (n1, n2) = (reference.len() as u64, current.len() as u64);
    if reference.len().max(current.len()) <= EXACT_MAX_N {
        let g = gcd(n1, n2);
        let lcm = (n1 / g) * n2;
        let h = (d * lcm as f64).round() as u64;
        let exact_d = h as f64 / lcm as f64;
        let p = if h == 0 { Some(1.0) } else { ks_exact::two_sided_pvalue(n1, n2, g, h) };
        if let Some(p_value) = p {
            return Ok(KsResult { statistic: exact_d, p_value, method: KsMethod::Exact });
        }
    }
    let (m, n) = (n1.max(n2) as f64, n1.min(n2) as f64);
    let en = (m * n / (m + n)).round().max(1.0) as u64;
    Ok(KsResult { statistic: d, p_value: kstwo_sf(en, d), method: KsMethod::Asymptotic })
}

fn gcd(mut a: u64, mut b: u64) -> u64 {
    while b != 0 {
        (a, b) = (b, a % b);
    }
    a
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn identical_samples_have_zero_statistic_and_p_one() {
        let a = [1.0, 2.0, 3.0];
        let r = ks_2samp(&a, &a).unwrap();
        assert_eq!((r.statistic, r.p_value, r.method), (0.0, 1.0, KsMethod::Exact));
    }

    #[test]
    fn ties_are_evaluated_after_each_distinct_value() {
        // F_a jumps to 1 at 1; F_b is 0.5 at 1, 1 at 2: D = 0.5.
        assert_eq!(ks_statistic(&[1.0, 1.0], &[1.0, 2.0]), 0.5);
        assert_eq!(ks_statistic(&[1.0, 2.0, 3.0], &[4.0, 5.0]), 1.0);
    }

    #[test]
    fn kolmogorov_sf_matches_scipy_kstwobign() {
        // scipy.stats.kstwobign.sf([0.5, 1.0, 1.36, 2.0, 0.2])
        let cases = [
            (0.5, 0.963_945_243_664_875_1),
            (1.0, 0.269_999_671_677_354_56),
            (1.36, 0.049_485_876_755_377_876),
            (2.0, 0.000_670_925_255_779_695_3),
            (0.2, 0.999_999_999_999_495),
        ];
        for (x, want) in cases {
            let got = kolmogorov_sf(x);
            assert!((got - want).abs() < 1e-12, "x={x}: got {got}, want {want}");
        }
    }

    #[test]
    fn empty_sample_is_a_named_error() {
        assert!(matches!(ks_2samp(&[], &[1.0]), Err(StatError::NotEnoughData { side: "baseline", .. })));
    }
}
