//! Alert state: per rule and label set, inactive → pending → firing → resolved.
//!
//! Pure and clock-free: every update is given `now`, so `for` and retention are
//! tested without waiting.

use std::collections::BTreeMap;
use std::time::Duration;

use chrono::{DateTime, Utc};
use serde::Serialize;

pub use crate::labels::Labels;

/// How long a resolved alert stays visible (as in Prometheus).
pub const RESOLVED_RETENTION: Duration = Duration::from_secs(15 * 60);

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum AlertState {
    /// The condition holds, but not yet for the rule's `for`.
    Pending,
    Firing,
    /// Was firing; the condition no longer holds.
    Resolved,
}

impl AlertState {
    pub fn as_str(self) -> &'static str {
        match self {
            AlertState::Pending => "pending",
            AlertState::Firing => "firing",
            AlertState::Resolved => "resolved",
        }
    }
}

/// One alert instance (serialized for the HTTP API).
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Alert {
    pub labels: Labels,
    pub annotations: BTreeMap<String, String>,
    pub state: AlertState,
    /// When the condition started to hold.
    pub active_at: DateTime<Utc>,
    pub fired_at: Option<DateTime<Utc>>,
    pub resolved_at: Option<DateTime<Utc>>,
    /// The value the condition compares, at the last evaluation where it held.
    pub value: Option<f64>,
}

/// A series whose condition holds at this evaluation.
#[derive(Debug, Clone)]
pub struct Active {
    pub labels: Labels,
    pub annotations: BTreeMap<String, String>,
    pub value: Option<f64>,
}

/// A change of an alert's state. Receivers hear about `Fired` and
/// `Resolved`; all four are kept as the alert history.
#[derive(Debug, Clone, PartialEq)]
pub enum Transition {
    /// The condition started to hold (a new pending period).
    Pending(Alert),
    Fired(Alert),
    Resolved(Alert),
    /// A pending alert whose condition stopped holding before `for`.
    Dropped(Alert),
}

impl Transition {
    pub fn alert(&self) -> &Alert {
        match self {
            Transition::Pending(a) | Transition::Fired(a) | Transition::Resolved(a) | Transition::Dropped(a) => a,
        }
    }

    /// The state the alert entered, as the history names it.
    pub fn state(&self) -> &'static str {
        match self {
            Transition::Pending(_) => "pending",
            Transition::Fired(_) => "firing",
            Transition::Resolved(_) => "resolved",
            Transition::Dropped(_) => "inactive",
        }
    }
}

/// The alerts of one rule.
#[derive(Debug, Clone, Default)]
pub struct AlertSet {
    alerts: BTreeMap<Labels, Alert>,
}

impl AlertSet {
    /// Alerts as stored before a restart or kept across a reload: a pending
    /// alert keeps its `active_at`, so `for` is not waited again from zero.
    pub fn restore(alerts: impl IntoIterator<Item = Alert>) -> AlertSet {
        AlertSet { alerts: alerts.into_iter().map(|a| (a.labels.clone(), a)).collect() }
    }

    /// Apply one evaluation: `active` are the series whose condition holds
    /// now. Alerts for which `unjudged` is true (their tenant could not be
    /// evaluated) and that are not active stay exactly as they were.
    pub fn update(
        &mut self,
        now: DateTime<Utc>,
        hold_for: Duration,
        active: Vec<Active>,
        unjudged: impl Fn(&Labels) -> bool,
    ) -> Vec<Transition> {
        let mut transitions = Vec::new();
        let mut seen = std::collections::BTreeSet::new();
        for a in active {
            seen.insert(a.labels.clone());
            let is_new = !self.alerts.contains_key(&a.labels);
            let alert = self.alerts.entry(a.labels.clone()).or_insert_with(|| Alert {
                labels: a.labels.clone(),
                annotations: BTreeMap::new(),
                state: AlertState::Pending,
                active_at: now,
                fired_at: None,
                resolved_at: None,
                value: None,
            });
            let restarted = alert.state == AlertState::Resolved;
            if restarted {
                // Fires anew: a fresh pending period.
                *alert = Alert { state: AlertState::Pending, active_at: now, fired_at: None, resolved_at: None, ..alert.clone() };
            }
            alert.annotations = a.annotations;
            alert.value = a.value;
            if is_new || restarted {
                transitions.push(Transition::Pending(alert.clone()));
            }
            let held = (now - alert.active_at).to_std().unwrap_or_default();
            if alert.state == AlertState::Pending && held >= hold_for {
                alert.state = AlertState::Firing;
                alert.fired_at = Some(now);
                transitions.push(Transition::Fired(alert.clone()));
            }
        }
        let retention = chrono::Duration::from_std(RESOLVED_RETENTION).expect("small duration");
        self.alerts.retain(|labels, alert| {
            if seen.contains(labels) || unjudged(labels) {
                return true;
            }
            match alert.state {
                AlertState::Pending => {
                    transitions.push(Transition::Dropped(Alert { resolved_at: Some(now), ..alert.clone() }));
                    false
                }
                AlertState::Firing => {
                    alert.state = AlertState::Resolved;
                    alert.resolved_at = Some(now);
                    transitions.push(Transition::Resolved(alert.clone()));
                    true
                }
                AlertState::Resolved => alert.resolved_at.is_some_and(|t| now - t < retention),
            }
        });
        transitions
    }

    pub fn alerts(&self) -> impl Iterator<Item = &Alert> {
        self.alerts.values()
    }

