//! Test support shared by the integration tests and the sqllogictest runner: fixture data
//! written by the tests themselves, and a tarn opened on a scratch data dir.

#![allow(dead_code)]

pub mod azurite;
pub mod faulty;
pub mod fixtures;
pub mod moto;

use std::path::{Path, PathBuf};

use tarn::{EngineConfig, Tarn};

/// A tarn on a fresh data dir, with `<tmp>/lake` (holding the fixtures) as an allowed root.
pub struct TestLake {
    pub dir: tempfile::TempDir,
    pub tarn: Tarn,
}

impl TestLake {
    pub fn new() -> Self {
        Self::configured(|_| {})
    }

    /// The same, with the engine's configuration adjusted first (e.g. the warehouse on S3).
    pub fn configured(adjust: impl FnOnce(&mut EngineConfig)) -> Self {
        let (dir, config) = Self::config(adjust);
        let tarn = Tarn::open(config).expect("open tarn");
        Self { dir, tarn }
    }

    /// The same on any catalog the configuration names (a shared PostgreSQL one, say).
    pub async fn connect(adjust: impl FnOnce(&mut EngineConfig)) -> Self {
        let (dir, config) = Self::config(adjust);
        let tarn = Tarn::connect(config).await.expect("open tarn");
        Self { dir, tarn }
    }

    fn config(adjust: impl FnOnce(&mut EngineConfig)) -> (tempfile::TempDir, EngineConfig) {
        let dir = tempfile::tempdir().expect("tempdir");
        let lake = dir.path().join("lake");
        fixtures::write_all(&lake).expect("fixtures");
        let mut config = EngineConfig::new(dir.path().join("data"));
        config.allowed_roots = vec![lake.display().to_string()];
        config.target_partitions = Some(2);
        adjust(&mut config);
        (dir, config)
    }

    /// Where managed tables live (a directory, or an `s3://` URL).
    pub fn warehouse(&self) -> String {
        self.tarn.engine().config().warehouse.clone()
    }

    pub fn lake(&self) -> PathBuf {
        self.dir.path().join("lake")
    }

    pub fn data_dir(&self) -> PathBuf {
        self.dir.path().join("data")
    }

    /// Declares the fixture table `sales` (Parquet under `<lake>/sales`, partitioned by year
    /// and month) with `columns` and registers its partitions.
    pub async fn declare_sales(&self, session: &tarn::TarnSession, columns: &str) {
        let sql = format!(
            "CREATE EXTERNAL TABLE sales ({columns}) PARTITIONED BY (year int, month int)
             STORED AS PARQUET LOCATION '{}/sales'; MSCK REPAIR TABLE sales;",
            self.lake().display()
        );
        session.query(&sql).await.expect("declare sales");
    }

    /// Adds a catalog user (for the servers the tests start); an existing one is kept.
    pub async fn add_user(&self, name: &str, password: &str, superuser: bool) {
        // Through the engine's role statements, as `tarn user add` does.
        let create = tarn::sql::Statement::CreateUser {
            name: name.into(),
            if_not_exists: true,
            options: vec![
                tarn::sql::UserOption::Password(Some(password.into())),
                tarn::sql::UserOption::Superuser(superuser),
            ],
            login_by_default: true,
        };
        self.tarn
            .engine()
            .session("tarn")
            .execute(create)
            .await
            .expect("create user");
    }
}

/// The columns the `sales` fixture files hold.
pub const SALES_COLUMNS: &str = "id bigint, amount double, note string";

pub fn path_str(p: &Path) -> String {
    p.display().to_string()
}

/// The test virtualenv's python (scripts/test-deps.sh).
/// dbt in its own virtualenv next to the test one (scripts/test-deps.sh creates it).
pub fn dbt_bin() -> String {
    let venv = std::env::var("TARN_TEST_DBT_VENV").unwrap_or_else(|_| {
        let python = venv_python();
        format!("{}-dbt", python.trim_end_matches("/bin/python"))
    });
    format!("{venv}/bin/dbt")
}

pub fn venv_python() -> String {
    let venv = std::env::var("TARN_TEST_VENV").unwrap_or_else(|_| {
        format!(
            "{}/.cache/tarn/venv",
            std::env::var("HOME").unwrap_or_default()
        )
    });
    format!("{venv}/bin/python")
}
