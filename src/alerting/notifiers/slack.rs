//! The `slack` integration: Slack incoming webhooks, Block Kit with a plain-text
//! fallback. Secrets come from `api_url_file` or `${ENV}`; they never reach logs.

use std::path::PathBuf;
use std::time::Duration;

use serde::Deserialize;
use serde_json::{Value, json};

use super::DeliveryError;
use crate::alerting::{Notification, Status, format_value};
use crate::util::secret::Secret;

/// Slack's documented limits, in characters.
const HEADER_MAX: usize = 150;
const SECTION_MAX: usize = 3000;
const FIELD_MAX: usize = 2000;
const FIELDS_MAX: usize = 10;
const FALLBACK_MAX: usize = 4000;

/// `slack: [{ api_url_file: ... }]` under a receiver.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SlackConfig {
    /// Incoming-webhook URL, inline or as `${ENV_VAR}`. Prefer `api_url_file`.
    #[serde(default)]
    pub api_url: Option<String>,
    /// File holding the webhook URL (relative to the config file).
    #[serde(default)]
    pub api_url_file: Option<PathBuf>,
    /// Channel override (only for webhooks that allow it).
    #[serde(default)]
    pub channel: Option<String>,
    /// Sender name override.
    #[serde(default)]
    pub username: Option<String>,
    /// Also notify when an alert resolves.
    #[serde(default = "yes")]
    pub send_resolved: bool,
    /// Per-request timeout (humantime). Default 10s.
    #[serde(default)]
    pub timeout: Option<String>,
}

fn yes() -> bool {
    true
}

#[derive(Debug)]
pub struct SlackNotifier {
    url: Secret,
    channel: Option<String>,
    username: Option<String>,
    pub send_resolved: bool,
    client: reqwest::Client,
}

impl SlackConfig {
    /// Check what can be checked without I/O.
    pub fn validate(&self) -> Result<Duration, String> {
        if self.api_url.is_some() == self.api_url_file.is_some() {
            return Err("slack: set exactly one of `api_url` or `api_url_file`".into());
        }
        match &self.timeout {
            None => Ok(Duration::from_secs(10)),
            Some(t) => crate::rules::schedule::parse_duration("slack: timeout", t),
        }
    }

    /// Read the secret and make the HTTP client.
    pub fn build(&self, base_dir: &std::path::Path) -> Result<SlackNotifier, String> {
        let timeout = self.validate()?;
        let file = self.api_url_file.as_ref().map(|p| crate::util::paths::resolve(base_dir, p));
        let url = Secret::resolve(self.api_url.as_deref(), file.as_deref(), "api_url").map_err(|e| format!("slack: {e}"))?;
        let parsed = reqwest::Url::parse(url.expose()).map_err(|_| "slack: api_url is not a valid URL".to_string())?;
        if !matches!(parsed.scheme(), "http" | "https") {
            return Err("slack: api_url must be an http(s) URL".into());
        }
        let client = reqwest::Client::builder()
            .timeout(timeout)
            .user_agent(concat!("mlwatch/", env!("CARGO_PKG_VERSION")))
            .build()
            .map_err(|e| format!("slack: cannot create HTTP client: {e}"))?;
        Ok(SlackNotifier {
            url,
            channel: self.channel.clone(),
            username: self.username.clone(),
            send_resolved: self.send_resolved,
            client,
        })
    }
}

impl SlackNotifier {
    pub async fn send(&self, n: &Notification) -> Result<(), DeliveryError> {
        let body = payload(n, self.channel.as_deref(), self.username.as_deref());
        // The error from reqwest may contain the URL; never show it.
        let resp = self.client.post(self.url.expose()).json(&body).send().await.map_err(|e| {
            let what = if e.is_timeout() { "timed out" } else if e.is_connect() { "connection failed" } else { "request failed" };
            DeliveryError::transient(format!("slack: {what}"))
        })?;
        let status = resp.status();
        if status.is_success() {
            return Ok(());
        }
        let retry_after = resp
            .headers()
            .get(reqwest::header::RETRY_AFTER)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.trim().parse::<u64>().ok())
            .map(Duration::from_secs);
        let text: String = resp.text().await.unwrap_or_default().chars().take(200).collect();
        let message = format!("slack: HTTP {}: {}", status.as_u16(), text.trim());
        if status.as_u16() == 429 {
            return Err(DeliveryError { message, permanent: false, retry_after });
        }
        if status.is_client_error() {
            return Err(DeliveryError::permanent(message));
        }
        Err(DeliveryError { message, permanent: false, retry_after })
    }
}

