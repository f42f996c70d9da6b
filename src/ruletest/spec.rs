//! Rule unit-test files as SREs write them, shaped like promtool's:
//! `rule_files`, `evaluation_interval` and `tests`, each test with its input
//! data, baselines, and the alerts and values expected at given times.

use std::collections::BTreeMap;

use serde::Deserialize;

/// A rule unit-test file.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TestFile {
    /// Rule files under test (globs, relative to this file).
    pub rule_files: Vec<String>,
    /// How often every group is evaluated in simulated time. Default `1m`.
    #[serde(default)]
    pub evaluation_interval: Option<String>,
    /// The time `0m` stands for (RFC 3339). Default `2026-01-01T00:00:00Z`.
    #[serde(default)]
    pub start: Option<String>,
    /// The sources the rule files read, as in `mlwatch.yaml`; their paths are
    /// relative to each test's own scratch directory, where its input is written.
    #[serde(default)]
    pub sources: BTreeMap<String, serde_json::Value>,
    pub tests: Vec<TestCase>,
}

/// One test: input data, then assertions at times relative to the start.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TestCase {
    #[serde(default)]
    pub name: Option<String>,
    /// Overrides the file's `evaluation_interval`.
    #[serde(default)]
    pub evaluation_interval: Option<String>,
    /// Overrides the file's `start`.
    #[serde(default)]
    pub start: Option<String>,
    /// Files to write before the replay, by source name.
    #[serde(default)]
    pub input: BTreeMap<String, Vec<Input>>,
    /// Baseline profiles the rules name, built from rows or a data file, or copied.
    #[serde(default)]
    pub baselines: Vec<BaselineInput>,
    #[serde(default)]
    pub alert_rule_test: Vec<AlertTest>,
    #[serde(default)]
    pub value_test: Vec<ValueTest>,
}

/// One row: column (or log key) → value. In the source's timestamp column a
/// duration such as `-90m` or `2h` is a time relative to the test's start.
pub type Row = BTreeMap<String, serde_json::Value>;

/// A file of a source's input: inline `rows`, or a fixture `file` copied.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Input {
    /// Where to write it, relative to the test's scratch directory (so that
    /// the source's `path` matches it). Entries with the same path append.
    pub path: String,
    #[serde(default)]
    pub rows: Vec<Row>,
    /// A fixture file to copy instead (relative to the test file).
    #[serde(default)]
    pub file: Option<String>,
    /// Write `rows` this many times, each copy `every` later, and `{i}` in
    /// its strings replaced by the copy's number (from 0). Default 1.
    #[serde(default)]
    pub repeat: Option<u32>,
    #[serde(default)]
    pub every: Option<String>,
    /// The file's modification time, relative to the start (e.g. `-2h`).
    #[serde(default)]
    pub modified: Option<String>,
}

/// A baseline profile at `path` (where a rule's `baseline: { profile: }`
/// points, relative to the scratch directory).
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct BaselineInput {
    pub path: String,
    /// Healthy rows to profile.
    #[serde(default)]
    pub rows: Vec<Row>,
    /// Profile `rows` written this many times (`{i}` numbered as in input). Default 1.
    #[serde(default)]
    pub repeat: Option<u32>,
    /// A healthy data file to profile (relative to the test file).
    #[serde(default)]
    pub file: Option<String>,
    /// A profile built beforehand with `mlwatch baseline build`, copied.
    #[serde(default)]
    pub profile: Option<String>,
    /// Bins of numeric columns. Default 10.
    #[serde(default)]
    pub bins: Option<usize>,
}

/// The alerts of one rule expected at a time.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AlertTest {
    pub eval_time: String,
    pub alertname: String,
    /// Which alerts are compared: `firing` (default, as promtool) or `pending`.
    #[serde(default)]
    pub state: Option<String>,
    /// Every alert expected in that state; empty: none.
    #[serde(default)]
    pub exp_alerts: Vec<ExpAlert>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ExpAlert {
    /// The alert's labels, all of them but `alertname`.
    #[serde(default)]
    pub exp_labels: BTreeMap<String, String>,
    /// Annotations to compare; ones not named are not compared.
    #[serde(default)]
    pub exp_annotations: BTreeMap<String, String>,
}

/// One value of a rule's check expected at a time.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ValueTest {
    pub eval_time: String,
    /// The rule.
    pub alertname: String,
    /// Labels that pick one of the rule's series (its check's labels and `tenant`).
    #[serde(default)]
    pub labels: BTreeMap<String, String>,
    /// The value's name; default the rule's value (`value:`, or the check's main one).
    #[serde(default)]
    pub value: Option<String>,
    pub exp_value: f64,
    /// Largest difference that passes. Default 1e-9 (relative to the larger of 1 and |exp_value|).
    #[serde(default)]
    pub tolerance: Option<f64>,
}
