//! `mlwatch test`: rule unit tests. Each test writes its input data to a
//! scratch directory, replays the rule files over it in simulated time
//! through the backtest's code path (so a 30-minute `for` takes
//! milliseconds), and compares the alerts and values at the times asked
//! with the ones expected.

pub mod compare;
pub mod inputs;
pub mod spec;

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::time::Duration;

use chrono::{DateTime, Utc};

use crate::agent::Prepared;
use crate::backtest::{self, Options, Step};
use crate::config::{Config, Diagnostics};
use crate::rules::Rule;
use crate::rules::alert::{Alert, AlertState};
use crate::rules::eval::SeriesResult;
use crate::sources::SourceConfig;
use crate::state::Store;
use compare::Expected;
use crate::labels::show as show_labels;
use spec::{TestCase, TestFile};

/// The time `0m` stands for unless a file or test says otherwise.
pub const DEFAULT_START: &str = "2026-01-01T00:00:00Z";
/// The evaluation interval unless a file or test says otherwise.
pub const DEFAULT_INTERVAL: Duration = Duration::from_secs(60);

/// What running one test file found.
#[derive(Debug)]
pub struct FileOutcome {
    pub path: PathBuf,
    /// The file could not be read or is not a test file.
    pub error: Option<String>,
    pub tests: Vec<TestOutcome>,
}

#[derive(Debug)]
pub struct TestOutcome {
    pub name: String,
    pub assertions: usize,
    /// Each failed assertion (or setup problem), as lines to print.
    pub failures: Vec<Vec<String>>,
}

impl FileOutcome {
    pub fn failed(&self) -> usize {
        self.tests.iter().filter(|t| !t.failures.is_empty()).count() + usize::from(self.error.is_some())
    }
}

/// A test file, read and checked as far as it can be without running it.
pub struct Loaded {
    /// The test file.
    pub path: PathBuf,
    pub file: TestFile,
    pub dir: PathBuf,
    pub sources: BTreeMap<String, SourceConfig>,
    pub rule_files: Vec<String>,
}

/// Read a test file: its YAML, its sources and where its rule files are.
pub fn load(path: &Path) -> Result<Loaded, String> {
    let file: TestFile = crate::config::diag::load_yaml(path).map_err(|d| d.to_string())?;
    let dir = std::fs::canonicalize(path.parent().filter(|p| !p.as_os_str().is_empty()).unwrap_or(Path::new(".")))
        .map_err(|e| format!("{}: {e}", path.display()))?;
    let mut sources = BTreeMap::new();
    for (name, value) in &file.sources {
        let s: SourceConfig = serde_json::from_value(value.clone()).map_err(|e| format!("{}: sources.{name}: {e}", path.display()))?;
        sources.insert(name.clone(), s);
    }
    let rule_files = file.rule_files.iter().map(|f| dir.join(f).to_string_lossy().into_owned()).collect();
    Ok(Loaded { path: path.to_path_buf(), file, dir, sources, rule_files })
}

impl Loaded {
    /// The agent configuration a test runs: the file's sources and rule
    /// files, with paths relative to `data`, alerts routed nowhere.
    pub fn config_text(&self) -> String {
        serde_json::json!({
            "sources": self.file.sources,
            "rule_files": self.rule_files,
            "storage": { "path": "./.mlwatch-test/state" },
            "route": { "receiver": "test" },
            "receivers": [{ "name": "test" }],
        })
        .to_string()
    }

    /// Write the configuration into `data` and load it without its baselines.
    pub fn config(&self, data: &Path) -> Result<Config, String> {
        let path = write_config(data, &self.config_text())?;
        crate::config::load(&path).map_err(|d| self.explain(&d, data))
    }

    /// A configuration's problems, those of the generated config named as
    /// the test file's (its `sources` are the only part written by hand).
    fn explain(&self, problems: &Diagnostics, data: &Path) -> String {
        let generated = data.join("mlwatch.yaml");
        let lines: Vec<String> = problems
            .0
            .iter()
            .map(|d| if d.file == generated { format!("{}: {}", self.path.display(), d.message) } else { hide_scratch(&d.to_string(), data) })
            .collect();
        lines.join("\n")
    }
}

fn write_config(data: &Path, text: &str) -> Result<PathBuf, String> {
    let path = data.join("mlwatch.yaml");
    std::fs::write(&path, text).map_err(|e| format!("cannot write {}: {e}", path.display()))?;
    Ok(path)
}

/// Messages name files of the scratch directory by their path inside it.
fn hide_scratch(text: &str, data: &Path) -> String {
    text.replace(&format!("{}/", data.display()), "").replace(&data.display().to_string(), "<test data>")
}

