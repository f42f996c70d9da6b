//! The `file` source: Parquet, CSV and JSON-lines files found by a path template.

use std::collections::BTreeMap;
use std::path::Path;

use polars::prelude::*;
use rand::SeedableRng;
use serde::Deserialize;

use super::path_template::{Matched, PathTemplate};
use super::read::{FileFormat, read_file};
use super::window::{TimestampUnit, Window, select_window};
use super::{Partition, SourceError};

/// A source of files, as written in `mlwatch.yaml`.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FileSourceConfig {
    /// Path or glob, relative to the config file. `{tenant}` marks the path part
    /// that names the tenant; other `{name}` placeholders (e.g. `{date}`) match anything.
    pub path: String,
    /// File format; by default taken from each file's extension.
    #[serde(default)]
    pub format: Option<FileFormat>,
    /// Column holding each row's event time; needed for a group's `window`.
    #[serde(default)]
    pub timestamp: Option<String>,
    /// Unit of an integer `timestamp` column (`s`, `ms`, `us`, `ns`).
    #[serde(default)]
    pub timestamp_unit: TimestampUnit,
    /// Column holding the tenant, for data that is not split into files per tenant.
    #[serde(default)]
    pub tenant: Option<String>,
    /// Cap on rows per tenant and evaluation; above it a seeded random sample is taken.
    #[serde(default)]
    pub max_rows: Option<usize>,
    /// Seed of that sample, so evaluations are reproducible.
    #[serde(default)]
    pub seed: u64,
}

/// A validated file source.
#[derive(Debug, Clone)]
pub struct FileSource {
    template: PathTemplate,
    format: Option<FileFormat>,
    timestamp: Option<String>,
    timestamp_unit: TimestampUnit,
    tenant_column: Option<String>,
    max_rows: Option<usize>,
    seed: u64,
}

impl FileSourceConfig {
    /// Check the config; relative paths are taken from `base_dir`. No I/O.
    pub fn validate(&self, base_dir: &Path) -> Result<FileSource, String> {
        let path = crate::util::paths::resolve(base_dir, &self.path);
        let template = PathTemplate::parse(&path.to_string_lossy()).map_err(|e| format!("path: {e}"))?;
        if template.has_tenant() && self.tenant.is_some() {
            return Err("set either a `{tenant}` part in `path` or a `tenant` column, not both".into());
        }
        if self.max_rows == Some(0) {
            return Err("max_rows must be at least 1".into());
        }
        Ok(FileSource {
            template,
            format: self.format,
            timestamp: self.timestamp.clone(),
            timestamp_unit: self.timestamp_unit,
            tenant_column: self.tenant.clone(),
            max_rows: self.max_rows,
            seed: self.seed,
        })
    }
}

impl FileSource {
    pub fn has_tenant(&self) -> bool {
        self.template.has_tenant() || self.tenant_column.is_some()
    }

    pub fn has_timestamp(&self) -> bool {
        self.timestamp.is_some()
    }

    /// Read `columns` of every matching file, keep the rows in `window`, and split by
    /// tenant when `by_tenant` (else one partition).
    pub fn sample(&self, columns: &[String], window: Option<Window>, by_tenant: bool) -> Result<Vec<Partition>, SourceError> {
        let files = self
            .template
            .discover()
            .map_err(|e| SourceError::Discover { pattern: self.template.as_str().to_string(), message: e.to_string() })?;
        if files.is_empty() {
            return Err(SourceError::NoFiles { pattern: self.template.as_str().to_string() });
        }
        let mut wanted: Vec<String> = columns.to_vec();
        wanted.extend(self.timestamp.iter().cloned());
        wanted.extend(self.tenant_column.iter().cloned());
        wanted.sort();
        wanted.dedup();

        // Frames per tenant key (None when not splitting, or when the tenant is a column).
        let mut frames: BTreeMap<Option<String>, DataFrame> = BTreeMap::new();
        for Matched { path, tenant } in files {
            let mut df = read_file(&path, self.format, Some(&wanted))?;
            if let Some(ts) = &self.timestamp {
                df = select_window(&df, ts, self.timestamp_unit, window).map_err(|e| SourceError::frame(&path, e))?;
            }
            let df = normalize_numeric(df).map_err(|e| SourceError::frame(&path, e))?;
            let key = if by_tenant { tenant } else { None };
            match frames.get_mut(&key) {
                Some(acc) => {
                    acc.vstack_mut(&df).map_err(|e| SourceError::frame(&path, e))?;
                }
                None => {
                    frames.insert(key, df);
                }
            }
        }

        let mut parts = Vec::new();
        for (tenant, df) in frames {
            match (&self.tenant_column, by_tenant) {
                (Some(col), true) => parts.extend(split_by_column(&df, col)?),
                _ => parts.push(Partition { tenant, frame: df }),
            }
        }
        if let Some(max) = self.max_rows {
            for p in &mut parts {
                p.frame = sample_rows(&p.frame, max, self.seed)?;
            }
        }
        Ok(parts)
    }
}

