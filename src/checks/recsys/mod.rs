//! The `recsys` check: the health and quality of recommendation lists —
//! list health, catalog coverage, exposure inequality (Gini), popularity
//! bias, novelty, intra-list diversity, personalization, stability against
//! the previous window, and CTR and hit rate from impressions — per tenant,
//! and per A/B arm when the lists name arms.
//!
//! The lists are the group's window; the catalog, the impressions and the
//! previous window are side reads ([`SideRead`]).

mod catalog;
mod lists;
mod measures;

use std::collections::BTreeMap;

use polars::prelude::*;
use serde::Deserialize;

use super::contract::{CheckKind, CheckSpec, EvalContext, SideRead, Unit, ValueSpec};
use super::{CheckError, Series};
use crate::labels::Labels;
use crate::sources::Source;
use catalog::{Catalog, CatalogColumns};
use lists::{Items, Lists, column_error, strings};
use measures::{Feedback, Inputs};

const fn value(name: &'static str, help: &'static str, unit: Unit, metric: &'static str) -> ValueSpec {
    ValueSpec { name, help, unit, metric: Some(metric) }
}

pub const SPEC: CheckSpec = CheckSpec {
    kind: "recsys",
    summary: "Recommendation lists: list health, coverage, Gini, popularity bias, novelty, diversity, personalization, stability, CTR.",
    labels: &[],
    values: &[
        value("lists", "Lists (users) in the window, empty ones included.", Unit::Count, "mlwatch_recsys_lists"),
        value("list_length_mean", "Mean items per list.", Unit::None, "mlwatch_recsys_list_length_mean"),
        value("short_list_ratio", "Share of lists shorter than `k`.", Unit::Ratio, "mlwatch_recsys_short_list_ratio"),
        value("empty_list_ratio", "Share of empty lists.", Unit::Ratio, "mlwatch_recsys_empty_list_ratio"),
        value("duplicate_item_ratio", "Share of slots that repeat an item already in the same list.", Unit::Ratio, "mlwatch_recsys_duplicate_item_ratio"),
        value("distinct_items", "Distinct items recommended.", Unit::Count, "mlwatch_recsys_distinct_items"),
        value("catalog_items", "Items in the catalog.", Unit::Count, "mlwatch_recsys_catalog_items"),
        value("coverage", "Distinct recommended catalog items / catalog items.", Unit::Ratio, "mlwatch_recsys_coverage"),
        value("unknown_item_ratio", "Share of slots whose item is not in the catalog.", Unit::Ratio, "mlwatch_recsys_unknown_item_ratio"),
        value("gini", "Gini index of exposure over the whole catalog (items never recommended count as 0).", Unit::None, "mlwatch_recsys_gini"),
        value("gini_recommended", "Gini index over recommended items only, normalised by n − 1 (Evidently's convention), for comparison.", Unit::None, "mlwatch_recsys_gini_recommended"),
        value("arp", "Average recommendation popularity: each list's mean item popularity, averaged over lists.", Unit::None, "mlwatch_recsys_arp"),
        value("top2_share", "Share of slots filled by the catalog's 2% most popular items.", Unit::Ratio, "mlwatch_recsys_top2_share"),
        value("top10_share", "Share of slots filled by the catalog's 10% most popular items.", Unit::Ratio, "mlwatch_recsys_top10_share"),
        value("novelty", "Mean −log2(share of training users who interacted with the item), per list then averaged (Evidently's convention), in bits.", Unit::None, "mlwatch_recsys_novelty"),
        value("category_diversity", "Distinct categories per list / list length, averaged over lists.", Unit::Ratio, "mlwatch_recsys_category_diversity"),
        value("category_entropy", "Shannon entropy (bits) of each list's category mix, averaged over lists.", Unit::None, "mlwatch_recsys_category_entropy"),
        value("embedding_diversity", "Mean pairwise cosine distance of a list's item embeddings (divided by the number of pairs), averaged over lists.", Unit::None, "mlwatch_recsys_embedding_diversity"),
        value("personalization", "1 − mean |A∩B| / k over pairs of users' lists (sampled past `personalization.pairs`).", Unit::Ratio, "mlwatch_recsys_personalization"),
        value("stability", "Mean |A_now ∩ A_previous| / k over users with a list in this window and the previous one.", Unit::Ratio, "mlwatch_recsys_stability"),
        value("stability_users", "Users whose lists stability compares.", Unit::Count, "mlwatch_recsys_stability_users"),
        value("impressions", "Impressions of the lists' users in the window.", Unit::Count, "mlwatch_recsys_impressions"),
        value("clicks", "Clicked impressions.", Unit::Count, "mlwatch_recsys_clicks"),
        value("ctr", "Clicks / impressions.", Unit::Ratio, "mlwatch_recsys_ctr"),
        value("hit_rate", "Share of users with impressions who clicked an item of their list.", Unit::Ratio, "mlwatch_recsys_hit_rate"),
    ],
    primary: "coverage",
};