/// The webhook body: a Block Kit message with a plain-text fallback.
pub fn payload(n: &Notification, channel: Option<&str>, username: Option<&str>) -> Value {
    let a = &n.alert;
    let (icon, word) = match n.status {
        Status::Firing => ("🔥", "FIRING"),
        Status::Resolved => ("✅", "RESOLVED"),
    };
    let title = format!("{icon} [{word}] {}", n.alertname());
    let summary = a
        .annotations
        .get("summary")
        .or_else(|| a.annotations.get("description"))
        .cloned()
        .unwrap_or_else(|| format!("`{}` on rule {}", n.condition, n.rule));
    let mut fields: Vec<Value> = a
        .labels
        .iter()
        .filter(|(k, _)| k.as_str() != "alertname")
        .map(|(k, v)| json!({"type": "mrkdwn", "text": truncate(&format!("*{k}*\n{v}"), FIELD_MAX)}))
        .collect();
    if fields.len() > FIELDS_MAX {
        let extra = fields.len() - (FIELDS_MAX - 1);
        fields.truncate(FIELDS_MAX - 1);
        fields.push(json!({"type": "mrkdwn", "text": format!("_{extra} more labels (truncated)_")}));
    }
    let mut context = Vec::new();
    if let Some(v) = a.value {
        context.push(format!("value: {}", format_value(v)));
    }
    context.push(format!("since {}", a.active_at.format("%Y-%m-%d %H:%M:%S UTC")));
    if let Some(url) = a.annotations.get("runbook_url") {
        context.push(format!("<{url}|runbook>"));
    }
    if !n.external_url.is_empty() {
        context.push(format!("<{}|mlwatch>", n.external_url));
    }
    let mut blocks = vec![
        json!({"type": "header", "text": {"type": "plain_text", "text": truncate(&title, HEADER_MAX), "emoji": true}}),
        json!({"type": "section", "text": {"type": "mrkdwn", "text": truncate(&summary, SECTION_MAX)}}),
    ];
    if let Some(d) = a.annotations.get("description").filter(|d| **d != summary) {
        blocks.push(json!({"type": "section", "text": {"type": "mrkdwn", "text": truncate(d, SECTION_MAX)}}));
    }
    if !fields.is_empty() {
        blocks.push(json!({"type": "section", "fields": fields}));
    }
    blocks.push(json!({"type": "context", "elements": [{"type": "mrkdwn", "text": truncate(&context.join(" · "), SECTION_MAX)}]}));
    let mut body = json!({
        "text": truncate(&format!("[{word}] {}: {summary}", n.alertname()), FALLBACK_MAX),
        "blocks": blocks,
    });
    if let Some(c) = channel {
        body["channel"] = json!(c);
    }
    if let Some(u) = username {
        body["username"] = json!(u);
    }
    body
}

/// Cut `s` to at most `max` characters, saying so visibly.
fn truncate(s: &str, max: usize) -> String {
    const NOTE: &str = "… (truncated)";
    if s.chars().count() <= max {
        return s.to_string();
    }
    let keep = max.saturating_sub(NOTE.chars().count());
    s.chars().take(keep).collect::<String>() + NOTE
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn truncation_is_visible_and_within_the_limit() {
        let long = "x".repeat(200);
        let t = truncate(&long, HEADER_MAX);
        assert_eq!(t.chars().count(), HEADER_MAX);
        assert!(t.ends_with("(truncated)"));
        assert_eq!(truncate("short", HEADER_MAX), "short");
    }
}