/// Numbers become Float64 so files whose columns were inferred as integers in one
/// and floats in another still stack.
fn normalize_numeric(mut df: DataFrame) -> PolarsResult<DataFrame> {
    let numeric: Vec<PlSmallStr> =
        df.columns().iter().filter(|c| c.dtype().is_primitive_numeric() && !c.dtype().is_float()).map(|c| c.name().clone()).collect();
    for name in numeric {
        let cast = df.column(&name)?.cast(&DataType::Float64)?;
        df.with_column(cast)?;
    }
    Ok(df)
}

fn split_by_column(df: &DataFrame, column: &str) -> Result<Vec<Partition>, SourceError> {
    let tenants = df
        .column(column)
        .and_then(|c| c.cast(&DataType::String))
        .map_err(|e| SourceError::Frame { what: format!("tenant column `{column}`"), source: e })?;
    let mut rows: BTreeMap<String, Vec<IdxSize>> = BTreeMap::new();
    for (i, t) in tenants.str().expect("cast to string").iter().enumerate() {
        if let Some(t) = t {
            rows.entry(t.to_string()).or_default().push(i as IdxSize);
        }
    }
    rows.into_iter()
        .map(|(tenant, idx)| {
            let frame = df
                .take(&IdxCa::from_vec("idx".into(), idx))
                .map_err(|e| SourceError::Frame { what: format!("tenant `{tenant}`"), source: e })?;
            Ok(Partition { tenant: Some(tenant), frame })
        })
        .collect()
}

/// A seeded uniform sample of `max` rows (in their original order), or the frame itself.
fn sample_rows(df: &DataFrame, max: usize, seed: u64) -> Result<DataFrame, SourceError> {
    if df.height() <= max {
        return Ok(df.clone());
    }
    let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(seed);
    let mut idx: Vec<IdxSize> = rand::seq::index::sample(&mut rng, df.height(), max).into_iter().map(|i| i as IdxSize).collect();
    idx.sort_unstable();
    df.take(&IdxCa::from_vec("idx".into(), idx)).map_err(|e| SourceError::Frame { what: "sample".into(), source: e })
}

impl SourceError {
    fn frame(path: &Path, source: PolarsError) -> Self {
        SourceError::Frame { what: path.display().to_string(), source }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn source(dir: &Path, yaml: &str) -> FileSource {
        let cfg: FileSourceConfig = serde_saphyr::from_str(yaml).unwrap();
        cfg.validate(dir).unwrap()
    }

    #[test]
    fn splits_by_path_tenant_and_stacks_files() {
        let dir = tempfile::tempdir().unwrap();
        for (t, body) in [("acme", "x\n1\n2\n"), ("globex", "x\n3.5\n")] {
            std::fs::create_dir_all(dir.path().join(t)).unwrap();
            std::fs::write(dir.path().join(t).join("a.csv"), body).unwrap();
            std::fs::write(dir.path().join(t).join("b.csv"), "x\n10\n").unwrap();
        }
        let s = source(dir.path(), "path: '{tenant}/*.csv'");
        let parts = s.sample(&["x".into()], None, true).unwrap();
        let got: Vec<(String, usize)> = parts.iter().map(|p| (p.tenant.clone().unwrap(), p.frame.height())).collect();
        assert_eq!(got, [("acme".to_string(), 3), ("globex".to_string(), 2)]);
        let all = s.sample(&["x".into()], None, false).unwrap();
        assert_eq!(all.len(), 1);
        assert_eq!(all[0].frame.height(), 5);
    }

    #[test]
    fn splits_by_tenant_column_and_samples_reproducibly() {
        let dir = tempfile::tempdir().unwrap();
        let mut body = String::from("tenant,x\n");
        for i in 0..100 {
            body.push_str(&format!("{},{}\n", if i % 2 == 0 { "a" } else { "b" }, i));
        }
        std::fs::write(dir.path().join("d.csv"), body).unwrap();
        let s = source(dir.path(), "{path: d.csv, tenant: tenant, max_rows: 10, seed: 7}");
        let p1 = s.sample(&["x".into()], None, true).unwrap();
        let p2 = s.sample(&["x".into()], None, true).unwrap();
        assert_eq!(p1.len(), 2);
        assert_eq!(p1[0].frame.height(), 10);
        assert!(p1[0].frame.equals(&p2[0].frame));
    }

    #[test]
    fn no_matching_files_is_a_named_error() {
        let dir = tempfile::tempdir().unwrap();
        let s = source(dir.path(), "path: 'missing/*.parquet'");
        let err = s.sample(&["x".into()], None, false).unwrap_err().to_string();
        assert!(err.contains("no files match") && err.contains("missing/*.parquet"), "{err}");
    }
}
