//! Building a profile from reference data.

use std::collections::BTreeMap;

use polars::prelude::*;
use rand::SeedableRng;

use super::{ColumnProfile, NumericProfile, PROFILE_FORMAT, PROFILE_VERSION, Profile};
use crate::stats::{self, CleanSample, psi, quantile};

/// How to build a profile.
#[derive(Debug, Clone)]
pub struct BuildOptions {
    /// Columns to profile; every numeric column when empty.
    pub columns: Vec<String>,
    /// PSI bins (equal-frequency on the baseline).
    pub bins: usize,
    /// Most raw values kept per column for KS.
    pub sample: usize,
    pub seed: u64,
}

impl Default for BuildOptions {
    fn default() -> Self {
        BuildOptions { columns: Vec::new(), bins: 10, sample: 100_000, seed: 0 }
    }
}

/// Profile every requested column of `df`. Non-numeric columns asked for by name
/// are an error; unnamed ones are skipped.
pub fn build_profile(df: &DataFrame, source: &str, opts: &BuildOptions) -> Result<Profile, String> {
    let names: Vec<String> = if opts.columns.is_empty() {
        df.columns().iter().filter(|c| c.dtype().is_primitive_numeric()).map(|c| c.name().to_string()).collect()
    } else {
        opts.columns.clone()
    };
    if names.is_empty() {
        return Err("no numeric columns to profile".into());
    }
    let mut columns = BTreeMap::new();
    for name in names {
        let col = df.column(&name).map_err(|_| format!("column `{name}` not found"))?;
        if !col.dtype().is_primitive_numeric() {
            return Err(format!("column `{name}` is {}, only numeric columns can be profiled", col.dtype()));
        }
        let values = col.cast(&DataType::Float64).map_err(|e| format!("column `{name}`: {e}"))?;
        let clean = CleanSample::from_options(values.f64().expect("cast to f64").iter());
        columns.insert(name, ColumnProfile::Numeric(numeric_profile(clean, opts)));
    }
    Ok(Profile {
        format: PROFILE_FORMAT.into(),
        version: PROFILE_VERSION,
        created_at: chrono::Utc::now().to_rfc3339_opts(chrono::SecondsFormat::Secs, true),
        source: source.into(),
        rows: df.height() as u64,
        psi_epsilon: psi::DEFAULT_EPSILON,
        sample_seed: opts.seed,
        columns,
    })
}

fn numeric_profile(clean: CleanSample, opts: &BuildOptions) -> NumericProfile {
    let values = stats::sorted(clean.values);
    let n = values.len();
    let (mean, std) = mean_std(&values);
    let bin_edges = if n == 0 { Vec::new() } else { quantile::quantile_edges(&values, opts.bins) };
    let bin_counts = psi::bin_counts(&bin_edges, &values);
    let sample = if n <= opts.sample {
        values.clone()
    } else {
        let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(opts.seed);
        let mut idx = rand::seq::index::sample(&mut rng, n, opts.sample).into_vec();
        idx.sort_unstable();
        idx.into_iter().map(|i| values[i]).collect()
    };
    NumericProfile {
        count: n as u64,
        nulls: clean.nulls as u64,
        non_finite: clean.non_finite as u64,
        min: values.first().copied().unwrap_or(f64::NAN),
        max: values.last().copied().unwrap_or(f64::NAN),
        mean,
        std,
        bin_edges,
        bin_counts,
        sample,
    }
}

/// Mean and sample standard deviation (Welford, for stability on large inputs).
fn mean_std(values: &[f64]) -> (f64, f64) {
    let (mut mean, mut m2) = (0.0, 0.0);
    for (i, &x) in values.iter().enumerate() {
        let d = x - mean;
        mean += d / (i + 1) as f64;
        m2 += d * (x - mean);
    }
    let n = values.len();
    match n {
        0 => (f64::NAN, f64::NAN),
        1 => (mean, 0.0),
        _ => (mean, (m2 / (n - 1) as f64).sqrt()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn profiles_numeric_columns_with_counts_and_edges() {
        let xs: Vec<Option<f64>> = (1..=100).map(|i| Some(i as f64)).chain([None, Some(f64::NAN)]).collect();
        let df = df!("x" => xs, "s" => vec!["a"; 102]).unwrap();
        let p = build_profile(&df, "mem", &BuildOptions { sample: 10, ..Default::default() }).unwrap();
        assert_eq!(p.columns.len(), 1, "strings are skipped when no columns are named");
        let x = p.numeric("x").unwrap();
        assert_eq!((x.count, x.nulls, x.non_finite), (100, 1, 1));
        assert_eq!(x.bin_edges.len(), 9);
        assert_eq!(x.bin_counts.iter().sum::<u64>(), 100);
        assert!(x.bin_counts.iter().all(|&c| c == 10), "{:?}", x.bin_counts);
        assert_eq!(x.sample.len(), 10);
        assert!((x.mean - 50.5).abs() < 1e-12);
        // numpy.std(range(1, 101), ddof=1)
        assert!((x.std - 29.011_491_975_882_016).abs() < 1e-9);
    }

    #[test]
    fn naming_a_string_column_is_an_error() {
        let df = df!("s" => ["a"]).unwrap();
        let opts = BuildOptions { columns: vec!["s".into()], ..Default::default() };
        assert!(build_profile(&df, "mem", &opts).unwrap_err().contains("only numeric"));
    }
}
