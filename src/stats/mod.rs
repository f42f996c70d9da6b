//! Pure statistics: no I/O, no polars, no config. Inputs are plain slices or
//! count vectors over shared bins.
//!
//! Every function here is checked against reference values computed with
//! scipy/numpy (`tests/reference/`), never against its own output.

pub mod ab;
pub mod chi2;
pub mod divergence;
pub mod kolmogorov;
pub mod ks;
mod ks_exact;
pub mod multiple;
pub mod psi;
pub mod quantile;
pub mod robust;

/// A sample with the values a test cannot use (null, NaN, ±inf) removed and counted.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct CleanSample {
    pub values: Vec<f64>,
    /// Nulls (missing values) dropped.
    pub nulls: usize,
    /// NaN and ±inf dropped.
    pub non_finite: usize,
}

impl CleanSample {
    pub fn from_options(values: impl IntoIterator<Item = Option<f64>>) -> Self {
        let mut out = CleanSample::default();
        for v in values {
            match v {
                None => out.nulls += 1,
                Some(x) if !x.is_finite() => out.non_finite += 1,
                Some(x) => out.values.push(x),
            }
        }
        out
    }
}

/// Why a statistic could not be computed. Never a NaN that looks like a value.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum StatError {
    #[error("not enough data: {got} usable values in the {side} sample, need at least {need}")]
    NotEnoughData { side: &'static str, got: usize, need: usize },
    #[error("{0}")]
    Invalid(String),
}

/// Sort a sample ascending. Values must be finite (see [`CleanSample`]).
/// A radix sort: about twice as fast as a comparison sort on millions of floats,
/// and sorting is most of the work of a drift test.
pub fn sorted(mut values: Vec<f64>) -> Vec<f64> {
    radsort::sort(&mut values);
    values
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn clean_sample_drops_and_counts_unusable_values() {
        let s = CleanSample::from_options([Some(1.0), None, Some(f64::NAN), Some(f64::INFINITY), Some(2.0)]);
        assert_eq!(s.values, vec![1.0, 2.0]);
        assert_eq!((s.nulls, s.non_finite), (1, 2));
    }
}
