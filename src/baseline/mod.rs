//! Baselines: the declared healthy state that checks compare against.
//!
//! A *profile* is built once from a reference dataset (`mlwatch baseline build`)
//! and stored as versioned, human-readable JSON. Its format is documented in
//! `docs/baseline-profile.md`; this module owns it.

mod build;
pub mod column_kind;
mod resolve;
pub mod stored;

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use serde::{Deserialize, Serialize};

pub use resolve::Baselines;
pub use build::{BuildOptions, MAX_CATEGORIES, build_profile, category_counts, column_profile, left_out, numeric_values};

/// The `format` field of every profile file.
pub const PROFILE_FORMAT: &str = "mlwatch-profile";
/// The profile version this build writes and reads.
pub const PROFILE_VERSION: u32 = 1;

/// The largest profile read (a profile is a few KiB per column).
const MAX_PROFILE_BYTES: u64 = 64 << 20;

/// A tenant's baseline as a check is given it: the profile, and what was
/// learned from the baseline period about the natural spread of the rule's
/// primary value.
#[derive(Debug, Clone, PartialEq)]
pub struct Baseline {
    pub profile: Arc<Profile>,
    /// Per series (e.g. per column): the primary value's spread between
    /// chunks of the baseline period, when it was learned.
    pub spreads: BTreeMap<crate::labels::Labels, Spread>,
}

impl Baseline {
    pub fn of_profile(profile: Arc<Profile>) -> Baseline {
        Baseline { profile, spreads: BTreeMap::new() }
    }
}

/// Per series labels, the spread learned for it.
pub type Spreads = Vec<(crate::labels::Labels, Spread)>;

/// How a value varied between chunks of a healthy period.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct Spread {
    pub mean: f64,
    /// Sample standard deviation (n − 1).
    pub std: f64,
    /// Chunks it was measured on.
    pub chunks: u32,
}

impl Spread {
    /// `mean + k·std`: above it, the value is unusual for this tenant.
    pub fn threshold(&self, k: f64) -> f64 {
        self.mean + k * self.std
    }
}

/// A baseline profile: per column, what the drift checks need.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Profile {
    pub format: String,
    pub version: u32,
    /// When the profile was built (RFC 3339).
    pub created_at: String,
    /// What it was built from (paths as given).
    pub source: String,
    /// Rows read.
    pub rows: u64,
    /// Floor for empty-bin proportions in PSI.
    pub psi_epsilon: f64,
    /// Seed of the bounded raw sample kept for KS.
    pub sample_seed: u64,
    pub columns: BTreeMap<String, ColumnProfile>,
}

/// The profile of one column.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case", deny_unknown_fields)]
pub enum ColumnProfile {
    Numeric(NumericProfile),
    Categorical(CategoricalProfile),
}

impl ColumnProfile {
    /// Usable baseline values (finite numbers; non-null categories, pooled ones included).
    pub fn count(&self) -> u64 {
        match self {
            ColumnProfile::Numeric(n) => n.count,
            ColumnProfile::Categorical(c) => c.count,
        }
    }

    /// Values dropped before testing: nulls, and NaN/±inf for numbers.
    pub fn dropped(&self) -> u64 {
        match self {
            ColumnProfile::Numeric(n) => n.nulls + n.non_finite,
            ColumnProfile::Categorical(c) => c.nulls,
        }
    }
}

/// How numeric PSI bins were fitted.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize, clap::ValueEnum)]
#[serde(rename_all = "snake_case")]
pub enum Binning {
    /// Equal-frequency bins at baseline quantiles.
    #[default]
    Quantile,
    /// Equal-width bins over the baseline's [min, max].
    Uniform,
}

/// A categorical (string or boolean) column.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CategoricalProfile {
    /// Non-null values.
    pub count: u64,
    pub nulls: u64,
    /// Distinct non-null values.
    pub distinct: u64,
    /// Counts of the most frequent categories (at most the build's cap).
    pub categories: BTreeMap<String, u64>,
    /// Values of the categories beyond the cap, pooled.
    pub other: u64,
}

/// A numeric column.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct NumericProfile {
    /// Finite values.
    pub count: u64,
    /// Null values.
    pub nulls: u64,
    /// NaN and ±inf values.
    pub non_finite: u64,
    pub min: f64,
    pub max: f64,
    pub mean: f64,
    /// Sample standard deviation (n − 1).
    pub std: f64,
    /// How `bin_edges` were fitted (`quantile` when absent).
    #[serde(default)]
    pub binning: Binning,
    /// Inner PSI bin edges (the outer bins are open).
    pub bin_edges: Vec<f64>,
    /// Baseline counts per bin; `bin_edges.len() + 1` entries.
    pub bin_counts: Vec<u64>,
    /// Ascending raw values: all of them, or a seeded uniform sample of at most
    /// the build's `--sample` size. KS compares against this.
    pub sample: Vec<f64>,
}

/// Why a profile could not be loaded.
#[derive(Debug, thiserror::Error)]
pub enum ProfileError {
    #[error("{path}: cannot read baseline profile: {source}")]
    Read { path: PathBuf, source: std::io::Error },
    #[error("{path}: not a baseline profile: {source}")]
    Parse { path: PathBuf, source: serde_json::Error },
    #[error("{path}: unsupported profile {format} version {version} (this mlwatch reads {PROFILE_FORMAT} version {PROFILE_VERSION})")]
    Version { path: PathBuf, format: String, version: u32 },
    #[error("{path}: column `{column}`: {message}")]
    Invalid { path: PathBuf, column: String, message: String },
}

impl Profile {
    pub fn load(path: &Path) -> Result<Profile, ProfileError> {
        let text = crate::util::fs::read_text(path, MAX_PROFILE_BYTES).map_err(|source| ProfileError::Read { path: path.into(), source })?;
        let profile: Profile = serde_json::from_str(&text).map_err(|source| ProfileError::Parse { path: path.into(), source })?;
        if profile.format != PROFILE_FORMAT || profile.version != PROFILE_VERSION {
            return Err(ProfileError::Version { path: path.into(), format: profile.format, version: profile.version });
        }
        for (name, col) in &profile.columns {
            let ColumnProfile::Numeric(n) = col else { continue };
            let invalid = |message: &str| ProfileError::Invalid { path: path.into(), column: name.clone(), message: message.into() };
            if n.bin_counts.len() != n.bin_edges.len() + 1 {
                return Err(invalid("bin_counts must have one entry more than bin_edges"));
            }
            if n.bin_edges.windows(2).any(|w| w[0] >= w[1]) {
                return Err(invalid("bin_edges must be strictly ascending"));
            }
            if n.sample.windows(2).any(|w| w[0] > w[1]) {
                return Err(invalid("sample must be ascending"));
            }
        }
        Ok(profile)
    }

    pub fn save(&self, path: &Path) -> std::io::Result<()> {
        let text = serde_json::to_string_pretty(self).expect("profiles always serialize");
        if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
            std::fs::create_dir_all(dir)?;
        }
        // Write then rename, so a running agent never reads half a profile.
        let tmp = path.with_extension("json.tmp");
        std::fs::write(&tmp, text + "\n")?;
        std::fs::rename(tmp, path)
    }

    pub fn numeric(&self, column: &str) -> Option<&NumericProfile> {
        match self.columns.get(column)? {
            ColumnProfile::Numeric(n) => Some(n),
            ColumnProfile::Categorical(_) => None,
        }
    }
}
