//! A JSON-lines data file, read whole and by one column.
#![no_main]

use libfuzzer_sys::fuzz_target;
use mlwatch::sources::read::{FileFormat, read_file};

fuzz_target!(|data: &[u8]| {
    let path = common::scratch().join("data.jsonl");
    std::fs::write(&path, data).unwrap();
    let _ = read_file(&path, Some(FileFormat::Jsonl), None);
    let _ = read_file(&path, Some(FileFormat::Jsonl), Some(&["x".to_string()]));
});

#[path = "common.rs"]
mod common;
