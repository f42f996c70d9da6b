//! Every metric mlwatch exports, defined in one place.
//!
//! Names carry the `mlwatch_` prefix and base units; counters end in `_total`;
//! labels are bounded (rule, tenant, column, receiver, …), never ids or error text.

use std::collections::HashMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};

use crate::labels::Labels;
use prometheus::{
    Encoder, GaugeVec, HistogramOpts, HistogramVec, IntCounterVec, IntGauge, IntGaugeVec, Opts, Registry, TextEncoder,
};

/// Labels every check-value gauge starts with; each kind's own follow.
pub const CHECK_LABELS: &[&str] = &["rule", "tenant"];

/// A check-value gauge and the label keys after `rule` and `tenant`.
struct CheckGauge {
    gauge: GaugeVec,
    labels: &'static [&'static str],
}

/// One exported series of a rule, to remove it when it goes away.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct ExportedSeries {
    family: Family,
    label_values: Vec<String>,
    /// Label keys beyond the kind's declared ones (an SLO's `by` fields).
    extra: Vec<String>,
}

impl ExportedSeries {
    /// The series' tenant label, when it has a non-empty one.
    pub fn tenant(&self) -> Option<&str> {
        self.label_values.get(1).map(String::as_str).filter(|t| !t.is_empty())
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
enum Family {
    /// A check value: (kind, value name).
    Check(&'static str, &'static str),
    WindowRows,
    Learning,
}

/// The agent's metrics and the registries they are exported from.
///
/// Check values (tens of thousands of series with many tenants) live in a
/// registry of their own whose text is rendered once per change and cached:
/// a scrape copies it and renders only the agent's own few hundred series.
/// Rendering 100,000 series takes longer than a scrape should.
pub struct Metrics {
    /// The agent's own metrics, rendered at every scrape.
    registry: Registry,
    /// Check values, window rows and learning flags.
    values: Registry,
    /// Bumped by every change of a value series.
    version: AtomicU64,
    /// The values' text and the version it shows.
    rendered: Mutex<(u64, Arc<String>)>,
    /// By (check kind, value name), from the kinds' declarations.
    check_values: HashMap<(&'static str, &'static str), CheckGauge>,
    /// Gauges of series with extra label keys (an SLO's `by`), by (kind,
    /// value, extra keys). A family's label names are fixed in the registry,
    /// so these live outside it and are merged into its family at rendering.
    extra_values: Mutex<HashMap<(&'static str, &'static str, Vec<String>), GaugeVec>>,
    pub window_rows: GaugeVec,
    pub baseline_learning: GaugeVec,
    pub rule_evaluations_total: IntCounterVec,
    pub rule_evaluation_failures_total: IntCounterVec,
    pub rule_evaluation_duration_seconds: HistogramVec,
    pub rule_last_evaluation_timestamp_seconds: GaugeVec,
    pub group_last_duration_seconds: GaugeVec,
    pub source_rows_read_total: IntCounterVec,
    pub source_files_read_total: IntCounterVec,
    pub tenants: IntGaugeVec,
    pub alerts: IntGaugeVec,
    pub notifications_total: IntCounterVec,
    pub notification_queue_length: IntGaugeVec,
    pub notification_latency_seconds: HistogramVec,
    pub silences: IntGaugeVec,
    pub config_last_reload_successful: IntGauge,
    pub config_last_reload_success_timestamp_seconds: prometheus::Gauge,
    pub state_write_failures_total: prometheus::IntCounter,
    pub group_evaluation_overruns_total: IntCounterVec,
    pub source_files_skipped_total: IntCounterVec,
    pub source_lines_rejected_total: IntCounterVec,
    pub source_bucket_bytes: IntGaugeVec,
    pub build_info: IntGaugeVec,
    pub shard_info: IntGaugeVec,
}

impl Default for Metrics {
    fn default() -> Self {
        Self::new()
    }
}

impl Metrics {
    pub fn new() -> Self {
        let registry = Registry::new();
        let values = Registry::new();
        let mut check_values = HashMap::new();
        for spec in crate::checks::specs() {
            let labels: Vec<&str> = CHECK_LABELS.iter().chain(spec.labels).copied().collect();
            let mut add = |value: &'static str, name: String, help: &str| {
                let gauge = GaugeVec::new(Opts::new(name, help), &labels).expect("valid metric");
                values.register(Box::new(gauge.clone())).expect("unique metric");
                check_values.insert((spec.kind, value), CheckGauge { gauge, labels: spec.labels });
            };
            for v in spec.values {
                if let Some(name) = v.metric {
                    add(v.name, name.to_string(), v.help);
                }
            }
            add("threshold", format!("mlwatch_{}_learned_threshold", spec.kind), "Threshold learned from the tenant's baseline (mean + k standard deviations of the primary value between baseline chunks).");
        }
        let window_rows = GaugeVec::new(
            Opts::new("mlwatch_window_rows", "Rows of the tenant in the rule's last evaluated window (0 when its data stopped)."),
            CHECK_LABELS,
        )
        .expect("valid metric");
        values.register(Box::new(window_rows.clone())).expect("unique metric");
        let baseline_learning = GaugeVec::new(
            Opts::new("mlwatch_baseline_learning", "1 while the tenant's baseline of the rule is still being learned (its alerts are held)."),
            CHECK_LABELS,
        )
        .expect("valid metric");
        values.register(Box::new(baseline_learning.clone())).expect("unique metric");
        let counter = |name: &str, help: &str, labels: &[&str]| {
            let c = IntCounterVec::new(Opts::new(name, help), labels).expect("valid metric");
            registry.register(Box::new(c.clone())).expect("unique metric");
            c
        };
        let int_gauge = |name: &str, help: &str, labels: &[&str]| {
            let g = IntGaugeVec::new(Opts::new(name, help), labels).expect("valid metric");
            registry.register(Box::new(g.clone())).expect("unique metric");
            g
        };
        let rule_evaluations_total = counter("mlwatch_rule_evaluations_total", "Rule evaluations, successful or not.", &["rule"]);
        let rule_evaluation_failures_total =
            counter("mlwatch_rule_evaluation_failures_total", "Rule evaluations that failed, by reason.", &["rule", "reason"]);
        let rule_evaluation_duration_seconds = HistogramVec::new(
            HistogramOpts::new(
                "mlwatch_rule_evaluation_duration_seconds",
                "Time to evaluate a rule, reading its source included.",
            )
            .buckets(vec![0.001, 0.005, 0.01, 0.05, 0.1, 0.5, 1.0, 5.0, 10.0, 30.0, 60.0]),
            &["rule"],
        )
        .expect("valid metric");
        registry.register(Box::new(rule_evaluation_duration_seconds.clone())).expect("unique metric");
        let rule_last_evaluation_timestamp_seconds = GaugeVec::new(
            Opts::new("mlwatch_rule_last_evaluation_timestamp_seconds", "Unix time of the rule's last evaluation."),
            &["rule"],
        )
        .expect("valid metric");
        registry.register(Box::new(rule_last_evaluation_timestamp_seconds.clone())).expect("unique metric");
        let group_last_duration_seconds = GaugeVec::new(
            Opts::new(
                "mlwatch_group_last_duration_seconds",
                "Wall time of the group's last evaluation: reading its source, every rule, storing and exporting the results.",
            ),
            &["group"],
        )
        .expect("valid metric");
        registry.register(Box::new(group_last_duration_seconds.clone())).expect("unique metric");
        let source_rows_read_total = counter("mlwatch_source_rows_read_total", "Rows read from sources.", &["source"]);
        let source_files_read_total = counter("mlwatch_source_files_read_total", "Files opened to read sources.", &["source"]);
        let tenants = int_gauge("mlwatch_tenants", "Tenants a group knows (seen within its forget_tenants_after).", &["group"]);
        let alerts = int_gauge("mlwatch_alerts", "Alerts by state.", &["alertstate"]);
        let notifications_total = counter(
            "mlwatch_notifications_total",
            "Notification attempts by receiver, integration and result (success, retry, failure).",
            &["receiver", "integration", "result"],
        );
        let notification_queue_length = int_gauge(
            "mlwatch_notification_queue_length",
            "Notifications waiting to be delivered.",
            &["receiver", "integration"],
        );
        let notification_latency_seconds = HistogramVec::new(
            HistogramOpts::new(
                "mlwatch_notification_latency_seconds",
                "Time from a notification entering the outbox to its acknowledgement by the receiver.",
            )
            .buckets(vec![0.01, 0.05, 0.1, 0.5, 1.0, 5.0, 10.0, 30.0, 60.0, 300.0, 900.0, 3600.0]),
            &["receiver", "integration"],
        )
        .expect("valid metric");
        registry.register(Box::new(notification_latency_seconds.clone())).expect("unique metric");
        let silences = int_gauge("mlwatch_silences", "Silences by state.", &["state"]);
        let config_last_reload_successful = IntGauge::new(
            "mlwatch_config_last_reload_successful",
            "Whether the last configuration load succeeded (1) or not (0).",
        )
        .expect("valid metric");
        registry.register(Box::new(config_last_reload_successful.clone())).expect("unique metric");
        let config_last_reload_success_timestamp_seconds = prometheus::Gauge::new(
            "mlwatch_config_last_reload_success_timestamp_seconds",
            "Unix time of the last successful configuration load.",
        )
        .expect("valid metric");
        registry.register(Box::new(config_last_reload_success_timestamp_seconds.clone())).expect("unique metric");
        let state_write_failures_total = prometheus::IntCounter::new(
            "mlwatch_state_write_failures_total",
            "Evaluations whose results could not be written to the state file.",
        )
        .expect("valid metric");
        registry.register(Box::new(state_write_failures_total.clone())).expect("unique metric");
        let group_evaluation_overruns_total = counter(
            "mlwatch_group_evaluation_overruns_total",
            "Scheduled evaluations of a group that failed because an evaluation overran its timeout (a stuck read, say).",
            &["group"],
        );
        let source_files_skipped_total = counter(
            "mlwatch_source_files_skipped_total",
            "Matching files not read, by reason (tenant_not_utf8, symlink_outside_root), counted at every read.",
            &["source", "reason"],
        );
        let source_lines_rejected_total = counter(
            "mlwatch_source_lines_rejected_total",
            "Log lines not counted, by reason (not_utf8, not_json, not_object, missing_field, wrong_type, bad_timestamp, too_long, too_many_tenants).",
            &["source", "reason"],
        );
        let source_bucket_bytes = int_gauge(
            "mlwatch_source_bucket_bytes",
            "Memory held by a log source's buckets of counts (approximate).",
            &["source"],
        );
        let build_info = int_gauge("mlwatch_build_info", "Always 1; labels describe the build.", &["version"]);
        build_info.with_label_values(&[env!("CARGO_PKG_VERSION")]).set(1);
        let shard_info = int_gauge("mlwatch_shard_info", "Always 1; labels name this agent's shard (index from 0) and the shard count (0 of 1 unsharded).", &["index", "count"]);
        for state in ["pending", "firing"] {
            alerts.with_label_values(&[state]).set(0);
        }
        Metrics {
            registry,
            values,
            version: AtomicU64::new(1),
            rendered: Mutex::new((0, Arc::default())),
            check_values,
            extra_values: Default::default(),
            window_rows,
            baseline_learning,
            rule_evaluations_total,
            rule_evaluation_failures_total,
            rule_evaluation_duration_seconds,
            rule_last_evaluation_timestamp_seconds,
            group_last_duration_seconds,
            source_rows_read_total,
            source_files_read_total,
            tenants,
            alerts,
            notifications_total,
            notification_queue_length,
            notification_latency_seconds,
            silences,
            config_last_reload_successful,
            config_last_reload_success_timestamp_seconds,
            state_write_failures_total,
            group_evaluation_overruns_total,
            source_files_skipped_total,
            source_lines_rejected_total,
            source_bucket_bytes,
            build_info,
            shard_info,
        }
    }

    /// Remove a removed rule's own series (its check values are removed by
    /// whoever knows their labels).
    pub fn forget_rule(&self, rule: &str) {
        let _ = self.rule_evaluations_total.remove_label_values(&[rule]);
        let _ = self.rule_evaluation_duration_seconds.remove_label_values(&[rule]);
        let _ = self.rule_last_evaluation_timestamp_seconds.remove_label_values(&[rule]);
        for reason in crate::rules::eval::FAILURE_REASONS {
            let _ = self.rule_evaluation_failures_total.remove_label_values(&[rule, reason]);
        }
    }

    /// Set check value `value` of a series of `rule`, if that value is exported.
    /// Returns the series, for [`Metrics::remove_check_value`] once it is gone.
    pub fn set_check_value(&self, kind: &'static str, value: &'static str, rule: &str, labels: &Labels, v: f64) -> Option<ExportedSeries> {
        let g = self.check_values.get(&(kind, value))?;
        let mut label_values = vec![rule.to_string(), labels.get("tenant").cloned().unwrap_or_default()];
        label_values.extend(g.labels.iter().map(|k| labels.get(*k).cloned().unwrap_or_default()));
        let extra: Vec<String> =
            labels.keys().filter(|k| *k != "tenant" && !g.labels.contains(&k.as_str())).cloned().collect();
        if extra.is_empty() {
            g.gauge.with_label_values(&label_values.iter().map(String::as_str).collect::<Vec<_>>()).set(v);
        } else {
            label_values.extend(extra.iter().map(|k| labels[k].clone()));
            let mut vecs = self.extra_values.lock().unwrap_or_else(|p| p.into_inner());
            let gauge = vecs.entry((kind, value, extra.clone())).or_insert_with(|| {
                let desc = &prometheus::core::Collector::desc(&g.gauge)[0];
                let mut names: Vec<&str> = CHECK_LABELS.iter().chain(g.labels).copied().collect();
                names.extend(extra.iter().map(String::as_str));
                GaugeVec::new(Opts::new(desc.fq_name.clone(), desc.help.clone()), &names).expect("valid metric")
            });
            gauge.with_label_values(&label_values.iter().map(String::as_str).collect::<Vec<_>>()).set(v);
        }
        // After the change: a rendering that saw the old version re-renders.
        self.changed();
        Some(ExportedSeries { family: Family::Check(kind, value), label_values, extra })
    }

    /// Set the rows of a tenant's window for `rule` (`mlwatch_window_rows`).
    pub fn set_window_rows(&self, rule: &str, tenant: &str, rows: f64) -> ExportedSeries {
        self.window_rows.with_label_values(&[rule, tenant]).set(rows);
        self.changed();
        ExportedSeries { family: Family::WindowRows, label_values: vec![rule.to_string(), tenant.to_string()], extra: Vec::new() }
    }

    /// Mark the tenant's baseline of `rule` as being learned (`mlwatch_baseline_learning`).
    pub fn set_learning(&self, rule: &str, tenant: &str) -> ExportedSeries {
        self.baseline_learning.with_label_values(&[rule, tenant]).set(1.0);
        self.changed();
        ExportedSeries { family: Family::Learning, label_values: vec![rule.to_string(), tenant.to_string()], extra: Vec::new() }
    }

    pub fn remove_check_value(&self, s: &ExportedSeries) {
        self.remove_series(s);
        self.changed();
    }

    fn remove_series(&self, s: &ExportedSeries) {
        let labels: Vec<&str> = s.label_values.iter().map(String::as_str).collect();
        if let (Family::Check(kind, value), false) = (s.family, s.extra.is_empty()) {
            let vecs = self.extra_values.lock().unwrap_or_else(|p| p.into_inner());
            if let Some(g) = vecs.get(&(kind, value, s.extra.clone())) {
                let _ = g.remove_label_values(&labels);
            }
            return;
        }
        let gauge = match s.family {
            Family::WindowRows => Some(&self.window_rows),
            Family::Learning => Some(&self.baseline_learning),
            Family::Check(kind, value) => self.check_values.get(&(kind, value)).map(|g| &g.gauge),
        };
        if let Some(g) = gauge {
            let _ = g.remove_label_values(&labels);
        }
    }

    fn changed(&self) {
        self.version.fetch_add(1, Ordering::Release);
    }

    /// The Prometheus text exposition of every metric: the values' cached
    /// text (rendered now if a value changed since), then the agent's own.
    pub fn render(&self) -> String {
        let values = self.values_text();
        let mut buf = Vec::with_capacity(values.len() + 64 * 1024);
        buf.extend_from_slice(values.as_bytes());
        TextEncoder::new().encode(&self.registry.gather(), &mut buf).expect("text encoding cannot fail");
        String::from_utf8(buf).expect("text encoding is UTF-8")
    }

    /// Render the values' text now if they changed, so that the next scrape
    /// finds it ready (called after each evaluation, off the scrape path).
    pub fn refresh_values(&self) {
        self.values_text();
    }

    fn values_text(&self) -> Arc<String> {
        // Held while rendering: concurrent scrapes wait for one rendering
        // rather than each doing it.
        let mut rendered = self.rendered.lock().unwrap_or_else(|p| p.into_inner());
        let version = self.version.load(Ordering::Acquire);
        if rendered.0 != version {
            *rendered = (version, Arc::new(self.render_values()));
        }
        rendered.1.clone()
    }

    fn render_values(&self) -> String {
        let mut families = self.values.gather();
        {
            use prometheus::core::Collector;
            let vecs = self.extra_values.lock().unwrap_or_else(|p| p.into_inner());
            for extra in vecs.values().flat_map(|g| g.collect()) {
                if extra.get_metric().is_empty() {
                    continue;
                }
                match families.iter_mut().find(|f| f.name() == extra.name()) {
                    Some(f) => f.mut_metric().extend(extra.get_metric().iter().cloned()),
                    None => families.push(extra),
                }
            }
        }
        let mut buf = Vec::new();
        TextEncoder::new().encode(&families, &mut buf).expect("text encoding cannot fail");
        String::from_utf8(buf).expect("text encoding is UTF-8")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn series_with_extra_labels_join_their_family() {
        let m = Metrics::new();
        let labels = |pairs: &[(&str, &str)]| -> Labels { pairs.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect() };
        m.set_check_value("slo", "burn_rate", "Plain", &labels(&[("tenant", "acme"), ("window", "5m")]), 1.0).unwrap();
        let by_arm = m.set_check_value("slo", "burn_rate", "ByArm", &labels(&[("tenant", "acme"), ("window", "5m"), ("arm", "t")]), 2.0).unwrap();
        let text = m.render();
        assert_eq!(text.matches("# TYPE mlwatch_slo_burn_rate gauge").count(), 1, "{text}");
        assert!(text.contains(r#"mlwatch_slo_burn_rate{rule="Plain",tenant="acme",window="5m"} 1"#), "{text}");
        assert!(text.contains(r#"mlwatch_slo_burn_rate{arm="t",rule="ByArm",tenant="acme",window="5m"} 2"#), "{text}");
        m.remove_check_value(&by_arm);
        assert!(!m.render().contains("ByArm"));
        // The values' text is cached between changes, never stale after one.
        m.set_check_value("slo", "burn_rate", "Plain", &labels(&[("tenant", "acme"), ("window", "5m")]), 3.5).unwrap();
        m.refresh_values();
        assert!(m.render().contains(r#"mlwatch_slo_burn_rate{rule="Plain",tenant="acme",window="5m"} 3.5"#));
        m.rule_evaluations_total.with_label_values(&["Plain"]).inc();
        assert!(m.render().contains(r#"mlwatch_rule_evaluations_total{rule="Plain"} 1"#), "the agent's own metrics are live");
    }
}
