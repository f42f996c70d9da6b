//! Routing, grouping, repeat, silences and inhibition as a table of scenarios
//! on an injected clock: alerts fire and resolve at given seconds, and at each
//! check the notifications that fall due are exactly the expected ones.

use std::collections::{BTreeMap, HashMap};

use super::*;
use crate::alerting::matcher::Matcher;
use crate::alerting::route::RouteConfig;
use crate::alerting::silence::NewSilence;

enum Step {
    Fire(&'static str, &'static str),
    Resolve(&'static str, &'static str),
    /// Silence alerts matching this matcher until the given second.
    Silence(&'static str, i64),
    /// Flush what is due; expect these notifications (`receiver#i: title [alerts]`).
    Expect(&'static [&'static str]),
}
use Step::*;

struct Scenario {
    name: &'static str,
    route: &'static str,
    inhibit: &'static str,
    /// Receiver name → send_resolved of each integration.
    receivers: &'static [(&'static str, &'static [bool])],
    steps: &'static [(i64, Step)],
}

const ROOT: &str = "receiver: oncall\ngroup_by: [alertname, tenant]\ngroup_wait: 30s\ngroup_interval: 5m\nrepeat_interval: 4h\n";

const SCENARIOS: &[Scenario] = &[
    Scenario {
        name: "group_wait gathers alerts of one group into one notification",
        route: ROOT,
        inhibit: "[]",
        receivers: &[("oncall", &[true])],
        steps: &[
            (0, Fire("Drift", "acme/age")),
            (10, Fire("Drift", "acme/income")),
            (10, Fire("Drift", "globex/age")),
            (29, Expect(&[])),
            (30, Expect(&["oncall#0: [FIRING:2] Drift tenant=acme [acme/age acme/income]"])),
            (40, Expect(&["oncall#0: [FIRING:1] Drift tenant=globex [globex/age]"])),
            (200, Expect(&[])),
        ],
    },
    Scenario {
        name: "a new alert in a flushed group waits for group_interval; resolved is sent once",
        route: ROOT,
        inhibit: "[]",
        receivers: &[("oncall", &[true])],
        steps: &[
            (0, Fire("Drift", "acme/age")),
            (30, Expect(&["oncall#0: [FIRING:1] Drift tenant=acme [acme/age]"])),
            (60, Fire("Drift", "acme/income")),
            (329, Expect(&[])),
            (330, Expect(&["oncall#0: [FIRING:2] Drift tenant=acme [acme/age acme/income]"])),
            (400, Resolve("Drift", "acme/age")),
            (630, Expect(&["oncall#0: [FIRING:1] Drift tenant=acme [acme/income, resolved: acme/age]"])),
            (700, Resolve("Drift", "acme/income")),
            (930, Expect(&["oncall#0: [RESOLVED] Drift tenant=acme [resolved: acme/income]"])),
            (5000, Expect(&[])),
        ],
    },
    Scenario {
        name: "an unchanged firing group is repeated after repeat_interval",
        route: ROOT,
        inhibit: "[]",
        receivers: &[("oncall", &[true])],
        steps: &[
            (0, Fire("Drift", "acme/age")),
            (30, Expect(&["oncall#0: [FIRING:1] Drift tenant=acme [acme/age]"])),
            (14_000, Expect(&[])),
            (14_430, Expect(&["oncall#0: [FIRING:1] Drift tenant=acme [acme/age]"])),
            (14_730, Expect(&[])),
        ],
    },
    Scenario {
        name: "without send_resolved nothing is sent on resolve, and a new firing is news again",
        route: ROOT,
        inhibit: "[]",
        receivers: &[("oncall", &[false, true])],
        steps: &[
            (0, Fire("Drift", "acme/age")),
            (30, Expect(&["oncall#0: [FIRING:1] Drift tenant=acme [acme/age]", "oncall#1: [FIRING:1] Drift tenant=acme [acme/age]"])),
            (100, Resolve("Drift", "acme/age")),
            (330, Expect(&["oncall#1: [RESOLVED] Drift tenant=acme [resolved: acme/age]"])),
            (400, Fire("Drift", "acme/age")),
            (430, Expect(&["oncall#0: [FIRING:1] Drift tenant=acme [acme/age]", "oncall#1: [FIRING:1] Drift tenant=acme [acme/age]"])),
        ],
    },
    Scenario {
        name: "a silenced alert is held back until the silence ends",
        route: ROOT,
        inhibit: "[]",
        receivers: &[("oncall", &[true])],
        steps: &[
            (0, Silence("tenant=acme", 600)),
            (0, Fire("Drift", "acme/age")),
            (0, Fire("Drift", "globex/age")),
            (30, Expect(&["oncall#0: [FIRING:1] Drift tenant=globex [globex/age]"])),
            (330, Expect(&[])),
            (630, Expect(&["oncall#0: [FIRING:1] Drift tenant=acme [acme/age]"])),
        ],
    },
    Scenario {
        name: "a stalled pipeline inhibits drift alerts of the same tenant",
        route: ROOT,
        inhibit: "- source_matchers: ['alertname=Stalled']\n  target_matchers: ['alertname=Drift']\n  equal: [tenant]\n",
        receivers: &[("oncall", &[true])],
        steps: &[
            (0, Fire("Stalled", "acme/pipeline")),
            (0, Fire("Drift", "acme/age")),
            (0, Fire("Drift", "globex/age")),
            (30, Expect(&[
                "oncall#0: [FIRING:1] Drift tenant=globex [globex/age]",
                "oncall#0: [FIRING:1] Stalled tenant=acme [acme/pipeline]",
            ])),
            (100, Resolve("Stalled", "acme/pipeline")),
            (330, Expect(&[
                "oncall#0: [FIRING:1] Drift tenant=acme [acme/age]",
                "oncall#0: [RESOLVED] Stalled tenant=acme [resolved: acme/pipeline]",
            ])),
        ],
    },
    Scenario {
        name: "child routes with continue notify several receivers; group_by ['...'] splits every alert",
        route: "receiver: oncall\ngroup_wait: 0s\nroutes:\n  - matchers: ['alertname=Drift']\n    receiver: pager\n    continue: true\n  - matchers: ['alertname=~\"Drift|Stalled\"']\n    receiver: ml\n    group_by: ['...']\n",
        inhibit: "[]",
        receivers: &[("oncall", &[true]), ("pager", &[true]), ("ml", &[true])],
        steps: &[
            (0, Fire("Drift", "acme/age")),
            (0, Fire("Drift", "acme/income")),
            (0, Fire("Other", "acme/x")),
            (0, Expect(&[
                "ml#0: [FIRING:1] Drift column=acme/age tenant=acme [acme/age]",
                "ml#0: [FIRING:1] Drift column=acme/income tenant=acme [acme/income]",
                "oncall#0: [FIRING:1] Other [acme/x]",
                "pager#0: [FIRING:2] Drift [acme/age acme/income]",
            ])),
        ],
    },
    Scenario {
        name: "the wall clock going back an hour does not hold a group for the hour",
        route: ROOT,
        inhibit: "[]",
        receivers: &[("oncall", &[true])],
        steps: &[
            (0, Fire("Drift", "acme/age")),
            (30, Expect(&["oncall#0: [FIRING:1] Drift tenant=acme [acme/age]"])),
            (-3600, Resolve("Drift", "acme/age")),
            (-3301, Expect(&[])),
            (-3300, Expect(&["oncall#0: [RESOLVED] Drift tenant=acme [resolved: acme/age]"])),
        ],
    },
];

