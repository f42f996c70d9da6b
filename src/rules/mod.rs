//! Rules: rule files (parse, validate), `when` conditions, annotation templates,
//! schedules, alert state, and the evaluation of one group.

pub mod advance;
pub mod alert;
pub mod eval;
pub mod expr;
pub mod lint;
pub mod raw;
pub mod schedule;
pub mod template;
pub mod tenants;

use std::collections::{BTreeMap, HashSet};
use std::path::{Path, PathBuf};
use std::time::Duration;

use crate::checks::Check;
use crate::checks::contract::SideRead;
use crate::config::diag::{FileDiag, Position};
use crate::sources::Source;
use expr::Expr;
use raw::{RawBaseline, RawGroup, RawRule, RawRuleFile, RawThreshold};
use schedule::{Schedule, parse_duration};
use template::Templates;

/// The default evaluation interval of a group.
pub const DEFAULT_INTERVAL: Duration = Duration::from_secs(60);

/// Every validated group of every rule file, with their compiled templates.
#[derive(Debug, Default)]
pub struct RuleSet {
    pub groups: Vec<Group>,
    pub templates: Templates,
}

/// A validated group.
#[derive(Debug, Clone)]
pub struct Group {
    pub name: String,
    pub file: PathBuf,
    pub source: String,
    pub schedule: Schedule,
    /// How long one evaluation may take; `None`: the schedule's period.
    pub timeout: Option<Duration>,
    pub window: Option<Duration>,
    pub per_tenant: bool,
    /// How long a tenant without rows stays known (and evaluated as "no data").
    pub forget_tenants_after: Duration,
    pub rules: Vec<Rule>,
}

/// The longest `interval`: past it an evaluation time would leave chrono's
/// range, and a group evaluated less than yearly is a mistake.
pub const MAX_INTERVAL: Duration = Duration::from_secs(366 * 24 * 3600);

/// The default of a group's `forget_tenants_after`.
pub const DEFAULT_FORGET_TENANTS_AFTER: Duration = Duration::from_secs(7 * 24 * 3600);

/// A validated alerting rule.
#[derive(Debug, Clone)]
pub struct Rule {
    pub name: String,
    pub check: Check,
    pub baseline: Option<BaselineSpec>,
    pub when: Expr,
    pub when_text: String,
    /// The value `{{ value }}` and an alert's value stand for.
    pub value: &'static str,
    pub hold_for: Duration,
    pub labels: BTreeMap<String, String>,
    /// Annotation name → template name in [`RuleSet::templates`].
    pub annotations: Vec<(String, String)>,
    /// The tables its check reads besides the window, in the check's order.
    pub sides: Vec<Side>,
    /// Where the rule file names it (`alert:`).
    pub at: Position,
}

/// A table a rule's check reads besides its group's window, and the source
/// that holds it (the group's own, for the previous window).
#[derive(Debug, Clone)]
pub struct Side {
    pub read: SideRead,
    pub source: Source,
}

/// A rule's baseline: where it comes from, and where the rule file named it.
#[derive(Debug, Clone)]
pub struct BaselineSpec {
    pub source: BaselineSource,
    /// `k` of a threshold learned from the baseline's own spread (`mean + k·σ`).
    pub learned_threshold: Option<f64>,
    pub at: Position,
}

impl BaselineSpec {
    /// Whether the baseline is a file per tenant (a `{tenant}` path template).
    pub fn per_tenant(&self) -> bool {
        matches!(&self.source, BaselineSource::Profile(path) if path.contains("{tenant}"))
    }

    /// Whether the agent builds it from the source (and keeps it in the state file).
    pub fn is_stored(&self) -> bool {
        matches!(self.source, BaselineSource::Reference { .. } | BaselineSource::Learn { .. })
    }
}

/// Where a baseline comes from.
#[derive(Debug, Clone, PartialEq)]
pub enum BaselineSource {
    /// A profile file, or a path template with `{tenant}` (resolved, absolute).
    Profile(String),
    /// The period `[now − offset − window, now − offset]` of the source,
    /// profiled again once it has moved on by `refresh`.
    Reference { offset: Duration, window: Duration, refresh: Duration },
    /// The tenant's first `period`, learned into the state file.
    Learn { period: Duration },
}

