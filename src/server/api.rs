//! `/api/v1/*`: the agent's state as JSON, in Prometheus' envelope
//! (`{"status": "success", "data": ...}`) so existing tooling reads it.

use axum::Json;
use axum::extract::State;
use serde_json::{Value, json};

use super::AppState;

fn success(data: Value) -> Json<Value> {
    Json(json!({ "status": "success", "data": data }))
}

/// Alerts pending or firing now, each with `silencedBy` (silence ids) and
/// `inhibited`: why a firing alert may not have been notified.
pub async fn alerts(State(state): State<AppState>) -> Json<Value> {
    let now = state.alerting.clock().now();
    let alerts = state.live.active_alerts();
    let dispatcher = state.alerting.dispatcher();
    let alerts: Vec<Value> = alerts
        .iter()
        .map(|a| {
            let (silenced_by, inhibited) = dispatcher.suppression(&a.labels, now);
            let mut v = serde_json::to_value(a).expect("alerts serialize");
            v["silencedBy"] = json!(silenced_by);
            v["inhibited"] = json!(inhibited);
            v
        })
        .collect();
    // Held, not silent: tenants whose baseline is still being learned.
    let learning: Vec<Value> =
        state.live.learning().into_iter().map(|(rule, tenant, until)| json!({ "rule": rule, "tenant": tenant, "until": until })).collect();
    success(json!({ "alerts": alerts, "learning": learning }))
}

/// Every group and rule with health, last evaluation and alerts.
pub async fn rules(State(state): State<AppState>) -> Json<Value> {
    success(json!({ "groups": state.live.groups() }))
}

/// Version, uptime, and the configuration with every secret redacted.
pub async fn status(State(state): State<AppState>) -> Json<Value> {
    let info = state.live.info();
    let uptime = (state.alerting.clock().now() - info.started_at).num_milliseconds() as f64 / 1000.0;
    let mut data = serde_json::to_value(&info).expect("info serializes");
    data["uptimeSeconds"] = json!(uptime);
    success(data)
}
