//! The engine: metastore + object stores + shared DataFusion runtime.

use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use datafusion::execution::runtime_env::RuntimeEnv;
use object_store::ObjectStore;
use tarn_catalog::{Metastore, PostgresMetastore, SqliteMetastore};
use url::Url;

use crate::cpu::CpuRuntime;
use crate::error::{EngineError, Result};
use crate::locations::AllowedRoots;
use crate::provider::{ListingCache, ScanCache};
use crate::session::Session;

/// Engine settings (the CLI fills them from the TOML config and environment).
#[derive(Debug, Clone)]
pub struct EngineConfig {
    /// Where the metastore file (of the embedded catalog), spill files and server state live.
    pub data_dir: PathBuf,
    /// A shared PostgreSQL catalog instead of the embedded SQLite one.
    pub catalog: Option<tarn_catalog::PostgresOptions>,
    /// Root of managed tables and of the `default` database: a local directory or an
    /// object-store URL (`s3://bucket/lake`).
    pub warehouse: String,
    /// Object stores by bucket (`[[storage]]`); URLs without an entry use the store's
    /// credential chain.
    pub storage: Vec<crate::storage::StorageConfig>,
    /// Extra roots (local directories or object-store URL prefixes) locations may use; the
    /// warehouse is always allowed.
    pub allowed_roots: Vec<String>,
    /// How long a partition directory listing is reused (catalog changes invalidate it sooner).
    pub listing_cache_ttl: Duration,
    /// DataFusion's target partitions (parallelism); `None` = number of cores.
    pub target_partitions: Option<usize>,
    /// Threads of the query execution runtime; `None` = number of cores, `Some(0)` = execute on
    /// the caller's runtime.
    pub cpu_threads: Option<usize>,
    /// Bytes of decoded Parquet columns kept for repeated scans (0 = off).
    pub scan_cache_bytes: usize,
    /// VACUUM refuses a shorter retention unless a superuser turns the check off.
    pub vacuum_min_retention_hours: u64,
    /// Bytes all running queries may hold together (sorts, joins and aggregates spill beyond
    /// their share); `None` = half of physical memory minus the scan cache.
    pub memory_limit: Option<usize>,
    /// How many failed password logins a user name may have in a burst, and how many it
    /// regains per minute (beyond them its logins fail fast with 53300).
    pub login_failures: crate::auth::LoginFailureLimit,
}

impl EngineConfig {
    /// Defaults for a data dir: warehouse in `<data_dir>/warehouse`.
    pub fn new(data_dir: impl Into<PathBuf>) -> Self {
        let data_dir = data_dir.into();
        Self {
            warehouse: data_dir.join("warehouse").display().to_string(),
            storage: vec![],
            catalog: None,
            data_dir,
            allowed_roots: vec![],
            listing_cache_ttl: Duration::from_secs(30),
            target_partitions: None,
            cpu_threads: None,
            scan_cache_bytes: crate::provider::default_scan_cache_budget(),
            vacuum_min_retention_hours: 1,
            memory_limit: None,
            login_failures: crate::auth::LoginFailureLimit::default(),
        }
    }
}

pub(crate) struct EngineInner {
    pub config: EngineConfig,
    pub metastore: Arc<dyn Metastore>,
    pub runtime: Arc<RuntimeEnv>,
    pub roots: AllowedRoots,
    pub listing: Arc<ListingCache>,
    pub scan_cache: Arc<ScanCache>,
    pub warehouse: String,
    /// Where result streams are pulled (`None`: on the caller's runtime).
    pub cpu: Option<Arc<CpuRuntime>>,
    /// Authentication for every front end.
    pub auth: crate::auth::Authenticator,
    /// Live sessions (pg_stat_activity).
    pub activity: Arc<crate::activity::Activity>,
}

/// A tarn engine. Cheap to clone; sessions share it.
#[derive(Clone)]
pub struct Engine {
    pub(crate) inner: Arc<EngineInner>,
}

impl std::fmt::Debug for Engine {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Engine")
            .field("config", &self.inner.config)
            .finish()
    }
}

