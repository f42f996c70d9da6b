//! The agent's configuration: `mlwatch.yaml` and the rule files it names.
//!
//! Loading goes raw → validated: serde structs exactly as written (with YAML
//! positions where later checks need them), then [`load`] validates everything
//! and collects *every* problem as a positioned [`Diagnostic`]. Reading files
//! that the config refers to at run time (baselines, secrets) happens after, in
//! [`load_baselines`] and the receivers' `build`.

pub mod diag;
mod redact;

use std::collections::BTreeMap;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use serde::Deserialize;
use serde_saphyr::Spanned;

use crate::alerting::ReceiverConfig;
use crate::alerting::inhibit::InhibitRule;
use crate::alerting::route::{Route, RouteConfig};
use crate::baseline::{Baselines, Profile};
use crate::rules::{RuleSet, SeenNames, raw::RawRuleFile};
use crate::shard::{Shard, ShardingConfig};
use crate::sources::{Source, SourceConfig};
pub use diag::{Diagnostic, Diagnostics};
use diag::{FileDiag, load_yaml, parse_yaml};
use crate::util::paths::resolve;

/// The default address of the HTTP server.
pub const DEFAULT_LISTEN: &str = "127.0.0.1:9464";

/// `mlwatch.yaml` as written.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawConfig {
    /// HTTP server (`/metrics`, health).
    #[serde(default)]
    pub server: Option<Spanned<ServerConfig>>,
    /// Where the agent keeps its state.
    #[serde(default)]
    pub storage: Option<StorageConfig>,
    /// Named sources of samples.
    #[serde(default)]
    pub sources: BTreeMap<String, Spanned<SourceConfig>>,
    /// Rule files (globs, relative to this file).
    #[serde(default)]
    pub rule_files: Vec<Spanned<String>>,
    /// The routing tree: which receiver gets which alerts, grouped how.
    #[serde(default)]
    pub route: Option<Spanned<RouteConfig>>,
    /// Alerts that mute others while they fire.
    #[serde(default)]
    pub inhibit_rules: Vec<Spanned<InhibitRule>>,
    /// Receivers and their integrations.
    #[serde(default)]
    pub receivers: Vec<Spanned<ReceiverConfig>>,
    /// This agent's share of the tenants, when several agents split them.
    #[serde(default)]
    pub sharding: Option<Spanned<ShardingConfig>>,
}

/// `server:`
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ServerConfig {
    /// Address to listen on. Default `127.0.0.1:9464`.
    #[serde(default)]
    pub listen: Option<String>,
    /// How users reach the agent (for links in notifications).
    #[serde(default)]
    pub external_url: Option<String>,
    /// File holding the bearer token that mutating endpoints require.
    #[serde(default)]
    pub bearer_token_file: Option<String>,
}

/// `storage:`
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct StorageConfig {
    /// Directory for the agent's state, relative to this file. Default `./data/mlwatch`.
    #[serde(default)]
    pub path: Option<String>,
    /// How long check values are kept in the history. Default 15d.
    #[serde(default)]
    pub retention: Option<Spanned<String>>,
}

/// How long check values stay in the history unless `storage.retention` says otherwise.
pub const DEFAULT_RETENTION: std::time::Duration = std::time::Duration::from_secs(15 * 24 * 3600);

/// A fully validated configuration.
#[derive(Debug)]
pub struct Config {
    pub path: PathBuf,
    pub listen: SocketAddr,
    pub external_url: String,
    /// File with the bearer token for mutating endpoints.
    pub bearer_token_file: Option<PathBuf>,
    pub storage_path: PathBuf,
    pub retention: std::time::Duration,
    /// The file as written, secrets redacted (for `/api/v1/status`).
    pub redacted: serde_json::Value,
    pub sources: BTreeMap<String, Source>,
    pub rules: RuleSet,
    pub route: Route,
    pub inhibit_rules: Vec<InhibitRule>,
    pub receivers: BTreeMap<String, ReceiverConfig>,
    /// Rule files read.
    pub rule_files: Vec<PathBuf>,
    /// The tenants this agent owns (`sharding:`); `None`: all of them.
    pub shard: Option<Shard>,
}

