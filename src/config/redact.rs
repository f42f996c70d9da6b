//! The configuration as written, with every secret replaced, for
//! `/api/v1/status`. Secrets are found by key name, so a secret written inline
//! anywhere (a receiver, a source) is hidden without each struct opting in.

use serde_json::Value;

/// Keys whose values are secrets. `*_file` keys hold paths and stay visible.
const SECRET_KEYS: &[&str] = &["api_url", "url", "urls", "password", "auth_password", "auth_secret", "bearer_token", "token", "secret", "headers"];

pub const REDACTED: &str = "<secret>";

/// Parse `yaml` and redact it; a text that does not parse gives `null`
/// (only validated configs are shown, so that does not happen in practice).
pub fn redacted_config(yaml: &str) -> Value {
    let mut v: Value = serde_saphyr::from_str(yaml).unwrap_or(Value::Null);
    redact(&mut v);
    v
}

fn redact(v: &mut Value) {
    match v {
        Value::Object(map) => {
            for (k, v) in map.iter_mut() {
                if SECRET_KEYS.contains(&k.as_str()) && !v.is_null() {
                    *v = Value::String(REDACTED.into());
                } else {
                    redact(v);
                }
            }
        }
        Value::Array(items) => items.iter_mut().for_each(redact),
        _ => {}
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn secrets_are_replaced_wherever_they_are() {
        let v = redacted_config(
            "receivers:\n  - name: a\n    slack: [{ api_url: 'https://hooks.example/T/B/X', channel: '#ml' }]\n    email: [{ auth_password: hunter2, auth_password_file: /etc/p }]\nserver: { bearer_token_file: /etc/t }\n",
        );
        let text = v.to_string();
        assert!(!text.contains("hooks.example") && !text.contains("hunter2"), "{text}");
        assert_eq!(v["receivers"][0]["slack"][0]["api_url"], REDACTED);
        assert_eq!(v["receivers"][0]["slack"][0]["channel"], "#ml");
        assert_eq!(v["receivers"][0]["email"][0]["auth_password_file"], "/etc/p");
        assert_eq!(v["server"]["bearer_token_file"], "/etc/t");
    }
}
