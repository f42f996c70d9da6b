//! Baselines the agent builds from the source itself, per rule and tenant,
//! and keeps in the state file: a rolling `reference` period of the source's
//! own past, or a tenant's first period (`learn`). Both can also learn a
//! threshold: the spread of the rule's primary value between chunks of the
//! baseline period (chunks as long as the group's window), as NannyML does.

use std::cell::RefCell;
use std::collections::{BTreeMap, HashMap};
use std::sync::Arc;
use std::time::Duration;

use chrono::{DateTime, SecondsFormat, Utc};
use polars::prelude::*;

use super::{Baseline, BuildOptions, Profile, Spread, Spreads, build_profile};
use crate::checks::EvalContext;
use crate::labels::Labels;
use crate::rules::{BaselineSource, Group, Rule};
use crate::sources::{Sample, Source, Window};
use crate::state::{BaselineStatus, StoredBaseline, Store};

/// How often a learning tenant's partial baseline is profiled again.
pub const LEARNING_REFRESH: Duration = Duration::from_secs(3600);

/// Raw values kept per numeric column of a stored baseline (KS stays exact).
const STORED_SAMPLE: usize = 10_000;

/// Chunks used for a learned threshold when the group has no window.
const CHUNKS_WITHOUT_WINDOW: u32 = 10;

/// Reads of the source made during one group evaluation, by period, so that
/// tenants (and rules) needing the same period share one read.
pub type ReadMemo = RefCell<HashMap<(i64, i64), Result<Sample, String>>>;

/// What resolving a stored baseline needs besides the rule.
pub struct StoredCx<'a> {
    pub store: &'a Store,
    pub source: &'a Source,
    pub group: &'a Group,
    pub memo: &'a ReadMemo,
    /// The tenants this agent owns: a period is read for them only.
    pub shard: Option<crate::shard::Shard>,
}

/// A tenant's baseline, and until when it is still being learned.
#[derive(Debug, Clone)]
pub struct Resolved {
    pub baseline: Arc<Baseline>,
    pub learning_until: Option<DateTime<Utc>>,
}

fn ms(d: Duration) -> chrono::Duration {
    chrono::Duration::from_std(d).unwrap_or(chrono::Duration::MAX)
}

/// `t − d`, at the earliest representable time rather than overflowing.
fn before(t: DateTime<Utc>, d: Duration) -> DateTime<Utc> {
    t.checked_sub_signed(ms(d)).unwrap_or(DateTime::<Utc>::MIN_UTC)
}

/// `t + d`, at the latest representable time rather than overflowing.
fn after(t: DateTime<Utc>, d: Duration) -> DateTime<Utc> {
    t.checked_add_signed(ms(d)).unwrap_or(DateTime::<Utc>::MAX_UTC)
}

/// What a stored baseline of `rule` depends on: a rule whose check, columns,
/// baseline or threshold changed does not reuse one built before.
pub fn fingerprint(rule: &Rule) -> String {
    let spec = rule.baseline.as_ref().map(|b| format!("{:?} k={:?}", b.source, b.learned_threshold)).unwrap_or_default();
    format!("{:?} | {spec}", rule.check)
}

/// The rows of `tenant` between `start` and `end` (start exclusive), read once per period.
fn tenant_rows(cx: &StoredCx<'_>, tenant: Option<&str>, start: DateTime<Utc>, end: DateTime<Utc>) -> Result<DataFrame, String> {
    let key = (start.timestamp_millis(), end.timestamp_millis());
    let mut memo = cx.memo.borrow_mut();
    let sample = memo.entry(key).or_insert_with(|| {
        cx.source.sample_period(&cx.group.columns(), Window { start, end }, cx.group.per_tenant, cx.shard).map_err(|e| e.to_string())
    });
    let sample = sample.as_ref().map_err(|e| e.clone())?;
    let frame = sample.partitions.iter().find(|p| p.tenant.as_deref() == tenant).map(|p| p.frame.clone());
    match frame {
        Some(f) if f.height() > 0 => Ok(f),
        _ => Err(format!("no rows in the baseline period {} .. {}", stamp(start), stamp(end))),
    }
}

fn stamp(t: DateTime<Utc>) -> String {
    t.to_rfc3339_opts(SecondsFormat::Secs, true)
}

