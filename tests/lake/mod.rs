//! A seeded multi-tenant lake, written by the tests that need it (never
//! committed as data): `{tenant}/features/dt={date}/part-0.csv` with an event
//! time and two features whose distributions differ per tenant.
//!
//! The story of `incident_lake`, over 10 days from 2026-11-01:
//! - `acme` (users about 24), `globex` (about 40) and `initech` (about 32)
//!   from day 1; `umbrella` (about 55) appears on day 6;
//! - `globex`'s `age` shifts up by 15 years from day 8;
//! - `initech`'s partitions stop after day 8.
#![allow(dead_code)]

use std::path::Path;

use rand::{Rng, SeedableRng};
use rand_distr::{Distribution, Normal};

pub const FIRST_DAY: &str = "2026-11-01";
pub const ROWS_PER_DAY: usize = 2400;

/// One tenant's days: (tenant, mean age, first day, last day, shift of age from which day).
pub struct Tenant {
    pub name: &'static str,
    pub mean_age: f64,
    pub days: std::ops::RangeInclusive<u32>,
    pub shift: Option<(u32, f64)>,
}

pub fn incident_tenants() -> Vec<Tenant> {
    vec![
        Tenant { name: "acme", mean_age: 24.0, days: 1..=10, shift: None },
        Tenant { name: "globex", mean_age: 40.0, days: 1..=10, shift: Some((8, 15.0)) },
        Tenant { name: "initech", mean_age: 32.0, days: 1..=8, shift: None },
        Tenant { name: "umbrella", mean_age: 55.0, days: 6..=10, shift: None },
    ]
}

/// Write the lake of `tenants` under `root`, seeded.
pub fn write_lake(root: &Path, tenants: &[Tenant], seed: u64) {
    let start = chrono::NaiveDate::parse_from_str(FIRST_DAY, "%Y-%m-%d").unwrap();
    for (i, t) in tenants.iter().enumerate() {
        let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(seed + i as u64);
        for day in t.days.clone() {
            let date = start + chrono::Days::new(u64::from(day) - 1);
            let shift = t.shift.filter(|(from, _)| day >= *from).map_or(0.0, |(_, s)| s);
            let age = Normal::new(t.mean_age + shift, 6.0).unwrap();
            let sessions = Normal::new(10.0, 3.0).unwrap();
            let dir = root.join(t.name).join("features").join(format!("dt={date}"));
            std::fs::create_dir_all(&dir).unwrap();
            let mut body = String::from("ts,age,sessions_7d\n");
            for r in 0..ROWS_PER_DAY {
                let secs = (r * 86_400 / ROWS_PER_DAY) as u32 + rng.random_range(0..30);
                let ts = date.and_hms_opt(0, 0, 0).unwrap().and_utc() + chrono::Duration::seconds(secs.into());
                body.push_str(&format!("{},{:.1},{:.2}\n", ts.format("%Y-%m-%dT%H:%M:%SZ"), age.sample(&mut rng), sessions.sample(&mut rng)));
            }
            std::fs::write(dir.join("part-0.csv"), body).unwrap();
        }
    }
}
