//! Recommendation lists read from a frame of either shape: one row per
//! (user, rank, item), or one row per user with a list column (exploded to
//! the first shape). Items are interned to dense ids, catalog items first, so
//! per-item figures are plain vectors.

/// Ids are hashed millions of times per evaluation: a fast, non-DoS-hardened
/// hash (the ids are the operator's own data).
pub type FastMap<K, V> = std::collections::HashMap<K, V, foldhash::fast::RandomState>;

use polars::prelude::*;

use crate::checks::CheckError;

/// Item ids as dense numbers; ids below the catalog's size are its items.
#[derive(Debug, Default)]
pub struct Items {
    ids: FastMap<String, u32>,
}

impl Items {
    pub fn intern(&mut self, name: &str) -> u32 {
        if let Some(&id) = self.ids.get(name) {
            return id;
        }
        let id = self.ids.len() as u32;
        self.ids.insert(name.to_string(), id);
        id
    }

    pub fn get(&self, name: &str) -> Option<u32> {
        self.ids.get(name).copied()
    }

    pub fn len(&self) -> usize {
        self.ids.len()
    }
}

/// Every user's list, as slices of one flat vector (compact at millions of users).
#[derive(Debug, Default)]
pub struct Lists {
    pub users: Vec<String>,
    /// The user's arm, when the lists name arms.
    pub arms: Vec<Option<String>>,
    offsets: Vec<usize>,
    items: Vec<u32>,
    index: FastMap<String, u32>,
}

impl Lists {
    pub fn len(&self) -> usize {
        self.users.len()
    }

    /// The items of list `u` (duplicates kept, in row order).
    pub fn of(&self, u: usize) -> &[u32] {
        &self.items[self.offsets[u]..self.offsets[u + 1]]
    }

    pub fn user(&self, name: &str) -> Option<usize> {
        self.index.get(name).map(|&u| u as usize)
    }

    /// Read `frame`'s lists: `user` and `item` columns (item may be a list
    /// column), and the user's arm from `arm`. A null item adds no slot: a user
    /// whose rows all hold null has an empty list.
    pub fn read(frame: &DataFrame, user: &str, item: &str, arm: Option<&str>, items: &mut Items) -> Result<Lists, CheckError> {
        let mut lists = Lists::default();
        if frame.height() == 0 {
            lists.offsets.push(0);
            return Ok(lists);
        }
        let exploded;
        let frame = match frame.column(item).map(|c| c.dtype().clone()) {
            Ok(DataType::List(_)) => {
                exploded = frame
                    .explode([item], ExplodeOptions { empty_as_null: true, keep_nulls: true })
                    .map_err(|e| column_error(item, e))?;
                &exploded
            }
            _ => frame,
        };
        let users = strings(frame, user)?;
        let item_names = strings(frame, item)?;
        let arm_names = arm.map(|a| strings(frame, a)).transpose()?;
        // Rows are grouped by user with a counting sort: user of each row, then offsets.
        let mut row_user = Vec::with_capacity(frame.height());
        // Rows of one user usually follow each other: remember the last one.
        let mut last: Option<(&str, u32)> = None;
        for u in users.iter() {
            let Some(u) = u else {
                row_user.push(u32::MAX);
                continue;
            };
            if let Some((name, id)) = last
                && name == u
            {
                row_user.push(id);
                continue;
            }
            // Look up before inserting: most rows repeat a user already seen.
            let id = match lists.index.get(u) {
                Some(&id) => id,
                None => {
                    let id = lists.users.len() as u32;
                    lists.index.insert(u.to_string(), id);
                    lists.users.push(u.to_string());
                    id
                }
            };
            last = Some((u, id));
            row_user.push(id);
        }
        let n = lists.users.len();
        lists.arms = vec![None; n];
        let mut counts = vec![0usize; n + 1];
        let mut row_item = Vec::with_capacity(frame.height());
        let arm_of: Option<Vec<Option<&str>>> = arm_names.as_ref().map(|c| c.iter().collect());
        for (row, (&u, name)) in row_user.iter().zip(item_names.iter()).enumerate() {
            if u == u32::MAX {
                row_item.push(u32::MAX);
                continue;
            }
            if let Some(arms) = &arm_of
                && lists.arms[u as usize].is_none()
                && let Some(a) = arms[row]
            {
                lists.arms[u as usize] = Some(a.to_string());
            }
            match name {
                Some(name) => {
                    row_item.push(items.intern(name));
                    counts[u as usize + 1] += 1;
                }
                None => row_item.push(u32::MAX),
            }
        }
        for i in 1..=n {
            counts[i] += counts[i - 1];
        }
        lists.offsets = counts.clone();
        lists.items = vec![0; counts[n]];
        for (&u, &it) in row_user.iter().zip(&row_item) {
            if u == u32::MAX || it == u32::MAX {
                continue;
            }
            let at = &mut counts[u as usize];
            lists.items[*at] = it;
            *at += 1;
        }
        Ok(lists)
    }
}

/// A column as strings (numbers are written out), named in errors.
pub fn strings(frame: &DataFrame, name: &str) -> Result<StringChunked, CheckError> {
    let col = frame.column(name).map_err(|_| CheckError::Column { column: name.to_string(), message: "not in the source data".into() })?;
    let col = col.cast(&DataType::String).map_err(|e| column_error(name, e))?;
    Ok(col.str().map_err(|e| column_error(name, e))?.clone())
}

pub fn column_error(name: &str, e: impl std::fmt::Display) -> CheckError {
    CheckError::Column { column: name.to_string(), message: e.to_string() }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Each list's item names.
    fn named(l: &Lists, items: &Items) -> Vec<Vec<String>> {
        let mut by_id: Vec<(&String, &u32)> = items.ids.iter().collect();
        by_id.sort_by_key(|(_, id)| **id);
        (0..l.len()).map(|u| l.of(u).iter().map(|&i| by_id[i as usize].0.clone()).collect()).collect()
    }

    #[test]
    fn both_shapes_give_the_same_lists() {
        let rows = df!(
            "user" => ["a", "b", "a", "c", "a"],
            "item" => [Some("x"), Some("y"), Some("z"), None, Some("x")],
        )
        .unwrap();
        let mut items = Items::default();
        let l = Lists::read(&rows, "user", "item", None, &mut items).unwrap();
        assert_eq!(l.users, ["a", "b", "c"]);
        let want: Vec<Vec<String>> = vec![vec!["x".into(), "z".into(), "x".into()], vec!["y".into()], vec![]];
        assert_eq!(named(&l, &items), want, "a null item is an empty list");

        let list_shape = df!(
            "user" => ["a", "b", "c"],
            "item" => [Series::new("".into(), ["x", "z", "x"]), Series::new("".into(), ["y"]), Series::new_empty("".into(), &DataType::String)],
        )
        .unwrap();
        let mut items2 = Items::default();
        let l2 = Lists::read(&list_shape, "user", "item", None, &mut items2).unwrap();
        assert_eq!(l2.users, l.users);
        assert_eq!(named(&l2, &items2), want, "an empty list column is an empty list");
    }
}
