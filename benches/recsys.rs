//! The recsys check at scale: 1,000,000 users × 10 items per list against a
//! 100,000-item catalog (category, popularity, 16-dimension embeddings),
//! with the previous window's lists for stability, per arm. The tables are
//! built in memory (not timed); the check's evaluation is, with the peak
//! memory it adds.
//!
//! `cargo bench --bench recsys [-- USERS ITEMS]`

use std::time::Instant;

use mlwatch::checks::recsys::RecsysConfig;
use mlwatch::checks::{CheckKind, EvalContext};
use mlwatch::sources::SourceMeta;
use polars::prelude::*;
use rand::{Rng, SeedableRng};

const K: usize = 10;

fn rss_mib(field: &str) -> f64 {
    let status = std::fs::read_to_string("/proc/self/status").unwrap_or_default();
    let kib: f64 = status.lines().find(|l| l.starts_with(field)).and_then(|l| l.split_whitespace().nth(1)?.parse().ok()).unwrap_or(0.0);
    kib / 1024.0
}

/// Lists of `users` users, items drawn from a skewed popularity over `items`.
/// Columns are built straight from iterators: no temporary vectors of
/// strings, so what stays resident afterwards is the tables themselves.
fn lists(users: usize, items: usize, rng: &mut rand_chacha::ChaCha8Rng) -> DataFrame {
    let n = users * K;
    let user = StringChunked::from_iter_values("user_id".into(), (0..n).map(|i| format!("u{:07}", i / K)));
    // Squaring a uniform draw skews towards low ids (the popular ones).
    let item = StringChunked::from_iter_values(
        "item_id".into(),
        (0..n).map(|_| {
            let x: f64 = rng.random();
            format!("i{:06}", ((x * x) * items as f64) as usize)
        }),
    );
    let arm = StringChunked::from_iter_values("arm".into(), (0..n).map(|i| if (i / K) % 2 == 0 { "control" } else { "treatment" }));
    let rank = UInt32Chunked::from_iter_values("rank".into(), (0..n).map(|i| (i % K) as u32 + 1));
    DataFrame::new_infer_height(vec![user.into_column(), rank.into_column(), item.into_column(), arm.into_column()]).unwrap()
}

fn catalog(items: usize, rng: &mut rand_chacha::ChaCha8Rng) -> DataFrame {
    let ids: Vec<String> = (0..items).map(|i| format!("i{i:06}")).collect();
    let category: Vec<String> = (0..items).map(|i| format!("c{:02}", i % 40)).collect();
    let popularity: Vec<u32> = (0..items).map(|i| (1_000_000 / (i + 1)) as u32).collect();
    let embedding: Vec<Series> = (0..items).map(|_| Series::new("".into(), (0..16).map(|_| rng.random::<f32>() - 0.5).collect::<Vec<f32>>())).collect();
    df!("item_id" => ids, "category" => category, "popularity" => popularity, "embedding" => embedding).unwrap()
}

fn main() {
    let args: Vec<usize> = std::env::args().skip(1).filter_map(|a| a.parse().ok()).collect();
    let (users, items) = (args.first().copied().unwrap_or(1_000_000), args.get(1).copied().unwrap_or(100_000));
    let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(1);
    let t = Instant::now();
    let (current, previous, items_df) = (lists(users, items, &mut rng), lists(users, items, &mut rng), catalog(items, &mut rng));
    println!("tables: {users} users × {K} items, {items}-item catalog, built in {:.1} s ({:.0} MiB resident)", t.elapsed().as_secs_f64(), rss_mib("VmRSS:"));

    let check = serde_saphyr::from_str::<RecsysConfig>(
        "{ user: user_id, item: item_id, arm: arm, k: 10, stability: true, \
           catalog: { source: items, category: category, popularity: popularity, embedding: embedding } }",
    )
    .unwrap()
    .validate()
    .unwrap();
    let meta = SourceMeta { rows: current.height() as u64, ..Default::default() };
    let cx = EvalContext { tenant: Some("acme"), side: &[&items_df, &previous], ..EvalContext::new(&current, &meta, chrono::Utc::now()) };
    for run in 1..=3 {
        // Reset the peak so it measures this evaluation (Linux: clear_refs 5).
        let _ = std::fs::write("/proc/self/clear_refs", "5");
        let before = rss_mib("VmRSS:");
        let t = Instant::now();
        let series = check.evaluate(&cx).unwrap();
        let took = t.elapsed();
        println!(
            "run {run}: {:.2} s, peak {:.0} MiB resident ({:+.0} MiB over the tables); {} series, coverage {:.3}, gini {:.3}",
            took.as_secs_f64(),
            rss_mib("VmHWM:"),
            rss_mib("VmHWM:") - before,
            series.len(),
            series[0].values["coverage"],
            series[0].values["gini"]
        );
    }
}
