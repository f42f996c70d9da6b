//! The check contract: what every check kind declares about its output, and
//! what it is given to compute it.
//!
//! A kind declares its label keys and its values once, in a [`CheckSpec`].
//! From that declaration come the names a `when` condition may use, the gauges
//! registered and exported (`crate::metrics`), the labels rules may not set,
//! and the value tables in the docs ([`value_table`]). Adding a kind is a new
//! file with a spec and an [`CheckKind`] impl, plus one line in `checks!`.

use chrono::{DateTime, Utc};
use polars::prelude::DataFrame;

use super::{CheckError, Series};
use crate::baseline::Baseline;
use crate::labels::Labels;
use crate::sources::{SourceMeta, Window};
use crate::state::HistoryPoint;

/// The unit of a value, as Prometheus' naming conventions spell it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Unit {
    /// A plain number (a statistic, a distance).
    None,
    /// A share of something, 0..1.
    Ratio,
    /// A probability, 0..1.
    Probability,
    /// A count of values, rows or events.
    Count,
    Seconds,
}

impl Unit {
    pub fn as_str(self) -> &'static str {
        match self {
            Unit::None => "",
            Unit::Ratio => "ratio",
            Unit::Probability => "probability",
            Unit::Count => "count",
            Unit::Seconds => "seconds",
        }
    }
}

/// One value a check yields.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ValueSpec {
    /// The name in `when` conditions and templates (`values.psi`).
    pub name: &'static str,
    /// What it means, for `/metrics` HELP and the docs.
    pub help: &'static str,
    pub unit: Unit,
    /// The gauge it is exported as, or `None` for values that are only for
    /// conditions (aliases such as `statistic`).
    pub metric: Option<&'static str>,
}

/// What a check kind yields: labels that tell its series apart, and values.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct CheckSpec {
    /// As in rule files (`check: { drift: ... }`).
    pub kind: &'static str,
    /// One line for the docs.
    pub summary: &'static str,
    /// Label keys of every series (besides `rule` and `tenant`, which the
    /// engine adds). Bounded by construction: never ids.
    pub labels: &'static [&'static str],
    pub values: &'static [ValueSpec],
    /// The value `{{ value }}` and an alert's value stand for.
    pub primary: &'static str,
}

impl CheckSpec {
    pub fn value(&self, name: &str) -> Option<&ValueSpec> {
        self.values.iter().find(|v| v.name == name)
    }
}

/// Values the engine adds to every series of every check, whatever its kind.
pub const ENGINE_VALUES: &[ValueSpec] = &[
    ValueSpec {
        name: "rows",
        help: "Rows of the tenant in the evaluated window (0 when its data stopped).",
        unit: Unit::Count,
        metric: Some("mlwatch_window_rows"),
    },
    ValueSpec {
        name: "absent",
        help: "1 when the tenant (or the source) had no rows in the window, else 0.",
        unit: Unit::None,
        metric: None,
    },
    ValueSpec {
        name: "threshold",
        help: "The threshold learned from the tenant's baseline for the primary value (`threshold: learned`); exported as `mlwatch_<kind>_learned_threshold`.",
        unit: Unit::None,
        metric: None,
    },
];

/// Read access to the recorded values of the rule being evaluated.
pub trait History {
    /// The values of series `labels`/`name` since `since`, oldest first.
    fn values(&self, labels: &Labels, name: &str, since: DateTime<Utc>) -> Vec<HistoryPoint>;
}

/// A history with nothing in it (ad hoc commands, tests).
pub struct NoHistory;

impl History for NoHistory {
    fn values(&self, _: &Labels, _: &str, _: DateTime<Utc>) -> Vec<HistoryPoint> {
        Vec::new()
    }
}

/// Everything a check is given for one tenant and one evaluation.
pub struct EvalContext<'a> {
    /// The tenant, when the group is per tenant.
    pub tenant: Option<&'a str>,
    /// The tenant's rows in the window (possibly none, with no columns at all).
    pub frame: &'a DataFrame,
    /// The window evaluated, when the group has one.
    pub window: Option<Window>,
    /// The evaluation's time (simulated in backtests and tests).
    pub now: DateTime<Utc>,
    /// The tenant's baseline, when the rule has one and it is ready.
    pub baseline: Option<&'a Baseline>,
    /// The rule's recorded values.
    pub history: &'a dyn History,
    /// What the source saw for this tenant: files, newest timestamp, rows.
    pub source: &'a SourceMeta,
    /// A log source's buckets (all tenants'); `None` for table sources.
    pub events: Option<&'a crate::events::Aggregates>,
    /// The frame's event-time column (Unix ms), when the source has one.
    pub timestamp_column: Option<&'a str>,
    /// The tenant's rows of each of the check's [`CheckKind::side_reads`], in
    /// their order (empty frames where a side had none).
    pub side: &'a [&'a DataFrame],
}

