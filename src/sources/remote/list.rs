//! Listing a bucket by glob, pruned: the glob is walked one path segment at a
//! time, listing with a delimiter only under the prefixes that still match.
//! `lake/*/dt=2026-11-30/*.parquet` costs one listing of `lake/` (the
//! tenants) and one of each tenant's `dt=2026-11-30/`, never the lake's
//! other days. `**` falls back to a recursive listing from where it starts.

use std::collections::BTreeMap;
use std::sync::Arc;

use chrono::{DateTime, Utc};
use futures_util::StreamExt;
use glob::{MatchOptions, Pattern};
use object_store::path::Path as ObjectPath;
use object_store::{ListResult, ObjectMeta, ObjectStore};
use tokio::task::JoinSet;

use super::{Remote, block_on};

/// One object a listing found.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Listed {
    /// `s3://bucket/key`.
    pub url: String,
    pub size: u64,
    pub modified: DateTime<Utc>,
    pub e_tag: Option<String>,
}

const MATCH: MatchOptions = MatchOptions { case_sensitive: true, require_literal_separator: true, require_literal_leading_dot: false };

impl Remote {
    /// The objects matching any of `globs` (URLs of this bucket with glob
    /// characters), once each, sorted by URL.
    pub fn list(&self, globs: &[String]) -> Result<Vec<Listed>, String> {
        let keys: Vec<String> = globs.iter().map(|g| self.key(g).to_string()).collect();
        let (store, concurrency) = (self.store.clone(), self.concurrency);
        let found = block_on(async move {
            let mut all = BTreeMap::new();
            for key in keys {
                for m in list_glob(&store, &key, concurrency).await? {
                    all.insert(m.location.to_string(), m);
                }
            }
            Ok::<_, String>(all)
        })??;
        Ok(found
            .into_values()
            .map(|m| Listed { url: self.url(&m.location), size: m.size, modified: m.last_modified, e_tag: m.e_tag })
            .collect())
    }
}

fn is_glob(segment: &str) -> bool {
    segment.contains(['*', '?', '['])
}

fn pattern(glob: &str) -> Result<Pattern, String> {
    Pattern::new(glob).map_err(|e| format!("invalid glob `{glob}`: {e}"))
}

async fn list_glob(store: &Arc<dyn ObjectStore>, glob: &str, concurrency: usize) -> Result<Vec<ObjectMeta>, String> {
    let segments: Vec<&str> = glob.split('/').filter(|s| !s.is_empty()).collect();
    let mut prefixes = vec![String::new()];
    for (i, segment) in segments.iter().enumerate() {
        let last = i + 1 == segments.len();
        if segment.contains("**") {
            return recursive(store, prefixes, &pattern(glob)?).await;
        }
        if !is_glob(segment) && !last {
            prefixes = prefixes.into_iter().map(|p| join(&p, segment)).collect();
            continue;
        }
        let wanted = pattern(segment)?;
        let listed = children(store, prefixes, concurrency).await?;
        if last {
            let objects = listed.into_iter().flat_map(|l| l.objects);
            return Ok(objects.filter(|o| o.location.filename().is_some_and(|name| wanted.matches_with(name, MATCH))).collect());
        }
        prefixes = listed
            .into_iter()
            .flat_map(|l| l.common_prefixes)
            .filter(|p| p.filename().is_some_and(|name| wanted.matches_with(name, MATCH)))
            .map(|p| p.to_string())
            .collect();
        if prefixes.is_empty() {
            break;
        }
    }
    Ok(Vec::new())
}

fn join(prefix: &str, segment: &str) -> String {
    if prefix.is_empty() { segment.to_string() } else { format!("{prefix}/{segment}") }
}

fn location(prefix: &str) -> Option<ObjectPath> {
    (!prefix.is_empty()).then(|| ObjectPath::from(prefix))
}

/// One level below each prefix, `concurrency` listings in flight at once.
async fn children(store: &Arc<dyn ObjectStore>, prefixes: Vec<String>, concurrency: usize) -> Result<Vec<ListResult>, String> {
    let mut pending = prefixes.into_iter();
    let mut running = JoinSet::new();
    let mut out = Vec::new();
    loop {
        while running.len() < concurrency {
            let Some(prefix) = pending.next() else { break };
            let store = store.clone();
            running.spawn(async move {
                let at = location(&prefix);
                store.list_with_delimiter(at.as_ref()).await.map_err(|e| format!("cannot list `{prefix}/`: {e}"))
            });
        }
        match running.join_next().await {
            Some(listed) => out.push(listed.map_err(|e| e.to_string())??),
            None => return Ok(out),
        }
    }
}

/// Every object under the prefixes whose key matches the whole glob.
async fn recursive(store: &Arc<dyn ObjectStore>, prefixes: Vec<String>, glob: &Pattern) -> Result<Vec<ObjectMeta>, String> {
    let mut found = Vec::new();
    for prefix in prefixes {
        let at = location(&prefix);
        let mut objects = store.list(at.as_ref());
        while let Some(object) = objects.next().await {
            let object = object.map_err(|e| format!("cannot list `{prefix}/`: {e}"))?;
            if glob.matches_with(object.location.as_ref(), MATCH) {
                found.push(object);
            }
        }
    }
    Ok(found)
}

#[cfg(test)]
mod tests {
    use super::*;
    use object_store::memory::InMemory;
    use object_store::{ObjectStoreExt, PutPayload};

    /// A store that counts listings, over an in-memory bucket.
    fn lake(keys: &[&str]) -> Remote {
        let store = InMemory::new();
        block_on({
            let keys: Vec<String> = keys.iter().map(|k| k.to_string()).collect();
            let store = store.clone();
            async move {
                for k in keys {
                    store.put(&ObjectPath::from(k.as_str()), PutPayload::from_static(b"x")).await.unwrap();
                }
            }
        })
        .unwrap();
        Remote { base: "s3://lake".into(), store: Arc::new(store), concurrency: 4 }
    }

    fn urls(r: &Remote, glob: &str) -> Vec<String> {
        r.list(&[glob.to_string()]).unwrap().into_iter().map(|l| l.url).collect()
    }

    #[test]
    fn a_glob_is_listed_segment_by_segment() {
        let r = lake(&[
            "lake/acme/dt=2026-11-30/a.parquet",
            "lake/acme/dt=2026-11-30/b.csv",
            "lake/acme/dt=2026-12-01/a.parquet",
            "lake/globex/dt=2026-11-30/a.parquet",
            "lake/globex/other/dt=2026-11-30/a.parquet",
            "elsewhere/acme/dt=2026-11-30/a.parquet",
        ]);
        assert_eq!(
            urls(&r, "s3://lake/lake/*/dt=2026-11-30/*.parquet"),
            ["s3://lake/lake/acme/dt=2026-11-30/a.parquet", "s3://lake/lake/globex/dt=2026-11-30/a.parquet"]
        );
        assert_eq!(urls(&r, "s3://lake/lake/acme/dt=*/a.parquet").len(), 2);
        assert_eq!(urls(&r, "s3://lake/lake/acme/dt=2026-12-01/a.parquet"), ["s3://lake/lake/acme/dt=2026-12-01/a.parquet"]);
        assert_eq!(urls(&r, "s3://lake/lake/**/a.parquet").len(), 4);
        assert!(urls(&r, "s3://lake/nothing/*/x").is_empty());
    }
}
