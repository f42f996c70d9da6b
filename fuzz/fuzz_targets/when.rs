//! A rule's `when`: parsed against the drift check's names, then evaluated.
#![no_main]

use libfuzzer_sys::fuzz_target;
use mlwatch::rules::expr::{eval_condition, parse_condition};

const NAMES: &[&str] = &["value", "psi", "ks_statistic", "ks_pvalue", "rows", "absent", "threshold"];

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else { return };
    if let Ok(expr) = parse_condition(text, NAMES) {
        let _ = eval_condition(&expr, &|name| (name != "absent").then_some(0.25));
        let _ = eval_condition(&expr, &|_| None);
    }
});
