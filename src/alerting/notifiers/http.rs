//! Posting JSON to an HTTP receiver, and what its answer means for retrying.
//! Errors never carry the URL (it is often a secret).

use std::time::Duration;

use serde_json::Value;

use super::DeliveryError;

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

/// POST `body`. 2xx is success; 429 is retried after `Retry-After`; other 4xx
/// are permanent; 5xx, timeouts and connection errors are retried.
pub async fn post_json(client: &reqwest::Client, url: &str, body: &Value, what: &str) -> Result<(), DeliveryError> {
    let resp = client.post(url).json(body).send().await.map_err(|e| {
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
    let message = format!("{what}: HTTP {}: {}", status.as_u16(), text.trim());
    if status.as_u16() == 429 {
        return Err(DeliveryError { message, permanent: false, retry_after });
    }
    if status.is_client_error() {
        return Err(DeliveryError::permanent(message));
    }
    Err(DeliveryError { message, permanent: false, retry_after })
}
