//! The HTTP server: `/metrics`, `/-/healthy`, `/-/ready`.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};

use axum::Router;
use axum::extract::State;
use axum::http::{StatusCode, header};
use axum::response::IntoResponse;
use axum::routing::get;
use tokio::net::TcpListener;
use tokio_util::sync::CancellationToken;

use crate::metrics::Metrics;

/// What handlers can see.
#[derive(Clone)]
pub struct AppState {
    pub metrics: Arc<Metrics>,
    /// Set once every group is scheduled.
    pub ready: Arc<AtomicBool>,
}

pub fn router(state: AppState) -> Router {
    Router::new()
        .route("/metrics", get(metrics))
        .route("/-/healthy", get(|| async { "mlwatch is healthy.\n" }))
        .route("/-/ready", get(ready))
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
