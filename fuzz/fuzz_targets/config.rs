//! The main config file, loaded and validated with a good rule file beside it.
#![no_main]

use libfuzzer_sys::fuzz_target;

#[path = "common.rs"]
mod common;

fuzz_target!(|data: &[u8]| {
    let dir = common::scratch();
    std::fs::write(dir.join("mlwatch.yaml"), data).unwrap();
    std::fs::write(dir.join("rules.yaml"), common::RULES).unwrap();
    let _ = mlwatch::config::load(&dir.join("mlwatch.yaml"));
});
