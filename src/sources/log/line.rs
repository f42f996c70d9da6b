//! One serving-log line: a JSON object, of which only the fields the SLIs
//! read are looked at (the rest is skipped without being built).

use std::borrow::Cow;
use std::fmt;

use chrono::DateTime;
use serde::de::{self, DeserializeSeed, Deserializer, IgnoredAny, MapAccess, Visitor};

use crate::rules::expr::Val;
use crate::sources::window::TimestampUnit;

/// Why a line was not counted: the `reason` label of
/// `mlwatch_source_lines_rejected_total`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Rejected {
    NotUtf8,
    NotJson,
    NotObject,
    MissingField,
    WrongType,
    BadTimestamp,
    TooLong,
    TooManyTenants,
}

impl Rejected {
    pub const ALL: [Rejected; 8] = [
        Rejected::NotUtf8,
        Rejected::NotJson,
        Rejected::NotObject,
        Rejected::MissingField,
        Rejected::WrongType,
        Rejected::BadTimestamp,
        Rejected::TooLong,
        Rejected::TooManyTenants,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Rejected::NotUtf8 => "not_utf8",
            Rejected::NotJson => "not_json",
            Rejected::NotObject => "not_object",
            Rejected::MissingField => "missing_field",
            Rejected::WrongType => "wrong_type",
            Rejected::BadTimestamp => "bad_timestamp",
            Rejected::TooLong => "too_long",
            Rejected::TooManyTenants => "too_many_tenants",
        }
    }
}

/// The declared type of a field.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FieldType {
    Number,
    String,
    Bool,
}

/// A field of the log as declared: `status: number`, `arm: string?` (optional).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FieldSpec {
    pub name: String,
    pub kind: FieldType,
    pub optional: bool,
}

impl FieldSpec {
    pub fn parse(name: &str, text: &str) -> Result<FieldSpec, String> {
        let (t, optional) = match text.trim().strip_suffix('?') {
            Some(t) => (t, true),
            None => (text.trim(), false),
        };
        let kind = match t {
            "number" => FieldType::Number,
            "string" => FieldType::String,
            "bool" | "boolean" => FieldType::Bool,
            other => return Err(format!("field `{name}`: unknown type `{other}` (number, string or bool; add `?` when it may be missing)")),
        };
        Ok(FieldSpec { name: name.to_string(), kind, optional })
    }
}

/// A JSON value of a wanted key, as found.
#[derive(Debug, Clone, PartialEq)]
enum Raw<'a> {
    Num(f64),
    Str(Cow<'a, str>),
    Bool(bool),
    Null,
    /// An object or an array.
    Nested,
}

/// What a line yields: its time, tenant and the declared fields (in declaration order).
#[derive(Debug)]
pub struct Parsed<'a> {
    pub at_ms: i64,
    pub tenant: Cow<'a, str>,
    pub fields: Vec<Option<FieldValue<'a>>>,
}

#[derive(Debug, Clone, PartialEq)]
pub enum FieldValue<'a> {
    Num(f64),
    Str(Cow<'a, str>),
    Bool(bool),
}

impl FieldValue<'_> {
    pub fn val(&self) -> Val<'_> {
        match self {
            FieldValue::Num(x) => Val::Num(*x),
            FieldValue::Str(s) => Val::Str(s),
            FieldValue::Bool(b) => Val::Bool(*b),
        }
    }
}

/// How lines are read: which keys hold the time and the tenant, and the fields.
#[derive(Debug, Clone)]
pub struct LineFormat {
    pub timestamp: String,
    pub timestamp_unit: TimestampUnit,
    /// `None`: every line is of the one tenant "".
    pub tenant: Option<String>,
    pub fields: Vec<FieldSpec>,
}

