//! A service level indicator: which events count (valid), which of those
//! are good, the fields that split it into series, and an optional latency
//! field whose distribution is kept.

use super::Event;
use super::counts::Pair;
use crate::rules::expr::{Expr, Val, eval_filter};

#[derive(Debug, Clone)]
pub struct Sli {
    /// Events that count; every event when `None`.
    pub valid: Option<Expr>,
    pub good: Expr,
    /// Fields whose values split the SLI into series (besides the tenant).
    pub by: Vec<String>,
    /// Field whose values are kept as a histogram per bucket.
    pub latency: Option<String>,
    /// Identity of the definition: buckets are stored under it, so a changed
    /// definition starts counting afresh instead of mixing two meanings.
    key: String,
}

/// The SLI of every event, good or not: a tenant's traffic.
pub const ALL_EVENTS: &str = "*";

impl Sli {
    pub fn new(valid: Option<(Expr, &str)>, good: (Expr, &str), by: Vec<String>, latency: Option<String>) -> Sli {
        let key = format!(
            "valid={};good={};by={};latency={}",
            valid.as_ref().map(|(_, t)| t.trim()).unwrap_or(""),
            good.1.trim(),
            by.join(","),
            latency.as_deref().unwrap_or("")
        );
        Sli { valid: valid.map(|(e, _)| e), good: good.0, by, latency, key }
    }

    /// Every event counts and is good: the traffic of a tenant.
    pub fn all_events() -> Sli {
        let yes = Expr { node: crate::rules::expr::Node::Bool(true), span: crate::rules::expr::Span { start: 0, end: 4 } };
        Sli { valid: None, good: yes, by: Vec::new(), latency: None, key: ALL_EVENTS.into() }
    }

    pub fn key(&self) -> &str {
        &self.key
    }

    /// Every field the SLI reads.
    pub fn fields(&self) -> Vec<&str> {
        let mut f: Vec<&str> = self.valid.iter().flat_map(|e| e.names()).chain(self.good.names()).collect();
        f.extend(self.by.iter().map(String::as_str));
        f.extend(self.latency.as_deref());
        f.sort_unstable();
        f.dedup();
        f
    }

    /// Whether `ev` is valid and good, as counts to add; `None` when it is not valid.
    pub fn classify(&self, ev: &Event<'_>) -> Option<Pair> {
        let lookup = |name: &str| ev.field(name);
        if let Some(v) = &self.valid
            && !eval_filter(v, &lookup)
        {
            return None;
        }
        Some([1, eval_filter(&self.good, &lookup) as u64])
    }

    /// The values of the `by` fields, as label values ("" when missing).
    pub fn by_values(&self, ev: &Event<'_>) -> Vec<(String, String)> {
        self.by.iter().map(|f| (f.clone(), ev.field(f).map(label_value).unwrap_or_default())).collect()
    }

    /// The latency of `ev`, when it has one.
    pub fn latency_of(&self, ev: &Event<'_>) -> Option<f64> {
        match ev.field(self.latency.as_deref()?)? {
            Val::Num(x) if x.is_finite() => Some(x),
            _ => None,
        }
    }
}

/// A field's value as a label value.
pub fn label_value(v: Val<'_>) -> String {
    match v {
        Val::Num(x) => x.to_string(),
        Val::Bool(b) => b.to_string(),
        Val::Str(s) => s.to_string(),
    }
}
