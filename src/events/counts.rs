//! Valid and good events of one series, per time bucket, stored as running
//! totals so that the sum over any window is two lookups: a 30-day window
//! costs what a 5-minute one does.

use std::collections::{BTreeMap, BTreeSet};

use super::histogram::Histogram;

/// (valid, good).
pub type Pair = [u64; 2];

/// One series' buckets. Bucket `i` holds events with `i·bucket_ms <= t < (i+1)·bucket_ms`.
#[derive(Debug, Clone, Default)]
pub struct Counts {
    /// Bucket of `totals[0]`.
    base: i64,
    /// Running totals through each bucket from `base` on (dense: quiet
    /// buckets repeat the previous total).
    totals: Vec<Pair>,
    /// Totals before `base`, of buckets dropped past the retention.
    floor: Pair,
    /// The first bucket that ever had an event (kept when old buckets are dropped).
    first: Option<i64>,
    /// Latency per bucket, for recent buckets only.
    latency: BTreeMap<i64, Histogram>,
    /// Buckets changed since the last checkpoint.
    dirty: BTreeSet<i64>,
    /// Events of buckets older than the newest, waiting for [`Counts::settle`]
    /// to add them to the running totals in one pass (one at a time, each
    /// would rewrite every later total).
    late: BTreeMap<i64, Pair>,
}

impl Counts {
    /// Add `valid`/`good` events (0 or 1 each, usually) to bucket `b`. Events
    /// older than the newest bucket count once [`Counts::settle`] has run.
    pub fn add(&mut self, b: i64, add: Pair, latency: Option<f64>) {
        if self.totals.is_empty() {
            self.base = b;
            self.totals.push(self.floor);
        }
        let newest = self.base + self.totals.len() as i64 - 1;
        if b < newest {
            let late = self.late.entry(b).or_default();
            late[0] += add[0];
            late[1] += add[1];
        } else {
            let i = (b - self.base) as usize;
            if i >= self.totals.len() {
                let last = *self.totals.last().expect("not empty");
                self.totals.resize(i + 1, last);
            }
            self.totals[i][0] += add[0];
            self.totals[i][1] += add[1];
        }
        self.first = Some(self.first.map_or(b, |f| f.min(b)));
        if let Some(v) = latency {
            self.latency.entry(b).or_default().add(v);
        }
        self.dirty.insert(b);
    }

    /// Add the late events to the running totals, in one pass from the
    /// oldest of them.
    pub fn settle(&mut self) {
        let Some(&oldest) = self.late.keys().next() else { return };
        if oldest < self.base {
            // Older than any bucket so far (a rotated file read late): grow at
            // the front, where the running totals start from `floor`.
            let grow = (self.base - oldest) as usize;
            self.totals.splice(0..0, std::iter::repeat_n(self.floor, grow));
            self.base = oldest;
        }
        let mut late = std::mem::take(&mut self.late).into_iter().peekable();
        let mut carried = [0u64, 0u64];
        for (i, t) in self.totals.iter_mut().enumerate().skip((oldest - self.base) as usize) {
            let b = self.base + i as i64;
            while let Some((_, add)) = late.next_if(|(k, _)| *k == b) {
                carried[0] += add[0];
                carried[1] += add[1];
            }
            t[0] += carried[0];
            t[1] += carried[1];
        }
    }

    /// Events in buckets `lo..hi` (after [`Counts::settle`]).
    pub fn sum(&self, lo: i64, hi: i64) -> Pair {
        debug_assert!(self.late.is_empty(), "settle before summing");
        if hi <= lo {
            return [0, 0];
        }
        let (a, b) = (self.total_through(lo.saturating_sub(1)), self.total_through(hi - 1));
        [b[0] - a[0], b[1] - a[1]]
    }

    /// Running total through bucket `b`.
    fn total_through(&self, b: i64) -> Pair {
        if self.totals.is_empty() || b < self.base {
            return self.floor;
        }
        let i = ((b - self.base) as usize).min(self.totals.len() - 1);
        self.totals[i]
    }

