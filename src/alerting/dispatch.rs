//! The dispatcher: Alertmanager's grouping, timing and deduplication as a
//! clock-free state machine. The agent feeds it every rule's alerts after each
//! evaluation ([`Dispatcher::ingest`]) and asks it, whenever a group's timer is
//! due, what to send ([`Dispatcher::flush_due`]); tests drive both with their
//! own clock.
//!
//! - An alert (firing or resolved) joins one group per matching route, keyed
//!   by the route and the alert's `group_by` labels.
//! - A new group waits `group_wait`, then is flushed every `group_interval`.
//! - At a flush, each integration of the receiver is told about the group when
//!   a firing alert is new to it, when an alert it was told is firing has
//!   resolved (if it wants resolved notifications), or when `repeat_interval`
//!   has passed since it was last told. The notification log records what each
//!   integration was told; it is stored with the outbox, so a restart neither
//!   loses nor repeats a notification.
//! - Silenced and inhibited alerts are left out of notifications.

use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::sync::Arc;

use chrono::{DateTime, Duration, Utc};

use super::inhibit::{InhibitRule, inhibited};
use super::notification::{AlertOut, GroupNotification, Status, fingerprint};
use super::route::Route;
use super::silence::Silence;
use crate::labels::Labels;
use crate::rules::alert::{Alert, AlertState};

/// What an integration was last told about a group.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct LogEntry {
    /// Fingerprints of the alerts it was told are firing.
    pub firing: BTreeSet<String>,
    pub at: DateTime<Utc>,
}

/// Identifies one integration's view of one group.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct LogKey {
    pub receiver: String,
    /// The integration's stable name within its receiver (`slack[0]`).
    pub integration: String,
    pub group_key: String,
}

/// The result of a flush for one integration: the log entry to store and,
/// when something is to be said, the notification. Both are written together.
#[derive(Debug, Clone, PartialEq)]
pub struct Outgoing {
    pub key: LogKey,
    /// `None`: forget the entry (nothing in the group is firing any more).
    pub log: Option<LogEntry>,
    pub notification: Option<GroupNotification>,
}

/// The integrations of a receiver that take grouped notifications.
#[derive(Debug, Clone)]
pub struct IntegrationInfo {
    /// Stable name within the receiver (`slack[0]`).
    pub name: String,
    pub send_resolved: bool,
}

#[derive(Debug)]
struct Known {
    rule: String,
    alert: Alert,
}

#[derive(Debug)]
struct AggGroup {
    route: Arc<Route>,
    labels: Labels,
    members: BTreeSet<String>,
    next_flush: DateTime<Utc>,
}

/// Routing configuration the dispatcher works with.
#[derive(Debug, Clone)]
pub struct DispatchConfig {
    pub route: Route,
    pub inhibit_rules: Vec<InhibitRule>,
    /// Grouped integrations per receiver name.
    pub integrations: HashMap<String, Vec<IntegrationInfo>>,
    pub external_url: String,
}

#[derive(Debug)]
pub struct Dispatcher {
    config: DispatchConfig,
    /// Routes flattened, so groups can hold them.
    routes: Vec<Arc<Route>>,
    alerts: BTreeMap<String, Known>,
    groups: BTreeMap<String, AggGroup>,
    log: HashMap<LogKey, LogEntry>,
    silences: Vec<Silence>,
}

fn chrono(d: std::time::Duration) -> Duration {
    Duration::from_std(d).unwrap_or(Duration::MAX)
}

fn flatten(r: &Route, out: &mut Vec<Arc<Route>>) {
    out.push(Arc::new(Route { routes: vec![], ..r.clone() }));
    for c in &r.routes {
        flatten(c, out);
    }
}

impl Dispatcher {
    /// A dispatcher that remembers what each integration was told (`log`, from the state file).
    pub fn new(config: DispatchConfig, log: HashMap<LogKey, LogEntry>, silences: Vec<Silence>) -> Dispatcher {
        let mut routes = Vec::new();
        flatten(&config.route, &mut routes);
        Dispatcher { config, routes, alerts: BTreeMap::new(), groups: BTreeMap::new(), log, silences }
    }

