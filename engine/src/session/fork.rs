//! Session snapshots and forks. A Flight SQL client runs several calls at once under one login,
//! and a ticket must replay its statement with the settings of the moment it was planned: a
//! snapshot carries those settings, and a fork is a fresh session (its own cancel handle and
//! transaction state) for the same user with them applied.

use super::Session;
use crate::error::Result;
use crate::settings::Settings;

/// The state a statement depends on: the current database and the settings changed from
/// their defaults.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct SessionSnapshot {
    pub database: String,
    pub settings: Vec<(String, String)>,
}

impl Session {
    /// The current database and changed settings.
    pub fn snapshot(&self) -> SessionSnapshot {
        SessionSnapshot {
            database: self.current_database(),
            settings: self.settings().changed(),
        }
    }

    /// A new session of the same user with `snapshot` applied. Setting names and values are
    /// validated again, so a tampered snapshot fails like a bad SET would. The DataFusion state
    /// is cloned from this session (cheap: registries are shared); the two DataFusion options
    /// tarn changes per session (time zone, default schema) are then set from the snapshot.
    pub fn fork(&self, snapshot: &SessionSnapshot) -> Result<Session> {
        let session = Session::with_state(
            self.engine.clone(),
            self.identity.fork(),
            self.is_superuser(),
            self.ctx.state(),
        );
        session.with_settings(|s| {
            for (name, value) in &snapshot.settings {
                s.set(Settings::canonical_name(name)?, Some(value))?;
            }
            Ok(())
        })?;
        session.sync_time_zone();
        session.set_current_database(&snapshot.database);
        Ok(session)
    }
}

#[cfg(test)]
mod tests {
    use crate::{Engine, EngineConfig};

    #[tokio::test]
    async fn a_fork_keeps_settings_and_database() {
        let dir = tempfile::tempdir().unwrap();
        let engine = Engine::open(EngineConfig::new(dir.path())).unwrap();
        let session = engine.session("alice");
        session
            .run_script("CREATE DATABASE sales; USE sales; SET TimeZone = 'Europe/Paris'")
            .await
            .unwrap();
        let snapshot = session.snapshot();
        assert_eq!(snapshot.database, "sales");
        let fork = session.fork(&snapshot).unwrap();
        assert_eq!(fork.current_database(), "sales");
        assert_eq!(fork.settings().get("timezone").unwrap(), "Europe/Paris");
        assert_eq!(fork.user(), "alice");
        let tampered = crate::session::SessionSnapshot {
            settings: vec![("no_such_setting".into(), "1".into())],
            ..snapshot
        };
        assert!(session.fork(&tampered).is_err());
    }
}
