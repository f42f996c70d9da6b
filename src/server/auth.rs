//! Bearer-token check for mutating endpoints, when `server.bearer_token_file`
//! is set. The comparison takes the same time wherever the tokens differ.

use axum::extract::{Request, State};
use axum::http::{StatusCode, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use subtle::ConstantTimeEq;

use super::AppState;

pub async fn require_token(State(state): State<AppState>, request: Request, next: Next) -> Response {
    let expected = state.auth.read().unwrap_or_else(|p| p.into_inner()).clone();
    let Some(expected) = expected else {
        return next.run(request).await;
    };
    let given = request
        .headers()
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.strip_prefix("Bearer "))
        .unwrap_or_default();
    if token_matches(given, expected.expose()) {
        next.run(request).await
    } else {
        (StatusCode::UNAUTHORIZED, [(header::WWW_AUTHENTICATE, "Bearer")], "a valid bearer token is required\n").into_response()
    }
}

/// Constant time in the tokens' contents (the length of the expected token is not secret).
pub(super) fn token_matches(given: &str, expected: &str) -> bool {
    given.as_bytes().ct_eq(expected.as_bytes()).into()
}

#[cfg(test)]
mod tests {
    use super::token_matches;

    #[test]
    fn tokens_match_only_when_equal() {
        assert!(token_matches("s3cret", "s3cret"));
        assert!(!token_matches("s3creT", "s3cret"));
        assert!(!token_matches("s3cret-and-more", "s3cret"));
        assert!(!token_matches("", "s3cret"));
    }
}