impl LineFormat {
    /// Parse one line (without its newline).
    pub fn parse<'a>(&self, bytes: &'a [u8]) -> Result<Parsed<'a>, Rejected> {
        let text = std::str::from_utf8(bytes).map_err(|_| Rejected::NotUtf8)?;
        let mut keys: Vec<&str> = Vec::with_capacity(self.fields.len() + 2);
        keys.push(&self.timestamp);
        keys.push(self.tenant.as_deref().unwrap_or(""));
        keys.extend(self.fields.iter().map(|f| f.name.as_str()));
        let mut de = serde_json::Deserializer::from_str(text);
        let found = Picker { keys: &keys }.deserialize(&mut de).map_err(|e| match e.classify() {
            serde_json::error::Category::Data => Rejected::NotObject,
            _ => Rejected::NotJson,
        })?;
        de.end().map_err(|_| Rejected::NotJson)?;
        let mut found = found.into_iter();
        let at_ms = match found.next().flatten() {
            None | Some(Raw::Null) => return Err(Rejected::MissingField),
            Some(Raw::Num(x)) if x.is_finite() => self.timestamp_unit.to_ms(x as i64),
            Some(Raw::Str(s)) => DateTime::parse_from_rfc3339(&s).map_err(|_| Rejected::BadTimestamp)?.timestamp_millis(),
            Some(_) => return Err(Rejected::BadTimestamp),
        };
        let tenant = match (self.tenant.is_some(), found.next().flatten()) {
            (false, _) => Cow::Borrowed(""),
            (true, None | Some(Raw::Null)) => return Err(Rejected::MissingField),
            (true, Some(Raw::Str(s))) => s,
            (true, Some(_)) => return Err(Rejected::WrongType),
        };
        let mut fields = Vec::with_capacity(self.fields.len());
        for (spec, raw) in self.fields.iter().zip(found) {
            let value = match (spec.kind, raw) {
                (_, None | Some(Raw::Null)) if spec.optional => None,
                (_, None | Some(Raw::Null)) => return Err(Rejected::MissingField),
                (FieldType::Number, Some(Raw::Num(x))) => Some(FieldValue::Num(x)),
                (FieldType::String, Some(Raw::Str(s))) => Some(FieldValue::Str(s)),
                (FieldType::Bool, Some(Raw::Bool(b))) => Some(FieldValue::Bool(b)),
                _ => return Err(Rejected::WrongType),
            };
            fields.push(value);
        }
        Ok(Parsed { at_ms, tenant, fields })
    }
}

/// Deserializes an object, keeping the values of `keys` only.
struct Picker<'k> {
    keys: &'k [&'k str],
}

impl<'de> DeserializeSeed<'de> for Picker<'_> {
    type Value = Vec<Option<Raw<'de>>>;

    fn deserialize<D: Deserializer<'de>>(self, d: D) -> Result<Self::Value, D::Error> {
        d.deserialize_map(self)
    }
}

impl<'de> Visitor<'de> for Picker<'_> {
    type Value = Vec<Option<Raw<'de>>>;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a JSON object")
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Self::Value, A::Error> {
        let mut out = vec![None; self.keys.len()];
        while let Some(key) = map.next_key::<Key<'de>>()? {
            match self.keys.iter().position(|k| !k.is_empty() && *k == key.0.as_ref()) {
                Some(i) => out[i] = Some(map.next_value::<RawSeed>()?.0),
                None => {
                    map.next_value::<IgnoredAny>()?;
                }
            }
        }
        Ok(out)
    }
}

/// A key, borrowed from the line unless it has escapes.
struct Key<'de>(Cow<'de, str>);

impl<'de> de::Deserialize<'de> for Key<'de> {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        d.deserialize_str(StrVisitor).map(Key)
    }
}

struct StrVisitor;

impl<'de> Visitor<'de> for StrVisitor {
    type Value = Cow<'de, str>;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a string")
    }

    fn visit_borrowed_str<E: de::Error>(self, v: &'de str) -> Result<Self::Value, E> {
        Ok(Cow::Borrowed(v))
    }

    fn visit_str<E: de::Error>(self, v: &str) -> Result<Self::Value, E> {
        Ok(Cow::Owned(v.to_string()))
    }
}

struct RawSeed<'de>(Raw<'de>);

impl<'de> de::Deserialize<'de> for RawSeed<'de> {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        d.deserialize_any(RawVisitor).map(RawSeed)
    }
}

struct RawVisitor;

