//! A configuration with everything it refers to loaded (baselines, secrets,
//! receivers): what must succeed before a (re)load may replace the running
//! one. `mlwatch check` goes through the same [`Prepared::new`], so it passes
//! exactly what the agent would start with.

use std::collections::HashMap;
use std::path::Path;

use crate::alerting::Receiver;
use crate::baseline::Baselines;
use crate::config::{self, Config, Diagnostic, Diagnostics};
use crate::util::secret::Secret;

pub struct Prepared {
    pub config: Config,
    pub baselines: Baselines,
    pub receivers: HashMap<String, Receiver>,
    pub bearer_token: Option<Secret>,
}

impl Prepared {
    /// Load what `config` refers to; every problem is reported, not just the first.
    pub fn new(config: Config) -> Result<Prepared, Diagnostics> {
        let mut problems = Diagnostics::default();
        let whole = |message: String| Diagnostic { file: config.path.clone(), line: 0, column: 0, message };
        let baselines = config::load_baselines(&config).map_err(|d| problems.extend(d)).unwrap_or_default();
        let mut receivers = HashMap::new();
        for (name, r) in &config.receivers {
            match r.build(config.base_dir()) {
                Ok(built) => {
                    receivers.insert(name.clone(), built);
                }
                Err(e) => problems.push(whole(format!("receiver `{name}`: {e}"))),
            }
        }
        let bearer_token = match &config.bearer_token_file {
            None => None,
            Some(file) => match Secret::resolve(None, Some(file), "server.bearer_token") {
                Ok(token) if token.expose().is_empty() => {
                    problems.push(whole(format!("server.bearer_token_file: {} is empty", file.display())));
                    None
                }
                Ok(token) => Some(token),
                Err(e) => {
                    problems.push(whole(e));
                    None
                }
            },
        };
        if !problems.is_empty() {
            return Err(problems.sorted());
        }
        Ok(Prepared { config, baselines, receivers, bearer_token })
    }

    /// Read and validate the config at `path` and everything it refers to.
    pub fn load(path: &Path) -> Result<Prepared, Diagnostics> {
        Prepared::new(config::load(path)?)
    }
}
