//! Expected against got, as a readable diff: alerts matched by their label
//! sets (a near miss shows the labels that differ), annotations line by line,
//! values with their tolerance.

use std::collections::BTreeMap;
use std::fmt::Write as _;

use crate::labels::{Labels, show as show_labels};
use crate::rules::alert::Alert;

/// An alert as a test expects it.
pub struct Expected {
    pub labels: Labels,
    pub annotations: BTreeMap<String, String>,
}

/// The differences between the alerts expected and the alerts got, one
/// line each; empty when they agree. `elsewhere` says where a missing alert
/// is instead (pending rather than firing, say), if anywhere.
pub fn alerts(expected: &[Expected], got: &[&Alert], elsewhere: &dyn Fn(&Labels) -> Option<String>) -> Vec<String> {
    let mut lines = Vec::new();
    let mut left_expected: Vec<&Expected> = Vec::new();
    let mut left_got: Vec<&Alert> = got.to_vec();
    for e in expected {
        match left_got.iter().position(|g| g.labels == e.labels) {
            Some(i) => {
                let g = left_got.remove(i);
                annotations(e, g, &mut lines);
            }
            None => left_expected.push(e),
        }
    }
    // A near miss (most labels in common) reads best as the labels that differ.
    for e in left_expected {
        let nearest = left_got
            .iter()
            .enumerate()
            .map(|(i, g)| (i, e.labels.iter().filter(|(k, v)| g.labels.get(*k) == Some(v)).count()))
            .filter(|(_, common)| *common > 1)
            .max_by_key(|(_, common)| *common);
        match nearest {
            Some((i, _)) => {
                let g = left_got.remove(i);
                lines.push(format!("~ {}: labels differ:", show_labels(&e.labels)));
                let keys: std::collections::BTreeSet<&String> = e.labels.keys().chain(g.labels.keys()).collect();
                for k in keys {
                    match (e.labels.get(k), g.labels.get(k)) {
                        (a, b) if a == b => {}
                        (Some(a), Some(b)) => lines.push(format!("    {k}: expected {a:?}, got {b:?}")),
                        (Some(a), None) => lines.push(format!("    {k}: expected {a:?}, got no such label")),
                        (None, Some(b)) => lines.push(format!("    {k}: not expected, got {b:?}")),
                        (None, None) => {}
                    }
                }
                annotations(e, g, &mut lines);
            }
            None => {
                let instead = elsewhere(&e.labels).map(|w| format!(" ({w})")).unwrap_or_default();
                lines.push(format!("- {}  expected, missing{instead}", show_labels(&e.labels)));
            }
        }
    }
    for g in left_got {
        lines.push(format!("+ {}  not expected, got it", show_labels(&g.labels)));
    }
    lines
}

fn annotations(e: &Expected, g: &Alert, lines: &mut Vec<String>) {
    for (k, want) in &e.annotations {
        match g.annotations.get(k) {
            Some(got) if got == want => {}
            Some(got) => {
                lines.push(format!("~ {}: annotation `{k}`:", show_labels(&e.labels)));
                lines.push(format!("    - expected: {want:?}"));
                lines.push(format!("    + got:      {got:?}"));
            }
            None => lines.push(format!("~ {}: annotation `{k}`: expected {want:?}, the alert has none", show_labels(&e.labels))),
        }
    }
}

/// Whether `got` is within `tolerance` of `expected`, and if not, why.
pub fn value(expected: f64, tolerance: Option<f64>, got: f64) -> Result<(), String> {
    let tolerance = tolerance.unwrap_or(1e-9 * expected.abs().max(1.0));
    if (got - expected).abs() <= tolerance || (got.is_nan() && expected.is_nan()) {
        return Ok(());
    }
    let mut s = format!("expected {expected} ± {tolerance}, got {got}");
    if got.is_finite() {
        let _ = write!(s, " (off by {})", got - expected);
    }
    Err(s)
}