    /// Take a new routing configuration (a reload). Known alerts are regrouped
    /// under the new routes; the notification log keeps duplicates away.
    pub fn reconfigure(&mut self, config: DispatchConfig, now: DateTime<Utc>) {
        self.routes.clear();
        flatten(&config.route, &mut self.routes);
        self.config = config;
        self.groups.clear();
        let fps: Vec<String> = self.alerts.keys().cloned().collect();
        for fp in fps {
            self.group(&fp, now);
        }
    }

    /// Forget the alerts of rules that are gone (a reload removed them).
    pub fn retain_rules(&mut self, rules: &[&str]) {
        self.alerts.retain(|_, k| rules.contains(&k.rule.as_str()));
    }

    pub fn set_silences(&mut self, silences: Vec<Silence>) {
        self.silences = silences;
    }

    /// Why an alert with `labels` would not be notified now: the ids of the
    /// active silences that match it, and whether a firing alert inhibits it.
    pub fn suppression(&self, labels: &Labels, now: DateTime<Utc>) -> (Vec<String>, bool) {
        let silenced_by = self.silences.iter().filter(|s| s.mutes(labels, now)).map(|s| s.id.clone()).collect();
        let firing = self.alerts.values().filter(|k| k.alert.state == AlertState::Firing).map(|k| &k.alert.labels);
        (silenced_by, inhibited(&self.config.inhibit_rules, labels, firing))
    }

    /// The alerts of `rule` after an evaluation (pending ones are ignored).
    pub fn ingest(&mut self, rule: &str, alerts: &[Alert], now: DateTime<Utc>) {
        self.clamp_to(now);
        let mut seen = BTreeSet::new();
        for a in alerts.iter().filter(|a| a.state != AlertState::Pending) {
            let fp = fingerprint(&a.labels);
            seen.insert(fp.clone());
            let changed = match self.alerts.get(&fp) {
                None => true,
                Some(k) => k.alert.state != a.state || k.alert.fired_at != a.fired_at,
            };
            self.alerts.insert(fp.clone(), Known { rule: rule.to_string(), alert: a.clone() });
            if changed {
                self.group(&fp, now);
            }
        }
        self.alerts.retain(|fp, k| k.rule != rule || seen.contains(fp));
    }

    /// Put a known alert into the groups of every route that takes it.
    fn group(&mut self, fp: &str, now: DateTime<Utc>) {
        let Some(known) = self.alerts.get(fp) else { return };
        let labels = &known.alert.labels;
        for route in self.config.route.matching(labels) {
            let route = self.routes.iter().find(|r| r.key == route.key).expect("flattened").clone();
            let group_labels = route.group_by.group_labels(labels);
            let key = format!("{}:{}", route.key, crate::labels::show(&group_labels));
            let group = self.groups.entry(key).or_insert_with(|| AggGroup {
                next_flush: now + chrono(route.group_wait),
                route,
                labels: group_labels,
                members: BTreeSet::new(),
            });
            group.members.insert(fp.to_string());
        }
    }

    /// When the next group is due, if any.
    pub fn next_due(&self) -> Option<DateTime<Utc>> {
        self.groups.values().map(|g| g.next_flush).min()
    }

    /// A group is never due further ahead than its longest wait: past that,
    /// the wall clock went back (NTP, a restored VM), and the group would sit
    /// silent for as long as the jump.
    fn clamp_to(&mut self, now: DateTime<Utc>) {
        for g in self.groups.values_mut() {
            let latest = now + chrono(g.route.group_wait.max(g.route.group_interval));
            g.next_flush = g.next_flush.min(latest);
        }
    }

