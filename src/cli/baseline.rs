//! `mlwatch baseline build | show | list | pin | forget`: profile files, and
//! the baselines the agent keeps in its state file.

use std::path::Path;
use std::process::ExitCode;

use chrono::{DateTime, Utc};

use super::{BaselineBuildArgs, BaselinePinArgs, BaselineShowArgs, ConfigArg, ProfileArgs, StoredBaselineArg, data};
use crate::baseline::stored::{self, ReadMemo, StoredCx};
use crate::baseline::{BuildOptions, ColumnProfile, Profile, Spreads, build_profile};
use crate::config;
use crate::state::{BaselineStatus, StoredBaseline, Store};

pub fn build(args: BaselineBuildArgs) -> ExitCode {
    match try_build(&args) {
        Ok(summary) => {
            println!("{summary}");
            ExitCode::SUCCESS
        }
        Err(e) => {
            eprintln!("mlwatch baseline build: {e}");
            ExitCode::from(2)
        }
    }
}

/// Build options from the shared command-line profile flags.
pub fn options(p: &ProfileArgs, sample: usize, seed: u64) -> BuildOptions {
    BuildOptions { columns: p.columns.clone(), bins: p.bins as usize, binning: p.binning, sample, seed }
}

fn try_build(args: &BaselineBuildArgs) -> Result<String, String> {
    let columns = (!args.profile.columns.is_empty()).then_some(args.profile.columns.as_slice());
    let (frame, files) = data::read_all(&args.source, columns).map_err(|e| format!("--source {e}"))?;
    let profile = build_profile(&frame, &args.source.join(" "), &options(&args.profile, args.sample, args.seed))?;
    profile.save(&args.out).map_err(|e| format!("cannot write {}: {e}", args.out.display()))?;
    Ok(format!(
        "wrote {}: {} rows from {} file{}, {} column{} ({})",
        args.out.display(),
        profile.rows,
        files,
        if files == 1 { "" } else { "s" },
        profile.columns.len(),
        if profile.columns.len() == 1 { "" } else { "s" },
        profile.columns.keys().cloned().collect::<Vec<_>>().join(", ")
    ))
}

pub fn show(args: &BaselineShowArgs) -> ExitCode {
    let loaded = match (&args.profile, &args.rule) {
        (Some(path), None) => Profile::load(path).map(|p| (path.display().to_string(), p, Vec::new())).map_err(|e| e.to_string()),
        (None, Some(rule)) => stored_profile(&args.config.config, rule, args.tenant.as_deref().unwrap_or("")),
        _ => Err("give a profile file, or --rule (and --tenant) for a baseline in the agent's state".into()),
    };
    let (name, profile, spreads) = match loaded {
        Ok(l) => l,
        Err(e) => {
            eprintln!("mlwatch baseline show: {e}");
            return ExitCode::from(2);
        }
    };
    print_profile(&name, &profile);
    if !spreads.is_empty() {
        println!();
        println!("learned spread of the primary value between baseline chunks:");
        for (labels, s) in spreads {
            println!("  {labels:?}: mean {:.4} std {:.4} over {} chunks", s.mean, s.std, s.chunks);
        }
    }
    ExitCode::SUCCESS
}

/// A baseline the agent keeps in its state file.
fn stored_profile(config: &Path, rule: &str, tenant: &str) -> Result<(String, Profile, Spreads), String> {
    let store = open_store(config)?;
    let b = store.baseline(rule, tenant).map_err(|e| e.to_string())?.ok_or_else(|| no_baseline(rule, tenant))?;
    let name = format!("rule {rule}, tenant {}: {} ({} .. {})", shown(tenant), b.status.as_str(), stamp(b.period_start), stamp(b.period_end));
    Ok((name, b.profile.ok_or("the stored baseline has no profile yet")?, b.spreads))
}

fn no_baseline(rule: &str, tenant: &str) -> String {
    format!("no stored baseline for rule `{rule}` and tenant {} (see `mlwatch baseline list`)", shown(tenant))
}

fn shown(tenant: &str) -> String {
    if tenant.is_empty() { "(none)".into() } else { format!("`{tenant}`") }
}

fn stamp(t: DateTime<Utc>) -> String {
    t.to_rfc3339_opts(chrono::SecondsFormat::Secs, true)
}

/// The agent's state file, as the config names it, read only.
fn open_store(config: &Path) -> Result<Store, String> {
    let c = config::load(config).map_err(|d| format!("{}: configuration is invalid:\n{d}", config.display()))?;
    Store::open_read_only(&c.storage_path)
        .map_err(|e| e.to_string())?
        .ok_or_else(|| format!("no agent state in {} (the agent has not run yet)", c.storage_path.display()))
}

/// The agent's state file for writing, without migrating it under a running
/// agent: only a state of this build's schema (or none yet) is opened.
fn open_store_for_writing(dir: &Path) -> Result<Store, String> {
    Store::open_read_only(dir).map_err(|e| e.to_string())?;
    Store::open(dir).map_err(|e| e.to_string())
}

/// `mlwatch baseline list`: every baseline the agent built, learned or had pinned.
pub fn list(args: &ConfigArg) -> ExitCode {
    let listed = open_store(&args.config).and_then(|s| s.baselines().map_err(|e| e.to_string()));
    match listed {
        Ok(all) => {
            println!("{:<24} {:<16} {:<9} {:<42} {:<20}", "RULE", "TENANT", "STATUS", "PERIOD", "BUILT");
            for b in all {
                let period = format!("{} .. {}", stamp(b.period_start), stamp(b.period_end));
                println!("{:<24} {:<16} {:<9} {:<42} {:<20}", b.rule, b.tenant, b.status.as_str(), period, stamp(b.built_at));
            }
            ExitCode::SUCCESS
        }
        Err(e) => {
            eprintln!("mlwatch baseline list: {e}");
            ExitCode::from(2)
        }
    }
}

