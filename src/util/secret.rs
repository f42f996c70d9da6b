//! Secrets (webhook URLs, passwords): never printed, logged or serialized.

use std::fmt;
use std::path::Path;

/// A secret value. `Debug` and `Display` print `<secret>`.
#[derive(Clone, PartialEq, Eq)]
pub struct Secret(String);

impl Secret {
    pub fn new(s: impl Into<String>) -> Self {
        Secret(s.into())
    }

    /// The value, for the one place that must use it (an HTTP request, say).
    pub fn expose(&self) -> &str {
        &self.0
    }

    /// Resolve an inline value, `${ENV_VAR}`, or a `*_file`; the error never holds the value.
    pub fn resolve(inline: Option<&str>, file: Option<&Path>, field: &str) -> Result<Secret, String> {
        match (inline, file) {
            (Some(_), Some(_)) => Err(format!("set either `{field}` or `{field}_file`, not both")),
            (None, None) => Err(format!("one of `{field}` or `{field}_file` is required")),
            (None, Some(path)) => std::fs::read_to_string(path)
                .map(|s| Secret(s.trim().to_string()))
                .map_err(|e| format!("{field}_file: cannot read {}: {e}", path.display())),
            (Some(v), None) => match v.strip_prefix("${").and_then(|v| v.strip_suffix('}')) {
                Some(var) => std::env::var(var)
                    .map(Secret)
                    .map_err(|_| format!("{field}: environment variable {var} is not set")),
                None => Ok(Secret(v.to_string())),
            },
        }
    }
}

impl fmt::Debug for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("<secret>")
    }
}

impl fmt::Display for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("<secret>")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn secrets_do_not_print() {
        let s = Secret::new("https://hooks.slack.com/services/T/B/X");
        assert_eq!(format!("{s} {s:?}"), "<secret> <secret>");
    }

    #[test]
    fn file_secret_is_trimmed_and_missing_file_is_named() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("url");
        std::fs::write(&p, "http://x\n").unwrap();
        assert_eq!(Secret::resolve(None, Some(&p), "api_url").unwrap().expose(), "http://x");
        let err = Secret::resolve(None, Some(&dir.path().join("nope")), "api_url").unwrap_err();
        assert!(err.starts_with("api_url_file: cannot read"));
    }
}
