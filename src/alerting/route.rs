//! The routing tree, with Alertmanager's semantics and defaults: an alert
//! walks down from the root; the deepest matching routes take it (the first
//! matching child, or every matching child up to one without `continue`);
//! children inherit grouping and timing from their parent.

use std::time::Duration;

use serde::Deserialize;

use super::matcher::{Matcher, all_match};
use crate::labels::Labels;
use crate::rules::schedule::parse_duration;

pub const DEFAULT_GROUP_WAIT: Duration = Duration::from_secs(30);
pub const DEFAULT_GROUP_INTERVAL: Duration = Duration::from_secs(5 * 60);
pub const DEFAULT_REPEAT_INTERVAL: Duration = Duration::from_secs(4 * 3600);

/// `route:` (and each of its `routes:`) as written.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RouteConfig {
    /// Receiver of the alerts this route takes; inherited when unset.
    #[serde(default)]
    pub receiver: Option<String>,
    /// Labels that split alerts into notification groups; `['...']` means all labels.
    #[serde(default)]
    pub group_by: Option<Vec<String>>,
    #[serde(default)]
    pub group_wait: Option<String>,
    #[serde(default)]
    pub group_interval: Option<String>,
    #[serde(default)]
    pub repeat_interval: Option<String>,
    /// Conditions on an alert's labels for this route to take it.
    #[serde(default)]
    pub matchers: Vec<Matcher>,
    /// Keep looking at the next sibling routes after this one matched.
    #[serde(default, rename = "continue")]
    pub continue_matching: bool,
    #[serde(default)]
    pub routes: Vec<RouteConfig>,
}

/// How alerts are grouped into one notification.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum GroupBy {
    Labels(Vec<String>),
    /// `['...']`: every label, so each alert is its own group.
    All,
}

impl GroupBy {
    /// The labels of `alert` that name its group.
    pub fn group_labels(&self, alert: &Labels) -> Labels {
        match self {
            GroupBy::All => alert.clone(),
            GroupBy::Labels(names) => names.iter().filter_map(|n| alert.get(n).map(|v| (n.clone(), v.clone()))).collect(),
        }
    }
}

/// A validated route with everything inherited filled in.
#[derive(Debug, Clone)]
pub struct Route {
    /// The matchers from the root down, e.g. `{}/{severity="page"}`: part of group keys.
    pub key: String,
    pub receiver: String,
    pub group_by: GroupBy,
    pub group_wait: Duration,
    pub group_interval: Duration,
    pub repeat_interval: Duration,
    pub matchers: Vec<Matcher>,
    pub continue_matching: bool,
    pub routes: Vec<Route>,
}

impl RouteConfig {
    /// Validate the tree; `receivers` are the names that exist. Errors name the
    /// route by its path, e.g. `route.routes[1].group_wait`.
    pub fn validate(&self, receivers: &[&str]) -> Result<Route, Vec<String>> {
        let mut errors = Vec::new();
        if !self.matchers.is_empty() {
            errors.push("route: the root route must not have matchers (it takes every alert)".to_string());
        }
        if self.receiver.is_none() {
            errors.push("route: the root route needs a `receiver`".to_string());
        }
        let root = Route {
            key: "{}".into(),
            receiver: String::new(),
            group_by: GroupBy::Labels(vec!["alertname".into()]),
            group_wait: DEFAULT_GROUP_WAIT,
            group_interval: DEFAULT_GROUP_INTERVAL,
            repeat_interval: DEFAULT_REPEAT_INTERVAL,
            matchers: vec![],
            continue_matching: false,
            routes: vec![],
        };
        let route = self.build("route", &root, true, receivers, &mut errors);
        if errors.is_empty() { Ok(route) } else { Err(errors) }
    }

    fn build(&self, path: &str, parent: &Route, is_root: bool, receivers: &[&str], errors: &mut Vec<String>) -> Route {
        let mut duration = |field: &str, value: &Option<String>, inherited: Duration, allow_zero: bool| match value {
            None => inherited,
            Some(text) => match parse_duration(&format!("{path}.{field}"), text) {
                Ok(d) if d.is_zero() && !allow_zero => {
                    errors.push(format!("{path}.{field} must be greater than zero"));
                    inherited
                }
                Ok(d) => d,
                Err(e) => {
                    errors.push(e);
                    inherited
                }
            },
        };
        let group_wait = duration("group_wait", &self.group_wait, parent.group_wait, true);
        let group_interval = duration("group_interval", &self.group_interval, parent.group_interval, false);
        let repeat_interval = duration("repeat_interval", &self.repeat_interval, parent.repeat_interval, false);
        let receiver = self.receiver.clone().unwrap_or_else(|| parent.receiver.clone());
        if let Some(r) = &self.receiver
            && !receivers.contains(&r.as_str())
        {
            let hint = crate::config::diag::did_you_mean(r, receivers.iter().copied());
            errors.push(format!("{path}: unknown receiver `{r}`{hint}"));
        }
        let group_by = match &self.group_by {
            None => parent.group_by.clone(),
            Some(names) if names.iter().any(|n| n == "...") => {
                if names.len() > 1 {
                    errors.push(format!("{path}.group_by: `...` (all labels) must be alone"));
                }
                GroupBy::All
            }
            Some(names) => GroupBy::Labels(names.clone()),
        };
        let key = if is_root {
            "{}".to_string()
        } else {
            let m: Vec<String> = self.matchers.iter().map(ToString::to_string).collect();
            format!("{}/{{{}}}", parent.key, m.join(","))
        };
        let mut route = Route {
            key,
            receiver,
            group_by,
            group_wait,
            group_interval,
            repeat_interval,
            matchers: self.matchers.clone(),
            continue_matching: self.continue_matching,
            routes: vec![],
        };
        route.routes = self
            .routes
            .iter()
            .enumerate()
            .map(|(i, child)| child.build(&format!("{path}.routes[{i}]"), &route, false, receivers, errors))
            .collect();
        // Siblings with the same matchers would share group keys.
        for i in 0..route.routes.len() {
            if route.routes[..i].iter().any(|o| o.key == route.routes[i].key) {
                route.routes[i].key = format!("{}#{i}", route.routes[i].key);
            }
        }
        route
    }
}