/// The `k` of `threshold: learned`.
pub const DEFAULT_THRESHOLD_K: f64 = 3.0;

impl Group {
    /// Every source column the group's rules read, without repeats.
    pub fn columns(&self) -> Vec<String> {
        let mut cols: Vec<String> = self.rules.iter().flat_map(|r| r.check.kind().columns()).collect();
        cols.sort();
        cols.dedup();
        cols
    }
}

/// Names seen so far across rule files, for uniqueness checks.
#[derive(Debug, Default)]
pub struct SeenNames {
    groups: HashSet<String>,
    rules: HashSet<String>,
}

/// Validate one parsed rule file; problems go to `diag`, valid groups are returned.
/// Relative paths in it (baseline profiles) are taken from `base_dir`, the config
/// file's directory, like every other path.
pub fn validate_file(
    raw: RawRuleFile,
    base_dir: &Path,
    sources: &BTreeMap<String, Source>,
    templates: &mut Templates,
    seen: &mut SeenNames,
    diag: &mut FileDiag<'_>,
) -> Vec<Group> {
    let mut groups = Vec::new();
    for g in raw.groups {
        if let Some(group) = validate_group(g.value, base_dir, sources, templates, seen, diag) {
            groups.push(group);
        }
    }
    groups
}

fn validate_group(
    g: RawGroup,
    base_dir: &Path,
    sources: &BTreeMap<String, Source>,
    templates: &mut Templates,
    seen: &mut SeenNames,
    diag: &mut FileDiag<'_>,
) -> Option<Group> {
    let errors_before = diag.out.len();
    if g.name.value.trim().is_empty() {
        diag.at_value(&g.name, "group name must not be empty");
    } else if !seen.groups.insert(g.name.value.clone()) {
        diag.at_value(&g.name, format!("duplicate group name `{}`", g.name.value));
    }
    let source = sources.get(&g.source.value);
    match source {
        None => {
            let hint = crate::config::diag::did_you_mean(&g.source.value, sources.keys().map(String::as_str));
            let known: Vec<&str> = sources.keys().map(String::as_str).collect();
            diag.at_value(
                &g.source,
                format!("unknown source `{}`{hint}; sources in the config: {}", g.source.value, known.join(", ")),
            );
        }
        Some(s) => {
            if g.per_tenant && !s.has_tenant() {
                diag.at_value(&g.source, format!("per_tenant needs source `{}` to have a `{{tenant}}` path part or a `tenant` column", g.source.value));
            }
            if g.window.is_some() && !s.has_timestamp() {
                diag.at_value(&g.source, format!("window needs source `{}` to have a `timestamp` column", g.source.value));
            }
        }
    }
    let schedule = match (&g.interval, &g.schedule) {
        (Some(i), Some(_)) => {
            diag.at_value(i, "set either `interval` or `schedule`, not both");
            None
        }
        (Some(i), None) => match positive_duration(diag, "interval", i) {
            Some(d) if d > MAX_INTERVAL => {
                diag.at_value(i, "interval is longer than 366d; for rare evaluations use `schedule` with a cron expression");
                None
            }
            d => d.map(Schedule::Every),
        },
        (None, Some(c)) => match Schedule::cron(&c.value) {
            // `0 0 0 30 2 *` (30 February), or a year that is past.
            Ok(s) if s.next_after(chrono::Utc::now()).is_none() => {
                diag.at_value(c, format!("cron expression `{}` never fires: it names no time from now on", c.value));
                None
            }
            Ok(s) => Some(s),
            Err(e) => {
                diag.at_value(c, e);
                None
            }
        },
        (None, None) => Some(Schedule::Every(DEFAULT_INTERVAL)),
    };
    let window = g.window.as_ref().and_then(|w| positive_duration(diag, "window", w));
    let timeout = g.timeout.as_ref().and_then(|t| positive_duration(diag, "timeout", t));
    let forget_tenants_after = match &g.forget_tenants_after {
        None => DEFAULT_FORGET_TENANTS_AFTER,
        Some(f) => parse_duration("forget_tenants_after", &f.value).unwrap_or_else(|e| {
            diag.at_value(f, e);
            DEFAULT_FORGET_TENANTS_AFTER
        }),
    };
    if g.rules.is_empty() {
        diag.at_value(&g.name, format!("group `{}` has no rules", g.name.value));
    }
    let rules: Vec<Rule> = g
        .rules
        .into_iter()
        .filter_map(|r| validate_rule(r.value, &g.name.value, (source, sources, window), base_dir, templates, seen, diag))
        .collect();
    if !g.per_tenant {
        for r in rules.iter().filter(|r| r.baseline.as_ref().is_some_and(|b| b.per_tenant())) {
            diag.at_value(&g.name, format!("rule `{}`: a `{{tenant}}` baseline needs `per_tenant: true`", r.name));
        }
    }
    for r in &rules {
        let Some(b) = &r.baseline else { continue };
        if matches!(b.source, BaselineSource::Learn { .. }) && window.is_none() {
            diag.at_value(&g.name, format!("rule `{}`: a `learn` baseline needs the group's `window` (it learns from the window a tenant is first seen in)", r.name));
        }
        let period = match b.source {
            BaselineSource::Reference { window, .. } => window,
            BaselineSource::Learn { period } => period,
            BaselineSource::Profile(_) => continue,
        };
        if b.learned_threshold.is_some() && window.is_some_and(|w| period < 2 * w) {
            diag.at_value(&g.name, format!("rule `{}`: a learned threshold needs a baseline period of at least two windows (chunks)", r.name));
        }
    }
    if source.is_some_and(|s| !s.has_timestamp()) {
        for r in rules.iter().filter(|r| r.baseline.as_ref().is_some_and(|b| b.is_stored())) {
            diag.at_value(&g.source, format!("rule `{}`: a `reference` or `learn` baseline needs source `{}` to have a `timestamp` column", r.name, g.source.value));
        }
    }
    if diag.out.len() > errors_before {
        return None;
    }
    Some(Group {
        name: g.name.value,
        file: diag.file.to_path_buf(),
        source: g.source.value,
        schedule: schedule.expect("no errors means a schedule"),
        timeout,
        window,
        per_tenant: g.per_tenant,
        forget_tenants_after,
        rules,
    })
}

