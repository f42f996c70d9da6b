//! The floor for `mlwatch drift`: read the same columns of both files and sort
//! each numeric column once (with mlwatch's own, fastest, sort), in parallel
//! across columns, and nothing else.
//! Also prints the in-memory size of the columns read, for the memory target.
//!
//! Usage: `cargo run --release --example drift_floor -- BASELINE CURRENT`

use std::path::Path;
use std::time::Instant;

use mlwatch::sources::read::read_file;
use polars::prelude::*;
use rayon::prelude::*;

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let [base, cur] = args.as_slice() else { return Err("usage: drift_floor BASELINE CURRENT".into()) };
    let start = Instant::now();
    let frames = [read_file(Path::new(base), None, None)?, read_file(Path::new(cur), None, None)?];
    let read = start.elapsed();
    let bytes: usize = frames.iter().map(|f| f.estimated_size()).sum();
    let sorted: usize = frames
        .par_iter()
        .flat_map(|f| f.columns().par_iter())
        .filter(|c| c.dtype().is_primitive_numeric())
        .map(|c| {
            let v: Vec<f64> = c.cast(&DataType::Float64).unwrap().f64().unwrap().into_no_null_iter().collect();
            // The same sort mlwatch uses, so the floor is as fast as it can be.
            mlwatch::stats::sorted(v).len()
        })
        .sum();
    println!(
        "floor: read {:.2}s, read+sort {:.2}s ({sorted} values sorted); columns read {:.0} MiB",
        read.as_secs_f64(),
        start.elapsed().as_secs_f64(),
        bytes as f64 / 1048576.0
    );
    Ok(())
}
