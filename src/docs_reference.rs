//! The reference in `docs/` against the declarations it documents: every
//! check kind's value table (generated from its spec) and every key of
//! every configuration, rule-file and rule-test struct (asked of the
//! structs themselves). A value or option added without its documentation
//! fails here, with what to add.

use crate::alerting::notifiers::{alertmanager::AlertmanagerConfig, email, slack::SlackConfig, stdout::StdoutConfig, webhook::WebhookConfig};
use crate::alerting::{ReceiverConfig, inhibit::InhibitRule, route::RouteConfig};
use crate::checks::{self, contract, slo, recsys};
use crate::config::{RawConfig, ServerConfig, StorageConfig};
use crate::rules::raw::{RawBaseline, RawGroup, RawReference, RawRule, RawRuleFile};
use crate::ruletest::spec as test_file;
use crate::sources::{FileSourceConfig, LogSourceConfig};
use crate::util::fields::undocumented;

fn page(path: &str) -> String {
    std::fs::read_to_string(format!("{}/docs/{path}", env!("CARGO_MANIFEST_DIR"))).unwrap_or_else(|e| panic!("docs/{path}: {e}"))
}

/// Keys of `T` that `path` does not name, as `docs/path: Struct: a, b`.
fn missing<'de, T: serde::Deserialize<'de>>(path: &str) -> Option<String> {
    let gaps = undocumented::<T>(&page(path));
    let name = std::any::type_name::<T>().rsplit("::").next().unwrap_or_default();
    (!gaps.is_empty()).then(|| format!("docs/{path}: {name}: {}", gaps.join(", ")))
}

#[test]
fn every_check_kind_has_a_page_with_its_current_value_table() {
    // When a kind changes, paste the table this failure prints into its page.
    let stale: Vec<String> = checks::specs()
        .into_iter()
        .map(|spec| (spec.kind, contract::value_table(spec)))
        .filter(|(kind, table)| !page(&format!("checks/{kind}.md")).contains(table))
        .map(|(kind, table)| format!("docs/checks/{kind}.md:\n{table}"))
        .collect();
    assert!(stale.is_empty(), "stale value tables:\n{}", stale.join("\n"));
}

#[test]
fn every_option_of_every_check_kind_is_on_its_page() {
    let gaps: Vec<String> = [
        missing::<checks::DriftConfig>("checks/drift.md"),
        missing::<slo::SloConfig>("checks/slo.md"),
        missing::<slo::windows::RawAlertWindows>("checks/slo.md"),
        missing::<slo::windows::RawPair>("checks/slo.md"),
        missing::<checks::freshness::FreshnessConfig>("checks/freshness.md"),
        missing::<checks::volume::VolumeConfig>("checks/volume.md"),
        missing::<checks::quality::QualityConfig>("checks/quality.md"),
        missing::<recsys::RecsysConfig>("checks/recsys.md"),
        missing::<recsys::RawCatalog>("checks/recsys.md"),
        missing::<recsys::RawPairs>("checks/recsys.md"),
        missing::<recsys::RawFeedback>("checks/recsys.md"),
        missing::<checks::ab::AbConfig>("checks/ab.md"),
        missing::<checks::anomaly::AnomalyConfig>("checks/anomaly.md"),
    ]
    .into_iter()
    .flatten()
    .collect();
    assert!(gaps.is_empty(), "undocumented options:\n{}", gaps.join("\n"));
}

#[test]
fn every_key_of_the_config_rule_and_test_files_is_documented() {
    let gaps: Vec<String> = [
        missing::<RawConfig>("configuration.md"),
        missing::<ServerConfig>("configuration.md"),
        missing::<StorageConfig>("configuration.md"),
        missing::<crate::shard::ShardingConfig>("configuration.md"),
        missing::<FileSourceConfig>("configuration.md"),
        missing::<LogSourceConfig>("configuration.md"),
        missing::<crate::sources::remote::ObjectStoreConfig>("configuration.md"),
        missing::<RouteConfig>("alerting.md"),
        missing::<InhibitRule>("alerting.md"),
        missing::<ReceiverConfig>("alerting.md"),
        missing::<StdoutConfig>("alerting.md"),
        missing::<SlackConfig>("alerting.md"),
        missing::<email::EmailConfig>("alerting.md"),
        missing::<email::TlsConfig>("alerting.md"),
        missing::<WebhookConfig>("alerting.md"),
        missing::<AlertmanagerConfig>("alerting.md"),
        missing::<RawRuleFile>("rules.md"),
        missing::<RawGroup>("rules.md"),
        missing::<RawRule>("rules.md"),
        missing::<RawBaseline>("rules.md"),
        missing::<RawReference>("rules.md"),
        missing::<test_file::TestFile>("testing.md"),
        missing::<test_file::TestCase>("testing.md"),
        missing::<test_file::Input>("testing.md"),
        missing::<test_file::BaselineInput>("testing.md"),
        missing::<test_file::AlertTest>("testing.md"),
        missing::<test_file::ExpAlert>("testing.md"),
        missing::<test_file::ValueTest>("testing.md"),
    ]
    .into_iter()
    .flatten()
    .collect();
    assert!(gaps.is_empty(), "undocumented keys:\n{}", gaps.join("\n"));
}