/// A duration greater than zero, or `None` with the error recorded at it.
fn positive_duration(diag: &mut FileDiag<'_>, field: &str, text: &serde_saphyr::Spanned<String>) -> Option<Duration> {
    match parse_duration(field, &text.value) {
        Ok(d) if d.is_zero() => {
            diag.at_value(text, format!("{field} must be greater than zero"));
            None
        }
        Ok(d) => Some(d),
        Err(e) => {
            diag.at_value(text, e);
            None
        }
    }
}

fn validate_rule(
    r: RawRule,
    group: &str,
    (source, sources, window): (Option<&Source>, &BTreeMap<String, Source>, Option<Duration>),
    base_dir: &Path,
    templates: &mut Templates,
    seen: &mut SeenNames,
    diag: &mut FileDiag<'_>,
) -> Option<Rule> {
    let errors_before = diag.out.len();
    let name = r.alert.value.clone();
    if name.trim().is_empty() {
        diag.at_value(&r.alert, "alert name must not be empty");
    } else if !seen.rules.insert(name.clone()) {
        diag.at_value(&r.alert, format!("duplicate rule name `{name}` (alert names are unique across rule files)"));
    }
    let check = r.check.value.validate().map_err(|e| diag.at_value(&r.check, format!("rule `{name}`: {e}"))).ok();
    if let (Some(c), Some(s)) = (&check, source)
        && let Err(e) = c.kind().fits_source(s)
    {
        diag.at_value(&r.check, format!("rule `{name}`: {e}"));
    }
    let sides = match (&check, source) {
        (Some(c), Some(s)) => resolve_sides(c, s, sources, window).map_err(|e| diag.at_value(&r.check, format!("rule `{name}`: {e}"))).unwrap_or_default(),
        _ => Vec::new(),
    };
    let when = check.as_ref().and_then(|c| {
        expr::parse_condition(&r.when.value, &c.variables())
            .map_err(|e| diag.at_value(&r.when, format!("rule `{name}`: when: {e}")))
            .ok()
    });
    let value = check.as_ref().and_then(|c| match &r.value {
        None => Some(c.spec().primary),
        Some(v) => {
            let found = c.variables().into_iter().find(|n| *n == v.value);
            if found.is_none() {
                let names = c.variables().join(", ");
                diag.at_value(v, format!("rule `{name}`: value: `{}` is not a value of this {} check ({names})", v.value, c.spec().kind));
            }
            found
        }
    });
    let hold_for = match &r.for_ {
        None => Duration::ZERO,
        Some(f) => parse_duration("for", &f.value).map_err(|e| diag.at_value(f, format!("rule `{name}`: {e}"))).unwrap_or_default(),
    };
    let baseline = r.baseline.as_ref().and_then(|b| {
        validate_baseline(&b.value, base_dir, Position::new(diag.file, &b.referenced))
            .map_err(|e| diag.at_value(b, format!("rule `{name}`: baseline: {e}")))
            .ok()
    });
    if let Some(w) = &when
        && w.uses("threshold")
        && baseline.as_ref().is_none_or(|b| b.learned_threshold.is_none())
    {
        diag.at_value(&r.when, format!("rule `{name}`: when: `threshold` is learned from the baseline: add `threshold: learned` to a `reference` or `learn` baseline"));
    }
    if let Some(c) = &check
        && c.kind().needs_baseline() && baseline.is_none() {
            diag.at_value(&r.check, format!("rule `{name}`: a {} check needs `baseline: {{ profile: FILE }}`", c.spec().kind));
        }
    for (key, value) in &r.labels {
        if let Err(e) = check_label_name(key) {
            diag.at_value(value, format!("rule `{name}`: label `{key}`: {e}"));
        }
    }
    let mut annotations = Vec::new();
    for (key, source) in &r.annotations {
        let template_name = format!("{}:{group}:{name}:{key}", diag.file.display());
        match templates.add(template_name.clone(), source.value.clone()) {
            Ok(()) => annotations.push((key.clone(), template_name)),
            Err(e) => diag.at_value(source, format!("rule `{name}`: annotation `{key}`: template error: {e}")),
        }
    }
    if diag.out.len() > errors_before {
        return None;
    }
    Some(Rule {
        name,
        check: check.expect("no errors means a check"),
        baseline,
        when: when.expect("no errors means a condition"),
        when_text: r.when.value,
        value: value.expect("no errors means a value"),
        hold_for,
        labels: r.labels.into_iter().map(|(k, v)| (k, v.value)).collect(),
        annotations,
        sides,
        at: Position::new(diag.file, &r.alert.referenced),
    })
}

