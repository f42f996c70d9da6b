//! Events (serving-log lines, or rows of a table) and what is kept of them:
//! per SLI and series, counts of valid and good events in time buckets, and
//! recent latency histograms. Raw events are never kept, so memory grows
//! with buckets, not with traffic.

pub mod aggregate;
pub mod counts;
pub mod histogram;
pub mod sli;

pub use aggregate::{Aggregates, SeriesId, TenantSeen};
pub use counts::Counts;
pub use histogram::Histogram;
pub use sli::Sli;

use crate::rules::expr::Val;

/// One event: its time, tenant and the fields the SLIs read, by name.
#[derive(Debug, Clone, Copy)]
pub struct Event<'a> {
    pub at_ms: i64,
    pub tenant: &'a str,
    pub fields: &'a [(&'a str, Option<Val<'a>>)],
}

impl<'a> Event<'a> {
    pub fn field(&self, name: &str) -> Option<Val<'a>> {
        self.fields.iter().find(|(n, _)| *n == name).and_then(|(_, v)| *v)
    }
}
