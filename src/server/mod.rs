//! The HTTP server: `/metrics`, health and readiness, reload, and the JSON API
//! (`/api/v1/...`, silences included). Mutating endpoints go through [`auth`].

mod api;
mod auth;
mod silences;

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, RwLock};

use axum::Router;
use axum::extract::State;
use axum::http::{StatusCode, header};
use axum::middleware;
use axum::response::IntoResponse;
use axum::routing::{get, post};
use tokio::net::TcpListener;
use tokio::sync::mpsc;
use tokio_util::sync::CancellationToken;

use crate::agent::ReloadRequest;
use crate::agent::alerting::AlertingHandle;
use crate::agent::live::Live;
use crate::metrics::Metrics;
use crate::util::secret::Secret;

/// What handlers can see.
#[derive(Clone)]
pub struct AppState {
    pub metrics: Arc<Metrics>,
    /// Set once the state is loaded and every group is scheduled.
    pub ready: Arc<AtomicBool>,
    pub live: Arc<Live>,
    pub alerting: Arc<AlertingHandle>,
    /// The bearer token mutating endpoints require, when one is configured.
    pub auth: Arc<RwLock<Option<Secret>>>,
    pub reload: mpsc::Sender<ReloadRequest>,
}

pub fn router(state: AppState) -> Router {
    let mutating = Router::new()
        .route("/-/reload", post(reload))
        .route("/api/v1/silences", post(silences::create))
        .route("/api/v1/silences/{id}", axum::routing::delete(silences::expire))
        .route_layer(middleware::from_fn_with_state(state.clone(), auth::require_token));
    Router::new()
        .route("/metrics", get(metrics))
        .route("/-/healthy", get(|| async { "mlwatch is healthy.\n" }))
        .route("/-/ready", get(ready))
        .route("/api/v1/alerts", get(api::alerts))
        .route("/api/v1/rules", get(api::rules))
        .route("/api/v1/status", get(api::status))
        .route("/api/v1/silences", get(silences::list))
        .merge(mutating)
        .with_state(state)
}

/// Serve until `token` is cancelled.
pub async fn serve(listener: TcpListener, state: AppState, token: CancellationToken) {
    let result = axum::serve(listener, router(state)).with_graceful_shutdown(async move { token.cancelled().await }).await;
    if let Err(e) = result {
        tracing::error!(error = %e, "HTTP server failed");
    }
}

async fn metrics(State(state): State<AppState>) -> impl IntoResponse {
    ([(header::CONTENT_TYPE, "text/plain; version=0.0.4; charset=utf-8")], state.metrics.render())
}

async fn ready(State(state): State<AppState>) -> impl IntoResponse {
    if state.ready.load(Ordering::Acquire) {
        (StatusCode::OK, "mlwatch is ready.\n")
    } else {
        (StatusCode::SERVICE_UNAVAILABLE, "mlwatch is not ready yet.\n")
    }
}

async fn reload(State(state): State<AppState>) -> impl IntoResponse {
    let (tx, rx) = tokio::sync::oneshot::channel();
    if state.reload.send(tx).await.is_err() {
        return (StatusCode::SERVICE_UNAVAILABLE, "mlwatch is shutting down.\n".to_string());
    }
    match rx.await {
        Ok(Ok(())) => (StatusCode::OK, "configuration reloaded.\n".to_string()),
        Ok(Err(e)) => (StatusCode::INTERNAL_SERVER_ERROR, format!("failed to reload config: {e}\n")),
        Err(_) => (StatusCode::SERVICE_UNAVAILABLE, "mlwatch is shutting down.\n".to_string()),
    }
}
