//! A silence or route matcher (`name=~"regex"`), parsed and applied.
#![no_main]

use libfuzzer_sys::fuzz_target;
use mlwatch::alerting::matcher::Matcher;
use mlwatch::labels::Labels;

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else { return };
    if let Ok(m) = Matcher::parse(text) {
        let labels = Labels::from([("alertname".to_string(), "Drift".to_string()), ("tenant".to_string(), "acme".to_string())]);
        let _ = m.matches(&labels);
        let _ = m.matches(&Labels::new());
    }
});
