//! Locks for metastore clients' commits (see `tarn_catalog::locks`). Taking a lock is gated
//! like the change it protects: an exclusive lock needs ownership of the table (or database),
//! a shared one the right to read it; so a role cannot block a table it may not change.

use tarn_catalog::{LockMode, LockState, LockTarget, Privilege};

use super::Metadata;
use crate::error::{EngineError, Result};

impl Metadata<'_> {
    /// Requests a lock; its id and whether it was granted (else check again later).
    pub async fn lock(&self, targets: Vec<LockTarget>) -> Result<(i64, LockState)> {
        if targets.is_empty() {
            return Err(EngineError::InvalidParameter(
                "a lock needs at least one component".into(),
            ));
        }
        for t in &targets {
            self.may_lock(t).await?;
        }
        let owner = self.session.current_role();
        Ok(self.metastore().lock(targets, &owner).await?)
    }

    /// Refreshes a lock and grants it if it is free now; `None`: no such lock.
    pub async fn check_lock(&self, id: i64) -> Result<Option<LockState>> {
        if !self.may_use(id).await? {
            return Ok(None);
        }
        Ok(self.metastore().check_lock(id).await?)
    }

    /// Releases a lock; whether it existed.
    pub async fn unlock(&self, id: i64) -> Result<bool> {
        if !self.may_use(id).await? {
            return Ok(false);
        }
        Ok(self.metastore().unlock(id).await?)
    }

    /// A lock exists and this role could have taken it (only then may it check or release it).
    async fn may_use(&self, id: i64) -> Result<bool> {
        let targets = self.metastore().lock_targets(id).await?;
        if targets.is_empty() {
            return Ok(false);
        }
        for t in &targets {
            self.may_lock(t).await?;
        }
        Ok(true)
    }

    async fn may_lock(&self, t: &LockTarget) -> Result<()> {
        match &t.table {
            Some(table) => {
                let table = self.table_for_change(&t.database, table).await?;
                match t.mode {
                    LockMode::Exclusive => self.session.require_owner(&table).await,
                    LockMode::Shared => self.require(&table, Privilege::Select).await,
                }
            }
            None => {
                let db = self.database(&t.database).await?;
                match t.mode {
                    LockMode::Exclusive => self.session.require_database_owner(&db).await,
                    LockMode::Shared => Ok(()),
                }
            }
        }
    }
}
