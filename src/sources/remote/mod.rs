//! Object storage: a source's `path` may be an `s3://`, `gs://` or `az://`
//! URL. Listing and reading go through the `object_store` crate (the one
//! polars and DataFusion use); credentials come from the usual environment
//! and instance chains (`AWS_*`, IRSA web identity, instance metadata;
//! `GOOGLE_*`; `AZURE_*`), or from files the source names.
//!
//! Sources are read on blocking threads (polars parses there), so requests
//! run on a small runtime of their own and the caller waits for them: the
//! same from the agent and from one-shot commands.

mod list;

use std::future::Future;
use std::sync::{Arc, OnceLock};
use std::time::Duration;

use object_store::path::Path as ObjectPath;
use object_store::{ClientOptions, ObjectStore, ObjectStoreExt, RetryConfig};
use serde::Deserialize;

pub use list::Listed;

/// `object_store:` on a source whose path is a URL.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ObjectStoreConfig {
    /// Region (S3); default from `AWS_REGION` / `AWS_DEFAULT_REGION`, else `us-east-1`.
    #[serde(default)]
    pub region: Option<String>,
    /// Endpoint of an S3-compatible or Azure-compatible service (MinIO, Ceph, a local emulator).
    #[serde(default)]
    pub endpoint: Option<String>,
    /// Allow `http://` endpoints (a local emulator). Default false.
    #[serde(default)]
    pub allow_http: bool,
    /// File holding the access key id (S3); default from the environment or the instance.
    #[serde(default)]
    pub access_key_id_file: Option<String>,
    /// File holding the secret access key (S3).
    #[serde(default)]
    pub secret_access_key_file: Option<String>,
    /// File holding a session token (S3, temporary credentials).
    #[serde(default)]
    pub session_token_file: Option<String>,
    /// Service account key file (GCS); default from `GOOGLE_APPLICATION_CREDENTIALS` or the instance.
    #[serde(default)]
    pub service_account_file: Option<String>,
    /// Storage account name (Azure); default from `AZURE_STORAGE_ACCOUNT_NAME`.
    #[serde(default)]
    pub account: Option<String>,
    /// File holding the storage account key (Azure).
    #[serde(default)]
    pub access_key_file: Option<String>,
    /// Retries of a throttled (429, `SlowDown`) or failed (5xx, connection)
    /// request, with exponential backoff from 100 ms to 15 s. Default 5.
    #[serde(default)]
    pub max_retries: Option<usize>,
    /// Give up retrying a request after this long (humantime). Default `60s`.
    #[serde(default)]
    pub retry_timeout: Option<String>,
    /// Timeout of one request (humantime). Default `30s`.
    #[serde(default)]
    pub timeout: Option<String>,
    /// Requests in flight at once while listing and reading. Default 16.
    #[serde(default)]
    pub concurrency: Option<usize>,
}

/// A bucket (or container), and how to reach it.
#[derive(Debug, Clone)]
pub struct Remote {
    /// `s3://bucket`, as the paths of its objects begin.
    base: String,
    store: Arc<dyn ObjectStore>,
    concurrency: usize,
}

/// Whether `path` names object storage rather than the local file system.
pub fn is_url(path: &str) -> bool {
    ["s3://", "s3a://", "gs://", "az://", "abfs://", "abfss://"].iter().any(|s| path.starts_with(s))
}

impl Remote {
    /// The store a source's `path` needs: `None` for a local path. An
    /// `object_store:` section beside a local path is an error.
    pub fn for_path(path: &str, config: Option<&ObjectStoreConfig>, base_dir: &std::path::Path) -> Result<Option<Arc<Remote>>, String> {
        match (is_url(path), config) {
            (true, config) => Ok(Some(Arc::new(Remote::new(path, &config.cloned().unwrap_or_default(), base_dir)?))),
            (false, None) => Ok(None),
            (false, Some(_)) => Err("`object_store` is for a path in object storage (s3://, gs://, az://)".into()),
        }
    }

