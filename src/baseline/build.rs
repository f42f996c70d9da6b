//! Building a profile from reference data.

use std::collections::{BTreeMap, HashMap};

use polars::prelude::*;
use rand::SeedableRng;

use super::column_kind::{ColumnKind, as_f64, column_kind};
use super::{Binning, CategoricalProfile, ColumnProfile, NumericProfile, PROFILE_FORMAT, PROFILE_VERSION, Profile};
use crate::stats::{self, CleanSample, psi, quantile};

/// How to build a profile.
#[derive(Debug, Clone)]
pub struct BuildOptions {
    /// Columns to profile; every numeric, string and boolean column when empty.
    pub columns: Vec<String>,
    /// PSI bins.
    pub bins: usize,
    /// How PSI bins are fitted.
    pub binning: Binning,
    /// Most raw values kept per column for KS.
    pub sample: usize,
    pub seed: u64,
}

impl Default for BuildOptions {
    fn default() -> Self {
        BuildOptions { columns: Vec::new(), bins: 10, binning: Binning::Quantile, sample: 100_000, seed: 0 }
    }
}

/// Most categories kept per categorical column; the rest are pooled as `other`.
pub const MAX_CATEGORIES: usize = 1000;

/// Profile every requested column of `df` (every numeric, string and boolean
/// column when none are named), in parallel across columns.
pub fn build_profile(df: &DataFrame, source: &str, opts: &BuildOptions) -> Result<Profile, String> {
    let names: Vec<String> = if opts.columns.is_empty() {
        df.columns().iter().filter(|c| column_kind(c.dtype()).is_ok()).map(|c| c.name().to_string()).collect()
    } else {
        opts.columns.clone()
    };
    if names.is_empty() {
        let why: Vec<String> = left_out(df).into_iter().map(|(c, why)| format!("`{c}` {why}")).collect();
        return Err(format!("no column that can be profiled: {}", why.join("; ")));
    }
    use rayon::prelude::*;
    let built: Vec<Result<(String, ColumnProfile), String>> = names
        .par_iter()
        .map(|name| {
            let col = df.column(name).map_err(|_| format!("column `{name}` not found"))?;
            Ok((name.clone(), column_profile(col, opts)?))
        })
        .collect();
    let columns = built.into_iter().collect::<Result<BTreeMap<_, _>, _>>()?;
    if columns.values().all(|c| c.count() == 0) {
        // A profile of nothing would make every later window look drifted.
        return Err(format!("no usable values to profile: {} rows, every value null, NaN or infinite", df.height()));
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

/// The columns of `df` that cannot be profiled, with why (see [`column_kind`]).
pub fn left_out(df: &DataFrame) -> Vec<(String, String)> {
    df.columns().iter().filter_map(|c| column_kind(c.dtype()).err().map(|why| (c.name().to_string(), why))).collect()
}

/// The profile of one column: numbers, dates and times by value; strings,
/// categories and booleans by category.
pub fn column_profile(col: &Column, opts: &BuildOptions) -> Result<ColumnProfile, String> {
    let name = col.name();
    match column_kind(col.dtype()).map_err(|why| format!("column `{name}` {why}"))? {
        ColumnKind::Numeric => {
            let clean = numeric_values(col).map_err(|e| format!("column `{name}`: {e}"))?;
            Ok(ColumnProfile::Numeric(numeric_profile(clean, opts)))
        }
        ColumnKind::Categorical => {
            let (counts, nulls) = category_counts(col).map_err(|e| format!("column `{name}`: {e}"))?;
            Ok(ColumnProfile::Categorical(categorical_profile(counts, nulls)))
        }
    }
}

/// A numeric column's finite values as f64 (see [`as_f64`]), nulls and
/// NaN/±inf counted. Reads chunk by chunk, so callers need not rechunk (a
/// copy of the whole column).
pub fn numeric_values(col: &Column) -> PolarsResult<CleanSample> {
    let values = as_f64(col)?;
    let ca = values.f64()?;
    if ca.null_count() > 0 {
        return Ok(CleanSample::from_options(ca.iter()));
    }
    let mut out = CleanSample { values: Vec::with_capacity(ca.len()), nulls: 0, non_finite: 0 };
    for chunk in ca.downcast_iter() {
        let slice = chunk.values().as_slice();
        let before = out.values.len();
        out.values.extend(slice.iter().copied().filter(|x| x.is_finite()));
        out.non_finite += slice.len() - (out.values.len() - before);
    }
    Ok(out)
}

/// Counts per category and the number of nulls, for a string or boolean column.
pub fn category_counts(col: &Column) -> PolarsResult<(HashMap<String, u64>, u64)> {
    let strings = col.cast(&DataType::String)?;
    let mut counts: PlHashMap<&str, u64> = PlHashMap::new();
    let mut nulls = 0;
    for v in strings.str()?.iter() {
        match v {
            Some(s) => *counts.entry(s).or_default() += 1,
            None => nulls += 1,
        }
    }
    Ok((counts.into_iter().map(|(k, v)| (k.to_string(), v)).collect(), nulls))
}

fn categorical_profile(counts: HashMap<String, u64>, nulls: u64) -> CategoricalProfile {
    let count = counts.values().sum();
    let distinct = counts.len() as u64;
    let mut ranked: Vec<(String, u64)> = counts.into_iter().collect();
    ranked.sort_by(|a, b| b.1.cmp(&a.1).then_with(|| a.0.cmp(&b.0)));
    let other = ranked.iter().skip(MAX_CATEGORIES).map(|(_, c)| c).sum();
    ranked.truncate(MAX_CATEGORIES);
    CategoricalProfile { count, nulls, distinct, categories: ranked.into_iter().collect(), other }
}

fn numeric_profile(clean: CleanSample, opts: &BuildOptions) -> NumericProfile {
    let values = stats::sorted(clean.values);
    let n = values.len();
    let (mean, std) = mean_std(&values);
    let bin_edges = match (n, opts.binning) {
        (0, _) => Vec::new(),
        (_, Binning::Quantile) => quantile::quantile_edges(&values, opts.bins),
        (_, Binning::Uniform) => quantile::uniform_edges(values[0], values[n - 1], opts.bins),
    };
    let bin_counts = psi::bin_counts_sorted(&bin_edges, &values);
    let (min, max) = (values.first().copied().unwrap_or(f64::NAN), values.last().copied().unwrap_or(f64::NAN));
    // Small enough: the sorted values themselves are the sample (moved, not copied).
    let sample = if n <= opts.sample {
        values
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
        min,
        max,
        mean,
        std,
        binning: opts.binning,
        bin_edges,
        bin_counts,
        sample,
    }
}

/// Mean and sample standard deviation, in two passes (stable: the second pass
/// sums squared deviations from the mean, not raw squares).
fn mean_std(values: &[f64]) -> (f64, f64) {
    let n = values.len();
    if n == 0 {
        return (f64::NAN, f64::NAN);
    }
    let mean = values.iter().sum::<f64>() / n as f64;
    if n == 1 {
        return (mean, 0.0);
    }
    let ss: f64 = values.iter().map(|x| (x - mean) * (x - mean)).sum();
    (mean, (ss / (n - 1) as f64).sqrt())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn profiles_numeric_columns_with_counts_and_edges() {
        let xs: Vec<Option<f64>> = (1..=100).map(|i| Some(i as f64)).chain([None, Some(f64::NAN)]).collect();
        let df = df!("x" => xs, "s" => vec!["a"; 102]).unwrap();
        let p = build_profile(&df, "mem", &BuildOptions { sample: 10, ..Default::default() }).unwrap();
        assert_eq!(p.columns.len(), 2);
        let ColumnProfile::Categorical(s) = &p.columns["s"] else { panic!("s is categorical") };
        assert_eq!((s.count, s.distinct, s.categories["a"]), (102, 1, 102));
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
    fn uniform_binning_splits_the_range_evenly() {
        let df = df!("x" => [0.0, 1.0, 2.0, 10.0]).unwrap();
        let opts = BuildOptions { binning: Binning::Uniform, bins: 5, ..Default::default() };
        let p = build_profile(&df, "mem", &opts).unwrap();
        assert_eq!(p.numeric("x").unwrap().bin_edges, vec![2.0, 4.0, 6.0, 8.0]);
        assert_eq!(p.numeric("x").unwrap().bin_counts, vec![3, 0, 0, 0, 1]);
    }

    #[test]
    fn categories_beyond_the_cap_are_pooled() {
        let values: Vec<String> = (0..MAX_CATEGORIES + 5).map(|i| format!("c{i}")).collect();
        let df = df!("s" => values).unwrap();
        let p = build_profile(&df, "mem", &BuildOptions::default()).unwrap();
        let ColumnProfile::Categorical(s) = &p.columns["s"] else { panic!() };
        assert_eq!((s.categories.len(), s.other, s.distinct), (MAX_CATEGORIES, 5, MAX_CATEGORIES as u64 + 5));
        // `count` already includes the pooled values: they must not be added twice.
        assert_eq!((s.count, p.columns["s"].count()), (MAX_CATEGORIES as u64 + 5, MAX_CATEGORIES as u64 + 5));
    }
}
