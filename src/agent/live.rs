//! What the agent is doing right now, for the HTTP API: every group and rule
//! with its health, last evaluation and alerts. Group tasks write it; handlers
//! read a snapshot.

use std::collections::BTreeMap;
use std::sync::{Arc, RwLock};

use chrono::{DateTime, Utc};
use serde::Serialize;

use crate::rules::{Group, Rule};
use crate::rules::alert::{Alert, AlertState};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Health {
    /// Not evaluated since it was (re)loaded.
    Unknown,
    Ok,
    /// The last evaluation failed (see `lastError`).
    Error,
}

#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct RuleView {
    pub name: String,
    /// The rule's `when`.
    pub query: String,
    pub check: &'static str,
    /// The rule's `for`, in seconds.
    pub duration: f64,
    pub labels: BTreeMap<String, String>,
    pub health: Health,
    pub last_error: Option<String>,
    pub last_evaluation: Option<DateTime<Utc>>,
    /// Seconds the last evaluation took.
    pub evaluation_time: Option<f64>,
    pub alerts: Vec<Alert>,
    /// Tenants whose baseline is still being learned (their alerts are
    /// held), with when learning ends.
    pub learning: BTreeMap<String, DateTime<Utc>>,
    /// The rule itself, for the pictures (its condition, its check).
    #[serde(skip)]
    pub rule: Arc<Rule>,
}

#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct GroupView {
    pub name: String,
    pub file: String,
    pub source: String,
    pub schedule: String,
    pub next_evaluation: Option<DateTime<Utc>>,
    pub rules: Vec<RuleView>,
}

/// The live view of the agent and every group.
#[derive(Debug)]
pub struct Live {
    groups: RwLock<Vec<GroupView>>,
    info: RwLock<AgentInfo>,
}

impl Live {
    pub fn new(info: AgentInfo) -> Live {
        Live { groups: RwLock::default(), info: RwLock::new(info) }
    }

    pub fn info(&self) -> AgentInfo {
        self.info.read().unwrap_or_else(|p| p.into_inner()).clone()
    }

    pub fn update_info(&self, f: impl FnOnce(&mut AgentInfo)) {
        f(&mut self.info.write().unwrap_or_else(|p| p.into_inner()))
    }

    /// Show a newly loaded rule set. Rules whose name was already shown keep
    /// their last evaluation and alerts until they are evaluated again.
    pub fn set_groups(&self, groups: &[Group], alerts: &dyn Fn(&str) -> Vec<Alert>) {
        let mut current = self.groups.write().unwrap_or_else(|p| p.into_inner());
        let mut previous: BTreeMap<String, RuleView> =
            current.drain(..).flat_map(|g| g.rules).map(|r| (r.name.clone(), r)).collect();
        *current = groups
            .iter()
            .map(|g| GroupView {
                name: g.name.clone(),
                file: g.file.display().to_string(),
                source: g.source.clone(),
                schedule: g.schedule.to_string(),
                next_evaluation: None,
                rules: g
                    .rules
                    .iter()
                    .map(|r| {
                        let last = previous.remove(&r.name);
                        RuleView {
                            name: r.name.clone(),
                            query: r.when_text.clone(),
                            check: r.check.spec().kind,
                            duration: r.hold_for.as_secs_f64(),
                            labels: r.labels.clone(),
                            health: last.as_ref().map_or(Health::Unknown, |l| l.health),
                            last_error: last.as_ref().and_then(|l| l.last_error.clone()),
                            last_evaluation: last.as_ref().and_then(|l| l.last_evaluation),
                            evaluation_time: last.as_ref().and_then(|l| l.evaluation_time),
                            alerts: alerts(&r.name),
                            learning: last.as_ref().map(|l| l.learning.clone()).unwrap_or_default(),
                            rule: Arc::new(r.clone()),
                        }
                    })
                    .collect(),
            })
            .collect();
    }

    /// Change one rule's view.
    pub fn update_rule(&self, group: &str, rule: &str, f: impl FnOnce(&mut RuleView)) {
        let mut groups = self.groups.write().unwrap_or_else(|p| p.into_inner());
        if let Some(r) = groups.iter_mut().filter(|g| g.name == group).flat_map(|g| g.rules.iter_mut()).find(|r| r.name == rule) {
            f(r);
        }
    }

    pub fn set_next_evaluation(&self, group: &str, at: Option<DateTime<Utc>>) {
        let mut groups = self.groups.write().unwrap_or_else(|p| p.into_inner());
        if let Some(g) = groups.iter_mut().find(|g| g.name == group) {
            g.next_evaluation = at;
        }
    }

    pub fn groups(&self) -> Vec<GroupView> {
        self.groups.read().unwrap_or_else(|p| p.into_inner()).clone()
    }

    /// Alerts pending or firing now, across every rule.
    pub fn active_alerts(&self) -> Vec<Alert> {
        let groups = self.groups.read().unwrap_or_else(|p| p.into_inner());
        groups
            .iter()
            .flat_map(|g| &g.rules)
            .flat_map(|r| &r.alerts)
            .filter(|a| a.state != AlertState::Resolved)
            .cloned()
            .collect()
    }

    /// (rule, tenant, until) of every tenant still learning a baseline.
    pub fn learning(&self) -> Vec<(String, String, DateTime<Utc>)> {
        let groups = self.groups.read().unwrap_or_else(|p| p.into_inner());
        groups
            .iter()
            .flat_map(|g| &g.rules)
            .flat_map(|r| r.learning.iter().map(|(t, until)| (r.name.clone(), t.clone(), *until)))
            .collect()
    }

    /// (pending, firing) counts across every rule.
    pub fn alert_counts(&self) -> (i64, i64) {
        let groups = self.groups.read().unwrap_or_else(|p| p.into_inner());
        groups.iter().flat_map(|g| &g.rules).flat_map(|r| &r.alerts).fold((0, 0), |(p, f), a| match a.state {
            AlertState::Pending => (p + 1, f),
            AlertState::Firing => (p, f + 1),
            AlertState::Resolved => (p, f),
        })
    }
}

/// The agent as a whole, for `/api/v1/status`.
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct AgentInfo {
    pub version: &'static str,
    pub started_at: DateTime<Utc>,
    pub config_file: String,
    pub state_file: String,
    pub reload: ReloadInfo,
    /// The configuration file as loaded, secrets redacted.
    pub config: serde_json::Value,
}

#[derive(Debug, Clone, Default, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct ReloadInfo {
    pub successful: bool,
    pub last_success: Option<DateTime<Utc>>,
    pub last_error: Option<String>,
}
