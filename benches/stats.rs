//! Micro-benchmarks of the drift statistics on one column of 2,000,000 values
//! (the per-column work of `mlwatch drift`; `scripts/bench-drift.sh` measures
//! the command end to end). Run: `cargo bench --bench stats`.

use criterion::{Criterion, criterion_group, criterion_main};
use mlwatch::stats::{chi2, divergence, ks, psi, quantile, sorted};
use rand::SeedableRng;
use rand_distr::{Distribution, Normal};

const N: usize = 2_000_000;

fn column(shift: f64, seed: u64) -> Vec<f64> {
    let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(seed);
    let normal = Normal::new(shift, 1.0).unwrap();
    (0..N).map(|_| normal.sample(&mut rng)).collect()
}

fn bench(c: &mut Criterion) {
    let base = sorted(column(0.0, 1));
    let cur_raw = column(0.01, 2);
    let cur = sorted(cur_raw.clone());
    let edges = quantile::quantile_edges(&base, 10);
    let base_counts = psi::bin_counts(&edges, &base);
    let mut g = c.benchmark_group("column_2m");
    g.sample_size(10);
    g.bench_function("sort", |b| b.iter(|| sorted(cur_raw.clone())));
    g.bench_function("psi (bin + index)", |b| {
        b.iter(|| psi::psi_from_counts(&base_counts, &psi::bin_counts(&edges, &cur), 1e-4))
    });
    g.bench_function("ks (sorted inputs)", |b| b.iter(|| ks::ks_2samp(&base, &cur).unwrap()));
    g.bench_function("wasserstein (sorted inputs)", |b| b.iter(|| divergence::wasserstein_1(&base, &cur)));
    let cur_counts = psi::bin_counts(&edges, &cur);
    g.bench_function("chi2 over bins", |b| b.iter(|| chi2::chi2_gof(&base_counts, &cur_counts, 0, 1e-4).unwrap()));
    g.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
