//! Reading the data files named on the command line, with progress on large input.

use std::path::{Path, PathBuf};

use indicatif::{ProgressBar, ProgressStyle};
use polars::prelude::*;

use crate::sources::read::{Access, read_file_with};

/// The files one argument names: the file itself when it exists (so
/// `cur[1].csv` is a name, not a pattern), else the regular files its glob
/// pattern matches.
fn expand(arg: &str) -> Result<Vec<PathBuf>, String> {
    let path = Path::new(arg);
    if path.symlink_metadata().is_ok() {
        crate::util::fs::check_regular(path).map_err(|e| format!("{arg}: {e}"))?;
        return Ok(vec![path.to_path_buf()]);
    }
    let matched: Vec<PathBuf> = glob::glob(arg)
        .map_err(|e| format!("`{arg}`: no such file, and not a valid glob pattern: {e}"))?
        .filter_map(Result::ok)
        .filter(|p| p.is_file())
        .collect();
    if matched.is_empty() {
        return Err(format!("`{arg}`: no such file, and no file matches it as a glob pattern"));
    }
    Ok(matched)
}

/// Every file matching `patterns`, read (only `columns`, when given) and stacked.
pub fn read_all(patterns: &[String], columns: Option<&[String]>) -> Result<(DataFrame, usize), String> {
    let mut files: Vec<PathBuf> = Vec::new();
    for pattern in patterns {
        files.extend(expand(pattern)?);
    }
    let bytes: u64 = files.iter().filter_map(|f| f.metadata().ok()).map(|m| m.len()).sum();
    // A bar only for input worth waiting on; indicatif draws nothing off a terminal.
    let bar = if bytes > 64 << 20 { ProgressBar::new(bytes) } else { ProgressBar::hidden() };
    bar.set_style(
        ProgressStyle::with_template("reading {bytes}/{total_bytes} [{bar:30}] {elapsed} {msg}")
            .expect("valid template")
            .progress_chars("=> "),
    );
    let mut frame: Option<DataFrame> = None;
    for f in &files {
        bar.set_message(f.display().to_string());
        // Mapped: the user's own files, read once, at the speed and memory of mmap.
        let df = read_file_with(f, None, columns, Access::Mapped).map_err(|e| e.to_string())?;
        frame = Some(match frame {
            None => df,
            Some(mut acc) => {
                acc.vstack_mut(&df).map_err(|e| format!("{}: does not stack with the files before it: {e}", f.display()))?;
                acc
            }
        });
        bar.inc(f.metadata().map(|m| m.len()).unwrap_or(0));
    }
    bar.finish_and_clear();
    // Left in chunks: readers of columns go chunk by chunk, and a rechunk would
    // copy every column once more.
    Ok((frame.expect("at least one file"), files.len()))
}
