//! Generates the data of a simulated multi-tenant recommender, for the demo.
//!
//! - `reference/{tenant}/features.parquet`: each tenant's healthy week (its baseline).
//! - `lake/{tenant}/features/dt={date}/part-0.parquet`: the last two hours of
//!   features per tenant, with event times relative to now. Over the last hour,
//!   tenant `globex` drifts: its users' `sessions_7d` roughly doubles (a broken
//!   upstream join counting sessions twice).
//!
//! Values are deterministic (seeded); only the event times follow the clock.
//!
//! Usage: `cargo run --example recsys -- --out examples/recsys/data`

use std::path::{Path, PathBuf};

use chrono::{DateTime, Duration, Utc};
use polars::prelude::*;
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use rand_distr::{Distribution, Gamma, LogNormal, Normal};

const TENANTS: &[&str] = &["acme", "globex", "initech"];
const DEVICES: &[&str] = &["android", "ios", "web"];

/// Which incident, if any, shapes a row.
#[derive(Clone, Copy, PartialEq)]
enum Regime {
    Healthy,
    DoubleCountedSessions,
}

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let out = parse_out()?;
    let now = Utc::now();
    let mut rng = ChaCha8Rng::seed_from_u64(42);

    // Baselines: each tenant's healthy week, a week ago.
    let week_ago = now - Duration::days(7);
    for &tenant in TENANTS {
        let mut reference = features(&mut rng, tenant, 10_000, week_ago - Duration::days(7), week_ago, |_| Regime::Healthy)?;
        write(&mut reference, &out.join(format!("reference/{tenant}/features.parquet")))?;
    }

    // Current: two hours per tenant; globex drifts in the last hour.
    let start = now - Duration::hours(2);
    let drift_from = now - Duration::hours(1);
    for &tenant in TENANTS {
        let regime = move |t: DateTime<Utc>| {
            if tenant == "globex" && t > drift_from { Regime::DoubleCountedSessions } else { Regime::Healthy }
        };
        let mut df = features(&mut rng, tenant, 4_000, start, now, regime)?;
        let dir = out.join(format!("lake/{tenant}/features/dt={}", now.format("%Y-%m-%d")));
        write(&mut df, &dir.join("part-0.parquet"))?;
    }
    println!("wrote demo data under {} (baseline: reference/, current: lake/)", out.display());
    Ok(())
}

fn parse_out() -> Result<PathBuf, String> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    match args.as_slice() {
        [flag, dir] if flag == "--out" => Ok(PathBuf::from(dir)),
        _ => Err("usage: recsys --out DIR".into()),
    }
}

/// `n` rows of user features with event times spread over (from, to].
fn features(
    rng: &mut ChaCha8Rng,
    tenant: &str,
    n: usize,
    from: DateTime<Utc>,
    to: DateTime<Utc>,
    regime: impl Fn(DateTime<Utc>) -> Regime,
) -> PolarsResult<DataFrame> {
    let age = Normal::new(36.0, 11.0).unwrap();
    let sessions = Gamma::new(3.0, 2.5).unwrap();
    let basket = LogNormal::new(3.4, 0.6).unwrap();
    let span_ms = (to - from).num_milliseconds();
    let mut cols = (Vec::with_capacity(n), Vec::with_capacity(n), Vec::with_capacity(n), Vec::with_capacity(n), Vec::with_capacity(n), Vec::with_capacity(n));
    for i in 0..n {
        let t = from + Duration::milliseconds(((i as i64 + 1) * span_ms) / n as i64);
        let mut s: f64 = sessions.sample(rng);
        if regime(t) == Regime::DoubleCountedSessions {
            s *= 2.0;
        }
        cols.0.push(t.timestamp_millis());
        cols.1.push(format!("u{}", rng.random_range(0..50_000)));
        cols.2.push(f64::clamp(age.sample(rng), 16.0, 90.0).round());
        cols.3.push(s.round());
        cols.4.push((basket.sample(rng) * 100.0f64).round() / 100.0);
        cols.5.push(DEVICES[rng.random_range(0..DEVICES.len())]);
    }
    let event_time = Column::new("event_time".into(), cols.0).cast(&DataType::Datetime(TimeUnit::Milliseconds, None))?;
    DataFrame::new_infer_height(vec![
        event_time,
        Column::new("tenant".into(), vec![tenant; n]),
        Column::new("user_id".into(), cols.1),
        Column::new("age".into(), cols.2),
        Column::new("sessions_7d".into(), cols.3),
        Column::new("basket_value".into(), cols.4),
        Column::new("device".into(), cols.5),
    ])
}

fn write(df: &mut DataFrame, path: &Path) -> Result<(), Box<dyn std::error::Error>> {
    std::fs::create_dir_all(path.parent().expect("file has a parent"))?;
    ParquetWriter::new(std::fs::File::create(path)?).finish(df)?;
    Ok(())
}