impl Config {
    /// `server.external_url`, or the address the agent listens on.
    pub fn external_url(&self, listening: SocketAddr) -> String {
        if self.external_url.is_empty() { format!("http://{listening}") } else { self.external_url.clone() }
    }

    pub fn base_dir(&self) -> &Path {
        self.path.parent().unwrap_or(Path::new("."))
    }
}

/// Load and validate a config and its rule files; every problem is reported.
pub fn load(path: &Path) -> Result<Config, Diagnostics> {
    let mut out = Diagnostics::default();
    let text = match crate::util::fs::read_text(path, diag::MAX_YAML_BYTES) {
        Ok(t) => t,
        Err(e) => {
            out.push(Diagnostic { file: path.to_path_buf(), line: 0, column: 0, message: format!("cannot read file: {e}") });
            return Err(out);
        }
    };
    let raw: RawConfig = match parse_yaml(path, &text) {
        Ok(r) => r,
        Err(d) => {
            out.push(d);
            return Err(out);
        }
    };
    let base_dir = path.parent().unwrap_or(Path::new(".")).to_path_buf();
    let mut diag = FileDiag { file: path, out: &mut out };

    let (listen, external_url) = match &raw.server {
        None => (DEFAULT_LISTEN.parse().expect("valid default"), String::new()),
        Some(s) => {
            let text = s.value.listen.as_deref().unwrap_or(DEFAULT_LISTEN);
            let listen = text.parse::<SocketAddr>().unwrap_or_else(|_| {
                diag.at_value(s, format!("server.listen: `{text}` is not an address like 127.0.0.1:9464"));
                DEFAULT_LISTEN.parse().expect("valid default")
            });
            (listen, s.value.external_url.clone().unwrap_or_default())
        }
    };
    let bearer_token_file =
        raw.server.as_ref().and_then(|s| s.value.bearer_token_file.as_deref()).map(|p| resolve(&base_dir, p));
    let storage_path =
        resolve(&base_dir, raw.storage.as_ref().and_then(|s| s.path.as_deref()).unwrap_or("./data/mlwatch"));
    let retention = match raw.storage.as_ref().and_then(|s| s.retention.as_ref()) {
        None => DEFAULT_RETENTION,
        Some(r) => crate::rules::schedule::parse_duration("storage.retention", &r.value).unwrap_or_else(|e| {
            diag.at_value(r, e);
            DEFAULT_RETENTION
        }),
    };

    let shard = raw.sharding.as_ref().and_then(|s| {
        Shard::new(s.value.index, s.value.count).map_err(|e| diag.at_value(s, format!("sharding: {e}"))).ok()
    });

    let mut sources = BTreeMap::new();
    for (name, s) in &raw.sources {
        match s.value.validate(&base_dir) {
            Ok(v) => {
                sources.insert(name.clone(), v);
            }
            Err(e) => diag.at_value(s, format!("source `{name}`: {e}")),
        }
    }

    let mut receivers = BTreeMap::new();
    for r in &raw.receivers {
        if let Err(e) = r.value.validate() {
            diag.at_value(r, format!("receiver `{}`: {e}", r.value.name));
        }
        if receivers.insert(r.value.name.clone(), r.value.clone()).is_some() {
            diag.at_value(r, format!("duplicate receiver name `{}`", r.value.name));
        }
    }
    let names: Vec<&str> = receivers.keys().map(String::as_str).collect();
    let route = match &raw.route {
        None => {
            diag.whole("`route` is missing: name the receiver that gets alerts, e.g. `route: { receiver: ml-oncall }`");
            None
        }
        Some(r) => match r.value.validate(&names) {
            Ok(route) => Some(route),
            Err(errors) => {
                for e in errors {
                    diag.at_value(r, e);
                }
                None
            }
        },
    };
    let mut inhibit_rules = Vec::new();
    for rule in &raw.inhibit_rules {
        match rule.value.validate() {
            Ok(()) => inhibit_rules.push(rule.value.clone()),
            Err(e) => diag.at_value(rule, e),
        }
    }

    let mut rule_files = Vec::new();
    for pattern in &raw.rule_files {
        let full = resolve(&base_dir, &pattern.value);
        let matched: Vec<PathBuf> = match glob::glob(&full.to_string_lossy()) {
            Ok(paths) => paths.filter_map(Result::ok).filter(|p| p.is_file()).collect(),
            Err(e) => {
                diag.at_value(pattern, format!("rule_files: invalid glob `{}`: {e}", pattern.value));
                continue;
            }
        };
        if matched.is_empty() {
            diag.at_value(pattern, format!("rule_files: `{}` matches no files", pattern.value));
        }
        for m in matched {
            if !rule_files.contains(&m) {
                rule_files.push(m);
            }
        }
    }
    rule_files.sort();

    let mut rules = RuleSet::default();
    let mut seen = SeenNames::default();
    for file in &rule_files {
        match load_yaml::<RawRuleFile>(file) {
            Err(d) => out.push(d),
            Ok(raw_rules) => {
                let mut fd = FileDiag { file, out: &mut out };
                let groups = crate::rules::validate_file(raw_rules, &base_dir, &sources, &mut rules.templates, &mut seen, &mut fd);
                rules.groups.extend(groups);
            }
        }
    }

    if !out.is_empty() {
        return Err(out.sorted());
    }
    // Log sources count, as they read, the events of the SLIs their rules compute.
    for (name, source) in &sources {
        if let Source::Log(log) = source {
            let slis = rules.groups.iter().filter(|g| g.source == *name).flat_map(|g| &g.rules).flat_map(|r| r.check.kind().slis().into_iter().cloned());
            log.register(name, slis.collect());
        }
    }
    Ok(Config {
        path: path.to_path_buf(),
        listen,
        external_url,
        bearer_token_file,
        storage_path,
        retention,
        redacted: redact::redacted_config(&text),
        sources,
        rules,
        route: route.expect("no errors means a route"),
        inhibit_rules,
        receivers,
        rule_files,
        shard,
    })
}

