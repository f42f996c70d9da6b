//! Finding a tenant's baseline at evaluation time.
//!
//! A rule names its baseline once (`baseline:` in the rule file); which
//! profile that is depends on the tenant: a file shared by all tenants, or a
//! path template with `{tenant}` whose files are read when first needed and
//! read again when they change.

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};
use std::time::SystemTime;

use super::{Baseline, Profile};
use crate::checks::CheckKind;
use crate::rules::{BaselineSource, BaselineSpec};

/// A per-tenant profile and the modification time of the file it was read from.
type Cached = (Option<SystemTime>, Arc<Baseline>);

/// Profiles the running rules use.
#[derive(Debug, Default)]
pub struct Baselines {
    /// Shared profiles, loaded (and checked) with the configuration.
    fixed: HashMap<PathBuf, Arc<Baseline>>,
    /// Per-tenant profile files, by path, with the modification time they were read at.
    per_tenant: Mutex<HashMap<PathBuf, Cached>>,
    /// Baselines built into the state file, by (rule, tenant), with the
    /// (built_at, status) they were read at.
    pub(super) stored: Mutex<HashMap<(String, String), StoredCached>>,
}

type StoredCached = ((i64, crate::state::BaselineStatus), Arc<Baseline>);

impl Baselines {
    /// Add a shared profile loaded at configuration time.
    pub fn insert_fixed(&mut self, path: PathBuf, profile: Arc<Profile>) {
        self.fixed.insert(path, Arc::new(Baseline::of_profile(profile)));
    }

    pub fn fixed(&self, path: &Path) -> Option<&Arc<Baseline>> {
        self.fixed.get(path)
    }

    /// The baseline of `tenant` for a rule's `spec`; the error says which file
    /// is missing or wrong.
    pub fn get(&self, spec: &BaselineSpec, check: &dyn CheckKind, tenant: Option<&str>) -> Result<Arc<Baseline>, String> {
        match &spec.source {
            BaselineSource::Reference { .. } | BaselineSource::Learn { .. } => {
                Err("a stored baseline is resolved through `Baselines::stored`".into())
            }
            BaselineSource::Profile(template) => {
                if !template.contains("{tenant}") {
                    let path = PathBuf::from(template);
                    return self.fixed.get(&path).cloned().ok_or_else(|| format!("baseline {} is not loaded", path.display()));
                }
                let tenant = tenant.ok_or("a `{tenant}` baseline path needs a per-tenant group")?;
                self.per_tenant_profile(&PathBuf::from(template.replace("{tenant}", tenant)), check)
            }
        }
    }

    fn per_tenant_profile(&self, path: &Path, check: &dyn CheckKind) -> Result<Arc<Baseline>, String> {
        let modified = std::fs::metadata(path).and_then(|m| m.modified()).ok();
        let mut cache = self.per_tenant.lock().unwrap_or_else(|p| p.into_inner());
        if let Some((at, b)) = cache.get(path)
            && *at == modified
            && modified.is_some()
        {
            return Ok(b.clone());
        }
        let profile = Profile::load(path).map_err(|e| e.to_string())?;
        check.fits_baseline(&profile).map_err(|e| format!("baseline {}: {e}", path.display()))?;
        let b = Arc::new(Baseline::of_profile(Arc::new(profile)));
        cache.insert(path.to_path_buf(), (modified, b.clone()));
        Ok(b)
    }
}
