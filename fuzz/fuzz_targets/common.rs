//! A scratch directory per fuzzing process, for targets whose input is a file.
#![allow(dead_code)]

use std::path::PathBuf;
use std::sync::OnceLock;

pub fn scratch() -> &'static PathBuf {
    static DIR: OnceLock<PathBuf> = OnceLock::new();
    DIR.get_or_init(|| {
        let base = if std::path::Path::new("/dev/shm").is_dir() { PathBuf::from("/dev/shm") } else { std::env::temp_dir() };
        let dir = base.join(format!("mlwatch-fuzz-{}", std::process::id()));
        std::fs::create_dir_all(&dir).expect("scratch directory");
        dir
    })
}

/// A config with one file source and one rule file, `rules.yaml`, beside it.
pub const CONFIG: &str = "sources:
  features: { kind: file, path: \"data/*.csv\", timestamp: ts, tenant: tenant }
rule_files: [\"rules.yaml\"]
route: { receiver: console }
receivers:
  - name: console
    stdout: [{}]
";

/// A rule file that loads with [`CONFIG`].
pub const RULES: &str = "groups:
  - name: drift
    source: features
    interval: 15m
    window: 1h
    per_tenant: true
    rules:
      - alert: Drift
        check: { drift: { columns: [x], method: [psi, ks] } }
        baseline: { reference: { offset: 7d, window: 1d } }
        when: \"psi > 0.2 or (ks_pvalue < 0.01 and ks_statistic > 0.1)\"
        for: 5m
        labels: { severity: page }
        annotations: { summary: \"PSI {{ value | round(3) }} on {{ labels.column }}\" }
";
