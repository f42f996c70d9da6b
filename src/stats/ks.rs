//! Two-sample Kolmogorov–Smirnov test (two-sided).

use super::StatError;

/// The KS statistic and its two-sided p-value.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct KsResult {
    /// sup |F_ref(x) − F_cur(x)| over all x, in [0, 1].
    pub statistic: f64,
    /// Two-sided p-value from the Kolmogorov distribution at the effective
    /// sample size n·m/(n+m).
    pub p_value: f64,
}

/// The KS statistic of two ascending samples of finite values; ties are handled by
/// evaluating both empirical CDFs after every distinct value.
pub fn ks_statistic(a: &[f64], b: &[f64]) -> f64 {
    let (n, m) = (a.len() as f64, b.len() as f64);
    let (mut i, mut j) = (0usize, 0usize);
    let mut d: f64 = 0.0;
    while i < a.len() && j < b.len() {
        let x = a[i].min(b[j]);
        while i < a.len() && a[i] <= x {
            i += 1;
        }
        while j < b.len() && b[j] <= x {
            j += 1;
        }
        d = d.max((i as f64 / n - j as f64 / m).abs());
    }
    // Once one sample is exhausted its CDF is 1 and the other's only rises towards 1,
    // so the gap can only shrink: nothing more to check.
    d
}

/// Two-sample KS test on ascending samples of finite values.
pub fn ks_2samp(reference: &[f64], current: &[f64]) -> Result<KsResult, StatError> {
    for (side, s) in [("baseline", reference), ("current", current)] {
        if s.is_empty() {
            return Err(StatError::NotEnoughData { side, got: 0, need: 1 });
        }
    }
    let statistic = ks_statistic(reference, current);
    let (n, m) = (reference.len() as f64, current.len() as f64);
    let en = n * m / (n + m);
    Ok(KsResult { statistic, p_value: kolmogorov_sf(en.sqrt() * statistic) })
}

/// Survival function of the Kolmogorov distribution, P(K > x).
pub fn kolmogorov_sf(x: f64) -> f64 {
    if x <= 0.0 {
        return 1.0;
    }
    if x < 1.0 {
        // Near 0 the alternating series converges slowly; use the Jacobi theta form
        // of the CDF: sqrt(2π)/x · Σ_{k≥1} exp(−(2k−1)² π² / (8x²)).
        let w = std::f64::consts::PI.powi(2) / (8.0 * x * x);
        let cdf: f64 = (1..=20)
            .map(|k| (-(((2 * k - 1) as f64).powi(2)) * w).exp())
            .sum::<f64>()
            * (2.0 * std::f64::consts::PI).sqrt()
            / x;
        return (1.0 - cdf).clamp(0.0, 1.0);
    }
    // 2 Σ_{k≥1} (−1)^{k−1} exp(−2k²x²)
    let mut sum = 0.0;
    for k in 1..=100 {
        let term = (-2.0 * (k * k) as f64 * x * x).exp();
        sum += if k % 2 == 1 { term } else { -term };
        if term < 1e-18 {
            break;
        }
    }
    (2.0 * sum).clamp(0.0, 1.0)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn identical_samples_have_zero_statistic() {
        let a = [1.0, 2.0, 3.0];
        let r = ks_2samp(&a, &a).unwrap();
        assert_eq!(r.statistic, 0.0);
        assert_eq!(r.p_value, 1.0);
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
            assert!((got - want).abs() < 1e-9, "x={x}: got {got}, want {want}");
        }
    }

    #[test]
    fn empty_sample_is_a_named_error() {
        assert!(matches!(ks_2samp(&[], &[1.0]), Err(StatError::NotEnoughData { side: "baseline", .. })));
    }
}
