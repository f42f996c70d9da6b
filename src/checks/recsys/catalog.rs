//! The item catalog a recsys check joins: which items exist, and optionally
//! their category, popularity (training interactions) and embedding.

use polars::prelude::*;

use super::lists::{Items, column_error, strings};
use crate::checks::CheckError;

/// The catalog's columns, as the check's config names them.
#[derive(Debug, Clone)]
pub struct CatalogColumns {
    pub item: String,
    pub category: Option<String>,
    pub popularity: Option<String>,
    pub embedding: Option<String>,
}

impl CatalogColumns {
    pub fn names(&self) -> Vec<String> {
        let mut v = vec![self.item.clone()];
        v.extend(self.category.iter().chain(&self.popularity).chain(&self.embedding).cloned());
        v
    }
}

/// Catalog items are ids `0..size` of the check's [`Items`].
#[derive(Debug, Default)]
pub struct Catalog {
    pub size: usize,
    /// Category index per item; `u32::MAX` where none is given.
    pub category: Option<Vec<u32>>,
    pub popularity: Option<Vec<f64>>,
    /// Unit-length embeddings; `None` for items without one (or a zero vector).
    pub embedding: Option<Vec<Option<Vec<f64>>>>,
    /// Whether each item is among the most popular 2% and 10% of the catalog.
    pub top2: Vec<bool>,
    pub top10: Vec<bool>,
}

impl Catalog {
    /// Read the catalog into `items`, which must be empty (its items take
    /// the first ids). A repeated item keeps its first row.
    pub fn read(frame: &DataFrame, cols: &CatalogColumns, items: &mut Items) -> Result<Catalog, CheckError> {
        debug_assert_eq!(items.len(), 0);
        // No columns at all: the tenant has no catalog file (an empty table
        // would still have its header's columns).
        if frame.width() == 0 {
            return Err(column_error(&cols.item, "no catalog rows for this tenant: is its catalog file missing?"));
        }
        let names = strings(frame, &cols.item)?;
        let mut rows = Vec::new(); // (row, id) of each first occurrence
        for (row, name) in names.iter().enumerate() {
            let Some(name) = name else { continue };
            let before = items.len();
            let id = items.intern(name);
            if id as usize == before {
                rows.push(row);
            }
        }
        let size = rows.len();
        let mut catalog = Catalog { size, ..Catalog::default() };
        if let Some(c) = &cols.category {
            let values = strings(frame, c)?;
            let mut categories = Items::default();
            catalog.category = Some(rows.iter().map(|&r| values.get(r).map_or(u32::MAX, |v| categories.intern(v))).collect());
        }
        if let Some(p) = &cols.popularity {
            let col = frame.column(p).map_err(|_| column_error(p, "not in the source data"))?;
            let col = col.cast(&DataType::Float64).map_err(|e| column_error(p, e))?;
            let values = col.f64().map_err(|e| column_error(p, e))?;
            let pop: Vec<f64> = rows.iter().map(|&r| values.get(r).unwrap_or(0.0)).collect();
            if let Some(bad) = pop.iter().find(|v| !(v.is_finite() && **v >= 0.0)) {
                return Err(column_error(p, format!("popularity must be a count (0 or more), found {bad}")));
            }
            // Most popular first, ties by item id: the top shares' sets.
            let mut order: Vec<usize> = (0..size).collect();
            order.sort_by(|&a, &b| pop[b].total_cmp(&pop[a]).then_with(|| names.get(rows[a]).cmp(&names.get(rows[b]))));
            catalog.top2 = top_set(&order, size.div_ceil(50));
            catalog.top10 = top_set(&order, size.div_ceil(10));
            catalog.popularity = Some(pop);
        }
        if let Some(e) = &cols.embedding {
            catalog.embedding = Some(embeddings(frame, e, &rows)?);
        }
        Ok(catalog)
    }

    pub fn contains(&self, item: u32) -> bool {
        (item as usize) < self.size
    }
}

fn top_set(order: &[usize], n: usize) -> Vec<bool> {
    let mut top = vec![false; order.len()];
    for &i in &order[..n] {
        top[i] = true;
    }
    top
}

/// Each row's embedding scaled to unit length.
fn embeddings(frame: &DataFrame, name: &str, rows: &[usize]) -> Result<Vec<Option<Vec<f64>>>, CheckError> {
    let col = frame.column(name).map_err(|_| column_error(name, "not in the source data"))?;
    let list = col.list().map_err(|_| column_error(name, format!("has type {}; an embedding is a list of numbers", col.dtype())))?;
    let mut out = Vec::with_capacity(rows.len());
    let mut dim = None;
    for &r in rows {
        let Some(s) = list.get_as_series(r) else {
            out.push(None);
            continue;
        };
        let s = s.cast(&DataType::Float64).map_err(|e| column_error(name, e))?;
        let v: Vec<f64> = s.f64().map_err(|e| column_error(name, e))?.iter().map(|x| x.unwrap_or(0.0)).collect();
        if v.is_empty() {
            out.push(None);
            continue;
        }
        if *dim.get_or_insert(v.len()) != v.len() {
            return Err(column_error(name, format!("embeddings differ in length ({} and {})", dim.unwrap_or(0), v.len())));
        }
        let norm = v.iter().map(|x| x * x).sum::<f64>().sqrt();
        out.push((norm > 0.0 && norm.is_finite()).then(|| v.iter().map(|x| x / norm).collect()));
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_tenant_without_a_catalog_file_is_named_as_such() {
        let cols = CatalogColumns { item: "item_id".into(), category: None, popularity: None, embedding: None };
        let err = Catalog::read(&DataFrame::empty(), &cols, &mut Items::default()).err().expect("no catalog").to_string();
        assert!(err.contains("no catalog rows for this tenant"), "{err}");
    }
}