/// The sources of a check's side reads: named file sources, or the group's
/// own (which then needs a window to have a previous one).
fn resolve_sides(check: &Check, own: &Source, sources: &BTreeMap<String, Source>, window: Option<Duration>) -> Result<Vec<Side>, String> {
    let mut sides = Vec::new();
    for read in check.kind().side_reads() {
        let source = match &read {
            SideRead::PreviousWindow if window.is_none() => {
                return Err("comparing with the previous window needs the group's `window`".into());
            }
            SideRead::PreviousWindow => own.clone(),
            SideRead::Source { name, .. } => match sources.get(name) {
                None => {
                    let hint = crate::config::diag::did_you_mean(name, sources.keys().map(String::as_str));
                    return Err(format!("unknown source `{name}`{hint}"));
                }
                Some(Source::Log(_)) => return Err(format!("source `{name}` is a log source; a check reads tables (rows) from `file` sources")),
                Some(s) => s.clone(),
            },
        };
        sides.push(Side { read, source });
    }
    Ok(sides)
}

fn validate_baseline(b: &RawBaseline, base_dir: &Path, at: Position) -> Result<BaselineSpec, String> {
    let duration = |what: &str, text: &str| match parse_duration(what, text) {
        Ok(d) if d.is_zero() => Err(format!("{what} must be greater than zero")),
        other => other,
    };
    let source = match (&b.profile, &b.reference, &b.learn) {
        (Some(p), None, None) => BaselineSource::Profile(crate::util::paths::resolve(base_dir, p).to_string_lossy().into_owned()),
        (None, Some(r), None) => {
            let window = duration("reference.window", &r.window)?;
            let refresh = match &r.refresh {
                Some(text) => duration("reference.refresh", text)?,
                None => window,
            };
            BaselineSource::Reference { offset: parse_duration("reference.offset", &r.offset)?, window, refresh }
        }
        (None, None, Some(l)) => BaselineSource::Learn { period: duration("learn", l)? },
        _ => return Err("set exactly one of `profile`, `reference` and `learn`".into()),
    };
    let learned_threshold = match &b.threshold {
        None => None,
        Some(RawThreshold::Word(w)) if w == "learned" => Some(DEFAULT_THRESHOLD_K),
        Some(RawThreshold::Learned { learned }) if learned.is_finite() && *learned > 0.0 => Some(*learned),
        Some(RawThreshold::Learned { learned }) => return Err(format!("threshold: k must be a positive number, got {learned}")),
        Some(RawThreshold::Word(w)) => return Err(format!("threshold: expected `learned` or `{{ learned: K }}`, got `{w}`")),
    };
    if learned_threshold.is_some() && matches!(source, BaselineSource::Profile(_)) {
        return Err("a learned threshold needs the baseline's own data: use `reference` or `learn`".into());
    }
    Ok(BaselineSpec { source, learned_threshold, at })
}

