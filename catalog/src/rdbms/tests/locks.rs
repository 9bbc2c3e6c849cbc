//! Table locks (Iceberg-on-HMS committers): exclusive means exclusive across stores opened
//! separately (as two servers would), waiters are granted once the holder releases, and
//! released or unknown locks are gone.

use super::*;
use crate::{LockMode, LockState, LockTarget};

fn target(table: Option<&str>, mode: LockMode) -> Vec<LockTarget> {
    vec![LockTarget {
        database: "Sales".into(),
        table: table.map(str::to_string),
        mode,
    }]
}

pub(super) async fn exclusive_locks_exclude_across_servers(h: Harness) {
    let (a, b) = (h.open().await, h.open().await);
    let (first, state) = a
        .lock(target(Some("t"), LockMode::Exclusive), "spark")
        .await
        .unwrap();
    assert_eq!(state, LockState::Acquired);
    // Another server's request for the same table waits; another table is free.
    let (second, state) = b
        .lock(target(Some("T"), LockMode::Exclusive), "trino")
        .await
        .unwrap();
    assert_eq!(state, LockState::Waiting);
    let (other, state) = b
        .lock(target(Some("u"), LockMode::Exclusive), "trino")
        .await
        .unwrap();
    assert_eq!(state, LockState::Acquired);
    // A database-level lock conflicts with both table locks.
    let (db_lock, state) = b.lock(target(None, LockMode::Shared), "x").await.unwrap();
    assert_eq!(state, LockState::Waiting);
    assert_eq!(
        b.check_lock(second).await.unwrap(),
        Some(LockState::Waiting)
    );
    assert!(a.unlock(first).await.unwrap());
    assert_eq!(
        b.check_lock(second).await.unwrap(),
        Some(LockState::Acquired)
    );
    assert_eq!(a.check_lock(first).await.unwrap(), None, "released");
    assert!(!a.unlock(first).await.unwrap());
    assert_eq!(
        a.check_lock(db_lock).await.unwrap(),
        Some(LockState::Waiting)
    );
    assert!(b.unlock(second).await.unwrap());
    assert!(b.unlock(other).await.unwrap());
    assert_eq!(
        a.check_lock(db_lock).await.unwrap(),
        Some(LockState::Acquired)
    );
    // Shared locks share.
    let (shared, state) = a
        .lock(target(Some("t"), LockMode::Shared), "r")
        .await
        .unwrap();
    assert_eq!(state, LockState::Acquired);
    assert_eq!(
        a.lock_targets(shared).await.unwrap(),
        vec![LockTarget {
            database: "sales".into(),
            table: Some("t".into()),
            mode: LockMode::Shared
        }]
    );
    assert_eq!(a.check_lock(9_999_999).await.unwrap(), None);
}

pub(super) async fn racing_lockers_get_one_lock(h: Harness) {
    let stores: Vec<_> = futures::future::join_all((0..4).map(|_| h.open())).await;
    let results = futures::future::join_all(
        stores
            .iter()
            .map(|s| s.lock(target(Some("t"), LockMode::Exclusive), "racer")),
    )
    .await;
    let acquired = results
        .iter()
        .filter(|r| r.as_ref().unwrap().1 == LockState::Acquired)
        .count();
    assert_eq!(acquired, 1, "{results:?}");
}
