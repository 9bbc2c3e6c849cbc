//! Object stores configured per URL prefix (`[[storage]]` in tarn.toml): S3 and S3-compatible
//! servers, Google Cloud Storage, Azure Blob Storage / ADLS Gen2.
//!
//! Each entry names a bucket (container) by URL and how to reach it; anything not given comes
//! from the store's usual credential chain (environment variables; for S3 also profiles, web
//! identity and instance metadata, as object_store's builders provide them). Secrets never
//! leave this module: the `Debug` form redacts them, and errors name the URL, not the options.
//! Every store gets request timeouts and a bounded retry with backoff, so an unreachable or
//! throttling store answers with an error instead of hanging.

use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::Duration;

use object_store::ObjectStore;
use url::Url;

use crate::error::{EngineError, Result};

/// One `[[storage]]` entry.
#[derive(Clone, Default, PartialEq, serde::Deserialize)]
#[serde(deny_unknown_fields)]
pub struct StorageConfig {
    /// `s3://bucket[/prefix]`, `gs://bucket`, `az://container` (account in `access_key_id` or
    /// the environment) or `abfss://container@account.dfs.core.windows.net`.
    pub url: String,
    /// A custom endpoint (S3-compatible servers, emulators).
    pub endpoint: Option<String>,
    pub region: Option<String>,
    /// Allow plain `http://` endpoints (test servers only).
    #[serde(default)]
    pub allow_http: bool,
    /// Path-style requests (`endpoint/bucket/key`) instead of virtual-hosted buckets.
    #[serde(default)]
    pub path_style: bool,
    /// S3 conditional put: `etag` (AWS, MinIO, most servers) or `disabled`.
    pub conditional_put: Option<String>,
    /// S3 access key id / Azure storage account name.
    pub access_key_id: Option<String>,
    /// S3 secret access key / Azure storage account key.
    pub secret_access_key: Option<String>,
    pub session_token: Option<String>,
    /// Seconds one request may take (default 30).
    pub request_timeout_secs: Option<u64>,
    /// Retries of a failed or throttled request, with exponential backoff (default 3).
    pub max_retries: Option<usize>,
    /// Any other option of the store, by object_store's name (`aws_sse_kms_key_id`,
    /// `google_service_account`, `azure_use_emulator`, …); unknown names are an error.
    #[serde(default)]
    pub options: BTreeMap<String, String>,
}

impl std::fmt::Debug for StorageConfig {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let redacted = |v: &Option<String>| v.as_ref().map(|_| "<redacted>");
        f.debug_struct("StorageConfig")
            .field("url", &self.url)
            .field("endpoint", &self.endpoint)
            .field("region", &self.region)
            .field("allow_http", &self.allow_http)
            .field("path_style", &self.path_style)
            .field("conditional_put", &self.conditional_put)
            .field("access_key_id", &self.access_key_id)
            .field("secret_access_key", &redacted(&self.secret_access_key))
            .field("session_token", &redacted(&self.session_token))
            .field("options", &self.options.keys().collect::<Vec<_>>())
            .finish()
    }
}

/// Which kind of store a URL names.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Kind {
    S3,
    Gcs,
    Azure,
}

fn kind_of(url: &Url) -> Result<Kind> {
    match url.scheme() {
        "s3" | "s3a" => Ok(Kind::S3),
        "gs" => Ok(Kind::Gcs),
        "az" | "azure" | "abfs" | "abfss" | "adl" => Ok(Kind::Azure),
        other => Err(EngineError::InvalidParameter(format!(
            "storage url scheme '{other}' is not supported (s3, gs, az, abfss)"
        ))),
    }
}

impl StorageConfig {
    /// A store for a URL with nothing configured: the credential chain only.
    pub fn from_url(url: &str) -> Self {
        Self {
            url: url.to_string(),
            ..Default::default()
        }
    }

    /// The URL the store is registered under: scheme and host, as DataFusion looks stores up
    /// (`s3://bucket`; for `abfss://container@account.dfs.core.windows.net` the account: one
    /// container per account).
    pub fn store_url(&self) -> Result<Url> {
        let url = parse(&self.url)?;
        let host = url.host_str().unwrap_or_default();
        Url::parse(&format!("{}://{host}", url.scheme())).map_err(|e| bad(&self.url, e))
    }