/// Run every test of the file at `path` whose name `selected` accepts.
pub fn run_file(path: &Path, selected: &dyn Fn(&str) -> bool) -> FileOutcome {
    let loaded = match load(path) {
        Ok(l) => l,
        Err(e) => return FileOutcome { path: path.to_path_buf(), error: Some(e), tests: Vec::new() },
    };
    let tests = loaded
        .file
        .tests
        .iter()
        .enumerate()
        .map(|(i, t)| (t.name.clone().unwrap_or_else(|| format!("test {}", i + 1)), t))
        .filter(|(name, _)| selected(name))
        .map(|(name, t)| {
            let (assertions, failures) = match run_test(&loaded, t) {
                Ok(r) => r,
                Err(e) => (0, vec![e.lines().map(str::to_string).collect()]),
            };
            TestOutcome { name, assertions, failures }
        })
        .collect();
    FileOutcome { path: path.to_path_buf(), error: None, tests }
}

/// What a replay left at each evaluation of a rule.
struct Snapshot {
    at: DateTime<Utc>,
    series: Vec<SeriesResult>,
    alerts: Vec<Alert>,
}

fn parse_start(text: Option<&str>) -> Result<DateTime<Utc>, String> {
    let text = text.unwrap_or(DEFAULT_START);
    DateTime::parse_from_rfc3339(text).map(|t| t.with_timezone(&Utc)).map_err(|e| format!("start: `{text}` is not an RFC 3339 time: {e}"))
}

fn eval_time(text: &str) -> Result<chrono::Duration, String> {
    let t = inputs::offset("eval_time", text)?;
    if t < chrono::Duration::zero() { Err(format!("eval_time: `{text}` is before the start")) } else { Ok(t) }
}

/// Run one test: the number of assertions, and the failed ones.
fn run_test(loaded: &Loaded, test: &TestCase) -> Result<(usize, Vec<Vec<String>>), String> {
    let start = parse_start(test.start.as_deref().or(loaded.file.start.as_deref()))?;
    let interval = match test.evaluation_interval.as_deref().or(loaded.file.evaluation_interval.as_deref()) {
        Some(text) => crate::rules::schedule::parse_duration("evaluation_interval", text)?,
        None => DEFAULT_INTERVAL,
    };
    if interval.is_zero() {
        return Err("evaluation_interval must be greater than zero".into());
    }
    let scratch = tempfile::Builder::new().prefix("mlwatch-test-").tempdir().map_err(|e| format!("cannot make a scratch directory: {e}"))?;
    let data = scratch.path();
    inputs::write_inputs(test, &loaded.sources, start, &loaded.dir, data).map_err(|e| hide_scratch(&e, data))?;
    let config_path = write_config(data, &loaded.config_text())?;
    let prepared = Prepared::load(&config_path).map_err(|d| loaded.explain(&d, data))?;

    let mut times = Vec::new();
    for t in test.alert_rule_test.iter().map(|a| &a.eval_time).chain(test.value_test.iter().map(|v| &v.eval_time)) {
        times.push(eval_time(t)?);
    }
    let end = start + times.iter().copied().max().unwrap_or_default();

    // A rule under test that cannot be evaluated fails the test (a fixture
    // with a misspelt column must not pass as "no alert"): each way it
    // failed once, with when and how often.
    let asserted: Vec<&str> = test.alert_rule_test.iter().map(|a| a.alertname.as_str()).chain(test.value_test.iter().map(|v| v.alertname.as_str())).collect();
    let mut snapshots: BTreeMap<String, Vec<Snapshot>> = BTreeMap::new();
    let mut failed: BTreeMap<(String, Option<String>, &'static str), (DateTime<Utc>, DateTime<Utc>, u32, String)> = BTreeMap::new();
    let mut observe = |step: Step<'_>| {
        for ((rule, result), set) in step.group.rules.iter().zip(&step.result.rules).zip(step.alerts) {
            for f in result.failures.iter().filter(|_| asserted.contains(&rule.name.as_str())) {
                let seen = failed.entry((rule.name.clone(), f.tenant.clone(), f.reason)).or_insert((step.at, step.at, 0, f.message.clone()));
                seen.1 = step.at;
                seen.2 += 1;
            }
            snapshots.entry(rule.name.clone()).or_default().push(Snapshot { at: step.at, series: result.series.clone(), alerts: set.alerts().cloned().collect() });
        }
    };
    let opts = Options { from: start, to: end, step: Some(interval), silences: Vec::new(), groups: None };
    backtest::replay(&prepared, &opts, &Store::in_memory(), &mut observe)?;
    let mut failures: Vec<Vec<String>> = failed
        .into_iter()
        .map(|((rule, tenant, _), (first, last, times, message))| {
            let tenant = tenant.map(|t| format!(" (tenant {t})")).unwrap_or_default();
            let when = if times == 1 { format!("at {}", relative(first, start)) } else { format!("{times} times, {} to {}", relative(first, start), relative(last, start)) };
            vec![format!("rule `{rule}`{tenant} could not be evaluated ({when}): {}", hide_scratch(&message, data))]
        })
        .collect();

    let rules: BTreeMap<&str, &Rule> = prepared.config.rules.groups.iter().flat_map(|g| &g.rules).map(|r| (r.name.as_str(), r)).collect();
    let at = |rule: &str, text: &str| -> Result<&Snapshot, String> {
        let when = start + eval_time(text)?;
        let Some(rule) = rules.get(rule) else {
            return Err(format!("no rule `{rule}` in the rule files{}", crate::config::diag::did_you_mean(rule, rules.keys().copied())));
        };
        snapshots
            .get(&rule.name)
            .and_then(|s| s.iter().rev().find(|s| s.at <= when))
            .ok_or_else(|| format!("rule `{}` was not evaluated by {text}", rule.name))
    };
    for t in &test.alert_rule_test {
        let head = format!("alert_rule_test: {} at {}", t.alertname, t.eval_time);
        let state = match t.state.as_deref() {
            None | Some("firing") => AlertState::Firing,
            Some("pending") => AlertState::Pending,
            Some(other) => {
                failures.push(vec![format!("{head}: state `{other}` is not `firing` or `pending`")]);
                continue;
            }
        };
        let snap = match at(&t.alertname, &t.eval_time) {
            Ok(s) => s,
            Err(e) => {
                failures.push(vec![format!("{head}: {e}")]);
                continue;
            }
        };
        let expected: Vec<Expected> = t
            .exp_alerts
            .iter()
            .map(|e| {
                let mut labels = e.exp_labels.clone();
                labels.insert("alertname".into(), t.alertname.clone());
                Expected { labels, annotations: e.exp_annotations.clone() }
            })
            .collect();
        let got: Vec<&Alert> = snap.alerts.iter().filter(|a| a.state == state).collect();
        let elsewhere = |labels: &crate::labels::Labels| {
            let a = snap.alerts.iter().find(|a| a.labels == *labels && a.state != state)?;
            Some(format!("it is {}, active since {}", a.state.as_str(), relative(a.active_at, start)))
        };
        let diff = compare::alerts(&expected, &got, &elsewhere);
        if !diff.is_empty() {
            let mut lines = vec![format!("{head}: expected {} {} alert{}, got {}:", expected.len(), state.as_str(), plural(expected.len()), got.len())];
            lines.extend(diff.into_iter().map(|l| format!("  {l}")));
            failures.push(lines);
        }
    }
    for t in &test.value_test {
        let name = rules.get(t.alertname.as_str()).map(|r| t.value.as_deref().unwrap_or(r.value)).unwrap_or("value");
        let head = format!("value_test: {} {name}{} at {}", t.alertname, show_labels(&t.labels), t.eval_time);
        let snap = match at(&t.alertname, &t.eval_time) {
            Ok(s) => s,
            Err(e) => {
                failures.push(vec![format!("{head}: {e}")]);
                continue;
            }
        };
        if let Err(e) = check_value(t, name, snap, &rules) {
            failures.push(vec![format!("{head}: {e}")]);
        }
    }
    Ok((test.alert_rule_test.len() + test.value_test.len(), failures))
}

