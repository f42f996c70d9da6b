//! Label matchers in Alertmanager's syntax: `name="value"`, `name!="value"`,
//! `name=~"regex"`, `name!~"regex"`. Regexes are anchored at both ends; the
//! value may be unquoted when it has no spaces, commas or quotes.

use std::fmt;

use regex::Regex;
use serde::{Deserialize, Deserializer, Serialize, Serializer};

use crate::labels::Labels;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Op {
    Equal,
    NotEqual,
    Regex,
    NotRegex,
}

impl Op {
    fn as_str(self) -> &'static str {
        match self {
            Op::Equal => "=",
            Op::NotEqual => "!=",
            Op::Regex => "=~",
            Op::NotRegex => "!~",
        }
    }
}

#[derive(Debug, Clone)]
pub struct Matcher {
    pub name: String,
    pub op: Op,
    pub value: String,
    regex: Option<Regex>,
}

impl PartialEq for Matcher {
    fn eq(&self, other: &Self) -> bool {
        self.name == other.name && self.op == other.op && self.value == other.value
    }
}

impl Matcher {
    pub fn new(name: &str, op: Op, value: &str) -> Result<Matcher, String> {
        if !is_label_name(name) {
            return Err(format!("`{name}` is not a valid label name"));
        }
        let regex = match op {
            Op::Regex | Op::NotRegex => {
                Some(Regex::new(&format!("^(?:{value})$")).map_err(|e| format!("invalid regex `{value}`: {e}"))?)
            }
            _ => None,
        };
        Ok(Matcher { name: name.to_string(), op, value: value.to_string(), regex })
    }

    /// Parse `name op value`.
    pub fn parse(text: &str) -> Result<Matcher, String> {
        let t = text.trim();
        let name_end = t.find(|c: char| !(c.is_ascii_alphanumeric() || c == '_')).unwrap_or(t.len());
        let (name, rest) = t.split_at(name_end);
        let rest = rest.trim_start();
        let (op, rest) = [("=~", Op::Regex), ("!~", Op::NotRegex), ("!=", Op::NotEqual), ("=", Op::Equal)]
            .into_iter()
            .find_map(|(s, op)| rest.strip_prefix(s).map(|r| (op, r)))
            .ok_or_else(|| format!("matcher `{text}`: expected `name=value`, `name!=value`, `name=~regex` or `name!~regex`"))?;
        let value = unquote(rest.trim()).map_err(|e| format!("matcher `{text}`: {e}"))?;
        Matcher::new(name, op, &value).map_err(|e| format!("matcher `{text}`: {e}"))
    }

    /// Whether `labels` satisfy this matcher (a missing label is the empty string).
    pub fn matches(&self, labels: &Labels) -> bool {
        let v = labels.get(&self.name).map(String::as_str).unwrap_or("");
        match self.op {
            Op::Equal => v == self.value,
            Op::NotEqual => v != self.value,
            Op::Regex => self.regex.as_ref().is_some_and(|r| r.is_match(v)),
            Op::NotRegex => !self.regex.as_ref().is_some_and(|r| r.is_match(v)),
        }
    }
}

/// All of `matchers` hold.
pub fn all_match(matchers: &[Matcher], labels: &Labels) -> bool {
    matchers.iter().all(|m| m.matches(labels))
}

fn is_label_name(s: &str) -> bool {
    let mut chars = s.chars();
    chars.next().is_some_and(|c| c.is_ascii_alphabetic() || c == '_') && chars.all(|c| c.is_ascii_alphanumeric() || c == '_')
}

fn unquote(s: &str) -> Result<String, String> {
    let Some(inner) = s.strip_prefix('"') else {
        if s.contains(['"', ',', ' ']) {
            return Err("quote values that contain spaces, commas or quotes".into());
        }
        return Ok(s.to_string());
    };
    let inner = inner.strip_suffix('"').ok_or("unterminated quoted value")?;
    let mut out = String::new();
    let mut chars = inner.chars();
    while let Some(c) = chars.next() {
        match c {
            '\\' => match chars.next() {
                Some('n') => out.push('\n'),
                Some(c @ ('\\' | '"')) => out.push(c),
                Some(c) => {
                    out.push('\\');
                    out.push(c);
                }
                None => return Err("value ends with a lone backslash".into()),
            },
            '"' => return Err("unescaped quote inside the value".into()),
            c => out.push(c),
        }
    }
    Ok(out)
}

impl fmt::Display for Matcher {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}{}{:?}", self.name, self.op.as_str(), self.value)
    }
}

impl<'de> Deserialize<'de> for Matcher {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let s = String::deserialize(d)?;
        Matcher::parse(&s).map_err(serde::de::Error::custom)
    }
}

impl Serialize for Matcher {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&self.to_string())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn labels(pairs: &[(&str, &str)]) -> Labels {
        pairs.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect()
    }

    #[test]
    fn parses_every_operator_and_quoting() {
        let m = Matcher::parse(r#"severity = "page""#).unwrap();
        assert_eq!((m.name.as_str(), m.op, m.value.as_str()), ("severity", Op::Equal, "page"));
        assert_eq!(Matcher::parse("tenant!=acme").unwrap().op, Op::NotEqual);
        assert_eq!(Matcher::parse(r#"alertname=~".*Drift""#).unwrap().op, Op::Regex);
        assert_eq!(Matcher::parse(r#"team!~"ml|data""#).unwrap().op, Op::NotRegex);
        assert_eq!(Matcher::parse(r#"summary="a \"quoted\" word""#).unwrap().value, r#"a "quoted" word"#);
        for bad in ["severity", "9x=1", "a=~\"(\"", "a=\"open", "a=two words"] {
            assert!(Matcher::parse(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn regexes_are_anchored_and_missing_labels_are_empty() {
        let l = labels(&[("alertname", "FeatureDrift"), ("tenant", "acme")]);
        assert!(Matcher::parse(r#"alertname=~"Feature.*""#).unwrap().matches(&l));
        assert!(!Matcher::parse(r#"alertname=~"Feature""#).unwrap().matches(&l), "anchored");
        assert!(Matcher::parse(r#"alertname!~"Drift""#).unwrap().matches(&l));
        assert!(Matcher::parse(r#"severity="""#).unwrap().matches(&l));
        assert!(Matcher::parse(r#"severity!="page""#).unwrap().matches(&l));
        assert_eq!(Matcher::parse(r#"a=~"x|y""#).unwrap().to_string(), r#"a=~"x|y""#);
    }
}
