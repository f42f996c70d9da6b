//! The recsys figures of a set of users' lists. Every formula is written out
//! in docs/recsys.md, with how other tools differ; this file follows it.

use std::collections::BTreeMap;

use rand::{Rng, SeedableRng};

use super::catalog::Catalog;
use super::lists::Lists;

/// Impressions and clicks per user of the current lists (index as in [`Lists`]).
#[derive(Debug, Default)]
pub struct Feedback {
    pub impressions: Vec<u64>,
    pub clicks: Vec<u64>,
    /// Whether the user clicked an item of their current list.
    pub hit: Vec<bool>,
}

/// What the figures are computed from.
pub struct Inputs<'a> {
    pub lists: &'a Lists,
    /// Interned items in all (catalog items first).
    pub items: usize,
    pub catalog: Option<&'a Catalog>,
    pub previous: Option<&'a Lists>,
    pub feedback: Option<&'a Feedback>,
    /// The expected list length.
    pub k: usize,
    /// Users the popularity counts are out of (novelty's denominator).
    pub training_users: f64,
    /// Pairs of users personalization compares, at most.
    pub pairs: usize,
    pub seed: u64,
}

type Values = BTreeMap<&'static str, f64>;

/// The figures of the lists of `users`.
pub fn measure(inp: &Inputs<'_>, users: &[usize]) -> Values {
    let mut v = Values::new();
    v.insert("lists", users.len() as f64);
    if users.is_empty() {
        return v;
    }
    let sets = Sets::of(inp.lists, users);
    list_health(inp, users, &sets, &mut v);
    exposure(inp, users, &mut v);
    if let Some(c) = inp.catalog {
        per_list_catalog(inp, c, users, &mut v);
    }
    personalization(inp, &sets, &mut v);
    if let Some(prev) = inp.previous {
        stability(inp, prev, users, &sets, &mut v);
    }
    if let Some(f) = inp.feedback {
        feedback(f, users, &mut v);
    }
    v
}

/// Each list's distinct items, sorted (for overlaps).
struct Sets {
    offsets: Vec<usize>,
    items: Vec<u32>,
}

impl Sets {
    fn of(lists: &Lists, users: &[usize]) -> Sets {
        let mut sets = Sets { offsets: vec![0], items: Vec::new() };
        for &u in users {
            let start = sets.items.len();
            sets.items.extend_from_slice(lists.of(u));
            sets.items[start..].sort_unstable();
            let mut end = start;
            for i in start..sets.items.len() {
                if i == start || sets.items[i] != sets.items[end - 1] {
                    sets.items[end] = sets.items[i];
                    end += 1;
                }
            }
            sets.items.truncate(end);
            sets.offsets.push(end);
        }
        sets
    }

    /// The set of the `i`th user of the ones given.
    fn get(&self, i: usize) -> &[u32] {
        &self.items[self.offsets[i]..self.offsets[i + 1]]
    }
}

fn overlap(a: &[u32], b: &[u32]) -> usize {
    let (mut i, mut j, mut n) = (0, 0, 0);
    while i < a.len() && j < b.len() {
        match a[i].cmp(&b[j]) {
            std::cmp::Ordering::Less => i += 1,
            std::cmp::Ordering::Greater => j += 1,
            std::cmp::Ordering::Equal => {
                n += 1;
                i += 1;
                j += 1;
            }
        }
    }
    n
}

fn ratio(num: f64, den: f64) -> Option<f64> {
    (den > 0.0).then(|| num / den)
}

fn put(v: &mut Values, name: &'static str, value: Option<f64>) {
    if let Some(x) = value.filter(|x| x.is_finite()) {
        v.insert(name, x);
    }
}

fn list_health(inp: &Inputs<'_>, users: &[usize], sets: &Sets, v: &mut Values) {
    let (mut slots, mut distinct, mut short, mut empty) = (0usize, 0usize, 0usize, 0usize);
    for (i, &u) in users.iter().enumerate() {
        let len = inp.lists.of(u).len();
        slots += len;
        distinct += sets.get(i).len();
        short += (len < inp.k) as usize;
        empty += (len == 0) as usize;
    }
    let n = users.len() as f64;
    v.insert("list_length_mean", slots as f64 / n);
    v.insert("short_list_ratio", short as f64 / n);
    v.insert("empty_list_ratio", empty as f64 / n);
    put(v, "duplicate_item_ratio", ratio((slots - distinct) as f64, slots as f64));
}