/// Load every shared baseline profile the rules name and check that each fits
/// its rule. Per-tenant profiles (`{tenant}` in the path) are read when a
/// tenant is first evaluated: which tenants exist is not known yet.
pub fn load_baselines(config: &Config) -> Result<Baselines, Diagnostics> {
    let mut out = Diagnostics::default();
    let mut loaded = Baselines::default();
    let mut failed = std::collections::HashSet::new();
    for group in &config.rules.groups {
        for rule in &group.rules {
            let Some(spec) = &rule.baseline else { continue };
            let crate::rules::BaselineSource::Profile(template) = &spec.source else { continue };
            if template.contains("{tenant}") {
                continue;
            }
            let path = PathBuf::from(template);
            if failed.contains(&path) {
                continue;
            }
            let profile = match loaded.fixed(&path) {
                Some(b) => b.profile.clone(),
                None => match Profile::load(&path) {
                    Ok(p) => {
                        let p = Arc::new(p);
                        loaded.insert_fixed(path.clone(), p.clone());
                        p
                    }
                    Err(e) => {
                        out.push(spec.at.error(format!("rule `{}`: baseline: {e}", rule.name)));
                        failed.insert(path);
                        continue;
                    }
                },
            };
            if let Err(e) = rule.check.kind().fits_baseline(&profile) {
                out.push(spec.at.error(format!("rule `{}`: baseline {}: {e}", rule.name, path.display())));
            }
        }
    }
    if out.is_empty() { Ok(loaded) } else { Err(out.sorted()) }
}