/// `check: { recsys: { user: user_id, item: item_id, ... } }`
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RecsysConfig {
    /// The user (or, for related items, the anchor item) a list is for.
    pub user: String,
    /// The recommended item: one per row, or a list column (one row per user).
    pub item: String,
    /// A column naming the user's A/B arm: figures per arm (label `arm`).
    #[serde(default)]
    pub arm: Option<String>,
    /// The expected list length. Default 10.
    #[serde(default)]
    pub k: Option<usize>,
    #[serde(default)]
    pub catalog: Option<RawCatalog>,
    /// Users the catalog's popularity counts are out of; default: the lists' users.
    #[serde(default)]
    pub training_users: Option<u64>,
    #[serde(default)]
    pub personalization: Option<RawPairs>,
    /// Compare each user's list with their list in the previous window.
    #[serde(default)]
    pub stability: bool,
    #[serde(default)]
    pub feedback: Option<RawFeedback>,
}

/// `catalog: { source: items, item: item_id, category: ..., popularity: ..., embedding: ... }`
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawCatalog {
    pub source: String,
    /// Default: the lists' `item` column name.
    #[serde(default)]
    pub item: Option<String>,
    #[serde(default)]
    pub category: Option<String>,
    /// Training interactions (distinct users) per item.
    #[serde(default)]
    pub popularity: Option<String>,
    /// A list of numbers per item.
    #[serde(default)]
    pub embedding: Option<String>,
}

/// `personalization: { pairs: 10000, seed: 1 }`
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawPairs {
    #[serde(default)]
    pub pairs: Option<usize>,
    #[serde(default)]
    pub seed: Option<u64>,
}

/// `feedback: { source: impressions, clicked: clicked }`: one row per impression.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawFeedback {
    pub source: String,
    /// Default: the lists' `user` column name.
    #[serde(default)]
    pub user: Option<String>,
    /// Default: the lists' `item` column name.
    #[serde(default)]
    pub item: Option<String>,
    /// True (or non-zero) when the impression was clicked.
    pub clicked: String,
}

pub const DEFAULT_K: usize = 10;
pub const DEFAULT_PAIRS: usize = 10_000;

#[derive(Debug, Clone)]
pub struct RecsysCheck {
    user: String,
    item: String,
    arm: Option<String>,
    k: usize,
    catalog: Option<(String, CatalogColumns)>,
    training_users: Option<u64>,
    pairs: usize,
    seed: u64,
    stability: bool,
    feedback: Option<(String, [String; 3])>,
}