    /// The events of bucket `b` alone.
    pub fn bucket(&self, b: i64) -> Pair {
        self.sum(b, b + 1)
    }

    /// The first bucket that had an event.
    pub fn first(&self) -> Option<i64> {
        self.first
    }

    /// The newest bucket held (it had an event, unless all were dropped).
    pub fn last_bucket(&self) -> Option<i64> {
        (!self.totals.is_empty()).then(|| self.base + self.totals.len() as i64 - 1)
    }

    /// The latency histograms of buckets `lo..hi`, merged into dense bins.
    pub fn latency(&self, lo: i64, hi: i64) -> [u64; super::histogram::BINS] {
        let mut dense = [0u64; super::histogram::BINS];
        for h in self.latency.range(lo..hi).map(|(_, h)| h) {
            h.add_into(&mut dense);
        }
        dense
    }

    pub fn latency_of(&self, b: i64) -> Option<&Histogram> {
        self.latency.get(&b)
    }

    /// Drop buckets before `keep_from`, and latency histograms before `keep_latency_from`.
    pub fn drop_before(&mut self, keep_from: i64, keep_latency_from: i64) {
        self.latency = self.latency.split_off(&keep_latency_from);
        if self.totals.is_empty() || keep_from <= self.base {
            return;
        }
        let cut = ((keep_from - self.base) as usize).min(self.totals.len());
        self.floor = self.totals[cut - 1];
        self.totals.drain(..cut);
        self.base = keep_from;
        if self.totals.is_empty() {
            self.totals.push(self.floor);
        }
    }

    /// Buckets changed since the last [`Counts::take_dirty`].
    pub fn take_dirty(&mut self) -> BTreeSet<i64> {
        std::mem::take(&mut self.dirty)
    }

    /// Mark buckets as changed again (their checkpoint was not written).
    pub fn mark_dirty(&mut self, buckets: impl IntoIterator<Item = i64>) {
        self.dirty.extend(buckets);
    }

    /// Restore one stored bucket (no dirty mark: it is already stored).
    pub fn restore(&mut self, b: i64, pair: Pair, latency: Option<Histogram>) {
        self.add(b, pair, None);
        if let Some(h) = latency.filter(|h| !h.is_empty()) {
            self.latency.insert(b, h);
        }
        self.dirty.remove(&b);
    }

    /// Approximate bytes held, for the documented memory bound.
    pub fn bytes(&self) -> usize {
        self.totals.capacity() * 16 + self.latency.values().map(|h| 48 + h.heap_bytes()).sum::<usize>()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn windows_sum_their_buckets_in_any_arrival_order() {
        let mut c = Counts::default();
        c.add(10, [1, 1], Some(5.0));
        c.add(12, [1, 0], None);
        c.add(7, [1, 1], None); // late, before the first
        c.add(11, [2, 1], None); // late, in the middle
        c.add(11, [1, 1], None);
        c.settle();
        c.add(13, [1, 1], None); // in order again
        c.add(12, [1, 1], None);
        c.settle();
        assert_eq!(c.sum(0, 100), [8, 6]);
        assert_eq!(c.sum(13, 14), [1, 1]);
        assert_eq!(c.sum(12, 13), [2, 1]);
        assert_eq!(c.sum(10, 12), [4, 3]);
        assert_eq!(c.sum(14, 20), [0, 0]);
        assert_eq!(c.bucket(7), [1, 1]);
        assert_eq!(c.first(), Some(7));
        c.drop_before(11, 11);
        assert_eq!(c.sum(0, 100), [6, 4], "dropped buckets leave the windows");
        assert_eq!(c.sum(11, 13), [5, 3]);
        assert_eq!(c.first(), Some(7), "the first event is remembered");
        assert!(c.latency_of(10).is_none());
        assert_eq!(c.take_dirty().into_iter().collect::<Vec<_>>(), vec![7, 10, 11, 12, 13]);
    }
}