impl Route {
    /// The routes that take an alert with `labels` (at least the root's).
    pub fn matching(&self, labels: &Labels) -> Vec<&Route> {
        if !all_match(&self.matchers, labels) {
            return vec![];
        }
        let mut all = Vec::new();
        for child in &self.routes {
            let found = child.matching(labels);
            let matched = !found.is_empty();
            all.extend(found);
            if matched && !child.continue_matching {
                break;
            }
        }
        if all.is_empty() {
            all.push(self);
        }
        all
    }

    /// Every receiver named anywhere in the tree.
    pub fn receivers(&self) -> Vec<&str> {
        let mut out = vec![self.receiver.as_str()];
        for r in &self.routes {
            out.extend(r.receivers());
        }
        out.sort();
        out.dedup();
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn tree(yaml: &str) -> Route {
        let cfg: RouteConfig = serde_saphyr::from_str(yaml).unwrap();
        cfg.validate(&["default", "pager", "ml", "data"]).unwrap()
    }

    fn labels(pairs: &[(&str, &str)]) -> Labels {
        pairs.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect()
    }

    fn receivers_for(r: &Route, l: &[(&str, &str)]) -> Vec<String> {
        r.matching(&labels(l)).iter().map(|r| r.receiver.clone()).collect()
    }

    const TREE: &str = r#"
receiver: default
group_by: [alertname, tenant]
group_wait: 10s
routes:
  - matchers: ['severity="page"']
    receiver: pager
    continue: true
    repeat_interval: 1h
  - matchers: ['team=~"ml|data"']
    receiver: ml
    group_by: ['...']
    routes:
      - matchers: ['team="data"']
        receiver: data
  - matchers: ['team="ml"']
    receiver: data
"#;

    #[test]
    fn alerts_go_to_the_deepest_matching_routes_with_continue() {
        let r = tree(TREE);
        assert_eq!(receivers_for(&r, &[("alertname", "X")]), ["default"]);
        assert_eq!(receivers_for(&r, &[("severity", "page")]), ["pager"]);
        assert_eq!(receivers_for(&r, &[("severity", "page"), ("team", "ml")]), ["pager", "ml"], "continue, then first match only");
        assert_eq!(receivers_for(&r, &[("team", "data")]), ["data"], "the child of the matching route");
        assert_eq!(receivers_for(&r, &[("team", "mlops")]), ["default"], "regexes are anchored");
    }

    #[test]
    fn children_inherit_and_override() {
        let r = tree(TREE);
        let pager = &r.routes[0];
        assert_eq!(pager.group_wait, Duration::from_secs(10));
        assert_eq!(pager.group_interval, DEFAULT_GROUP_INTERVAL);
        assert_eq!(pager.repeat_interval, Duration::from_secs(3600));
        assert_eq!(pager.group_by, GroupBy::Labels(vec!["alertname".into(), "tenant".into()]));
        assert_eq!(r.routes[1].routes[0].group_by, GroupBy::All);
        assert_eq!(r.routes[1].routes[0].key, r#"{}/{team=~"ml|data"}/{team="data"}"#);
        let root = tree("receiver: default");
        assert_eq!((root.group_wait, root.group_interval, root.repeat_interval), (DEFAULT_GROUP_WAIT, DEFAULT_GROUP_INTERVAL, DEFAULT_REPEAT_INTERVAL));
    }

    #[test]
    fn every_problem_is_reported_with_its_path() {
        let cfg: RouteConfig = serde_saphyr::from_str(
            "matchers: ['a=b']\nroutes:\n  - receiver: pagr\n    group_interval: 0s\n  - group_by: ['...', alertname]\n    repeat_interval: soon\n",
        )
        .unwrap();
        let errors = cfg.validate(&["pager"]).unwrap_err().join("\n");
        for needle in [
            "root route must not have matchers",
            "root route needs a `receiver`",
            "route.routes[0]: unknown receiver `pagr` (did you mean `pager`?)",
            "route.routes[0].group_interval must be greater than zero",
            "route.routes[1].group_by: `...` (all labels) must be alone",
            "route.routes[1].repeat_interval",
        ] {
            assert!(errors.contains(needle), "missing `{needle}` in:\n{errors}");
        }
    }
}
