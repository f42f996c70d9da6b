//! A configuration with everything it refers to loaded (baselines, secrets,
//! receivers): what must succeed before a (re)load may replace the running one.

use std::path::Path;

use std::collections::HashMap;

use crate::alerting::Receiver;
use crate::config::{self, Baselines, Config};
use crate::util::secret::Secret;

pub struct Prepared {
    pub config: Config,
    pub baselines: Baselines,
    pub receivers: HashMap<String, Receiver>,
    pub bearer_token: Option<Secret>,
}

impl Prepared {
    pub fn new(config: Config) -> Result<Prepared, String> {
        let baselines = config::load_baselines(&config).map_err(|d| d.to_string())?;
        let mut receivers = HashMap::new();
        for (name, r) in &config.receivers {
            let built = r.build(config.base_dir()).map_err(|e| format!("receiver `{name}`: {e}"))?;
            receivers.insert(name.clone(), built);
        }
        let bearer_token = match &config.bearer_token_file {
            None => None,
            Some(file) => {
                let token = Secret::resolve(None, Some(file), "server.bearer_token")?;
                if token.expose().is_empty() {
                    return Err(format!("server.bearer_token_file: {} is empty", file.display()));
                }
                Some(token)
            }
        };
        Ok(Prepared { config, baselines, receivers, bearer_token })
    }

    /// Read and validate the config at `path` and everything it refers to.
    pub fn load(path: &Path) -> Result<Prepared, String> {
        let config = config::load(path).map_err(|d| d.to_string())?;
        Prepared::new(config)
    }
}
