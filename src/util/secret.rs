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
            (None, Some(path)) => crate::util::fs::read_text(path, 64 << 10)
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

/// Removes secrets from text a peer sent back (an HTTP body, an SMTP reply)
/// before it is logged, stored or shown: receivers often echo the request,
/// as in `Cannot POST /services/T0/B0/XXXX`.
#[derive(Debug, Clone, Default)]
pub struct Redactor {
    /// Longest first, so a whole URL goes before the path inside it.
    needles: Vec<String>,
}

/// Shorter parts of a URL are ordinary words (`hooks`, `v1`), not secrets.
const MIN_SECRET_PART: usize = 8;

impl Redactor {
    /// Redacts a secret value as written, and percent-decoded.
    pub fn secret(value: &str) -> Self {
        let mut r = Redactor::default();
        r.add(value);
        r.sort();
        r
    }

    /// Redacts a URL: the whole of it, its path and query (raw and decoded),
    /// the path segments and query values that could be tokens, and any
    /// password in it. The host stays readable.
    pub fn url(url: &str) -> Self {
        let mut r = Redactor::default();
        r.add(url);
        if let Ok(u) = reqwest::Url::parse(url) {
            if let Some(p) = u.password() {
                r.add(p);
            }
            if u.path() != "/" {
                r.add(u.path());
            }
            if let Some(q) = u.query() {
                r.add(q);
                r.add(&format!("{}?{q}", u.path()));
            }
            for part in u.path_segments().into_iter().flatten() {
                if part.len() >= MIN_SECRET_PART {
                    r.add(part);
                }
            }
            for (_, v) in u.query_pairs() {
                if v.len() >= MIN_SECRET_PART {
                    r.add(&v);
                }
            }
        }
        r.sort();
        r
    }

    fn add(&mut self, needle: &str) {
        for n in [needle.to_string(), percent_decode(needle)] {
            if !n.is_empty() && !self.needles.contains(&n) {
                self.needles.push(n);
            }
        }
    }

    fn sort(&mut self) {
        self.needles.sort_by_key(|n| std::cmp::Reverse(n.len()));
    }

    /// `text` with every secret replaced by `<redacted>`.
    pub fn redact(&self, text: &str) -> String {
        let mut out = text.to_string();
        for n in &self.needles {
            if out.contains(n.as_str()) {
                out = out.replace(n.as_str(), "<redacted>");
            }
        }
        out
    }
}

/// `%2F` → `/`; invalid escapes and invalid UTF-8 are kept as written.
fn percent_decode(s: &str) -> String {
    let b = s.as_bytes();
    let mut out = Vec::with_capacity(b.len());
    let mut i = 0;
    while i < b.len() {
        let hex = |c: u8| (c as char).to_digit(16);
        match (b[i], b.get(i + 1).copied().and_then(hex), b.get(i + 2).copied().and_then(hex)) {
            (b'%', Some(h), Some(l)) => {
                out.push((h * 16 + l) as u8);
                i += 3;
            }
            (c, _, _) => {
                out.push(c);
                i += 1;
            }
        }
    }
    String::from_utf8(out).unwrap_or_else(|_| s.to_string())
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
    fn a_url_is_redacted_whole_by_path_query_and_token_parts() {
        let r = Redactor::url("https://hooks.example.com/services/T0001/B0002/XyZsecretToken42?key=s3cr3t-v4lue&x=1");
        let echo = |t: &str| r.redact(t);
        assert_eq!(echo("Cannot POST /services/T0001/B0002/XyZsecretToken42"), "Cannot POST <redacted>");
        assert_eq!(echo("no such token XyZsecretToken42"), "no such token <redacted>");
        assert_eq!(echo("bad key s3cr3t-v4lue"), "bad key <redacted>");
        assert_eq!(
            echo("GET https://hooks.example.com/services/T0001/B0002/XyZsecretToken42?key=s3cr3t-v4lue&x=1 failed"),
            "GET <redacted> failed"
        );
        assert_eq!(echo("host hooks.example.com is down"), "host hooks.example.com is down");
        let encoded = Redactor::url("http://127.0.0.1:9/hook/a%20secret%2Fpath");
        assert_eq!(encoded.redact("Cannot POST /hook/a secret/path"), "Cannot POST <redacted>");
        let password = Redactor::url("http://am:hunter2hunter2@127.0.0.1:9093/");
        assert_eq!(password.redact("auth hunter2hunter2 refused"), "auth <redacted> refused");
        assert_eq!(Redactor::secret("pa55 word").redact("pa55 word / pa55%20word"), "<redacted> / pa55%20word");
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