impl Engine {
    /// Opens the engine on its data dir with the embedded SQLite catalog, creating the
    /// metastore and warehouse on first use. Must be called inside a tokio runtime; a
    /// PostgreSQL catalog needs [`Engine::open_catalog`].
    pub fn open(mut config: EngineConfig) -> Result<Self> {
        if config.catalog.is_some() {
            return Err(EngineError::Internal(
                "a PostgreSQL catalog is opened with Engine::open_catalog".into(),
            ));
        }
        let warehouse = Self::prepare(&mut config)?;
        let metastore: Arc<dyn Metastore> = Arc::new(SqliteMetastore::open(
            config.data_dir.join("metastore.db"),
            &warehouse,
        )?);
        Self::assemble(config, warehouse, metastore, None)
    }

    /// Opens the engine on the catalog the config names: SQLite in the data dir, or a shared
    /// PostgreSQL catalog.
    pub async fn open_catalog(mut config: EngineConfig) -> Result<Self> {
        let Some(options) = config.catalog.clone() else {
            return Self::open(config);
        };
        let warehouse = Self::prepare(&mut config)?;
        let metastore: Arc<dyn Metastore> =
            Arc::new(PostgresMetastore::connect(&options, &warehouse).await?);
        let secret = metastore.shared_secret("auth_decoys").await?;
        Self::assemble(config, warehouse, metastore, Some(secret))
    }

    /// Checks the warehouse and creates it if local; returns it as locations are written.
    fn prepare(config: &mut EngineConfig) -> Result<String> {
        // The metastore and the CPU runtime's hand-off need a tokio runtime to exist.
        tokio::runtime::Handle::try_current()
            .map_err(|_| EngineError::Internal("Engine::open needs a tokio runtime".into()))?;
        if let Some(file) = config.warehouse.strip_prefix("file://") {
            config.warehouse = file.to_string();
        }
        // Server state (spill files, the auth secret) lives here whatever the catalog is.
        std::fs::create_dir_all(&config.data_dir).map_err(|e| EngineError::Storage {
            location: config.data_dir.display().to_string(),
            message: e.to_string(),
        })?;
        if !crate::storage::is_object_store_url(&config.warehouse) {
            std::fs::create_dir_all(&config.warehouse).map_err(|e| EngineError::Storage {
                location: config.warehouse.clone(),
                message: e.to_string(),
            })?;
        }
        let roots = AllowedRoots::new(&Self::roots(config))?;
        roots.check(&config.warehouse)
    }

    fn roots(config: &EngineConfig) -> Vec<String> {
        let mut roots = vec![config.warehouse.clone()];
        roots.extend(config.allowed_roots.iter().cloned());
        roots
    }

    fn assemble(
        mut config: EngineConfig,
        warehouse: String,
        metastore: Arc<dyn Metastore>,
        shared_secret: Option<[u8; 32]>,
    ) -> Result<Self> {
        let roots = Self::roots(&config);
        let stores = crate::storage::stores(&config.storage, &roots)?;
        let roots = AllowedRoots::new(&roots)?;
        let auth = crate::auth::Authenticator::open(
            &config.data_dir,
            metastore.clone(),
            config.login_failures,
            shared_secret,
        )?;
        let memory_limit = config
            .memory_limit
            .unwrap_or_else(|| crate::memory::default_memory_limit(config.scan_cache_bytes));
        let runtime = crate::memory::runtime_env(&config.data_dir, memory_limit)?;
        for (url, store) in stores {
            runtime.register_object_store(&url, store);
        }
        config.memory_limit = Some(memory_limit);
        let listing = Arc::new(ListingCache::new(config.listing_cache_ttl));
        let scan_cache = Arc::new(ScanCache::new(config.scan_cache_bytes));
        let threads = config
            .cpu_threads
            .unwrap_or_else(|| std::thread::available_parallelism().map_or(2, |n| n.get()));
        let cpu = (threads > 0)
            .then(|| CpuRuntime::new(threads))
            .transpose()?;
        Ok(Self {
            inner: Arc::new(EngineInner {
                config,
                metastore,
                runtime,
                roots,
                listing,
                scan_cache,
                warehouse,
                cpu,
                auth,
                activity: Default::default(),
            }),
        })
    }

