//! The field names a `#[derive(Deserialize)]` struct declares, as written
//! in YAML (renames applied): asked of the struct itself, so the reference
//! in docs/ is checked against the declarations and cannot drift from them.

use serde::de::{self, Deserialize, Deserializer, Visitor};

/// The YAML keys of struct `T`.
pub fn of<'de, T: Deserialize<'de>>() -> Vec<&'static str> {
    let mut fields = Vec::new();
    let _ = T::deserialize(Fields(&mut fields));
    fields
}

/// A deserializer that records the fields a struct asks for, then stops.
struct Fields<'a>(&'a mut Vec<&'static str>);

#[derive(Debug)]
struct Stop;

impl std::fmt::Display for Stop {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("stop")
    }
}

impl std::error::Error for Stop {}

impl de::Error for Stop {
    fn custom<T: std::fmt::Display>(_: T) -> Self {
        Stop
    }
}

impl<'de> Deserializer<'de> for Fields<'_> {
    type Error = Stop;

    fn deserialize_any<V: Visitor<'de>>(self, _: V) -> Result<V::Value, Stop> {
        Err(Stop)
    }

    fn deserialize_struct<V: Visitor<'de>>(self, _: &'static str, fields: &'static [&'static str], _: V) -> Result<V::Value, Stop> {
        self.0.extend_from_slice(fields);
        Err(Stop)
    }

    serde::forward_to_deserialize_any! {
        bool i8 i16 i32 i64 i128 u8 u16 u32 u64 u128 f32 f64 char str string
        bytes byte_buf option unit unit_struct newtype_struct seq tuple
        tuple_struct map enum identifier ignored_any
    }
}

/// Fields of `T` that `page` does not name in backticks, alone or as part
/// of a dotted key (`tls_config.ca_file` names both).
pub fn undocumented<'de, T: Deserialize<'de>>(page: &str) -> Vec<&'static str> {
    of::<T>()
        .into_iter()
        .filter(|f| ![format!("`{f}`"), format!(".{f}`"), format!("`{f}.")].iter().any(|form| page.contains(form.as_str())))
        .collect()
}

#[cfg(test)]
mod tests {
    #[derive(serde::Deserialize)]
    #[allow(dead_code)]
    struct Example {
        a: u32,
        #[serde(rename = "for")]
        for_: Option<String>,
    }

    #[test]
    fn the_fields_are_the_yaml_keys() {
        assert_eq!(super::of::<Example>(), ["a", "for"]);
        assert_eq!(super::undocumented::<Example>("`a` and for"), ["for"]);
        assert!(super::undocumented::<Example>("`x.a` and `for.b`").is_empty());
    }
}
