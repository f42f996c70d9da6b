//! Rule files as SREs write them: `groups` → `rules`, shaped like Prometheus rule
//! files. Values that need checking beyond their type keep their YAML position.

use std::collections::BTreeMap;

use serde::Deserialize;
use serde_saphyr::Spanned;

use crate::checks::CheckConfig;

/// A rule file.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawRuleFile {
    /// Groups of rules that share a source, schedule and window.
    pub groups: Vec<Spanned<RawGroup>>,
}

/// A group: its rules are evaluated together on one sample of the source.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawGroup {
    /// Unique across all rule files.
    pub name: Spanned<String>,
    /// Name of a source in `mlwatch.yaml`.
    pub source: Spanned<String>,
    /// How often to evaluate (humantime, e.g. `15m`). Default `1m`.
    #[serde(default)]
    pub interval: Option<Spanned<String>>,
    /// Cron expression with seconds (`0 */15 * * * *`), instead of `interval`.
    #[serde(default)]
    pub schedule: Option<Spanned<String>>,
    /// How long one evaluation may take (humantime); by default the interval
    /// (for cron, the gap between runs). One that overruns is reported as failing.
    #[serde(default)]
    pub timeout: Option<Spanned<String>>,
    /// How far back from now rows are read (humantime); all rows when absent.
    #[serde(default)]
    pub window: Option<Spanned<String>>,
    /// Evaluate every tenant on its own, with a `tenant` label.
    #[serde(default)]
    pub per_tenant: bool,
    /// A tenant with no rows for this long is no longer expected (its "no
    /// data" series, and alerts on them, go away). Humantime; default `7d`.
    #[serde(default)]
    pub forget_tenants_after: Option<Spanned<String>>,
    pub rules: Vec<Spanned<RawRule>>,
}

/// An alerting rule.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawRule {
    /// Alert name; unique across all rule files. Becomes the `alertname` label.
    pub alert: Spanned<String>,
    /// What to compute.
    pub check: Spanned<CheckConfig>,
    /// What to compare against.
    #[serde(default)]
    pub baseline: Option<Spanned<RawBaseline>>,
    /// Condition over the check's values, e.g. `psi > 0.2`.
    pub when: Spanned<String>,
    /// The value `{{ value }}` and the alert's value stand for; the check's
    /// main value when absent (e.g. `lift` for an A/B arm's CTR alert).
    #[serde(default)]
    pub value: Option<Spanned<String>>,
    /// How long the condition must hold before the alert fires (humantime). Default `0s`.
    #[serde(default, rename = "for")]
    pub for_: Option<Spanned<String>>,
    /// Labels added to the alert.
    #[serde(default)]
    pub labels: BTreeMap<String, Spanned<String>>,
    /// Templated annotations (minijinja): `{{ value }}`, `{{ labels.column }}`, `{{ values.psi }}`.
    #[serde(default)]
    pub annotations: BTreeMap<String, Spanned<String>>,
}

/// A rule's baseline: exactly one of `profile`, `reference` and `learn`.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawBaseline {
    /// A profile file built by `mlwatch baseline build` (relative to the
    /// config file), or a path template with `{tenant}`: one file per tenant.
    #[serde(default)]
    pub profile: Option<String>,
    /// The source's own past for each tenant: `{ offset: 7d, window: 1d }`.
    #[serde(default)]
    pub reference: Option<RawReference>,
    /// Each tenant's first period (humantime, e.g. `7d`) becomes its
    /// baseline; until then its alerts are held.
    #[serde(default)]
    pub learn: Option<String>,
    /// `learned` (k = 3), or `{ learned: K }`: the value `threshold` is
    /// mean + K·σ of the primary value between chunks of the baseline period.
    #[serde(default)]
    pub threshold: Option<RawThreshold>,
}

/// `reference:` a period of the source's own past.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawReference {
    /// How far back the period ends (humantime).
    pub offset: String,
    /// How long it is (humantime).
    pub window: String,
    /// How far the period may fall behind before it is profiled anew. Default: `window`.
    #[serde(default)]
    pub refresh: Option<String>,
}

/// `threshold:` as written.
#[derive(Debug, Deserialize)]
#[serde(untagged)]
pub enum RawThreshold {
    /// `learned`
    Word(String),
    /// `{ learned: 2.5 }`
    Learned { learned: f64 },
}