impl RecsysConfig {
    pub fn validate(&self) -> Result<RecsysCheck, String> {
        let k = self.k.unwrap_or(DEFAULT_K);
        if !(1..=10_000).contains(&k) {
            return Err("recsys: k must be between 1 and 10000".into());
        }
        if self.arm.as_ref().is_some_and(|a| a.is_empty()) {
            return Err("recsys: arm: name a column".into());
        }
        if self.training_users == Some(0) {
            return Err("recsys: training_users must be at least 1".into());
        }
        let p = self.personalization.clone().unwrap_or_default();
        let pairs = p.pairs.unwrap_or(DEFAULT_PAIRS);
        if pairs == 0 || pairs > 100_000_000 {
            return Err("recsys: personalization.pairs must be between 1 and 100000000".into());
        }
        Ok(RecsysCheck {
            user: self.user.clone(),
            item: self.item.clone(),
            arm: self.arm.clone(),
            k,
            catalog: self.catalog.as_ref().map(|c| {
                let cols = CatalogColumns {
                    item: c.item.clone().unwrap_or_else(|| self.item.clone()),
                    category: c.category.clone(),
                    popularity: c.popularity.clone(),
                    embedding: c.embedding.clone(),
                };
                (c.source.clone(), cols)
            }),
            training_users: self.training_users,
            pairs,
            seed: p.seed.unwrap_or(0),
            stability: self.stability,
            feedback: self.feedback.as_ref().map(|f| {
                let user = f.user.clone().unwrap_or_else(|| self.user.clone());
                let item = f.item.clone().unwrap_or_else(|| self.item.clone());
                (f.source.clone(), [user, item, f.clicked.clone()])
            }),
        })
    }
}

impl RecsysCheck {
    pub const SPEC: &'static CheckSpec = &SPEC;

    /// Where each side read's frame is in [`EvalContext::side`].
    fn side_index(&self, which: Side) -> Option<usize> {
        let present = [self.catalog.is_some(), self.feedback.is_some(), self.stability];
        present[which as usize].then(|| present[..which as usize].iter().filter(|p| **p).count())
    }
}

#[derive(Clone, Copy)]
enum Side {
    Catalog = 0,
    Feedback = 1,
    Previous = 2,
}

impl CheckKind for RecsysCheck {
    fn spec(&self) -> &'static CheckSpec {
        &SPEC
    }

    fn values(&self) -> Vec<&'static str> {
        // What this configuration can yield: a condition on `coverage`
        // without a catalog is an error in `mlwatch check`, not a rule that never fires.
        let cat = self.catalog.as_ref().map(|(_, c)| c);
        let has = |name: &str| match name {
            "catalog_items" | "coverage" | "unknown_item_ratio" | "gini" => cat.is_some(),
            "arp" | "top2_share" | "top10_share" | "novelty" => cat.is_some_and(|c| c.popularity.is_some()),
            "category_diversity" | "category_entropy" => cat.is_some_and(|c| c.category.is_some()),
            "embedding_diversity" => cat.is_some_and(|c| c.embedding.is_some()),
            "stability" | "stability_users" => self.stability,
            "impressions" | "clicks" | "ctr" | "hit_rate" => self.feedback.is_some(),
            _ => true,
        };
        SPEC.values.iter().map(|v| v.name).filter(|n| has(n)).collect()
    }

    fn columns(&self) -> Vec<String> {
        let mut c = vec![self.user.clone(), self.item.clone()];
        c.extend(self.arm.iter().cloned());
        c
    }

    fn extra_labels(&self) -> Vec<String> {
        self.arm.iter().map(|_| "arm".to_string()).collect()
    }

    fn side_reads(&self) -> Vec<SideRead> {
        let mut reads = Vec::new();
        if let Some((source, cols)) = &self.catalog {
            reads.push(SideRead::Source { name: source.clone(), columns: cols.names() });
        }
        if let Some((source, cols)) = &self.feedback {
            reads.push(SideRead::Source { name: source.clone(), columns: cols.to_vec() });
        }
        if self.stability {
            reads.push(SideRead::PreviousWindow);
        }
        reads
    }

    fn fits_source(&self, source: &Source) -> Result<(), String> {
        match source {
            Source::Log(_) => Err("a recsys check reads lists (rows of a table): use a `file` source".into()),
            Source::File(_) => Ok(()),
        }
    }

    fn evaluate(&self, cx: &EvalContext<'_>) -> Result<Vec<Series>, CheckError> {
        let side = |s: Side| self.side_index(s).map(|i| cx.side[i]);
        let mut items = Items::default();
        let catalog = match (&self.catalog, side(Side::Catalog)) {
            (Some((source, cols)), Some(frame)) => Some(Catalog::read(frame, cols, &mut items).map_err(|e| in_table(e, &format!("the catalog (source `{source}`)")))?),
            _ => None,
        };
        let lists = Lists::read(cx.frame, &self.user, &self.item, self.arm.as_deref(), &mut items)?;
        let previous = match side(Side::Previous) {
            Some(frame) => Some(Lists::read(frame, &self.user, &self.item, None, &mut items).map_err(|e| in_table(e, "the previous window's lists"))?),
            None => None,
        };
        let feedback = match (&self.feedback, side(Side::Feedback)) {
            (Some((source, cols)), Some(frame)) => Some(read_feedback(frame, cols, &lists, &items).map_err(|e| in_table(e, &format!("the feedback (source `{source}`)")))?),
            _ => None,
        };
        let inputs = Inputs {
            lists: &lists,
            items: items.len(),
            catalog: catalog.as_ref(),
            previous: previous.as_ref(),
            feedback: feedback.as_ref(),
            k: self.k,
            training_users: self.training_users.unwrap_or(lists.len() as u64).max(1) as f64,
            pairs: self.pairs,
            seed: self.seed,
        };
        // The users of each series: all, or each arm's (users without an arm are in none).
        let mut groups: BTreeMap<Labels, Vec<usize>> = BTreeMap::new();
        match &self.arm {
            None => {
                groups.insert(Labels::new(), (0..lists.len()).collect());
            }
            Some(_) => {
                for (u, arm) in lists.arms.iter().enumerate() {
                    if let Some(a) = arm {
                        groups.entry(Labels::from([("arm".to_string(), a.clone())])).or_default().push(u);
                    }
                }
                if groups.is_empty() {
                    groups.insert(Labels::from([("arm".to_string(), String::new())]), Vec::new());
                }
            }
        }
        // Each arm's figures on their own core.
        use rayon::prelude::*;
        Ok(groups
            .into_par_iter()
            .map(|(labels, users)| {
                let note = users.is_empty().then(|| "no lists in the window".to_string());
                Series::new(labels, measures::measure(&inputs, &users), note)
            })
            .collect())
    }
}

