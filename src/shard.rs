//! Sharding: which agent owns which tenant.
//!
//! Tenants are assigned by rendezvous (highest random weight) hashing: every
//! shard scores every tenant, and the highest score owns it. Going from n to
//! n + 1 shards moves only the tenants the new shard now scores highest,
//! about 1/(n + 1) of them, and each agent decides alone, from the tenant's
//! name, with nothing to coordinate. The hash is part of the contract: the
//! same name lands on the same shard in every version, on every platform.

use std::fmt;
use std::str::FromStr;

use serde::Deserialize;

/// One shard of `count`: this agent owns the tenants whose highest score is `index`'s.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Shard {
    index: u32,
    count: u32,
}

/// `sharding:` in `mlwatch.yaml` (`--shard i/n` overrides it).
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ShardingConfig {
    /// This agent's shard, from 0 to `count` − 1.
    pub index: u32,
    /// How many shards share the tenants.
    pub count: u32,
}

impl Shard {
    pub fn new(index: u32, count: u32) -> Result<Shard, String> {
        if count == 0 {
            return Err("the shard count must be at least 1".into());
        }
        if index >= count {
            return Err(format!("shard index {index} is out of range: shards of {count} are numbered 0 to {}", count - 1));
        }
        Ok(Shard { index, count })
    }

    pub fn index(self) -> u32 {
        self.index
    }

    pub fn count(self) -> u32 {
        self.count
    }

    /// Whether this shard evaluates, exports and alerts on `tenant`.
    pub fn owns(self, tenant: &str) -> bool {
        owner(tenant, self.count) == self.index
    }
}

/// The shard of `count` that owns `tenant`.
pub fn owner(tenant: &str, count: u32) -> u32 {
    let name = fnv1a(tenant.as_bytes());
    // Ties (vanishingly rare) go to the lower index, the same on every agent.
    (0..count).max_by_key(|&i| (score(name, i), std::cmp::Reverse(i))).unwrap_or(0)
}

/// Whether `shard` (if any) owns `tenant`; without sharding every tenant is ours.
pub fn owned(shard: Option<Shard>, tenant: &str) -> bool {
    shard.is_none_or(|s| s.owns(tenant))
}

/// The weight of shard `index` for a tenant whose name hashes to `name`.
fn score(name: u64, index: u32) -> u64 {
    splitmix64(name ^ u64::from(index).wrapping_add(1).wrapping_mul(0x9E37_79B9_7F4A_7C15))
}

/// 64-bit FNV-1a: fixed by its definition, unlike std's hasher.
fn fnv1a(bytes: &[u8]) -> u64 {
    bytes.iter().fold(0xcbf2_9ce4_8422_2325, |h, &b| (h ^ u64::from(b)).wrapping_mul(0x0000_0100_0000_01b3))
}

/// SplitMix64's finaliser: every input bit reaches every output bit.
fn splitmix64(mut z: u64) -> u64 {
    z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
    z ^ (z >> 31)
}

impl FromStr for Shard {
    type Err = String;

    /// `i/n`, as `--shard 2/4`.
    fn from_str(s: &str) -> Result<Shard, String> {
        let (i, n) = s.split_once('/').ok_or_else(|| format!("`{s}` is not a shard like 2/4 (index/count)"))?;
        let number = |t: &str, what: &str| t.trim().parse::<u32>().map_err(|_| format!("`{s}`: the {what} `{t}` is not a whole number"));
        Shard::new(number(i, "index")?, number(n, "count")?)
    }
}

impl fmt::Display for Shard {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}/{}", self.index, self.count)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;
    use proptest::test_runner::{Config, RngAlgorithm, TestRng, TestRunner};

    #[test]
    fn parses_index_over_count() {
        assert_eq!("2/4".parse::<Shard>().unwrap(), Shard::new(2, 4).unwrap());
        assert!("4/4".parse::<Shard>().unwrap_err().contains("numbered 0 to 3"));
        assert!("0/0".parse::<Shard>().unwrap_err().contains("at least 1"));
        assert!("two/4".parse::<Shard>().unwrap_err().contains("index `two`"));
        assert!("2".parse::<Shard>().unwrap_err().contains("like 2/4"));
        assert_eq!(Shard::new(1, 3).unwrap().to_string(), "1/3");
    }

    /// Fixed assignments, computed by an independent implementation
    /// (tests/reference/shard.py): a change of hash would move every tenant
    /// of every deployment at upgrade, so it must fail here first.
    #[test]
    fn assignments_are_stable_across_versions() {
        let got: Vec<u32> = ["acme", "globex", "initech", "umbrella", "tenant-0000", "tenant-0999", ""].iter().map(|t| owner(t, 4)).collect();
        assert_eq!(got, [2, 0, 3, 1, 2, 2, 3]);
        assert_eq!(owner("acme", 1), 0);
    }

    #[test]
    fn a_thousand_tenants_split_within_ten_percent_over_four_shards_and_a_fifth_move_to_a_fifth() {
        let mut per_shard = [0usize; 4];
        for i in 0..1000 {
            per_shard[owner(&format!("tenant-{i:04}"), 4) as usize] += 1;
        }
        assert_eq!(per_shard, [235, 236, 266, 263], "tests/reference/shard.py");
        let moved = (0..1000).filter(|i| { let t = format!("tenant-{i:04}"); owner(&t, 4) != owner(&t, 5) }).count();
        assert_eq!(moved, 216, "about a fifth move from 4 to 5 shards");
    }

    /// Property: from n to n + 1 shards, a tenant either stays or moves to
    /// the new shard, and about 1/(n + 1) of them move (within 5 standard
    /// deviations of a binomial count). The generator's seed is fixed, so the
    /// test is the same on every run.
    #[test]
    fn growing_by_one_shard_moves_about_one_in_n_plus_one() {
        let config = Config { cases: 48, failure_persistence: None, ..Config::default() };
        let mut runner = TestRunner::new_with_rng(config, TestRng::deterministic_rng(RngAlgorithm::ChaCha));
        let tenants = prop::collection::btree_set("[a-z0-9_-]{1,24}", 1500..3000);
        runner
            .run(&(tenants, 1u32..16), |(tenants, n)| {
                let mut moved = 0usize;
                for t in &tenants {
                    let (before, after) = (owner(t, n), owner(t, n + 1));
                    if before != after {
                        prop_assert_eq!(after, n, "{} moved between old shards", t);
                        moved += 1;
                    }
                }
                let total = tenants.len() as f64;
                let p = 1.0 / f64::from(n + 1);
                let sd = (total * p * (1.0 - p)).sqrt();
                prop_assert!((moved as f64 - total * p).abs() <= 5.0 * sd, "{} of {} moved going to {} shards", moved, total, n + 1);
                Ok(())
            })
            .unwrap();
    }

    #[test]
    fn every_tenant_has_exactly_one_owner() {
        for t in ["acme", "globex", "x"] {
            let owners: Vec<u32> = (0..5).filter(|&i| Shard::new(i, 5).unwrap().owns(t)).collect();
            assert_eq!(owners.len(), 1, "{t}");
        }
        assert!(owned(None, "anyone"));
    }
}
