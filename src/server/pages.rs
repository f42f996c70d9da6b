//! The agent's pages: `/` (overview), `/rules/{rule}` (drill-down), and the
//! silence forms. Pages are built off the async runtime (they read the
//! state file). A form is behind the bearer token when one is configured:
//! browsers cannot send the header, so the token is a form field.

use std::collections::HashMap;

use axum::extract::{Form, Path, Query, State};
use axum::http::{StatusCode, header};
use axum::response::{Html, IntoResponse, Redirect, Response};
use chrono::Duration;
use serde::Deserialize;

use super::AppState;
use super::auth::token_matches;
use crate::alerting::matcher::Matcher;
use crate::alerting::silence::NewSilence;
use crate::web::{self, OverviewInput, model};

/// Longest period a drill-down draws (`hours`).
const MAX_HOURS: u32 = 24 * 90;

pub async fn overview(State(state): State<AppState>, Query(q): Query<HashMap<String, String>>) -> Response {
    let tenant = q.get("tenant").filter(|t| !t.is_empty()).cloned();
    let message = q.get("done").map(|m| (m.clone(), false)).or_else(|| q.get("failed").map(|m| (m.clone(), true)));
    let token_required = state.auth.read().unwrap_or_else(|p| p.into_inner()).is_some();
    let built = tokio::task::spawn_blocking(move || {
        let now = state.alerting.clock().now();
        let info = state.live.info();
        let silences = state.alerting.store().load_silences(now)?;
        let input = OverviewInput {
            version: info.version,
            started_at: info.started_at,
            reload_error: info.reload.last_error.filter(|_| !info.reload.successful),
            groups: state.live.groups(),
            silences,
            now,
            tenant,
            message,
            token_required,
        };
        web::overview(input, state.alerting.store())
    })
    .await;
    html(built)
}

#[derive(Deserialize)]
pub struct RuleQuery {
    tenant: Option<String>,
    hours: Option<u32>,
}

pub async fn rule(State(state): State<AppState>, Path(name): Path<String>, Query(q): Query<RuleQuery>) -> Response {
    let Some(view) = state.live.groups().into_iter().flat_map(|g| g.rules).find(|r| r.name == name) else {
        return (StatusCode::NOT_FOUND, Html(format!("<!doctype html><p>No rule <code>{}</code>. <a href=\"/\">Back</a></p>", web::svg::escape(&name)))).into_response();
    };
    let hours = q.hours.unwrap_or(24).clamp(1, MAX_HOURS);
    let built = tokio::task::spawn_blocking(move || {
        let store = state.alerting.store();
        let now = state.alerting.clock().now();
        let tenants = model::tenants(store, &view.rule)?;
        // A per-tenant rule shows one tenant: the one asked for, else the
        // first one firing, else the first.
        let firing = view.alerts.iter().filter(|a| a.state == crate::rules::alert::AlertState::Firing).find_map(|a| a.labels.get("tenant").cloned());
        let tenant = q.tenant.filter(|t| !t.is_empty()).or(firing).or_else(|| tenants.first().cloned());
        let report = model::rule_report(store, &view.rule, tenant.as_deref(), now - Duration::hours(hours as i64), now)?;
        Ok(web::rule_page(&report, tenants, hours, now))
    })
    .await;
    html(built)
}

fn html(built: Result<Result<String, crate::state::StateError>, tokio::task::JoinError>) -> Response {
    match built {
        Ok(Ok(page)) => ([(header::CACHE_CONTROL, "no-store")], Html(page)).into_response(),
        Ok(Err(e)) => (StatusCode::INTERNAL_SERVER_ERROR, format!("cannot read the agent's state: {e}\n")).into_response(),
        Err(e) => (StatusCode::INTERNAL_SERVER_ERROR, format!("the page failed: {e}\n")).into_response(),
    }
}

#[derive(Deserialize)]
pub struct SilenceForm {
    matchers: String,
    duration: String,
    author: String,
    comment: String,
    #[serde(default)]
    token: String,
}

#[derive(Deserialize)]
pub struct TokenForm {
    #[serde(default)]
    token: String,
}

/// Back to the overview with what happened.
fn back(outcome: Result<String, String>) -> Response {
    let (key, text) = match outcome {
        Ok(m) => ("done", m),
        Err(m) => ("failed", m),
    };
    Redirect::to(&format!("/?{key}={}", web::url_encode(&text))).into_response()
}

fn unauthorized() -> Response {
    (StatusCode::UNAUTHORIZED, Html("<!doctype html><title>mlwatch</title><p>A valid token is required to change silences. <a href=\"/\">Back</a></p>")).into_response()
}

fn allowed(state: &AppState, given: &str) -> bool {
    match &*state.auth.read().unwrap_or_else(|p| p.into_inner()) {
        None => true,
        Some(expected) => token_matches(given, expected.expose()),
    }
}

pub async fn add_silence(State(state): State<AppState>, Form(f): Form<SilenceForm>) -> Response {
    if !allowed(&state, &f.token) {
        return unauthorized();
    }
    let made = (|| {
        let matchers = split_matchers(&f.matchers).iter().map(|m| Matcher::parse(m)).collect::<Result<Vec<_>, _>>()?;
        let d = crate::rules::schedule::parse_duration("for", &f.duration)?;
        let now = state.alerting.clock().now();
        let ends_at = now + Duration::from_std(d).map_err(|_| "for: too long".to_string())?;
        let new = NewSilence { matchers, starts_at: None, ends_at, created_by: f.author.trim().to_string(), comment: f.comment.trim().to_string() };
        super::silences::add(&state, new).map_err(|(_, m)| m)
    })();
    back(made.map(|id| format!("silence {id} added")))
}

pub async fn expire_silence(State(state): State<AppState>, Path(id): Path<String>, Form(f): Form<TokenForm>) -> Response {
    if !allowed(&state, &f.token) {
        return unauthorized();
    }
    back(super::silences::expire_now(&state, &id).map(|()| format!("silence {id} expired")).map_err(|(_, m)| m))
}

/// `tenant=acme alertname=~"Feature .*"`: matchers separated by spaces
/// outside quotes.
fn split_matchers(text: &str) -> Vec<String> {
    let mut out = Vec::new();
    let mut current = String::new();
    let mut quoted = false;
    for c in text.chars() {
        match c {
            '"' => {
                quoted = !quoted;
                current.push(c);
            }
            c if c.is_whitespace() && !quoted => {
                if !current.is_empty() {
                    out.push(std::mem::take(&mut current));
                }
            }
            c => current.push(c),
        }
    }
    if !current.is_empty() {
        out.push(current);
    }
    out
}

#[cfg(test)]
mod tests {
    #[test]
    fn matchers_split_on_spaces_outside_quotes() {
        assert_eq!(super::split_matchers(r#" tenant=acme  alertname=~"Feature .*" "#), ["tenant=acme", r#"alertname=~"Feature .*""#]);
    }
}