/// Figures of how often each item is recommended: coverage, Gini, top shares.
fn exposure(inp: &Inputs<'_>, users: &[usize], v: &mut Values) {
    let mut x = vec![0u64; inp.items];
    let mut slots = 0u64;
    for &u in users {
        for &it in inp.lists.of(u) {
            x[it as usize] += 1;
            slots += 1;
        }
    }
    v.insert("distinct_items", x.iter().filter(|&&c| c > 0).count() as f64);
    let mut recommended: Vec<u64> = x.iter().copied().filter(|&c| c > 0).collect();
    put(v, "gini_recommended", gini(&mut recommended, true));
    let Some(c) = inp.catalog else { return };
    let n = c.size;
    let catalog = &mut x[..n];
    let in_catalog: u64 = catalog.iter().sum();
    v.insert("catalog_items", n as f64);
    put(v, "coverage", ratio(catalog.iter().filter(|&&c| c > 0).count() as f64, n as f64));
    put(v, "unknown_item_ratio", ratio((slots - in_catalog) as f64, slots as f64));
    if c.popularity.is_some() {
        let top = |set: &[bool]| catalog.iter().zip(set).filter(|(_, t)| **t).map(|(x, _)| *x).sum::<u64>() as f64;
        put(v, "top2_share", ratio(top(&c.top2), slots as f64));
        put(v, "top10_share", ratio(top(&c.top10), slots as f64));
    }
    put(v, "gini", gini(catalog, false));
}

/// Gini index of `x` (sorted here): Σ(2i − n − 1)·xᵢ / (n·Σx) over every
/// item; with `evidently`, / ((n − 1)·Σx), as Evidently normalises it.
fn gini(x: &mut [u64], evidently: bool) -> Option<f64> {
    let n = x.len();
    let total: u64 = x.iter().sum();
    if n < 2 || total == 0 {
        return None;
    }
    x.sort_unstable();
    let nf = n as f64;
    let s: f64 = x.iter().enumerate().map(|(i, &xi)| (2.0 * (i + 1) as f64 - nf - 1.0) * xi as f64).sum();
    Some(s / (if evidently { nf - 1.0 } else { nf }) / total as f64)
}

/// Per-list figures that need the catalog, each averaged over the lists it is defined for.
fn per_list_catalog(inp: &Inputs<'_>, c: &Catalog, users: &[usize], v: &mut Values) {
    #[derive(Default)]
    struct Mean(f64, u64);
    impl Mean {
        fn add(&mut self, x: f64) {
            self.0 += x;
            self.1 += 1;
        }
        fn get(&self) -> Option<f64> {
            ratio(self.0, self.1 as f64)
        }
    }
    let (mut arp, mut novelty, mut cat_div, mut cat_entropy, mut emb) = (Mean::default(), Mean::default(), Mean::default(), Mean::default(), Mean::default());
    let mut cats: Vec<(u32, u32)> = Vec::new();
    let mut sum: Vec<f64> = Vec::new();
    let mut slots: Vec<usize> = Vec::new();
    for &u in users {
        slots.clear();
        slots.extend(inp.lists.of(u).iter().filter(|&&i| c.contains(i)).map(|&i| i as usize));
        if slots.is_empty() {
            continue;
        }
        let m = slots.len() as f64;
        if let Some(pop) = &c.popularity {
            arp.add(slots.iter().map(|&i| pop[i]).sum::<f64>() / m);
            let info = |p: f64| -((p.max(1.0) / inp.training_users).min(1.0)).log2();
            novelty.add(slots.iter().map(|&i| info(pop[i])).sum::<f64>() / m);
        }
        if let Some(category) = &c.category {
            cats.clear();
            for &i in &slots {
                let cat = category[i];
                if cat == u32::MAX {
                    continue;
                }
                match cats.iter_mut().find(|(c, _)| *c == cat) {
                    Some((_, n)) => *n += 1,
                    None => cats.push((cat, 1)),
                }
            }
            let total: u32 = cats.iter().map(|(_, n)| n).sum();
            if total > 0 {
                let t = total as f64;
                cat_div.add(cats.len() as f64 / t);
                cat_entropy.add(cats.iter().map(|&(_, n)| n as f64 / t).map(|s| -s * s.log2()).sum::<f64>());
            }
        }
        if let Some(embedding) = &c.embedding {
            // Σ_{i<j} cos(eᵢ, eⱼ) of unit vectors is (|Σe|² − m) / 2.
            let mut count = 0usize;
            for e in slots.iter().filter_map(|&i| embedding[i].as_ref()) {
                if count == 0 {
                    sum.clear();
                    sum.resize(e.len(), 0.0);
                }
                sum.iter_mut().zip(e).for_each(|(s, x)| *s += x);
                count += 1;
            }
            if count >= 2 {
                let m = count as f64;
                let cos_sum = (sum.iter().map(|x| x * x).sum::<f64>() - m) / 2.0;
                emb.add(1.0 - cos_sum / (m * (m - 1.0) / 2.0));
            }
        }
    }
    put(v, "arp", arp.get());
    put(v, "novelty", novelty.get());
    put(v, "category_diversity", cat_div.get());
    put(v, "category_entropy", cat_entropy.get());
    put(v, "embedding_diversity", emb.get());
}