impl<'a> EvalContext<'a> {
    /// A context for `frame` at `now` with nothing else: no tenant, window,
    /// baseline, history, buckets, timestamp or side tables. Ad hoc uses and
    /// tests set what they need with `EvalContext { tenant: …, ..EvalContext::new(…) }`.
    pub fn new(frame: &'a DataFrame, source: &'a SourceMeta, now: DateTime<Utc>) -> EvalContext<'a> {
        EvalContext { tenant: None, frame, window: None, now, baseline: None, history: &NoHistory, source, events: None, timestamp_column: None, side: &[] }
    }
}

/// A table a check reads besides its group's window.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SideRead {
    /// Another source of the config (a catalog, a feedback table): its rows
    /// in the group's window when it has a timestamp, else all of them; the
    /// tenant's when it names tenants, else all of them for every tenant.
    Source { name: String, columns: Vec<String> },
    /// The group's own source over the window before the current one.
    PreviousWindow,
}

/// The behaviour every check kind shares. Kinds are a closed set (the
/// `checks!` list); this trait is how the engine talks to each of them.
pub trait CheckKind: std::fmt::Debug + Send + Sync {
    fn spec(&self) -> &'static CheckSpec;

    /// Source columns the check reads.
    fn columns(&self) -> Vec<String>;

    /// The values this configured check yields (a subset of the spec's, e.g.
    /// only the methods asked for). `when` may use these and the engine's.
    fn values(&self) -> Vec<&'static str> {
        self.spec().values.iter().map(|v| v.name).collect()
    }

    /// Whether value `name` (the kind's or the engine's) is kept in the
    /// history. Every one by default; a kind with many series per tenant keeps
    /// what its conditions and pictures need, so the state file stays small.
    fn recorded(&self, _name: &str) -> bool {
        true
    }

    /// The SLIs whose events a log source must count for this check.
    fn slis(&self) -> Vec<&crate::events::Sli> {
        Vec::new()
    }

    /// Tables the check reads besides the window: see [`SideRead`].
    fn side_reads(&self) -> Vec<SideRead> {
        Vec::new()
    }

    /// How far back into its rule's recorded history the check reads, when
    /// it needs that history to judge (`mlwatch check` warns when the
    /// state keeps less: `storage.retention`).
    fn history_needed(&self) -> Option<chrono::Duration> {
        None
    }

    /// Label keys of this configured check's series beyond the spec's (an
    /// SLO's `by` fields).
    fn extra_labels(&self) -> Vec<String> {
        Vec::new()
    }

    /// Whether the check can read `source`; the error names what does not fit.
    fn fits_source(&self, _source: &crate::sources::Source) -> Result<(), String> {
        Ok(())
    }

    /// Whether the check compares against a baseline.
    fn needs_baseline(&self) -> bool {
        false
    }

    /// Whether a baseline profile has what this check needs; the error names the gap.
    fn fits_baseline(&self, _baseline: &crate::baseline::Profile) -> Result<(), String> {
        Ok(())
    }

    /// Compute the tenant's series. A kind yields its series even when the
    /// window has no rows (with its figures missing and a note), so that
    /// `rows == 0` can be alerted on.
    fn evaluate(&self, cx: &EvalContext<'_>) -> Result<Vec<Series>, CheckError>;
}

/// The Markdown table of a kind's values, as the docs show it.
pub fn value_table(spec: &CheckSpec) -> String {
    let mut out = String::from("| value | metric | meaning |\n| --- | --- | --- |\n");
    for v in spec.values.iter().chain(ENGINE_VALUES) {
        let metric = v.metric.map(|m| format!("`{m}`")).unwrap_or_else(|| "(conditions only)".into());
        let primary = if v.name == spec.primary { " This is `{{ value }}` and the alert's value." } else { "" };
        out.push_str(&format!("| `{}` | {metric} | {}{primary} |\n", v.name, v.help));
    }
    out
}