/// Prometheus label names: `[a-zA-Z_][a-zA-Z0-9_]*`, not `__`-prefixed, not ours.
pub fn check_label_name(key: &str) -> Result<(), String> {
    let mut chars = key.chars();
    let valid = chars.next().is_some_and(|c| c.is_ascii_alphabetic() || c == '_')
        && chars.all(|c| c.is_ascii_alphanumeric() || c == '_');
    if !valid || key.starts_with("__") {
        return Err("not a valid label name ([a-zA-Z_][a-zA-Z0-9_]*, not starting with __)".into());
    }
    if crate::labels::is_reserved(key) {
        return Err("is set by mlwatch and cannot be overridden".into());
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn baseline(yaml: &str) -> Result<BaselineSpec, String> {
        let raw: RawBaseline = serde_saphyr::from_str(yaml).unwrap();
        validate_baseline(&raw, Path::new("/cfg"), Position { file: "r.yaml".into(), line: 1, column: 1 })
    }

    #[test]
    fn a_baseline_is_exactly_one_kind_and_thresholds_are_learned_from_stored_ones() {
        let day = Duration::from_secs(86_400);
        let r = baseline("{ reference: { offset: 7d, window: 1d }, threshold: learned }").unwrap();
        assert_eq!(r.source, BaselineSource::Reference { offset: 7 * day, window: day, refresh: day });
        assert_eq!(r.learned_threshold, Some(DEFAULT_THRESHOLD_K));
        let l = baseline("{ learn: 3d, threshold: { learned: 2.5 } }").unwrap();
        assert_eq!((l.source, l.learned_threshold), (BaselineSource::Learn { period: 3 * day }, Some(2.5)));
        assert_eq!(baseline("{ profile: \"b/{tenant}.json\" }").unwrap().source, BaselineSource::Profile("/cfg/b/{tenant}.json".into()));
        assert!(baseline("{ profile: b.json, learn: 3d }").unwrap_err().contains("exactly one"));
        assert!(baseline("{ profile: b.json, threshold: learned }").unwrap_err().contains("use `reference` or `learn`"));
        assert!(baseline("{ learn: 3d, threshold: lerned }").unwrap_err().contains("expected `learned`"));
        assert!(baseline("{ learn: 0s }").unwrap_err().contains("greater than zero"));
    }
}
