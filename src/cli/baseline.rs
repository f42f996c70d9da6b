//! `mlwatch baseline build` and `mlwatch baseline show`.

use std::path::Path;
use std::process::ExitCode;

use super::{BaselineBuildArgs, ProfileArgs, data};
use crate::baseline::{BuildOptions, ColumnProfile, Profile, build_profile};

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

pub fn show(path: &Path) -> ExitCode {
    let profile = match Profile::load(path) {
        Ok(p) => p,
        Err(e) => {
            eprintln!("mlwatch baseline show: {e}");
            return ExitCode::from(2);
        }
    };
    println!("{}: {} version {}", path.display(), profile.format, profile.version);
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
    ExitCode::SUCCESS
}