fn at(secs: i64) -> DateTime<Utc> {
    DateTime::from_timestamp(1_800_000_000 + secs, 0).unwrap()
}

/// `tenant/column` → labels {alertname, tenant, column}.
fn labels(name: &str, series: &str) -> Labels {
    let tenant = series.split('/').next().unwrap();
    Labels::from([("alertname".into(), name.into()), ("tenant".into(), tenant.into()), ("column".into(), series.into())])
}

fn summary(o: &Outgoing) -> String {
    let n = o.notification.as_ref().unwrap();
    let firing: Vec<&str> = n.firing().map(|a| a.labels["column"].as_str()).collect();
    let resolved: Vec<&str> = n.resolved().map(|a| a.labels["column"].as_str()).collect();
    let mut list = firing.join(" ");
    if !resolved.is_empty() {
        if !list.is_empty() {
            list.push_str(", ");
        }
        list.push_str(&format!("resolved: {}", resolved.join(" ")));
    }
    format!("{}#{}: {} [{list}]", o.key.receiver, o.key.integration, n.title())
}

struct Harness {
    d: Dispatcher,
    /// The alerts of each rule, as a rule's alert set would hold them.
    rules: BTreeMap<String, BTreeMap<String, Alert>>,
}

impl Harness {
    fn new(s: &Scenario) -> Harness {
        let route: RouteConfig = serde_saphyr::from_str(s.route).unwrap();
        let names: Vec<&str> = s.receivers.iter().map(|(n, _)| *n).collect();
        let config = DispatchConfig {
            route: route.validate(&names).unwrap(),
            inhibit_rules: serde_saphyr::from_str(s.inhibit).unwrap(),
            integrations: s
                .receivers
                .iter()
                .map(|(n, r)| {
                    let infos = r.iter().enumerate().map(|(i, &send_resolved)| IntegrationInfo { name: i.to_string(), send_resolved });
                    (n.to_string(), infos.collect())
                })
                .collect(),
            external_url: "http://mlwatch.test".into(),
        };
        Harness { d: Dispatcher::new(config, HashMap::new(), vec![]), rules: BTreeMap::new() }
    }