    /// Forget the alerts whose labels match, without a transition; returns how many.
    pub fn remove_where(&mut self, matches: impl Fn(&Labels) -> bool) -> usize {
        let before = self.alerts.len();
        self.alerts.retain(|labels, _| !matches(labels));
        before - self.alerts.len()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn t(secs: i64) -> DateTime<Utc> {
        DateTime::from_timestamp(1_800_000_000 + secs, 0).unwrap()
    }

    fn active(column: &str) -> Active {
        Active {
            labels: Labels::from([("column".to_string(), column.to_string())]),
            annotations: BTreeMap::new(),
            value: Some(1.0),
        }
    }

    /// What receivers hear about.
    fn kinds(ts: &[Transition]) -> Vec<&'static str> {
        ts.iter()
            .filter_map(|t| match t {
                Transition::Fired(_) => Some("fired"),
                Transition::Resolved(_) => Some("resolved"),
                _ => None,
            })
            .collect()
    }

    #[test]
    fn the_history_sees_pending_and_dropped_too() {
        let mut s = AlertSet::default();
        let hold = Duration::from_secs(60);
        let states = |ts: Vec<Transition>| ts.iter().map(Transition::state).collect::<Vec<_>>();
        assert_eq!(states(s.update(t(0), hold, vec![active("a")], |_| false)), ["pending"]);
        assert!(kinds(&s.update(t(30), hold, vec![active("a")], |_| false)).is_empty());
        assert_eq!(states(s.update(t(40), hold, vec![], |_| false)), ["inactive"]);
        assert_eq!(states(s.update(t(50), Duration::ZERO, vec![active("a")], |_| false)), ["pending", "firing"]);
    }

    #[test]
    fn pending_fires_after_for_and_resolves_once() {
        let mut s = AlertSet::default();
        let hold = Duration::from_secs(60);
        assert!(kinds(&s.update(t(0), hold, vec![active("a")], |_| false)).is_empty());
        assert_eq!(s.alerts().next().unwrap().state, AlertState::Pending);
        assert!(kinds(&s.update(t(30), hold, vec![active("a")], |_| false)).is_empty());
        assert_eq!(kinds(&s.update(t(60), hold, vec![active("a")], |_| false)), ["fired"]);
        assert!(kinds(&s.update(t(90), hold, vec![active("a")], |_| false)).is_empty(), "firing is announced once");
        assert_eq!(kinds(&s.update(t(120), hold, vec![], |_| false)), ["resolved"]);
        assert!(kinds(&s.update(t(150), hold, vec![], |_| false)).is_empty(), "resolved is announced once");
    }

    #[test]
    fn pending_that_stops_holding_is_forgotten_silently() {
        let mut s = AlertSet::default();
        let hold = Duration::from_secs(60);
        s.update(t(0), hold, vec![active("a")], |_| false);
        assert!(kinds(&s.update(t(30), hold, vec![], |_| false)).is_empty());
        assert_eq!(s.alerts().count(), 0);
        // and its pending period starts again from zero
        s.update(t(40), hold, vec![active("a")], |_| false);
        assert!(kinds(&s.update(t(90), hold, vec![active("a")], |_| false)).is_empty());
        assert_eq!(kinds(&s.update(t(100), hold, vec![active("a")], |_| false)), ["fired"]);
    }

    #[test]
    fn zero_for_fires_immediately_and_resolved_alerts_expire() {
        let mut s = AlertSet::default();
        assert_eq!(kinds(&s.update(t(0), Duration::ZERO, vec![active("a"), active("b")], |_| false)), ["fired", "fired"]);
        assert_eq!(kinds(&s.update(t(10), Duration::ZERO, vec![active("b")], |_| false)), ["resolved"]);
        assert_eq!(s.alerts().count(), 2);
        s.update(t(10 + 15 * 60), Duration::ZERO, vec![active("b")], |_| false);
        assert_eq!(s.alerts().count(), 1, "resolved alert dropped after retention");
    }

    #[test]
    fn restored_pending_alert_fires_at_its_original_deadline() {
        let hold = Duration::from_secs(60);
        let mut before = AlertSet::default();
        before.update(t(0), hold, vec![active("a")], |_| false);
        let mut after = AlertSet::restore(before.alerts().cloned());
        assert!(kinds(&after.update(t(50), hold, vec![active("a")], |_| false)).is_empty());
        assert_eq!(kinds(&after.update(t(60), hold, vec![active("a")], |_| false)), ["fired"]);
        let mut firing = AlertSet::restore(after.alerts().cloned());
        assert!(kinds(&firing.update(t(70), hold, vec![active("a")], |_| false)).is_empty(), "a restored firing alert does not fire again");
    }

    #[test]
    fn alerts_of_a_tenant_that_could_not_be_judged_stay_as_they_were() {
        let mut s = AlertSet::default();
        assert_eq!(kinds(&s.update(t(0), Duration::ZERO, vec![active("a")], |_| false)), ["fired"]);
        assert!(kinds(&s.update(t(10), Duration::ZERO, vec![], |_| true)).is_empty(), "not resolved by a failed evaluation");
        assert_eq!(s.alerts().next().unwrap().state, AlertState::Firing);
        assert_eq!(kinds(&s.update(t(20), Duration::ZERO, vec![], |_| false)), ["resolved"]);
    }

    #[test]
    fn resolved_alert_that_holds_again_starts_a_new_pending_period() {
        let mut s = AlertSet::default();
        let hold = Duration::from_secs(60);
        s.update(t(0), hold, vec![active("a")], |_| false);
        s.update(t(60), hold, vec![active("a")], |_| false);
        s.update(t(70), hold, vec![], |_| false);
        assert!(kinds(&s.update(t(80), hold, vec![active("a")], |_| false)).is_empty());
        assert_eq!(s.alerts().next().unwrap().state, AlertState::Pending);
        assert_eq!(kinds(&s.update(t(140), hold, vec![active("a")], |_| false)), ["fired"]);
    }
}
