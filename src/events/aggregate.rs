//! Aggregation of events as they are read: per SLI, per series (tenant and
//! `by` values), counts per bucket. Also the traffic of every tenant (the
//! [`ALL_EVENTS`] SLI), which is how tenants are discovered, capped and
//! aged out.

use std::collections::{BTreeMap, BTreeSet};

use super::counts::{Counts, Pair};
use super::sli::{ALL_EVENTS, Sli};
use super::Event;

/// One series of an SLI: a tenant and the values of the SLI's `by` fields.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct SeriesId {
    pub tenant: String,
    pub by: Vec<(String, String)>,
}

/// What is known of a tenant's traffic.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct TenantSeen {
    /// Bucket of its first event.
    pub first: i64,
    /// Bucket of its newest event.
    pub last: i64,
}

/// Why an event was not counted.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Refused {
    /// Its tenant would exceed `max_tenants`.
    TooManyTenants(String),
}

#[derive(Debug, Clone)]
pub struct Aggregates {
    pub bucket_ms: i64,
    /// Index 0 is [`ALL_EVENTS`].
    slis: Vec<Sli>,
    series: Vec<BTreeMap<SeriesId, Counts>>,
    max_tenants: usize,
}

impl Aggregates {
    pub fn new(bucket_ms: i64, slis: Vec<Sli>, max_tenants: usize) -> Aggregates {
        let mut all = vec![Sli::all_events()];
        for s in slis {
            if !all.iter().any(|a| a.key() == s.key()) {
                all.push(s);
            }
        }
        let series = all.iter().map(|_| BTreeMap::new()).collect();
        Aggregates { bucket_ms, slis: all, series, max_tenants }
    }

    pub fn bucket_of(&self, at_ms: i64) -> i64 {
        at_ms.div_euclid(self.bucket_ms)
    }

    pub fn slis(&self) -> &[Sli] {
        &self.slis
    }

    /// Every field some SLI reads.
    pub fn fields(&self) -> Vec<&str> {
        let mut f: Vec<&str> = self.slis.iter().flat_map(|s| s.fields()).collect();
        f.sort_unstable();
        f.dedup();
        f
    }

    /// Count one event.
    pub fn add(&mut self, ev: &Event<'_>) -> Result<(), Refused> {
        let b = self.bucket_of(ev.at_ms);
        let traffic = &mut self.series[0];
        let id = SeriesId { tenant: ev.tenant.to_string(), by: Vec::new() };
        if !traffic.contains_key(&id) && traffic.len() >= self.max_tenants {
            return Err(Refused::TooManyTenants(id.tenant));
        }
        traffic.entry(id).or_default().add(b, [1, 1], None);
        for (sli, series) in self.slis.iter().zip(self.series.iter_mut()).skip(1) {
            if let Some(pair) = sli.classify(ev) {
                let id = SeriesId { tenant: ev.tenant.to_string(), by: sli.by_values(ev) };
                series.entry(id).or_default().add(b, pair, sli.latency_of(ev));
            }
        }
        Ok(())
    }

    /// Add late events to the running totals: after reading, before summing.
    pub fn settle(&mut self) {
        for c in self.series.iter_mut().flat_map(|s| s.values_mut()) {
            c.settle();
        }
    }

    /// The series of SLI `key` for `tenant`.
    pub fn series_of<'a>(&'a self, key: &str, tenant: &'a str) -> impl Iterator<Item = (&'a SeriesId, &'a Counts)> + 'a {
        let i = self.slis.iter().position(|s| s.key() == key);
        i.into_iter().flat_map(move |i| self.series[i].iter().filter(move |(id, _)| id.tenant == tenant))
    }

    /// Every series of SLI `key`, of all tenants.
    pub fn all_series_of<'a>(&'a self, key: &str) -> impl Iterator<Item = (&'a SeriesId, &'a Counts)> + 'a {
        let i = self.slis.iter().position(|s| s.key() == key);
        i.into_iter().flat_map(move |i| self.series[i].iter())
    }

    /// The buckets of one series of SLI `key`.
    pub fn series_mut(&mut self, key: &str, id: &SeriesId) -> Option<&mut Counts> {
        let i = self.slis.iter().position(|s| s.key() == key)?;
        self.series[i].get_mut(id)
    }

    /// The traffic of `tenant`.
    pub fn traffic(&self, tenant: &str) -> Option<&Counts> {
        self.series[0].get(&SeriesId { tenant: tenant.to_string(), by: Vec::new() })
    }

    /// Tenants with an event before bucket `before`, with their first and newest bucket.
    pub fn tenants(&self, before: i64) -> Vec<(String, TenantSeen)> {
        self.series[0]
            .iter()
            .filter_map(|(id, c)| {
                let first = c.first().filter(|f| *f < before)?;
                Some((id.tenant.clone(), TenantSeen { first, last: newest_before(c, before, first) }))
            })
            .collect()
    }

    /// Forget tenants with no event since bucket `since`; returns them.
    pub fn forget_quiet(&mut self, since: i64) -> Vec<String> {
        let quiet: BTreeSet<String> = self
            .tenants(i64::MAX)
            .into_iter()
            .filter(|(_, seen)| seen.last < since)
            .map(|(t, _)| t)
            .collect();
        for series in &mut self.series {
            series.retain(|id, _| !quiet.contains(&id.tenant));
        }
        quiet.into_iter().collect()
    }

    /// Drop buckets older than `keep_from`, and latency older than `keep_latency_from`.
    pub fn drop_before(&mut self, keep_from: i64, keep_latency_from: i64) {
        for c in self.series.iter_mut().flat_map(|s| s.values_mut()) {
            c.drop_before(keep_from, keep_latency_from);
        }
    }

    /// Every series, with its SLI's key, for checkpoints.
    pub fn all_series_mut(&mut self) -> impl Iterator<Item = (&str, &SeriesId, &mut Counts)> {
        self.slis.iter().zip(self.series.iter_mut()).flat_map(|(sli, s)| s.iter_mut().map(move |(id, c)| (sli.key(), id, c)))
    }

    /// Restore a stored bucket. Buckets of SLIs no rule defines any more are ignored.
    pub fn restore(&mut self, key: &str, id: SeriesId, b: i64, pair: Pair, latency: Option<super::Histogram>) -> bool {
        let Some(i) = self.slis.iter().position(|s| s.key() == key) else { return false };
        self.series[i].entry(id).or_default().restore(b, pair, latency);
        true
    }

    /// Approximate bytes held by buckets.
    pub fn bytes(&self) -> usize {
        self.series.iter().flat_map(|s| s.iter()).map(|(id, c)| 64 + id.tenant.len() + c.bytes()).sum()
    }

    pub fn is_known(&self, key: &str) -> bool {
        key == ALL_EVENTS || self.slis.iter().any(|s| s.key() == key)
    }
}

/// The newest bucket before `before` that had an event (at least `first`).
fn newest_before(c: &Counts, before: i64, first: i64) -> i64 {
    let mut b = (before - 1).min(c.last_bucket().unwrap_or(first));
    while b > first && c.bucket(b)[0] == 0 {
        b -= 1;
    }
    b
}
