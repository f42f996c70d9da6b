//! Posting JSON to an HTTP receiver, and what its answer means for retrying.
//! Errors never carry the URL (it is often a secret).

use std::time::Duration;

use serde_json::Value;

use super::DeliveryError;
use crate::util::secret::Redactor;

/// An HTTP client for one integration.
pub fn client(timeout: Duration) -> Result<reqwest::Client, String> {
    reqwest::Client::builder()
        .timeout(timeout)
        .user_agent(concat!("mlwatch/", env!("CARGO_PKG_VERSION")))
        .build()
        .map_err(|e| format!("cannot create HTTP client: {e}"))
}

/// Check that a configured URL is an http(s) URL, without echoing it.
pub fn check_url(url: &str, field: &str) -> Result<(), String> {
    match reqwest::Url::parse(url) {
        Ok(u) if matches!(u.scheme(), "http" | "https") => Ok(()),
        Ok(_) => Err(format!("{field} must be an http(s) URL")),
        Err(_) => Err(format!("{field} is not a valid URL")),
    }
}

/// POST `body`. The receiver's answer is quoted in errors with the URL's
/// secrets (see [`Redactor::url`]) removed. 2xx is success; 429 is retried after `Retry-After`; other 4xx
/// are permanent; 5xx, timeouts and connection errors are retried.
pub async fn post_json(client: &reqwest::Client, url: &str, body: &Value, what: &str, idempotency_key: Option<&str>) -> Result<(), DeliveryError> {
    let mut request = client.post(url).json(body);
    if let Some(key) = idempotency_key {
        request = request.header("Idempotency-Key", key);
    }
    let resp = request.send().await.map_err(|e| {
        let why = if e.is_timeout() { "timed out" } else if e.is_connect() { "connection failed" } else { "request failed" };
        DeliveryError::transient(format!("{what}: {why}"))
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
    let message = format!("{what}: HTTP {}: {}", status.as_u16(), Redactor::url(url).redact(text.trim()));
    if status.as_u16() == 429 {
        return Err(DeliveryError { message, permanent: false, retry_after });
    }
    if status.is_client_error() {
        return Err(DeliveryError::permanent(message));
    }
    Err(DeliveryError { message, permanent: false, retry_after })
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A receiver that answers like Express does, echoing the path.
    async fn echoing_receiver() -> String {
        let app = axum::Router::new().fallback(|uri: axum::http::Uri| async move {
            (axum::http::StatusCode::NOT_FOUND, format!("Cannot POST {}", uri.path_and_query().map(|p| p.as_str()).unwrap_or("")))
        });
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        tokio::spawn(async move { axum::serve(listener, app).await });
        format!("http://{addr}")
    }

    #[tokio::test]
    async fn a_receivers_echo_of_the_url_is_redacted() {
        let base = echoing_receiver().await;
        let url = format!("{base}/hooks/T0001/s3cretT0ken-abcdef?sig=also-secret-99");
        let client = client(Duration::from_secs(30)).unwrap();
        let err = post_json(&client, &url, &serde_json::json!({}), "webhook", None).await.unwrap_err();
        assert_eq!(err.message, "webhook: HTTP 404: Cannot POST <redacted>");
        assert!(err.permanent);
    }
}
