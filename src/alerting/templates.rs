//! Message templates (minijinja) for titles and bodies, with defaults shaped
//! like Alertmanager's. A template compiles when the config loads, so a syntax
//! error is a config error; a render error shows in the message as
//! `<template error: ...>` and never drops the notification.

use minijinja::Environment;
use serde_json::{Value, json};

use super::notification::GroupNotification;
use crate::rules::template::{describe, limited_environment, render_limited};

/// The default title: `[FIRING:2] FeatureDrift tenant=acme`.
pub const DEFAULT_TITLE: &str = "{{ title }}";

/// The default body in Slack's mrkdwn: each alert with its summary, labels,
/// value and runbook.
pub const DEFAULT_SLACK_TEXT: &str = r#"{% for a in alerts %}{% if not loop.first %}

{% endif %}*[{{ a.status | upper }}]* {{ a.annotations.summary or a.annotations.description or a.labels.alertname }}
{% for k, v in a.labels | items %}{% if k != "alertname" %}`{{ k }}={{ v }}` {% endif %}{% endfor %}
{% if a.value is not none %}value {{ a.value | round(4) }} · {% endif %}since {{ a.startsAt }}{% if a.annotations.runbook_url %} · <{{ a.annotations.runbook_url }}|runbook>{% endif %}{% endfor %}"#;

/// The default plain-text e-mail body.
pub const DEFAULT_EMAIL_TEXT: &str = r#"{{ title }}
{% for a in alerts %}
[{{ a.status | upper }}] {{ a.annotations.summary or a.labels.alertname }}
{% for k, v in a.labels | items %}  {{ k }} = {{ v }}
{% endfor %}{% if a.value is not none %}  value: {{ a.value | round(4) }}
{% endif %}  since: {{ a.startsAt }}
{% if a.annotations.runbook_url %}  runbook: {{ a.annotations.runbook_url }}
{% endif %}{% endfor %}
{% if externalURL %}Sent by mlwatch: {{ externalURL }}{% endif %}
"#;

/// The default HTML e-mail body.
pub const DEFAULT_EMAIL_HTML: &str = r#"<!doctype html>
<html><body style="font-family: sans-serif">
<h2>{{ title }}</h2>
{% for a in alerts %}
<h3 style="color: {% if a.status == "firing" %}#b00020{% else %}#1b7f3b{% endif %}">[{{ a.status | upper }}] {{ a.annotations.summary or a.labels.alertname }}</h3>
<table>{% for k, v in a.labels | items %}<tr><td><b>{{ k }}</b></td><td>{{ v }}</td></tr>{% endfor %}
{% if a.value is not none %}<tr><td><b>value</b></td><td>{{ a.value | round(4) }}</td></tr>{% endif %}
<tr><td><b>since</b></td><td>{{ a.startsAt }}</td></tr></table>
{% if a.annotations.runbook_url %}<p><a href="{{ a.annotations.runbook_url }}">Runbook</a></p>{% endif %}
{% endfor %}
{% if externalURL %}<p><a href="{{ externalURL }}">mlwatch</a></p>{% endif %}
</body></html>
"#;

/// The templates of one integration, by field name (`title`, `text`, ...).
#[derive(Debug)]
pub struct MessageTemplates {
    env: Environment<'static>,
}

impl MessageTemplates {
    /// Compile `(field, configured source, default source)` for each field.
    pub fn compile(fields: &[(&'static str, Option<&str>, &'static str)]) -> Result<MessageTemplates, String> {
        let mut env = limited_environment();
        // HTML bodies escape values; other fields are plain text.
        env.set_auto_escape_callback(|name| {
            if name == "html" { minijinja::AutoEscape::Html } else { minijinja::AutoEscape::None }
        });
        for (field, configured, default) in fields {
            let source = configured.unwrap_or(default).to_string();
            env.add_template_owned(*field, source).map_err(|e| format!("{field}: template: {}", describe(&e)))?;
        }
        Ok(MessageTemplates { env })
    }

    /// Render one field within the template limits; a failure renders as a
    /// visible error string.
    pub fn render(&self, field: &str, n: &GroupNotification) -> String {
        render_limited(&self.env, field, minijinja::value::Serde(context(n)))
    }
}

/// What templates see: the webhook payload's fields plus `title`, `firing` and `resolved`.
pub fn context(n: &GroupNotification) -> Value {
    json!({
        "title": n.title(),
        "status": n.status().as_str(),
        "receiver": n.receiver,
        "groupKey": n.group_key,
        "groupLabels": n.group_labels,
        "commonLabels": n.common_labels(),
        "commonAnnotations": n.common_annotations(),
        "externalURL": n.external_url,
        "alerts": n.alerts,
        "firing": n.firing().collect::<Vec<_>>(),
        "resolved": n.resolved().collect::<Vec<_>>(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::alerting::notification::Status;
    use crate::alerting::notification::tests::alert_out;
    use crate::labels::Labels;

    fn group() -> GroupNotification {
        GroupNotification {
            receiver: "oncall".into(),
            group_key: "k".into(),
            group_labels: Labels::from([("alertname".into(), "Drift".into())]),
            alerts: vec![alert_out("Drift", "acme", Status::Firing), alert_out("Drift", "globex", Status::Resolved)],
            external_url: "http://mlwatch.test".into(),
        }
    }

    #[test]
    fn defaults_show_each_alert_with_labels_and_value() {
        let t = MessageTemplates::compile(&[("title", None, DEFAULT_TITLE), ("text", None, DEFAULT_SLACK_TEXT)]).unwrap();
        assert_eq!(t.render("title", &group()), "[FIRING:1] Drift");
        let text = t.render("text", &group());
        assert!(text.starts_with("*[FIRING]* Drift on acme\n`severity=page` `tenant=acme`"), "{text}");
        assert!(text.contains("value 0.31 · since 2027-01-15T08:00:00Z") && text.contains("*[RESOLVED]* Drift on globex"), "{text}");
    }

    #[test]
    fn html_escapes_and_errors_are_visible() {
        let mut g = group();
        g.alerts[0].annotations.insert("summary".into(), "<script>".into());
        let t = MessageTemplates::compile(&[("html", None, DEFAULT_EMAIL_HTML), ("text", Some("{{ 1 / 0 }}"), "")]).unwrap();
        assert!(t.render("html", &g).contains("&lt;script&gt;"));
        assert!(t.render("text", &g).starts_with("<template error:"), "{}", t.render("text", &g));
        assert!(MessageTemplates::compile(&[("title", Some("{{ oops"), "")]).unwrap_err().starts_with("title: template:"));
    }
}