    /// A new session for a local, trusted `user` (the CLI, an embedding program): it may also
    /// manage users.
    pub fn session(&self, user: &str) -> Session {
        Session::new(self.clone(), user, true, true)
    }

    /// A new session for a user a front end authenticated: its privileges are the catalog's.
    pub fn user_session(&self, user: &tarn_catalog::User) -> Session {
        Session::new(self.clone(), &user.name, false, user.superuser)
    }

    /// Round trips made to a networked catalog so far (`None`: the embedded one).
    pub fn catalog_round_trips(&self) -> Option<u64> {
        self.inner.metastore.round_trips()
    }

    /// The whole catalog as data (`tarn catalog export`; a local administrator's command, not
    /// reachable from any front end).
    pub async fn export_catalog(&self) -> Result<tarn_catalog::CatalogDump> {
        Ok(self.inner.metastore.export_catalog().await?)
    }

    /// Replaces the catalog with a dump (`tarn catalog import`); caches are dropped since
    /// every version may have changed.
    pub async fn import_catalog(
        &self,
        dump: tarn_catalog::CatalogDump,
        replace: bool,
    ) -> Result<()> {
        self.inner.metastore.import_catalog(dump, replace).await?;
        self.inner.listing.clear();
        Ok(())
    }

    /// Every role with its attributes (the CLI's `tarn user list`, the bootstrap check).
    pub async fn roles(&self) -> Result<Vec<tarn_catalog::User>> {
        Ok(self.inner.metastore.list_users().await?)
    }

    /// Opens the session of an authenticated user, as every front end must: the role must have
    /// LOGIN and CONNECT on the database (PostgreSQL grants CONNECT to PUBLIC by default; a
    /// `REVOKE CONNECT ON DATABASE tarn FROM PUBLIC` locks everyone else out).
    pub async fn connect(&self, user: &tarn_catalog::User) -> Result<Session> {
        if !user.can_login || user.name.starts_with("pg_") {
            return Err(EngineError::PermissionDenied(format!(
                "role \"{}\" is not permitted to log in",
                user.name
            )));
        }
        let session = self.user_session(user);
        let access = session.access().await?;
        crate::authz::require_catalog(
            self.inner.metastore.as_ref(),
            &access,
            tarn_catalog::Privilege::Connect,
        )
        .await?;
        Ok(session)
    }

    /// The session of a front end that maps connections to a configured role instead of
    /// logging users in (the Hive Metastore API): that role's privileges when it exists (it
    /// must be allowed to log in, as for [`Engine::connect`]); a role that does not exist has
    /// only what PUBLIC has.
    pub async fn role_session(&self, role: &str) -> Result<Session> {
        match self.inner.metastore.get_user(role).await? {
            Some(user) => self.connect(&user).await,
            None => Ok(Session::new(self.clone(), role, false, false)),
        }
    }

    /// Makes an object store (S3, GCS, …) available for locations under `url`
    /// (e.g. `s3://bucket`). Locations there must still lie under an allowed root.
    pub fn register_object_store(&self, url: &Url, store: Arc<dyn ObjectStore>) {
        self.inner.runtime.register_object_store(url, store);
    }

    /// The registry of live sessions front ends fill (pg_stat_activity, pg_cancel_backend).
    pub fn activity(&self) -> &Arc<crate::activity::Activity> {
        &self.inner.activity
    }

    /// Authentication (password checks, SCRAM, decoys) for front ends.
    pub fn authenticator(&self) -> &crate::auth::Authenticator {
        &self.inner.auth
    }

    /// The metastore, for the engine's own services only: front ends go through sessions and
    /// the services below, so every rule (privileges, locations, caches) applies to them.
    pub(crate) fn metastore(&self) -> &Arc<dyn Metastore> {
        &self.inner.metastore
    }

    pub fn config(&self) -> &EngineConfig {
        &self.inner.config
    }

    /// The allowed roots, resolved.
    pub fn allowed_roots(&self) -> Vec<String> {
        self.inner.roots.describe()
    }
}
