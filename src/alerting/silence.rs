//! Silences: matchers and a time range during which matching alerts are not
//! notified. Created, listed and expired through the API and `mlwatch silence`;
//! stored in the state file.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use super::matcher::{Matcher, all_match};
use crate::labels::Labels;

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Silence {
    pub id: String,
    pub matchers: Vec<Matcher>,
    pub starts_at: DateTime<Utc>,
    pub ends_at: DateTime<Utc>,
    pub created_by: String,
    pub comment: String,
    pub updated_at: DateTime<Utc>,
}

/// A silence as a client posts it.
#[derive(Debug, Clone, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct NewSilence {
    pub matchers: Vec<Matcher>,
    #[serde(default)]
    pub starts_at: Option<DateTime<Utc>>,
    pub ends_at: DateTime<Utc>,
    pub created_by: String,
    pub comment: String,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum SilenceState {
    Pending,
    Active,
    Expired,
}

impl NewSilence {
    /// Check and complete a new silence.
    pub fn into_silence(self, id: String, now: DateTime<Utc>) -> Result<Silence, String> {
        if self.matchers.is_empty() {
            return Err("a silence needs at least one matcher".into());
        }
        if matches_every_alert(&self.matchers) {
            return Err("a silence must not match every alert: name a value (e.g. `tenant=acme`), not a pattern that any value fits".into());
        }
        if self.created_by.trim().is_empty() || self.comment.trim().is_empty() {
            return Err("a silence needs `createdBy` and `comment`".into());
        }
        let starts_at = self.starts_at.unwrap_or(now).max(now);
        if self.ends_at <= starts_at {
            return Err("`endsAt` must be after `startsAt` and in the future".into());
        }
        Ok(Silence {
            id,
            matchers: self.matchers,
            starts_at,
            ends_at: self.ends_at,
            created_by: self.created_by,
            comment: self.comment,
            updated_at: now,
        })
    }
}

/// Values a label of a real alert might have, to try a silence's matchers
/// on: a silence that matches them all (and its own literal values) would
/// mute every alert that has those labels. Empty values are left out: a
/// label with no value is no label.
const PROBES: &[&str] = &["a", "Z", "0", "x-1", "some value", "ünïcödé", "probe_7f3a", "9.5"];

/// Whether `matchers` match every alert carrying the labels they name (and
/// `alertname`, which every alert has): `alertname=~".+"`, `alertname!=""`,
/// `tenant=~".*"` do; `tenant=acme` and `severity!="page"` do not.
fn matches_every_alert(matchers: &[Matcher]) -> bool {
    let mut names: Vec<&str> = matchers.iter().map(|m| m.name.as_str()).collect();
    names.push("alertname");
    let own = matchers.iter().map(|m| m.value.as_str()).filter(|v| !v.is_empty());
    PROBES.iter().copied().chain(own).all(|value| {
        let labels: Labels = names.iter().map(|n| (n.to_string(), value.to_string())).collect();
        all_match(matchers, &labels)
    })
}

impl Silence {
    pub fn state(&self, now: DateTime<Utc>) -> SilenceState {
        if now < self.starts_at {
            SilenceState::Pending
        } else if now < self.ends_at {
            SilenceState::Active
        } else {
            SilenceState::Expired
        }
    }

    pub fn mutes(&self, labels: &Labels, now: DateTime<Utc>) -> bool {
        self.state(now) == SilenceState::Active && all_match(&self.matchers, labels)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(secs: i64) -> DateTime<Utc> {
        DateTime::from_timestamp(1_800_000_000 + secs, 0).unwrap()
    }

    fn new(matchers: &[&str], ends: i64) -> NewSilence {
        NewSilence {
            matchers: matchers.iter().map(|m| Matcher::parse(m).unwrap()).collect(),
            starts_at: None,
            ends_at: at(ends),
            created_by: "sre".into(),
            comment: "maintenance".into(),
        }
    }

    #[test]
    fn silences_mute_only_while_active() {
        let s = new(&["tenant=acme"], 100).into_silence("s1".into(), at(0)).unwrap();
        let acme = Labels::from([("tenant".to_string(), "acme".to_string())]);
        assert!(s.mutes(&acme, at(50)));
        assert!(!s.mutes(&acme, at(100)), "expired at endsAt");
        assert!(!s.mutes(&Labels::new(), at(50)));
        assert_eq!(s.state(at(-1)), SilenceState::Pending);
    }

    #[test]
    fn silences_that_match_everything_or_end_in_the_past_are_refused() {
        // Regression: `alertname=~".+"` and `alertname!=""` got past a guard
        // that only tried the empty label set.
        let everything = [r#"tenant=~".*""#, r#"alertname=~".+""#, r#"alertname!="""#, r#"tenant!~"^$""#];
        for m in everything {
            let err = new(&[m], 100).into_silence("x".into(), at(0)).unwrap_err();
            assert!(err.contains("must not match every alert"), "{m}: {err}");
        }
        let narrow: [&[&str]; 4] = [&["tenant=acme"], &[r#"severity!="page""#], &[r#"tenant=~"acme|globex""#], &[r#"alertname=~".+""#, "tenant=acme"]];
        for matchers in narrow {
            assert!(new(matchers, 100).into_silence("x".into(), at(0)).is_ok(), "{matchers:?}");
        }
        assert!(new(&["tenant=acme"], -5).into_silence("x".into(), at(0)).is_err());
        assert!(new(&[], 100).into_silence("x".into(), at(0)).is_err());
    }
}
