//! A rule file, loaded and validated the way `mlwatch check` and a reload do.
#![no_main]

use libfuzzer_sys::fuzz_target;

#[path = "common.rs"]
mod common;

fuzz_target!(|data: &[u8]| {
    let dir = common::scratch();
    std::fs::write(dir.join("mlwatch.yaml"), common::CONFIG).unwrap();
    std::fs::write(dir.join("rules.yaml"), data).unwrap();
    let _ = mlwatch::config::load(&dir.join("mlwatch.yaml"));
});
