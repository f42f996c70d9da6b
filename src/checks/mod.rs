//! Checks: what a rule computes over a source window and a baseline. A check
//! yields labelled series of named values (`psi{column="age"} = 0.31`); rules
//! decide what is wrong, the metrics module exports every value.
//!
//! Every kind follows one contract ([`contract`]): it declares its labels and
//! values in a [`CheckSpec`] and computes them from an [`EvalContext`].

pub mod ab;
pub mod anomaly;
pub mod contract;
pub mod drift;
pub mod freshness;
pub mod quality;
pub mod recsys;
pub mod slo;
pub mod table;
pub mod volume;

use serde::Deserialize;

pub use contract::{CheckKind, CheckSpec, ENGINE_VALUES, EvalContext, History, NoHistory, Unit, ValueSpec};
pub use drift::{DriftCheck, DriftConfig, DriftMethod};

use crate::labels::Labels;

/// The closed set of check kinds: `Variant(config type => validated type)`.
/// Adding a kind is one line here and the kind's own file.
macro_rules! checks {
    ($($variant:ident($config:ty => $check:ty),)+) => {
        /// A check as written in a rule (`check: { drift: {...} }`).
        #[derive(Debug, Clone, Deserialize)]
        #[serde(rename_all = "snake_case", deny_unknown_fields)]
        pub enum CheckConfig {
            $($variant($config),)+
        }

        /// A validated check.
        #[derive(Debug, Clone)]
        pub enum Check {
            $($variant($check),)+
        }

        impl CheckConfig {
            pub fn validate(&self) -> Result<Check, String> {
                match self {
                    $(CheckConfig::$variant(c) => c.validate().map(Check::$variant),)+
                }
            }
        }

        impl Check {
            /// The kind's behaviour.
            pub fn kind(&self) -> &dyn CheckKind {
                match self {
                    $(Check::$variant(c) => c,)+
                }
            }
        }

        /// Every kind's declaration, for metric registration and the docs.
        pub fn specs() -> Vec<&'static CheckSpec> {
            vec![$(<$check>::SPEC,)+]
        }
    };
}

checks! {
    Drift(DriftConfig => DriftCheck),
    Slo(slo::SloConfig => slo::SloCheck),
    Freshness(freshness::FreshnessConfig => freshness::FreshnessCheck),
    Volume(volume::VolumeConfig => volume::VolumeCheck),
    Quality(quality::QualityConfig => quality::QualityCheck),
    Recsys(recsys::RecsysConfig => recsys::RecsysCheck),
    Ab(ab::AbConfig => ab::AbCheck),
    Anomaly(anomaly::AnomalyConfig => anomaly::AnomalyCheck),
}

/// One labelled series a check produced.
#[derive(Debug, Clone, PartialEq)]
pub struct Series {
    /// The spec's label keys, each with a value (e.g. `column`). Bounded: never ids.
    pub labels: Labels,
    /// Named values. Figures are missing when there was not enough data (see `note`).
    pub values: std::collections::BTreeMap<&'static str, f64>,
    /// Why values are missing, when they are.
    pub note: Option<String>,
    /// The window's distribution beside the baseline's (drift), for pictures.
    pub distribution: Option<std::sync::Arc<drift::distribution::Distribution>>,
}

impl Series {
    pub fn new(labels: Labels, values: std::collections::BTreeMap<&'static str, f64>, note: Option<String>) -> Series {
        Series { labels, values, note, distribution: None }
    }
}

/// Why a check could not run at all.
#[derive(Debug, thiserror::Error)]
pub enum CheckError {
    #[error("column `{column}`: {message}")]
    Column { column: String, message: String },
    #[error("this check needs a baseline")]
    NoBaseline,
}

impl Check {
    pub fn spec(&self) -> &'static CheckSpec {
        self.kind().spec()
    }

    /// Names a `when` condition may use: the check's values and the engine's.
    pub fn variables(&self) -> Vec<&'static str> {
        let mut v = self.kind().values();
        v.extend(ENGINE_VALUES.iter().map(|e| e.name));
        v
    }

    /// Every label key a series of any kind can carry, besides `rule` and `tenant`.
    pub fn all_label_keys() -> Vec<&'static str> {
        let mut keys: Vec<&'static str> = specs().iter().flat_map(|s| s.labels.iter().copied()).collect();
        keys.sort_unstable();
        keys.dedup();
        keys
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_spec_is_consistent() {
        let mut metrics = std::collections::HashSet::new();
        for spec in specs() {
            assert!(spec.value(spec.primary).is_some(), "{}: primary `{}` is not a declared value", spec.kind, spec.primary);
            for v in spec.values.iter().chain(ENGINE_VALUES) {
                if let Some(m) = v.metric {
                    assert!(m.starts_with("mlwatch_"), "{m}");
                    assert!(metrics.insert((spec.kind, m)), "{}: metric {m} declared twice", spec.kind);
                }
                assert!(!v.help.is_empty());
            }
            for v in spec.values {
                assert!(!ENGINE_VALUES.iter().any(|e| e.name == v.name), "{}: `{}` shadows an engine value", spec.kind, v.name);
            }
        }
    }
}
