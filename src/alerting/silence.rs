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
        if self.matchers.iter().all(|m| m.matches(&Labels::new())) {
            return Err("a silence must not match every alert: add a matcher that an empty label set fails".into());
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
        assert!(new(&[r#"tenant=~".*""#], 100).into_silence("x".into(), at(0)).is_err());
        assert!(new(&["tenant=acme"], -5).into_silence("x".into(), at(0)).is_err());
        assert!(new(&[], 100).into_silence("x".into(), at(0)).is_err());
    }
}
