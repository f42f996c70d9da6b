//! A column's distribution in the window beside its baseline's, on the
//! baseline's own bins (numbers) or its most frequent categories: what the
//! pictures draw next to the drift figures.

use std::collections::HashMap;

use serde::{Deserialize, Serialize};

use super::compare::{Current, Kind};
use crate::baseline::ColumnProfile;
use crate::stats::psi;

/// Categories drawn one by one; the rest are pooled as `other`.
pub const MAX_CATEGORIES_SHOWN: usize = 12;

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Distribution {
    pub kind: Kind,
    /// One name per bin: `≤ 22`, `22 – 27`, `> 50`, or a category, `other`
    /// (the baseline's rarer categories) and `unseen` (ones it never had).
    pub bins: Vec<String>,
    /// Values per bin in the baseline and in the window.
    pub baseline: Vec<u64>,
    pub current: Vec<u64>,
}

impl Distribution {
    pub fn of(baseline: &ColumnProfile, current: &Current) -> Distribution {
        match (baseline, current) {
            (ColumnProfile::Numeric(b), Current::Numeric { sorted, .. }) => Distribution {
                kind: Kind::Numeric,
                bins: numeric_bins(&b.bin_edges),
                baseline: b.bin_counts.clone(),
                current: psi::bin_counts_sorted(&b.bin_edges, sorted),
            },
            (ColumnProfile::Categorical(b), Current::Categorical { counts, .. }) => categorical(&b.categories, b.other, counts),
            _ => unreachable!("Current::from_column shapes the current values like the baseline"),
        }
    }
}

/// Bin names of right-closed bins with open outer ends.
fn numeric_bins(edges: &[f64]) -> Vec<String> {
    let mut bins = Vec::with_capacity(edges.len() + 1);
    if let Some(first) = edges.first() {
        bins.push(format!("≤ {}", short(*first)));
    }
    for pair in edges.windows(2) {
        bins.push(format!("{} – {}", short(pair[0]), short(pair[1])));
    }
    match edges.last() {
        Some(last) => bins.push(format!("> {}", short(*last))),
        None => bins.push("all".into()),
    }
    bins
}

/// A number in at most 4 significant digits, without trailing zeros.
fn short(x: f64) -> String {
    if x != 0.0 && (x.abs() >= 1e5 || x.abs() < 1e-3) {
        return format!("{x:.2e}");
    }
    let digits = (4 - (x.abs().max(1e-12).log10().floor() as i32 + 1)).clamp(0, 6) as usize;
    let s = format!("{x:.digits$}");
    if s.contains('.') { s.trim_end_matches('0').trim_end_matches('.').to_string() } else { s }
}

fn categorical(baseline: &std::collections::BTreeMap<String, u64>, pooled: u64, current: &HashMap<String, u64>) -> Distribution {
    let mut ranked: Vec<(&String, u64)> = baseline.iter().map(|(k, v)| (k, *v)).collect();
    ranked.sort_by(|a, b| b.1.cmp(&a.1).then(a.0.cmp(b.0)));
    let shown = &ranked[..ranked.len().min(MAX_CATEGORIES_SHOWN)];
    let mut d = Distribution { kind: Kind::Categorical, bins: Vec::new(), baseline: Vec::new(), current: Vec::new() };
    for (name, count) in shown {
        d.bins.push((*name).clone());
        d.baseline.push(*count);
        d.current.push(current.get(*name).copied().unwrap_or(0));
    }
    let other_base = pooled + ranked[shown.len()..].iter().map(|(_, c)| c).sum::<u64>();
    let other_cur: u64 = ranked[shown.len()..].iter().map(|(k, _)| current.get(*k).copied().unwrap_or(0)).sum();
    if other_base + other_cur > 0 {
        d.bins.push("other".into());
        d.baseline.push(other_base);
        d.current.push(other_cur);
    }
    let unseen: u64 = current.iter().filter(|(k, _)| !baseline.contains_key(*k)).map(|(_, c)| c).sum();
    if unseen > 0 {
        d.bins.push("unseen".into());
        d.baseline.push(0);
        d.current.push(unseen);
    }
    d
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::baseline::CategoricalProfile;

    #[test]
    fn numeric_bins_are_named_by_their_edges() {
        assert_eq!(numeric_bins(&[22.0, 27.5, 1234.5678]), ["≤ 22", "22 – 27.5", "27.5 – 1235", "> 1235"]);
        assert_eq!(short(0.125), "0.125");
        assert_eq!(short(250000.0), "2.50e5");
    }

    #[test]
    fn rare_and_unseen_categories_are_pooled() {
        let mut categories: std::collections::BTreeMap<String, u64> = (0..20).map(|i| (format!("c{i:02}"), 100 - i)).collect();
        categories.insert("z".into(), 1);
        let base = ColumnProfile::Categorical(CategoricalProfile { count: 0, nulls: 0, distinct: 21, categories, other: 5 });
        let current = Current::Categorical { counts: HashMap::from([("c00".into(), 7), ("c19".into(), 2), ("new".into(), 3)]), nulls: 0 };
        let d = Distribution::of(&base, &current);
        assert_eq!(d.bins.len(), MAX_CATEGORIES_SHOWN + 2);
        assert_eq!((d.bins[0].as_str(), d.baseline[0], d.current[0]), ("c00", 100, 7));
        let other = d.bins.iter().position(|b| b == "other").unwrap();
        // c12..c19 (88 + ... + 81 = 676), z (1) and the profile's pooled 5.
        assert_eq!((d.baseline[other], d.current[other]), (676 + 1 + 5, 2));
        assert_eq!((d.bins.last().unwrap().as_str(), *d.current.last().unwrap()), ("unseen", 3));
    }
}