/// Profile the rule's columns of `tenant` over `start .. end`, and learn the
/// spread of its primary value when the rule asks for a learned threshold.
pub fn build(
    cx: &StoredCx<'_>,
    rule: &Rule,
    tenant: Option<&str>,
    start: DateTime<Utc>,
    end: DateTime<Utc>,
    now: DateTime<Utc>,
) -> Result<(Profile, Spreads), String> {
    let frame = tenant_rows(cx, tenant, start, end)?;
    let check = rule.check.kind();
    // A check of every column (`*`) has every column profiled.
    let mut columns = check.columns();
    if columns.iter().any(|c| c == crate::checks::quality::ALL_COLUMNS) {
        columns.clear();
    }
    let opts = BuildOptions { columns, sample: STORED_SAMPLE, ..BuildOptions::default() };
    let what = format!("{} {} .. {}", cx.group.source, stamp(start), stamp(end));
    let mut profile = build_profile(&frame, &what, &opts)?;
    profile.created_at = stamp(now);
    let wants_threshold = rule.baseline.as_ref().is_some_and(|b| b.learned_threshold.is_some());
    let spreads = if wants_threshold { spreads(cx, rule, &frame, &profile, start, end, now) } else { Vec::new() };
    Ok((profile, spreads))
}

/// The primary value of each series on each chunk of the period, against
/// the whole period's profile: its mean and standard deviation.
fn spreads(
    cx: &StoredCx<'_>,
    rule: &Rule,
    frame: &DataFrame,
    profile: &Profile,
    start: DateTime<Utc>,
    end: DateTime<Utc>,
    now: DateTime<Utc>,
) -> Spreads {
    let Some(ts) = cx.source.timestamp_column() else { return Vec::new() };
    let Ok(times) = frame.column(ts).and_then(|c| c.i64().cloned()) else { return Vec::new() };
    let chunk = match cx.group.window {
        Some(w) => ms(w),
        None => (end - start) / CHUNKS_WITHOUT_WINDOW as i32,
    };
    if chunk <= chrono::Duration::zero() {
        return Vec::new();
    }
    let baseline = Baseline::of_profile(Arc::new(profile.clone()));
    let check = rule.check.kind();
    let primary = check.spec().primary;
    let mut values: BTreeMap<Labels, Vec<f64>> = BTreeMap::new();
    let mut lo = start;
    while lo < end {
        let hi = (lo + chunk).min(end);
        let (a, b) = (lo.timestamp_millis(), hi.timestamp_millis());
        let mask: BooleanChunked = times.iter().map(|t| Some(t.is_some_and(|t| t > a && t <= b))).collect();
        if let Ok(rows) = frame.filter(&mask)
            && rows.height() > 0
        {
            let meta = crate::sources::SourceMeta { rows: rows.height() as u64, ..Default::default() };
            let ecx = EvalContext { window: Some(Window { start: lo, end: hi }), baseline: Some(&baseline), timestamp_column: Some(ts), ..EvalContext::new(&rows, &meta, now) };
            for s in check.evaluate(&ecx).unwrap_or_default() {
                if let Some(v) = s.values.get(primary).filter(|v| v.is_finite()) {
                    values.entry(s.labels).or_default().push(*v);
                }
            }
        }
        lo = hi;
    }
    values
        .into_iter()
        .filter(|(_, v)| v.len() >= 2)
        .map(|(labels, v)| {
            let n = v.len() as f64;
            let mean = v.iter().sum::<f64>() / n;
            let var = v.iter().map(|x| (x - mean).powi(2)).sum::<f64>() / (n - 1.0);
            (labels, Spread { mean, std: var.sqrt(), chunks: v.len() as u32 })
        })
        .collect()
}

