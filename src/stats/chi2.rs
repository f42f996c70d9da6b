//! Chi-square goodness of fit of current category counts against baseline
//! proportions.
//!
//! Unseen categories (in the current window, never in the baseline) would have
//! an expected count of zero and an infinite statistic. They are pooled into one
//! extra cell whose expected proportion is `epsilon` (the profile's PSI floor),
//! after which the expected proportions are renormalised to sum to 1. A window
//! with unseen values is therefore strongly significant, as it should be; the
//! callers also report the unseen share on its own.

use statrs::distribution::{ChiSquared, ContinuousCDF};

use super::StatError;

/// Statistic, p-value and degrees of freedom.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Chi2Result {
    pub statistic: f64,
    pub p_value: f64,
    pub dof: usize,
}

/// `observed[i]` counts the current values of baseline category i, with
/// `reference[i]` its baseline count; `unseen` counts current values of
/// categories the baseline never had.
pub fn chi2_gof(reference: &[u64], observed: &[u64], unseen: u64, epsilon: f64) -> Result<Chi2Result, StatError> {
    let rn: u64 = reference.iter().sum();
    let n: u64 = observed.iter().sum::<u64>() + unseen;
    if rn == 0 {
        return Err(StatError::NotEnoughData { side: "baseline", got: 0, need: 1 });
    }
    if n == 0 {
        return Err(StatError::NotEnoughData { side: "current", got: 0, need: 1 });
    }
    let mut cells: Vec<(f64, f64)> = reference.iter().zip(observed).map(|(&r, &o)| (r as f64 / rn as f64, o as f64)).collect();
    if unseen > 0 {
        cells.push((epsilon, unseen as f64));
    }
    let total_p: f64 = cells.iter().map(|(p, _)| p).sum();
    let cells: Vec<(f64, f64)> = cells.into_iter().filter(|(p, _)| *p > 0.0).collect();
    if cells.len() < 2 {
        // One category: the counts cannot differ from the proportions.
        return Ok(Chi2Result { statistic: 0.0, p_value: 1.0, dof: 0 });
    }
    let statistic: f64 = cells
        .iter()
        .map(|(p, o)| {
            let e = p / total_p * n as f64;
            (o - e) * (o - e) / e
        })
        .sum();
    let dof = cells.len() - 1;
    let dist = ChiSquared::new(dof as f64).expect("positive degrees of freedom");
    Ok(Chi2Result { statistic, p_value: dist.sf(statistic).clamp(0.0, 1.0), dof })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn matching_proportions_give_zero() {
        let r = chi2_gof(&[10, 20, 30], &[1, 2, 3], 0, 1e-4).unwrap();
        assert!(r.statistic.abs() < 1e-12);
        assert!((r.p_value - 1.0).abs() < 1e-12);
        assert_eq!(r.dof, 2);
    }

    #[test]
    fn unseen_values_are_significant() {
        let r = chi2_gof(&[50, 50], &[40, 40], 20, 1e-4).unwrap();
        assert_eq!(r.dof, 2);
        assert!(r.p_value < 1e-10);
    }
}