    /// The options as object_store names them.
    fn options(&self, kind: Kind) -> Result<Vec<(String, String)>> {
        let mut out: Vec<(String, String)> = Vec::new();
        let mut put = |k: &str, v: Option<&String>| {
            if let Some(v) = v {
                out.push((k.to_string(), v.clone()));
            }
        };
        match kind {
            Kind::S3 => {
                put("aws_endpoint", self.endpoint.as_ref());
                put("aws_region", self.region.as_ref());
                put("aws_conditional_put", self.conditional_put.as_ref());
                put("aws_access_key_id", self.access_key_id.as_ref());
                put("aws_secret_access_key", self.secret_access_key.as_ref());
                put("aws_session_token", self.session_token.as_ref());
                if self.path_style {
                    out.push(("aws_virtual_hosted_style_request".into(), "false".into()));
                }
            }
            Kind::Azure => {
                put("azure_storage_endpoint", self.endpoint.as_ref());
                put("azure_storage_account_name", self.access_key_id.as_ref());
                put("azure_storage_account_key", self.secret_access_key.as_ref());
                put("azure_storage_token", self.session_token.as_ref());
            }
            Kind::Gcs => {
                put("google_base_url", self.endpoint.as_ref());
                if self.access_key_id.is_some() || self.secret_access_key.is_some() {
                    return Err(EngineError::InvalidParameter(format!(
                        "storage '{}': GCS takes a service account (options.google_service_account), not access keys",
                        self.url
                    )));
                }
            }
        }
        if self.allow_http {
            out.push(("allow_http".into(), "true".into()));
        }
        let timeout = self.request_timeout_secs.unwrap_or(30);
        out.push(("timeout".into(), format!("{timeout}s")));
        out.push(("connect_timeout".into(), "5s".into()));
        out.extend(self.options.iter().map(|(k, v)| (k.clone(), v.clone())));
        Ok(out)
    }

    /// Builds the store. Configuration errors name the URL and the option, never a value.
    pub fn build(&self) -> Result<Arc<dyn ObjectStore>> {
        let url = parse(&self.url)?;
        let kind = kind_of(&url)?;
        let options = self.options(kind)?;
        let retry = object_store::RetryConfig {
            max_retries: self.max_retries.unwrap_or(3),
            retry_timeout: Duration::from_secs(self.request_timeout_secs.unwrap_or(30) * 2),
            backoff: object_store::BackoffConfig::default(),
        };
        let unknown = |k: &str| {
            EngineError::InvalidParameter(format!("storage '{}': unknown option '{k}'", self.url))
        };
        let built = |e: object_store::Error| {
            EngineError::InvalidParameter(format!(
                "storage '{}': {}",
                self.url,
                redact(&e.to_string(), self)
            ))
        };
        let store: Arc<dyn ObjectStore> = match kind {
            Kind::S3 => {
                // Explicit keys are used alone: no session token or endpoint from the
                // environment mixed into them.
                let base = match self.access_key_id {
                    Some(_) => object_store::aws::AmazonS3Builder::new(),
                    None => object_store::aws::AmazonS3Builder::from_env(),
                };
                let mut b = base.with_url(url.as_str());
                for (k, v) in options {
                    b = b.with_config(k.parse().map_err(|_| unknown(&k))?, v);
                }
                Arc::new(b.with_retry(retry).build().map_err(built)?)
            }
            Kind::Gcs => {
                let mut b =
                    object_store::gcp::GoogleCloudStorageBuilder::from_env().with_url(url.as_str());
                for (k, v) in options {
                    b = b.with_config(k.parse().map_err(|_| unknown(&k))?, v);
                }
                Arc::new(b.with_retry(retry).build().map_err(built)?)
            }
            Kind::Azure => {
                let base = match self.access_key_id {
                    Some(_) => object_store::azure::MicrosoftAzureBuilder::new(),
                    None => object_store::azure::MicrosoftAzureBuilder::from_env(),
                };
                let mut b = base.with_url(url.as_str());
                for (k, v) in options {
                    b = b.with_config(k.parse().map_err(|_| unknown(&k))?, v);
                }
                Arc::new(b.with_retry(retry).build().map_err(built)?)
            }
        };
        Ok(store)
    }
}