impl super::Baselines {
    /// The stored baseline of `rule` for `tenant` at `now`: built, rebuilt or
    /// learned as the rule's baseline says, and kept in the state file.
    pub fn stored(&self, cx: &StoredCx<'_>, rule: &Rule, tenant: Option<&str>, now: DateTime<Utc>) -> Result<Resolved, String> {
        let spec = rule.baseline.as_ref().expect("called for rules with a baseline");
        let key = tenant.unwrap_or("");
        let print = fingerprint(rule);
        let meta = cx.store.baseline_meta(&rule.name, key).map_err(|e| e.to_string())?;
        if meta.as_ref().is_some_and(|m| m.fingerprint != print && m.status == BaselineStatus::Pinned) {
            return Err(format!(
                "the pinned baseline was built for an earlier definition of rule `{}`: pin a period again, or forget it",
                rule.name
            ));
        }
        // A baseline built for another definition of the rule is built anew.
        let meta = meta.filter(|m| m.fingerprint == print);
        let ready = |m: &StoredBaseline| self.load_stored(cx.store, m).map(|baseline| Resolved { baseline, learning_until: None });
        let save = |status, start, end, (profile, spreads): (Profile, Spreads)| -> Result<Arc<Baseline>, String> {
            let b = StoredBaseline {
                rule: rule.name.clone(),
                tenant: key.to_string(),
                status,
                period_start: start,
                period_end: end,
                built_at: now,
                profile: Some(profile),
                spreads,
                fingerprint: print.clone(),
            };
            if !cx.store.save_baseline(&b).map_err(|e| e.to_string())? {
                // Pinned meanwhile: use that.
                let pinned = cx.store.baseline_meta(&rule.name, key).map_err(|e| e.to_string())?.ok_or("the pinned baseline went away")?;
                return self.load_stored(cx.store, &pinned);
            }
            self.load_stored(cx.store, &b)
        };
        if let Some(m) = meta.as_ref().filter(|m| m.status == BaselineStatus::Pinned) {
            return ready(m);
        }
        match spec.source {
            BaselineSource::Reference { offset, window, refresh } => {
                let end = before(now, offset);
                let start = before(end, window);
                if let Some(m) = meta.as_ref().filter(|m| m.status == BaselineStatus::Ready && end - m.period_end < ms(refresh) && m.period_end <= end) {
                    return ready(m);
                }
                let built = build(cx, rule, tenant, start, end, now)?;
                Ok(Resolved { baseline: save(BaselineStatus::Ready, start, end, built)?, learning_until: None })
            }
            BaselineSource::Learn { period } => {
                let learning_start = match &meta {
                    Some(m) if m.status == BaselineStatus::Ready => return ready(m),
                    Some(m) => m.period_start,
                    // First sight: what the current window holds is the first of it.
                    None => before(now, cx.group.window.unwrap_or_default()),
                };
                let until = after(learning_start, period);
                if now >= until {
                    let built = build(cx, rule, tenant, learning_start, until, now)?;
                    return Ok(Resolved { baseline: save(BaselineStatus::Ready, learning_start, until, built)?, learning_until: None });
                }
                if let Some(m) = meta.as_ref().filter(|m| now - m.built_at < ms(LEARNING_REFRESH)) {
                    return Ok(Resolved { baseline: self.load_stored(cx.store, m)?, learning_until: Some(until) });
                }
                let built = build(cx, rule, tenant, learning_start, now, now)?;
                Ok(Resolved { baseline: save(BaselineStatus::Learning, learning_start, now, built)?, learning_until: Some(until) })
            }
            BaselineSource::Profile(_) => unreachable!("profile baselines are not stored"),
        }
    }

    /// The stored baseline `m` describes, from the cache while it is unchanged.
    fn load_stored(&self, store: &Store, m: &StoredBaseline) -> Result<Arc<Baseline>, String> {
        let key = (m.rule.clone(), m.tenant.clone());
        let stamp = (m.built_at.timestamp_millis(), m.status);
        let mut cache = self.stored.lock().unwrap_or_else(|p| p.into_inner());
        if let Some((at, b)) = cache.get(&key)
            && *at == stamp
        {
            return Ok(b.clone());
        }
        let full = match &m.profile {
            Some(_) => m.clone(),
            None => store.baseline(&m.rule, &m.tenant).map_err(|e| e.to_string())?.ok_or("the stored baseline went away")?,
        };
        let profile = full.profile.ok_or("the stored baseline has no profile")?;
        let b = Arc::new(Baseline { profile: Arc::new(profile), spreads: full.spreads.into_iter().collect() });
        cache.insert(key, (stamp, b.clone()));
        Ok(b)
    }
}
