//! Every metric mlwatch exports, defined in one place.
//!
//! Names carry the `mlwatch_` prefix and base units; counters end in `_total`;
//! labels are bounded (rule, tenant, column, receiver, …), never ids or error text.

use std::collections::HashMap;

use prometheus::{
    Encoder, GaugeVec, HistogramOpts, HistogramVec, IntCounterVec, IntGauge, IntGaugeVec, Opts, Registry, TextEncoder,
};

/// Labels of every check-value gauge.
pub const CHECK_LABELS: &[&str] = &["rule", "tenant", "column"];

/// Check values exported as gauges: (check kind, value name, metric, help).
/// Values not listed (aliases such as `statistic`) are for conditions only.
pub const CHECK_VALUES: &[(&str, &str, &str, &str)] = &[
    ("drift", "psi", "mlwatch_drift_psi", "Population Stability Index of the current window against the baseline."),
    ("drift", "ks_statistic", "mlwatch_drift_ks_statistic", "Two-sample Kolmogorov-Smirnov statistic against the baseline."),
    ("drift", "ks_pvalue", "mlwatch_drift_ks_pvalue", "Two-sided p-value of the Kolmogorov-Smirnov test against the baseline."),
    ("drift", "chi2_statistic", "mlwatch_drift_chi2_statistic", "Chi-square goodness-of-fit statistic against the baseline proportions."),
    ("drift", "chi2_pvalue", "mlwatch_drift_chi2_pvalue", "P-value of the chi-square goodness-of-fit test."),
    ("drift", "js_distance", "mlwatch_drift_js_distance", "Jensen-Shannon distance (base 2, 0..1) to the baseline."),
    ("drift", "wasserstein", "mlwatch_drift_wasserstein_normalized", "Wasserstein-1 distance divided by the baseline standard deviation."),
    ("drift", "wasserstein_raw", "mlwatch_drift_wasserstein", "Wasserstein-1 distance to the baseline, in the column's units."),
    ("drift", "unseen_ratio", "mlwatch_drift_unseen_category_ratio", "Share of current values in categories the baseline never had."),
    ("drift", "count", "mlwatch_drift_sample_values", "Usable (finite, non-null) values in the current window."),
    ("drift", "dropped", "mlwatch_drift_dropped_values", "Null, NaN and infinite values dropped from the current window."),
];

/// The agent's metrics and the registry they are exported from.
pub struct Metrics {
    registry: Registry,
    check_values: HashMap<(&'static str, &'static str), GaugeVec>,
    pub rule_evaluations_total: IntCounterVec,
    pub rule_evaluation_failures_total: IntCounterVec,
    pub rule_evaluation_duration_seconds: HistogramVec,
    pub rule_last_evaluation_timestamp_seconds: GaugeVec,
    pub source_rows_read_total: IntCounterVec,
    pub alerts: IntGaugeVec,
    pub notifications_total: IntCounterVec,
    pub notification_queue_length: IntGaugeVec,
    pub notification_latency_seconds: HistogramVec,
    pub silences: IntGaugeVec,
    pub config_last_reload_successful: IntGauge,
    pub config_last_reload_success_timestamp_seconds: prometheus::Gauge,
    pub state_write_failures_total: prometheus::IntCounter,
    pub build_info: IntGaugeVec,
}

impl Default for Metrics {
    fn default() -> Self {
        Self::new()
    }
}

impl Metrics {
    pub fn new() -> Self {
        let registry = Registry::new();
        let mut check_values = HashMap::new();
        for &(check, value, name, help) in CHECK_VALUES {
            let g = GaugeVec::new(Opts::new(name, help), CHECK_LABELS).expect("valid metric");
            registry.register(Box::new(g.clone())).expect("unique metric");
            check_values.insert((check, value), g);
        }
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
        let source_rows_read_total = counter("mlwatch_source_rows_read_total", "Rows read from sources.", &["source"]);
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
        let build_info = int_gauge("mlwatch_build_info", "Always 1; labels describe the build.", &["version"]);
        build_info.with_label_values(&[env!("CARGO_PKG_VERSION")]).set(1);
        for state in ["pending", "firing"] {
            alerts.with_label_values(&[state]).set(0);
        }
        Metrics {
            registry,
            check_values,
            rule_evaluations_total,
            rule_evaluation_failures_total,
            rule_evaluation_duration_seconds,
            rule_last_evaluation_timestamp_seconds,
            source_rows_read_total,
            alerts,
            notifications_total,
            notification_queue_length,
            notification_latency_seconds,
            silences,
            config_last_reload_successful,
            config_last_reload_success_timestamp_seconds,
            state_write_failures_total,
            build_info,
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

    /// The gauge family of a check value, if that value is exported.
    pub fn check_value(&self, check: &str, value: &str) -> Option<&GaugeVec> {
        self.check_values.iter().find(|((c, v), _)| *c == check && *v == value).map(|(_, g)| g)
    }

    /// The Prometheus text exposition of every metric.
    pub fn render(&self) -> String {
        let mut buf = Vec::new();
        TextEncoder::new().encode(&self.registry.gather(), &mut buf).expect("text encoding cannot fail");
        String::from_utf8(buf).expect("text encoding is UTF-8")
    }
}
