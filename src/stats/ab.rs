//! A/B-test statistics: sample ratio mismatch (a chi-square goodness-of-fit
//! test of arm counts against the declared split) and the two-proportion
//! z-test of a ratio metric between an arm and control.

use statrs::distribution::{ChiSquared, ContinuousCDF, Normal};

use super::StatError;
use super::chi2::Chi2Result;

/// Chi-square goodness of fit of `observed` counts against `weights` (the
/// declared split, any scale): expected = total × weight / Σ weights.
pub fn srm(observed: &[u64], weights: &[f64]) -> Result<Chi2Result, StatError> {
    assert_eq!(observed.len(), weights.len());
    let n: u64 = observed.iter().sum();
    if n == 0 {
        return Err(StatError::NotEnoughData { side: "current", got: 0, need: 1 });
    }
    let w: f64 = weights.iter().sum();
    if observed.len() < 2 {
        return Ok(Chi2Result { statistic: 0.0, p_value: 1.0, dof: 0 });
    }
    let statistic: f64 = observed
        .iter()
        .zip(weights)
        .map(|(&o, &wi)| {
            let e = n as f64 * wi / w;
            (o as f64 - e).powi(2) / e
        })
        .sum();
    let dof = observed.len() - 1;
    let dist = ChiSquared::new(dof as f64).expect("positive degrees of freedom");
    Ok(Chi2Result { statistic, p_value: dist.sf(statistic).clamp(0.0, 1.0), dof })
}

/// An arm's success ratio against control's.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Proportions {
    /// arm ratio − control ratio.
    pub diff: f64,
    /// arm ratio / control ratio − 1 (absent when control's ratio is 0).
    pub lift: Option<f64>,
    /// diff / SE with the pooled ratio (the test's null: both are equal).
    pub z: f64,
    /// One-sided p-value of "the arm is worse (lower) than control": Φ(z).
    pub p_worse: f64,
    pub p_two_sided: f64,
    /// Two-sided interval of diff at `confidence`, with the unpooled SE
    /// (no null assumed: each arm's own variance).
    pub low: f64,
    pub high: f64,
}

/// Two-proportion z-test of `arm` = (successes, trials) against `control`.
pub fn two_proportions(arm: (u64, u64), control: (u64, u64), confidence: f64) -> Result<Proportions, StatError> {
    let ((sa, na), (sc, nc)) = (arm, control);
    if na == 0 || nc == 0 {
        return Err(StatError::NotEnoughData { side: "current", got: 0, need: 1 });
    }
    if sa > na || sc > nc {
        return Err(StatError::Invalid("more successes than trials".into()));
    }
    let (na, nc) = (na as f64, nc as f64);
    let (pa, pc) = (sa as f64 / na, sc as f64 / nc);
    let pooled = (sa + sc) as f64 / (na + nc);
    let se_pooled = (pooled * (1.0 - pooled) * (1.0 / na + 1.0 / nc)).sqrt();
    let diff = pa - pc;
    let z = if se_pooled > 0.0 { diff / se_pooled } else { 0.0 };
    let normal = Normal::standard();
    let se = (pa * (1.0 - pa) / na + pc * (1.0 - pc) / nc).sqrt();
    let q = normal.inverse_cdf(0.5 + confidence / 2.0);
    Ok(Proportions {
        diff,
        lift: (pc > 0.0).then(|| pa / pc - 1.0),
        z,
        p_worse: normal.cdf(z),
        p_two_sided: (2.0 * normal.sf(z.abs())).min(1.0),
        low: diff - q * se,
        high: diff + q * se,
    })
}