    /// Flush every group that is due at `now`. The caller stores the result
    /// (log entries and notifications in one transaction) before delivering.
    pub fn flush_due(&mut self, now: DateTime<Utc>) -> Vec<Outgoing> {
        self.clamp_to(now);
        let due: Vec<String> = self.groups.iter().filter(|(_, g)| g.next_flush <= now).map(|(k, _)| k.clone()).collect();
        if due.is_empty() {
            return Vec::new();
        }
        // Inhibition sources: every firing alert.
        let firing: Vec<Labels> =
            self.alerts.values().filter(|k| k.alert.state == AlertState::Firing).map(|k| k.alert.labels.clone()).collect();
        let mut out = Vec::new();
        for key in due {
            let mut group = self.groups.remove(&key).expect("listed");
            group.members.retain(|fp| self.alerts.contains_key(fp));
            let route = group.route.clone();
            let mut firing_now = BTreeSet::new();
            let mut resolved_now = BTreeSet::new();
            for fp in &group.members {
                let a = &self.alerts[fp].alert;
                if a.state == AlertState::Resolved {
                    resolved_now.insert(fp.clone());
                } else if !self.silences.iter().any(|s| s.mutes(&a.labels, now))
                    && !inhibited(&self.config.inhibit_rules, &a.labels, firing.iter())
                {
                    firing_now.insert(fp.clone());
                }
            }
            let integrations = self.config.integrations.get(&route.receiver).cloned().unwrap_or_default();
            for integration in &integrations {
                let log_key = LogKey { receiver: route.receiver.clone(), integration: integration.name.clone(), group_key: key.clone() };
                let told = self.log.get(&log_key);
                let told_firing = told.map(|e| e.firing.clone()).unwrap_or_default();
                let newly_resolved: BTreeSet<String> = resolved_now.intersection(&told_firing).cloned().collect();
                let repeat_due = told.is_some_and(|e| now - e.at >= chrono(route.repeat_interval));
                let needs = !firing_now.is_subset(&told_firing)
                    || (integration.send_resolved && !newly_resolved.is_empty())
                    || (!firing_now.is_empty() && repeat_due);
                if needs {
                    let mut alerts: Vec<AlertOut> = firing_now.iter().map(|fp| self.alert_out(fp)).collect();
                    if integration.send_resolved {
                        alerts.extend(newly_resolved.iter().map(|fp| self.alert_out(fp)));
                    }
                    let notification = GroupNotification {
                        receiver: route.receiver.clone(),
                        group_key: key.clone(),
                        group_labels: group.labels.clone(),
                        alerts,
                        external_url: self.config.external_url.clone(),
                    };
                    let log = (!firing_now.is_empty()).then(|| LogEntry { firing: firing_now.clone(), at: now });
                    out.push(Outgoing { key: log_key, log, notification: Some(notification) });
                } else if told.is_some() && told_firing != firing_now {
                    // Alerts left the group quietly (resolved without send_resolved, silenced): remember that.
                    let log = (!firing_now.is_empty()).then(|| LogEntry { firing: firing_now.clone(), at: told.map(|e| e.at).unwrap_or(now) });
                    out.push(Outgoing { key: log_key, log, notification: None });
                }
            }
            // Resolved alerts have been dealt with; a group with nothing left goes.
            group.members.retain(|fp| !resolved_now.contains(fp));
            if !group.members.is_empty() {
                group.next_flush = now + chrono(route.group_interval);
                self.groups.insert(key, group);
            }
        }
        for o in &out {
            match &o.log {
                Some(e) => self.log.insert(o.key.clone(), e.clone()),
                None => self.log.remove(&o.key),
            };
        }
        out
    }

    fn alert_out(&self, fp: &str) -> AlertOut {
        let url = format!("{}/api/v1/alerts", self.config.external_url.trim_end_matches('/'));
        let mut a = AlertOut::from_alert(&self.alerts[fp].alert, &url);
        if a.status == Status::Firing {
            a.ends_at = None;
        }
        a
    }
}

#[cfg(test)]
mod tests;