/// Name the side table an error is in.
fn in_table(e: CheckError, table: &str) -> CheckError {
    match e {
        CheckError::Column { column, message } => CheckError::Column { column, message: format!("{message}, in {table}") },
        other => other,
    }
}

/// Impressions, clicks and hits per user of `lists`; rows of other users are left out.
fn read_feedback(frame: &DataFrame, [user, item, clicked]: &[String; 3], lists: &Lists, items: &Items) -> Result<Feedback, CheckError> {
    let n = lists.len();
    let mut f = Feedback { impressions: vec![0; n], clicks: vec![0; n], hit: vec![false; n] };
    if frame.height() == 0 {
        return Ok(f);
    }
    let users = strings(frame, user)?;
    let item_names = strings(frame, item)?;
    let col = frame.column(clicked).map_err(|_| column_error(clicked, "not in the source data"))?;
    let clicks: Vec<bool> = match col.dtype() {
        DataType::Boolean => col.bool().map_err(|e| column_error(clicked, e))?.iter().map(|b| b == Some(true)).collect(),
        dt if dt.is_primitive_numeric() => {
            let f = col.cast(&DataType::Float64).map_err(|e| column_error(clicked, e))?;
            f.f64().map_err(|e| column_error(clicked, e))?.iter().map(|x| x.is_some_and(|x| x != 0.0)).collect()
        }
        dt => return Err(column_error(clicked, format!("has type {dt}; clicked is a boolean or a number"))),
    };
    for ((u, it), click) in users.iter().zip(item_names.iter()).zip(clicks) {
        let Some(u) = u.and_then(|u| lists.user(u)) else { continue };
        f.impressions[u] += 1;
        if click {
            f.clicks[u] += 1;
            if it.and_then(|i| items.get(i)).is_some_and(|i| lists.of(u).contains(&i)) {
                f.hit[u] = true;
            }
        }
    }
    Ok(f)
}
