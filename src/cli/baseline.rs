//! `mlwatch baseline build`.

use std::process::ExitCode;

use polars::prelude::*;

use super::BaselineBuildArgs;
use crate::baseline::{BuildOptions, build_profile};
use crate::sources::read::read_file;

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

fn try_build(args: &BaselineBuildArgs) -> Result<String, String> {
    let mut files = Vec::new();
    for pattern in &args.source {
        let matched: Vec<_> = glob::glob(pattern)
            .map_err(|e| format!("--source `{pattern}`: invalid glob: {e}"))?
            .filter_map(Result::ok)
            .filter(|p| p.is_file())
            .collect();
        if matched.is_empty() {
            return Err(format!("--source `{pattern}` matches no files"));
        }
        files.extend(matched);
    }
    let columns = (!args.columns.is_empty()).then_some(args.columns.as_slice());
    let mut frame: Option<DataFrame> = None;
    for f in &files {
        let df = read_file(f, None, columns).map_err(|e| e.to_string())?;
        frame = Some(match frame {
            None => df,
            Some(mut acc) => {
                acc.vstack_mut(&df).map_err(|e| format!("{}: does not stack with the files before it: {e}", f.display()))?;
                acc
            }
        });
    }
    let mut frame = frame.expect("at least one file");
    frame.rechunk_mut();
    let opts = BuildOptions { columns: args.columns.clone(), bins: args.bins as usize, sample: args.sample, seed: args.seed };
    let profile = build_profile(&frame, &args.source.join(" "), &opts)?;
    profile.save(&args.out).map_err(|e| format!("cannot write {}: {e}", args.out.display()))?;
    Ok(format!(
        "wrote {}: {} rows from {} file{}, {} column{} ({})",
        args.out.display(),
        profile.rows,
        files.len(),
        if files.len() == 1 { "" } else { "s" },
        profile.columns.len(),
        if profile.columns.len() == 1 { "" } else { "s" },
        profile.columns.keys().cloned().collect::<Vec<_>>().join(", ")
    ))
}