/// 1 − mean |A∩B| / k over pairs of non-empty lists: every pair when there
/// are no more than `pairs` of them, else `pairs` pairs drawn with the seed.
fn personalization(inp: &Inputs<'_>, sets: &Sets, v: &mut Values) {
    let nonempty: Vec<usize> = (0..sets.offsets.len() - 1).filter(|&i| !sets.get(i).is_empty()).collect();
    let m = nonempty.len();
    if m < 2 {
        return;
    }
    let all = m as u128 * (m as u128 - 1) / 2;
    let mut shared = 0u64;
    let compared;
    if all <= inp.pairs as u128 {
        for a in 0..m {
            for b in a + 1..m {
                shared += overlap(sets.get(nonempty[a]), sets.get(nonempty[b])) as u64;
            }
        }
        compared = all as u64;
    } else {
        let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(inp.seed);
        for _ in 0..inp.pairs {
            let a = rng.random_range(0..m);
            let mut b = rng.random_range(0..m - 1);
            if b >= a {
                b += 1;
            }
            shared += overlap(sets.get(nonempty[a]), sets.get(nonempty[b])) as u64;
        }
        compared = inp.pairs as u64;
    }
    v.insert("personalization", 1.0 - shared as f64 / compared as f64 / inp.k as f64);
}

/// Mean |A_now ∩ A_before| / k over users with a non-empty list in both windows.
fn stability(inp: &Inputs<'_>, prev: &Lists, users: &[usize], sets: &Sets, v: &mut Values) {
    let (mut shared, mut compared) = (0u64, 0u64);
    let mut before: Vec<u32> = Vec::new();
    for (i, &u) in users.iter().enumerate() {
        let now = sets.get(i);
        let Some(p) = prev.user(&inp.lists.users[u]) else { continue };
        before.clear();
        before.extend_from_slice(prev.of(p));
        before.sort_unstable();
        before.dedup();
        if now.is_empty() || before.is_empty() {
            continue;
        }
        shared += overlap(now, &before) as u64;
        compared += 1;
    }
    v.insert("stability_users", compared as f64);
    put(v, "stability", ratio(shared as f64 / inp.k as f64, compared as f64));
}

fn feedback(f: &Feedback, users: &[usize], v: &mut Values) {
    let impressions: u64 = users.iter().map(|&u| f.impressions[u]).sum();
    let clicks: u64 = users.iter().map(|&u| f.clicks[u]).sum();
    let shown = users.iter().filter(|&&u| f.impressions[u] > 0).count();
    let hits = users.iter().filter(|&&u| f.impressions[u] > 0 && f.hit[u]).count();
    v.insert("impressions", impressions as f64);
    v.insert("clicks", clicks as f64);
    put(v, "ctr", ratio(clicks as f64, impressions as f64));
    put(v, "hit_rate", ratio(hits as f64, shown as f64));
}