impl<'de> Visitor<'de> for RawVisitor {
    type Value = Raw<'de>;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a JSON value")
    }
    fn visit_bool<E: de::Error>(self, v: bool) -> Result<Raw<'de>, E> {
        Ok(Raw::Bool(v))
    }
    fn visit_i64<E: de::Error>(self, v: i64) -> Result<Raw<'de>, E> {
        Ok(Raw::Num(v as f64))
    }
    fn visit_u64<E: de::Error>(self, v: u64) -> Result<Raw<'de>, E> {
        Ok(Raw::Num(v as f64))
    }
    fn visit_f64<E: de::Error>(self, v: f64) -> Result<Raw<'de>, E> {
        Ok(Raw::Num(v))
    }
    fn visit_borrowed_str<E: de::Error>(self, v: &'de str) -> Result<Raw<'de>, E> {
        Ok(Raw::Str(Cow::Borrowed(v)))
    }
    fn visit_str<E: de::Error>(self, v: &str) -> Result<Raw<'de>, E> {
        Ok(Raw::Str(Cow::Owned(v.to_string())))
    }
    fn visit_unit<E: de::Error>(self) -> Result<Raw<'de>, E> {
        Ok(Raw::Null)
    }
    fn visit_none<E: de::Error>(self) -> Result<Raw<'de>, E> {
        Ok(Raw::Null)
    }
    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Raw<'de>, A::Error> {
        while map.next_entry::<IgnoredAny, IgnoredAny>()?.is_some() {}
        Ok(Raw::Nested)
    }
    fn visit_seq<A: de::SeqAccess<'de>>(self, mut seq: A) -> Result<Raw<'de>, A::Error> {
        while seq.next_element::<IgnoredAny>()?.is_some() {}
        Ok(Raw::Nested)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn format() -> LineFormat {
        LineFormat {
            timestamp: "ts".into(),
            timestamp_unit: TimestampUnit::Ms,
            tenant: Some("tenant".into()),
            fields: vec![
                FieldSpec::parse("status", "number").unwrap(),
                FieldSpec::parse("arm", "string?").unwrap(),
                FieldSpec::parse("fallback", "bool").unwrap(),
            ],
        }
    }

    #[test]
    fn a_line_yields_its_time_tenant_and_fields() {
        let line = br#"{"ts":"2026-11-02T00:00:01.5Z","tenant":"ac\"me","status":503,"extra":{"a":[1,2]},"fallback":true}"#;
        let p = format().parse(line).unwrap();
        assert_eq!(p.at_ms, 1_793_577_601_500);
        assert_eq!(p.tenant, "ac\"me");
        assert_eq!(p.fields, vec![Some(FieldValue::Num(503.0)), None, Some(FieldValue::Bool(true))]);
        let p = format().parse(br#"{"ts":1793577601500,"tenant":"a","status":200,"fallback":false,"arm":"t"}"#).unwrap();
        assert_eq!((p.at_ms, p.fields[1].clone()), (1_793_577_601_500, Some(FieldValue::Str("t".into()))));
    }

    #[test]
    fn each_kind_of_bad_line_has_its_reason() {
        let f = format();
        let reason = |line: &[u8]| f.parse(line).unwrap_err();
        assert_eq!(reason(b"{\"ts\":1,\"tenant\":\"a\xff\"}"), Rejected::NotUtf8);
        assert_eq!(reason(b"GET /recs 200"), Rejected::NotJson);
        assert_eq!(reason(br#"{"ts":1,"tenant":"a","#), Rejected::NotJson);
        assert_eq!(reason(b"[1,2]"), Rejected::NotObject);
        assert_eq!(reason(br#"{"ts":1,"tenant":"a","fallback":true}"#), Rejected::MissingField);
        assert_eq!(reason(br#"{"ts":1,"tenant":"a","status":"500","fallback":true}"#), Rejected::WrongType);
        assert_eq!(reason(br#"{"ts":1,"tenant":7,"status":500,"fallback":true}"#), Rejected::WrongType);
        assert_eq!(reason(br#"{"ts":"yesterday","tenant":"a","status":500,"fallback":true}"#), Rejected::BadTimestamp);
        assert_eq!(reason(br#"{"tenant":"a","status":500,"fallback":true}"#), Rejected::MissingField);
        // Deep nesting: skipped where nobody reads it, refused (not a stack
        // overflow) where a field is read: an array is not a string.
        let nest = |key: &str| format!("{{\"ts\":1,\"tenant\":\"a\",\"status\":1,\"fallback\":true,\"{key}\":{}{}}}", "[".repeat(100_000), "]".repeat(100_000));
        assert!(f.parse(nest("unread").as_bytes()).is_ok());
        assert_eq!(reason(nest("arm").as_bytes()), Rejected::WrongType);
    }
}