/// The store for every configured entry, and for every other object-store URL tarn must reach
/// (the warehouse, allowed roots) from the credential chain alone. One store per bucket.
pub(crate) fn stores(
    configured: &[StorageConfig],
    urls: &[String],
) -> Result<Vec<(Url, Arc<dyn ObjectStore>)>> {
    let mut out: Vec<(Url, Arc<dyn ObjectStore>)> = Vec::new();
    let mut add = |config: &StorageConfig| -> Result<()> {
        let key = config.store_url()?;
        if out.iter().any(|(u, _)| *u == key) {
            return Err(EngineError::InvalidParameter(format!(
                "more than one [[storage]] entry for {key}: one per bucket"
            )));
        }
        out.push((key, config.build()?));
        Ok(())
    };
    for config in configured {
        add(config)?;
    }
    for url in urls.iter().filter(|u| is_object_store_url(u)) {
        let key = StorageConfig::from_url(url).store_url()?;
        if !out.iter().any(|(u, _)| *u == key) {
            out.push((key, StorageConfig::from_url(url).build()?));
        }
    }
    Ok(out)
}

/// Whether a location is an object-store URL (not a local path or `file://`).
pub fn is_object_store_url(location: &str) -> bool {
    location
        .split_once("://")
        .is_some_and(|(scheme, _)| scheme != "file" && !scheme.is_empty())
}

fn parse(url: &str) -> Result<Url> {
    Url::parse(url).map_err(|e| bad(url, e))
}

fn bad(url: &str, e: impl std::fmt::Display) -> EngineError {
    EngineError::InvalidParameter(format!("invalid storage url '{url}': {e}"))
}

/// Removes configured secrets from a message (object_store errors may echo options): the
/// keys, the token and every value under `options` (service account keys, client secrets, …).
fn redact(message: &str, config: &StorageConfig) -> String {
    let mut out = message.to_string();
    let secrets = [&config.secret_access_key, &config.session_token]
        .into_iter()
        .flatten()
        .chain(config.options.values())
        .filter(|s| s.len() >= 4);
    for secret in secrets {
        out = out.replace(secret.as_str(), "<redacted>");
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn s3() -> StorageConfig {
        StorageConfig {
            url: "s3://lake/raw".into(),
            endpoint: Some("http://127.0.0.1:9".into()),
            region: Some("us-east-1".into()),
            allow_http: true,
            path_style: true,
            conditional_put: Some("etag".into()),
            access_key_id: Some("AKIDEXAMPLE".into()),
            secret_access_key: Some("wJalrXUtnFEMI-very-secret".into()),
            ..Default::default()
        }
    }

    #[test]
    fn stores_are_built_per_bucket_and_secrets_are_not_shown() {
        let config = s3();
        assert_eq!(config.store_url().unwrap().as_str(), "s3://lake");
        config.build().expect("an S3 store");
        let shown = format!("{config:?}");
        assert!(!shown.contains("very-secret"), "{shown}");
        assert!(shown.contains("AKIDEXAMPLE"), "{shown}");
        let gcs = StorageConfig::from_url("gs://bucket/x");
        assert_eq!(gcs.store_url().unwrap().as_str(), "gs://bucket");
        let az = StorageConfig {
            access_key_id: Some("devstoreaccount1".into()),
            secret_access_key: Some("a2V5".into()),
            ..StorageConfig::from_url("az://container/lake")
        };
        az.build().expect("an Azure store");
    }

    #[test]
    fn bad_configurations_are_clear_errors() {
        let mut unknown = s3();
        unknown
            .options
            .insert("aws_no_such_thing".into(), "1".into());
        let e = unknown.build().expect_err("unknown option").to_string();
        assert!(
            e.contains("aws_no_such_thing") && !e.contains("very-secret"),
            "{e}"
        );
        let e = StorageConfig::from_url("ftp://x/y").build().err().unwrap();
        assert!(e.to_string().contains("not supported"), "{e}");
        let keys = StorageConfig {
            access_key_id: Some("k".into()),
            ..StorageConfig::from_url("gs://bucket")
        };
        assert!(keys.build().is_err());
        let twice = stores(&[s3(), s3()], &[]).expect_err("one entry per bucket");
        assert!(twice.to_string().contains("one per bucket"), "{twice}");
        let both = stores(&[s3()], &["s3://lake/other".into(), "s3://else/x".into()]).unwrap();
        let urls: Vec<String> = both.iter().map(|(u, _)| u.to_string()).collect();
        assert_eq!(urls, vec!["s3://lake", "s3://else"]);
    }
}
