//! Inhibition: while a source alert fires, target alerts with the same values
//! of the `equal` labels are not notified (e.g. a stalled pipeline mutes the
//! drift alerts of the same tenant).

use serde::Deserialize;

use super::matcher::{Matcher, all_match};
use crate::labels::Labels;

/// `inhibit_rules:` entries.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct InhibitRule {
    pub source_matchers: Vec<Matcher>,
    pub target_matchers: Vec<Matcher>,
    /// Labels whose values must be equal in source and target (missing counts as empty).
    #[serde(default)]
    pub equal: Vec<String>,
}

impl InhibitRule {
    pub fn validate(&self) -> Result<(), String> {
        if self.source_matchers.is_empty() || self.target_matchers.is_empty() {
            return Err("inhibit rule: `source_matchers` and `target_matchers` must not be empty".into());
        }
        Ok(())
    }
}

/// Whether `target` is inhibited by one of the `firing` alerts under `rules`.
/// An alert never inhibits itself.
pub fn inhibited<'a>(rules: &[InhibitRule], target: &Labels, firing: impl Iterator<Item = &'a Labels> + Clone) -> bool {
    rules.iter().any(|rule| {
        all_match(&rule.target_matchers, target)
            && firing.clone().any(|source| {
                source != target
                    && all_match(&rule.source_matchers, source)
                    && rule.equal.iter().all(|l| source.get(l).map(String::as_str).unwrap_or("") == target.get(l).map(String::as_str).unwrap_or(""))
            })
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn labels(pairs: &[(&str, &str)]) -> Labels {
        pairs.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect()
    }

    #[test]
    fn a_stalled_pipeline_mutes_drift_of_the_same_tenant_only() {
        let rules: Vec<InhibitRule> = serde_saphyr::from_str(
            "- source_matchers: ['alertname=\"PipelineStalled\"']\n  target_matchers: ['alertname=~\".*Drift\"']\n  equal: [tenant]\n",
        )
        .unwrap();
        let stalled = labels(&[("alertname", "PipelineStalled"), ("tenant", "acme")]);
        let drift_acme = labels(&[("alertname", "FeatureDrift"), ("tenant", "acme")]);
        let drift_globex = labels(&[("alertname", "FeatureDrift"), ("tenant", "globex")]);
        let firing = [stalled.clone(), drift_acme.clone(), drift_globex.clone()];
        assert!(inhibited(&rules, &drift_acme, firing.iter()));
        assert!(!inhibited(&rules, &drift_globex, firing.iter()));
        assert!(!inhibited(&rules, &stalled, firing.iter()));
        assert!(!inhibited(&rules, &drift_acme, [drift_globex].iter()), "no source firing");
    }
}
