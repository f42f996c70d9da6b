//! An annotation template, compiled and rendered under the agent's limits.
#![no_main]

use std::collections::BTreeMap;

use libfuzzer_sys::fuzz_target;
use mlwatch::rules::template::{TemplateContext, Templates};

fuzz_target!(|data: &[u8]| {
    let Ok(source) = std::str::from_utf8(data) else { return };
    let mut templates = Templates::new();
    if templates.add("t".into(), source.into()).is_err() {
        return;
    }
    let values = BTreeMap::from([("psi", 0.31), ("rows", 1200.0)]);
    let labels = BTreeMap::from([("tenant".to_string(), "acme".to_string()), ("column".to_string(), "age".to_string())]);
    let out = templates.render("t", &TemplateContext { value: Some(0.31), values: &values, labels: &labels });
    assert!(out.len() <= mlwatch::rules::template::TEMPLATE_MAX_OUTPUT + 200, "output past the cap");
});