fn check_value(t: &spec::ValueTest, name: &str, snap: &Snapshot, rules: &BTreeMap<&str, &Rule>) -> Result<(), String> {
    let rule = rules[t.alertname.as_str()];
    let values = rule.check.variables();
    if !values.contains(&name) {
        return Err(format!("`{name}` is not a value of the rule's check{}; it has {}", crate::config::diag::did_you_mean(name, values.iter().copied()), values.join(", ")));
    }
    let matching: Vec<&SeriesResult> = snap.series.iter().filter(|s| t.labels.iter().all(|(k, v)| s.labels.get(k) == Some(v))).collect();
    let series = match matching.as_slice() {
        [one] => *one,
        [] => {
            let have: Vec<String> = snap.series.iter().map(|s| show_labels(&s.labels)).collect();
            return Err(format!("no series has these labels; the rule has {}", if have.is_empty() { "none".into() } else { have.join(", ") }));
        }
        many => {
            let have: Vec<String> = many.iter().map(|s| show_labels(&s.labels)).collect();
            return Err(format!("{} series have these labels, name one with more: {}", many.len(), have.join(", ")));
        }
    };
    match series.values.get(name) {
        Some(v) => compare::value(t.exp_value, t.tolerance, *v),
        None => Err(format!("expected {}, got no value{}", t.exp_value, series.note.as_deref().map(|n| format!(" ({n})")).unwrap_or_default())),
    }
}

/// `+90m` for a time 90 minutes after the start.
fn relative(at: DateTime<Utc>, start: DateTime<Utc>) -> String {
    let d = at - start;
    let secs = d.num_seconds();
    let text = humantime::format_duration(Duration::from_secs(secs.unsigned_abs())).to_string().replace(' ', "");
    if secs < 0 { format!("-{text}") } else { format!("+{text}") }
}

fn plural(n: usize) -> &'static str {
    if n == 1 { "" } else { "s" }
}
