//! The HTTP server: the pages (`/`, `/rules/...`), `/metrics`, health and
//! readiness, reload, and the JSON API (`/api/v1/...`, silences included).
//! Mutating endpoints go through [`auth`].

mod api;
mod auth;
mod pages;
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
    // The page's forms check the token themselves (browsers cannot send the header).
    let forms = Router::new()
        .route("/silences", post(pages::add_silence))
        .route("/silences/{id}/expire", post(pages::expire_silence));
    Router::new()
        .route("/", get(pages::overview))
        .route("/rules/{rule}", get(pages::rule))
        .route("/metrics", get(metrics))
        .route("/-/healthy", get(|| async { "mlwatch is healthy.\n" }))
        .route("/-/ready", get(ready))
        .route("/api/v1/alerts", get(api::alerts))
        .route("/api/v1/rules", get(api::rules))
        .route("/api/v1/status", get(api::status))
        .route("/api/v1/silences", get(silences::list))
        .merge(mutating)
        .merge(forms)
        .with_state(state)
}

/// Serve until `token` is cancelled.
/// Connections the kernel may queue before the agent accepts them. The
/// standard library's 128 made `/metrics` p99 about 1 s at 200 concurrent
/// scrapers (a dropped SYN is retried after a second); the kernel caps this
/// at `net.core.somaxconn` (4096 on current Linux).
pub const LISTEN_BACKLOG: u32 = 4096;

/// A listening socket on `addr` with [`LISTEN_BACKLOG`].
pub fn listen(addr: std::net::SocketAddr) -> std::io::Result<TcpListener> {
    let socket = if addr.is_ipv4() { tokio::net::TcpSocket::new_v4()? } else { tokio::net::TcpSocket::new_v6()? };
    // As the standard library does: a restarted agent can bind at once.
    socket.set_reuseaddr(true)?;
    socket.bind(addr)?;
    socket.listen(LISTEN_BACKLOG)
}

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

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn hundreds_of_connections_queue_before_the_first_accept() {
        // Regression: with a backlog of 128, connections past it waited for
        // SYN retries (1 s, 3 s, ...): /metrics p99 was about 1 s at 200 scrapers.
        let somaxconn: usize =
            std::fs::read_to_string("/proc/sys/net/core/somaxconn").ok().and_then(|s| s.trim().parse().ok()).unwrap_or(4096);
        let n = 300.min(somaxconn.saturating_sub(1));
        let listener = listen("127.0.0.1:0".parse().unwrap()).unwrap();
        let addr = listener.local_addr().unwrap();
        // Nothing accepts: every connection must fit in the queue.
        let mut connects = tokio::task::JoinSet::new();
        for _ in 0..n {
            connects.spawn(tokio::net::TcpStream::connect(addr));
        }
        let streams = tokio::time::timeout(std::time::Duration::from_secs(60), connects.join_all())
            .await
            .expect("every connection completes without SYN retries");
        assert!(streams.iter().all(Result::is_ok));
        drop(listener);
    }
}