    fn set(&mut self, name: &str, series: &str, firing: bool, t: i64) {
        let l = labels(name, series);
        let alerts = self.rules.entry(name.to_string()).or_default();
        let a = alerts.entry(series.to_string()).or_insert_with(|| Alert {
            labels: l,
            annotations: BTreeMap::new(),
            state: AlertState::Firing,
            active_at: at(t),
            fired_at: Some(at(t)),
            resolved_at: None,
            value: Some(1.0),
        });
        if firing {
            *a = Alert { state: AlertState::Firing, fired_at: Some(at(t)), resolved_at: None, ..a.clone() };
        } else {
            a.state = AlertState::Resolved;
            a.resolved_at = Some(at(t));
        }
        let list: Vec<Alert> = alerts.values().cloned().collect();
        self.d.ingest(name, &list, at(t));
    }
}

#[test]
fn scenarios() {
    for s in SCENARIOS {
        let mut h = Harness::new(s);
        let mut silences = Vec::new();
        for (t, step) in s.steps {
            match step {
                Fire(name, series) => h.set(name, series, true, *t),
                Resolve(name, series) => h.set(name, series, false, *t),
                Silence(m, until) => {
                    let new = NewSilence {
                        matchers: vec![Matcher::parse(m).unwrap()],
                        starts_at: None,
                        ends_at: at(*until),
                        created_by: "test".into(),
                        comment: "scenario".into(),
                    };
                    silences.push(new.into_silence(format!("s{}", silences.len()), at(*t)).unwrap());
                    h.d.set_silences(silences.clone());
                }
                Expect(expected) => {
                    let mut got: Vec<String> =
                        h.d.flush_due(at(*t)).iter().filter(|o| o.notification.is_some()).map(summary).collect();
                    got.sort();
                    assert_eq!(got, *expected, "scenario `{}` at {t}s", s.name);
                }
            }
        }
    }
}

#[test]
fn a_restarted_dispatcher_with_the_stored_log_does_not_repeat_itself() {
    let s = &SCENARIOS[0];
    let mut before = Harness::new(s);
    before.set("Drift", "acme/age", true, 0);
    let sent = before.d.flush_due(at(30));
    assert_eq!(sent.len(), 1);
    let log: HashMap<LogKey, LogEntry> = sent.iter().map(|o| (o.key.clone(), o.log.clone().unwrap())).collect();

    let mut after = Harness::new(s);
    after.d = Dispatcher::new(after.d.config.clone(), log, vec![]);
    let restored = before.rules["Drift"].values().cloned().collect::<Vec<_>>();
    after.d.ingest("Drift", &restored, at(100));
    assert!(after.d.flush_due(at(130)).iter().all(|o| o.notification.is_none()), "already told");
    after.rules = before.rules.clone();
    after.set("Drift", "acme/age", false, 140);
    assert!(after.d.flush_due(at(429)).is_empty(), "the group's next tick is 130 + group_interval");
    let resolved = after.d.flush_due(at(430));
    assert_eq!(resolved.iter().map(summary).collect::<Vec<_>>(), ["oncall#0: [RESOLVED] Drift tenant=acme [resolved: acme/age]"]);
    assert_eq!(resolved[0].log, None, "nothing firing: the entry is forgotten");
}

#[test]
fn alerts_of_removed_rules_are_forgotten() {
    let mut h = Harness::new(&SCENARIOS[0]);
    h.set("Drift", "acme/age", true, 0);
    h.set("Other", "acme/x", true, 0);
    h.d.retain_rules(&["Other"]);
    let sent: Vec<String> = h.d.flush_due(at(30)).iter().map(summary).collect();
    assert_eq!(sent, ["oncall#0: [FIRING:1] Other tenant=acme [acme/x]"]);
}

#[test]
fn suppression_names_the_silences_and_the_inhibition() {
    let s = &SCENARIOS[5]; // inhibit rule: Stalled mutes Drift of the same tenant
    let mut h = Harness::new(s);
    h.set("Stalled", "acme/pipeline", true, 0);
    h.set("Drift", "acme/age", true, 0);
    let silence = NewSilence {
        matchers: vec![Matcher::parse("column=acme/age").unwrap()],
        starts_at: None,
        ends_at: at(100),
        created_by: "test".into(),
        comment: "why".into(),
    };
    h.d.set_silences(vec![silence.into_silence("s1".into(), at(0)).unwrap()]);
    assert_eq!(h.d.suppression(&labels("Drift", "acme/age"), at(10)), (vec!["s1".to_string()], true));
    assert_eq!(h.d.suppression(&labels("Drift", "globex/age"), at(10)), (vec![], false));
    assert_eq!(h.d.suppression(&labels("Drift", "acme/age"), at(100)), (vec![], true), "the silence ended");
}