/// `mlwatch baseline pin`: declare a period healthy for a rule and tenant.
pub fn pin(args: &BaselinePinArgs) -> ExitCode {
    match try_pin(args) {
        Ok(msg) => {
            println!("{msg}");
            ExitCode::SUCCESS
        }
        Err(e) => {
            eprintln!("mlwatch baseline pin: {e}");
            ExitCode::from(2)
        }
    }
}

fn try_pin(args: &BaselinePinArgs) -> Result<String, String> {
    let from = super::backtest::parse_time("--from", &args.from)?;
    let to = super::backtest::parse_time("--to", &args.to)?;
    if to <= from {
        return Err("--to must be after --from".into());
    }
    let which = &args.which;
    let c = config::load(&which.config.config).map_err(|d| format!("{}: configuration is invalid:\n{d}", which.config.config.display()))?;
    let (group, rule) = c
        .rules
        .groups
        .iter()
        .find_map(|g| g.rules.iter().find(|r| r.name == which.rule).map(|r| (g, r)))
        .ok_or_else(|| format!("no rule `{}` in the configuration", which.rule))?;
    if !rule.baseline.as_ref().is_some_and(|b| b.is_stored()) {
        return Err(format!("rule `{}` has no `reference` or `learn` baseline to pin", rule.name));
    }
    let tenant = which.tenant.as_deref();
    if group.per_tenant != tenant.is_some() {
        return Err(if group.per_tenant { "the rule is per tenant: give --tenant".into() } else { "the rule is not per tenant: drop --tenant".into() });
    }
    let source = c.sources.get(&group.source).expect("validated: group names a source");
    let store = open_store_for_writing(&c.storage_path)?;
    let memo = ReadMemo::default();
    let cx = StoredCx { store: &store, source, group, memo: &memo, shard: None };
    let now = Utc::now();
    let (profile, spreads) = stored::build(&cx, rule, tenant, from, to, now)?;
    let rows = profile.rows;
    store
        .pin_baseline(&StoredBaseline {
            rule: rule.name.clone(),
            tenant: tenant.unwrap_or("").to_string(),
            status: BaselineStatus::Pinned,
            period_start: from,
            period_end: to,
            built_at: now,
            profile: Some(profile),
            spreads,
            fingerprint: stored::fingerprint(rule),
        })
        .map_err(|e| e.to_string())?;
    Ok(format!(
        "pinned {} .. {} ({rows} rows) as the baseline of rule `{}` for tenant {}; a running agent uses it from its next evaluation",
        stamp(from),
        stamp(to),
        rule.name,
        shown(tenant.unwrap_or(""))
    ))
}

/// `mlwatch baseline forget`: drop a stored baseline (a `learn` one is learned again).
pub fn forget(args: &StoredBaselineArg) -> ExitCode {
    let tenant = args.tenant.as_deref().unwrap_or("");
    let done = config::load(&args.config.config)
        .map_err(|d| format!("{}: configuration is invalid:\n{d}", args.config.config.display()))
        .and_then(|c| open_store_for_writing(&c.storage_path))
        .and_then(|s| s.forget_baseline(&args.rule, tenant).map_err(|e| e.to_string()));
    match done {
        Ok(true) => {
            println!("forgot the baseline of rule `{}` for tenant {}", args.rule, shown(tenant));
            ExitCode::SUCCESS
        }
        Ok(false) => {
            eprintln!("mlwatch baseline forget: {}", no_baseline(&args.rule, tenant));
            ExitCode::from(1)
        }
        Err(e) => {
            eprintln!("mlwatch baseline forget: {e}");
            ExitCode::from(2)
        }
    }
}

fn print_profile(path: &str, profile: &Profile) {
    println!("{}: {} version {}", path, profile.format, profile.version);
    println!("built {} from {}: {} rows; PSI epsilon {}", profile.created_at, profile.source, profile.rows, profile.psi_epsilon);
    println!();
    println!("{:<24} {:<12} {:>10} {:>8}  summary", "column", "kind", "count", "nulls");
    for (name, col) in &profile.columns {
        match col {
            ColumnProfile::Numeric(n) => println!(
                "{name:<24} {:<12} {:>10} {:>8}  min {} max {} mean {:.4} std {:.4}; {} {} bins; KS sample {}",
                "numeric",
                n.count,
                n.nulls + n.non_finite,
                n.min,
                n.max,
                n.mean,
                n.std,
                n.bin_counts.len(),
                format!("{:?}", n.binning).to_lowercase(),
                n.sample.len()
            ),
            ColumnProfile::Categorical(c) => {
                let mut top: Vec<(&String, &u64)> = c.categories.iter().collect();
                top.sort_by(|a, b| b.1.cmp(a.1).then(a.0.cmp(b.0)));
                let shown: Vec<String> = top
                    .iter()
                    .take(5)
                    .map(|(k, v)| format!("{k} {:.1}%", **v as f64 * 100.0 / (c.count.max(1)) as f64))
                    .collect();
                println!(
                    "{name:<24} {:<12} {:>10} {:>8}  {} categories: {}{}",
                    "categorical",
                    c.count,
                    c.nulls,
                    c.distinct,
                    shown.join(", "),
                    if c.other > 0 { format!("; {} values in pooled categories", c.other) } else { String::new() }
                )
            }
        }
    }
}