    /// The store of the bucket `url` names (`s3://bucket/any/path`). No request is made.
    pub fn new(url: &str, config: &ObjectStoreConfig, base_dir: &std::path::Path) -> Result<Remote, String> {
        let (scheme, rest) = url.split_once("://").ok_or_else(|| format!("`{url}` is not a URL"))?;
        let bucket = rest.split('/').next().filter(|b| !b.is_empty()).ok_or_else(|| format!("`{url}`: no bucket after `{scheme}://`"))?;
        let base = format!("{scheme}://{bucket}");
        let secret = |field: &str, path: &Option<String>| -> Result<Option<String>, String> {
            let Some(p) = path else { return Ok(None) };
            let full = crate::util::paths::resolve(base_dir, p);
            let text = std::fs::read_to_string(&full).map_err(|e| format!("object_store.{field}: {}: {e}", full.display()))?;
            Ok(Some(text.trim().to_string()))
        };
        let duration = |field: &str, text: &Option<String>, default: u64| -> Result<Duration, String> {
            text.as_deref().map_or(Ok(Duration::from_secs(default)), |t| crate::rules::schedule::parse_duration(&format!("object_store.{field}"), t))
        };
        let retry = RetryConfig {
            max_retries: config.max_retries.unwrap_or(5),
            retry_timeout: duration("retry_timeout", &config.retry_timeout, 60)?,
            ..RetryConfig::default()
        };
        let client = ClientOptions::new().with_timeout(duration("timeout", &config.timeout, 30)?).with_allow_http(config.allow_http);
        let store: Arc<dyn ObjectStore> = match scheme {
            "s3" | "s3a" => {
                let mut b = object_store::aws::AmazonS3Builder::from_env().with_bucket_name(bucket).with_retry(retry).with_client_options(client);
                if let Some(r) = &config.region {
                    b = b.with_region(r);
                }
                if let Some(e) = &config.endpoint {
                    b = b.with_endpoint(e).with_allow_http(config.allow_http);
                }
                if let Some(k) = secret("access_key_id_file", &config.access_key_id_file)? {
                    b = b.with_access_key_id(k);
                }
                if let Some(k) = secret("secret_access_key_file", &config.secret_access_key_file)? {
                    b = b.with_secret_access_key(k);
                }
                if let Some(t) = secret("session_token_file", &config.session_token_file)? {
                    b = b.with_token(t);
                }
                Arc::new(b.build().map_err(|e| e.to_string())?)
            }
            "gs" => {
                let mut b = object_store::gcp::GoogleCloudStorageBuilder::from_env().with_bucket_name(bucket).with_retry(retry).with_client_options(client);
                if let Some(p) = &config.service_account_file {
                    b = b.with_service_account_path(crate::util::paths::resolve(base_dir, p).to_string_lossy());
                }
                Arc::new(b.build().map_err(|e| e.to_string())?)
            }
            _ => {
                let mut b = object_store::azure::MicrosoftAzureBuilder::from_env().with_container_name(bucket).with_retry(retry).with_client_options(client);
                if let Some(a) = &config.account {
                    b = b.with_account(a);
                }
                if let Some(e) = &config.endpoint {
                    b = b.with_endpoint(e.clone()).with_allow_http(config.allow_http);
                }
                if let Some(k) = secret("access_key_file", &config.access_key_file)? {
                    b = b.with_access_key(k);
                }
                Arc::new(b.build().map_err(|e| e.to_string())?)
            }
        };
        Ok(Remote { base, store, concurrency: config.concurrency.unwrap_or(16).max(1) })
    }

    /// The object key of a URL of this bucket.
    fn key<'a>(&self, url: &'a str) -> &'a str {
        url.strip_prefix(&self.base).unwrap_or(url).trim_start_matches('/')
    }

    /// The URL of an object of this bucket.
    fn url(&self, key: &ObjectPath) -> String {
        format!("{}/{}", self.base, key)
    }

    /// The whole object at `url`.
    pub fn get(&self, url: &str) -> Result<Vec<u8>, String> {
        let (store, key) = (self.store.clone(), ObjectPath::from(self.key(url)));
        let bytes = block_on(async move { store.get(&key).await?.bytes().await })?.map_err(|e| e.to_string())?;
        Ok(bytes.to_vec())
    }

    /// Bytes `start..end` of the object at `url`.
    pub fn get_range(&self, url: &str, start: u64, end: u64) -> Result<Vec<u8>, String> {
        let (store, key) = (self.store.clone(), ObjectPath::from(self.key(url)));
        let bytes = block_on(async move { store.get_range(&key, start..end).await })?.map_err(|e| e.to_string())?;
        Ok(bytes.to_vec())
    }
}

/// Run `f` on the object-storage runtime and wait for it on this thread.
fn block_on<F>(f: F) -> Result<F::Output, String>
where
    F: Future + Send + 'static,
    F::Output: Send + 'static,
{
    static RUNTIME: OnceLock<tokio::runtime::Runtime> = OnceLock::new();
    let runtime = RUNTIME.get_or_init(|| {
        tokio::runtime::Builder::new_multi_thread()
            .worker_threads(2)
            .thread_name("mlwatch-object-store")
            .enable_all()
            .build()
            .expect("the object-storage runtime starts")
    });
    let (tx, rx) = std::sync::mpsc::sync_channel(1);
    runtime.spawn(async move {
        let _ = tx.send(f.await);
    });
    rx.recv().map_err(|_| "the object-storage request was dropped".to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn urls_name_their_bucket_and_https_clients_build() {
        assert!(is_url("s3://lake/features/{tenant}/*.parquet") && is_url("gs://b/x") && !is_url("lake/s3://x"));
        let config = ObjectStoreConfig {
            endpoint: Some("https://127.0.0.1:1".into()),
            region: Some("eu-west-1".into()),
            max_retries: Some(0),
            ..ObjectStoreConfig::default()
        };
        let r = Remote::new("s3://lake/features/*.csv", &config, std::path::Path::new(".")).unwrap();
        assert_eq!(r.key("s3://lake/features/a.csv"), "features/a.csv");
        // TLS is set up (one crypto provider chosen) and a refused connection is an error, not a panic.
        let e = r.get("s3://lake/features/a.csv").unwrap_err();
        assert!(!e.is_empty());
        assert!(Remote::new("s3://", &config, std::path::Path::new(".")).unwrap_err().contains("no bucket"));
        for url in ["gs://bucket/x", "az://container/x"] {
            let config = ObjectStoreConfig { account: Some("acct".into()), ..ObjectStoreConfig::default() };
            Remote::new(url, &config, std::path::Path::new(".")).unwrap();
        }
    }

    #[test]
    fn a_missing_credential_file_is_named() {
        let config = ObjectStoreConfig { secret_access_key_file: Some("nowhere/secret".into()), ..ObjectStoreConfig::default() };
        let e = Remote::new("s3://lake/x", &config, std::path::Path::new("/etc")).unwrap_err();
        assert!(e.contains("object_store.secret_access_key_file") && e.contains("/etc/nowhere/secret"), "{e}");
    }
}
