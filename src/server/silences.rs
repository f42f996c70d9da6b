//! `/api/v1/silences`: list, create and expire silences. They are stored in
//! the state file, so they survive restarts.

use axum::Json;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use rand::Rng;
use serde_json::{Value, json};

use super::AppState;
use crate::alerting::silence::{NewSilence, SilenceState};

type Answer = (StatusCode, Json<Value>);

fn error(status: StatusCode, message: impl std::fmt::Display) -> Answer {
    (status, Json(json!({ "status": "error", "error": message.to_string() })))
}

/// Every silence not long expired, with its state.
pub async fn list(State(state): State<AppState>) -> Answer {
    let now = state.alerting.clock().now();
    match state.alerting.store().load_silences(now) {
        Err(e) => error(StatusCode::INTERNAL_SERVER_ERROR, e),
        Ok(silences) => {
            let data: Vec<Value> = silences
                .iter()
                .map(|s| {
                    let mut v = serde_json::to_value(s).expect("silences serialize");
                    v["status"] = json!({ "state": s.state(now) });
                    v
                })
                .collect();
            (StatusCode::OK, Json(json!({ "status": "success", "data": data })))
        }
    }
}

pub async fn create(State(state): State<AppState>, body: String) -> Answer {
    let new: NewSilence = match serde_json::from_str(&body) {
        Ok(n) => n,
        Err(e) => return error(StatusCode::BAD_REQUEST, format!("invalid silence: {e}")),
    };
    match add(&state, new) {
        Ok(id) => (StatusCode::OK, Json(json!({ "status": "success", "data": { "silenceID": id } }))),
        Err((status, message)) => error(status, message),
    }
}

/// Store a new silence and apply it; its id.
pub(super) fn add(state: &AppState, new: NewSilence) -> Result<String, (StatusCode, String)> {
    let id = format!("{:016x}", rand::rng().random::<u64>());
    let silence = new.into_silence(id.clone(), state.alerting.clock().now()).map_err(|e| (StatusCode::BAD_REQUEST, e))?;
    state.alerting.store().save_silence(&silence).map_err(|e| (StatusCode::INTERNAL_SERVER_ERROR, e.to_string()))?;
    let matchers: Vec<String> = silence.matchers.iter().map(ToString::to_string).collect();
    tracing::info!(id = %id, matchers = ?matchers, ends_at = %silence.ends_at, created_by = %silence.created_by, "silence created");
    state.alerting.refresh_silences().map_err(|e| (StatusCode::INTERNAL_SERVER_ERROR, e.to_string()))?;
    Ok(id)
}

/// Expire a silence now (it stays listed as expired for a few days).
pub async fn expire(State(state): State<AppState>, Path(id): Path<String>) -> Answer {
    match expire_now(&state, &id) {
        Ok(()) => (StatusCode::OK, Json(json!({ "status": "success" }))),
        Err((status, message)) => error(status, message),
    }
}

pub(super) fn expire_now(state: &AppState, id: &str) -> Result<(), (StatusCode, String)> {
    let now = state.alerting.clock().now();
    let internal = |e: crate::state::StateError| (StatusCode::INTERNAL_SERVER_ERROR, e.to_string());
    let silences = state.alerting.store().load_silences(now).map_err(internal)?;
    let Some(mut silence) = silences.into_iter().find(|s| s.id == id) else {
        return Err((StatusCode::NOT_FOUND, format!("no silence `{id}`")));
    };
    if silence.state(now) == SilenceState::Expired {
        return Err((StatusCode::CONFLICT, format!("silence `{id}` has already expired")));
    }
    silence.ends_at = now;
    silence.starts_at = silence.starts_at.min(now);
    silence.updated_at = now;
    state.alerting.store().save_silence(&silence).and_then(|_| state.alerting.refresh_silences().map(drop)).map_err(internal)?;
    tracing::info!(id = %id, "silence expired");
    Ok(())
}
