//! Versioned schema migrations for the SQLite metastore. Each entry runs once, in order, in one
//! transaction with the bump of `user_version`; never edit a released entry, append a new one.

use rusqlite::Connection;

use crate::error::{CatalogError, Result};

const MIGRATIONS: &[&str] = &[
    // v1: databases, tables, partitions and the partition key index.
    r#"
    CREATE TABLE dbs (
        id INTEGER PRIMARY KEY,
        name TEXT NOT NULL UNIQUE,
        description TEXT,
        location TEXT NOT NULL,
        owner TEXT,
        params TEXT NOT NULL DEFAULT '{}',
        create_time INTEGER NOT NULL
    );
    CREATE TABLE tbls (
        id INTEGER PRIMARY KEY,
        db_id INTEGER NOT NULL REFERENCES dbs(id) ON DELETE CASCADE,
        name TEXT NOT NULL,
        tbl_type TEXT NOT NULL,
        location TEXT NOT NULL,
        version INTEGER NOT NULL DEFAULT 0,
        spec TEXT NOT NULL,
        UNIQUE (db_id, name)
    );
    CREATE TABLE parts (
        id INTEGER PRIMARY KEY,
        tbl_id INTEGER NOT NULL REFERENCES tbls(id) ON DELETE CASCADE,
        name TEXT NOT NULL,
        vals TEXT NOT NULL,
        location TEXT NOT NULL,
        params TEXT NOT NULL DEFAULT '{}',
        create_time INTEGER NOT NULL,
        UNIQUE (tbl_id, name)
    );
    -- One row per (partition, key): the typed value (INTEGER for integer keys, TEXT otherwise,
    -- NULL for the default partition) so a predicate on any key is an index range scan.
    CREATE TABLE part_keys (
        part_id INTEGER NOT NULL REFERENCES parts(id) ON DELETE CASCADE,
        tbl_id INTEGER NOT NULL,
        key_idx INTEGER NOT NULL,
        value,
        PRIMARY KEY (part_id, key_idx)
    ) WITHOUT ROWID;
    CREATE INDEX part_keys_lookup ON part_keys (tbl_id, key_idx, value);
    "#,
    // v2: the commit-maintained file index, batches, retired locations.
    r#"
    ALTER TABLE parts ADD COLUMN version INTEGER NOT NULL DEFAULT 0;
    ALTER TABLE parts ADD COLUMN indexed INTEGER NOT NULL DEFAULT 0;
    ALTER TABLE parts ADD COLUMN batch_id TEXT;
    CREATE TABLE part_files (
        part_id INTEGER NOT NULL REFERENCES parts(id) ON DELETE CASCADE,
        path TEXT NOT NULL,
        size INTEGER NOT NULL,
        rows INTEGER NOT NULL,
        stats TEXT NOT NULL DEFAULT '{}',
        batch_id TEXT,
        PRIMARY KEY (part_id, path)
    ) WITHOUT ROWID;
    CREATE TABLE batches (
        id INTEGER PRIMARY KEY,
        tbl_id INTEGER NOT NULL REFERENCES tbls(id) ON DELETE CASCADE,
        batch_id TEXT NOT NULL,
        statement TEXT NOT NULL,
        user_name TEXT NOT NULL,
        time INTEGER NOT NULL,
        partitions TEXT NOT NULL,
        rows INTEGER NOT NULL
    );
    CREATE INDEX batches_by_table ON batches (tbl_id, id);
    CREATE TABLE retired_locations (
        location TEXT PRIMARY KEY,
        retired_at INTEGER NOT NULL
    );
    "#,
    // v3: users of the network front ends, with SCRAM-SHA-256 verifiers (never passwords).
    r#"
    CREATE TABLE users (
        name TEXT PRIMARY KEY,
        verifier TEXT NOT NULL,
        superuser INTEGER NOT NULL,
        create_time INTEGER NOT NULL
    ) WITHOUT ROWID;
    "#,
    // v4: roles (users are roles that may log in), role membership, privileges, default
    // privileges, PostgreSQL's predefined roles. A role without a password has verifier ''.
    r#"
    ALTER TABLE users ADD COLUMN can_login INTEGER NOT NULL DEFAULT 1;
    ALTER TABLE users ADD COLUMN create_role INTEGER NOT NULL DEFAULT 0;
    ALTER TABLE users ADD COLUMN inherit INTEGER NOT NULL DEFAULT 1;
    INSERT INTO users (name, verifier, superuser, create_time, can_login)
    VALUES ('pg_read_server_files', '', 0, 0, 0), ('pg_write_server_files', '', 0, 0, 0),
           ('pg_read_all_data', '', 0, 0, 0), ('pg_write_all_data', '', 0, 0, 0),
           ('pg_database_owner', '', 0, 0, 0)
    ON CONFLICT (name) DO NOTHING;
    CREATE TABLE role_members (
        role TEXT NOT NULL,
        member TEXT NOT NULL,
        admin_option INTEGER NOT NULL,
        grantor TEXT NOT NULL,
        PRIMARY KEY (role, member)
    ) WITHOUT ROWID;
    CREATE INDEX role_members_by_member ON role_members (member);
    -- One row per (object, grantee, privilege, grantor); absent name parts are ''.
    CREATE TABLE grants (
        db TEXT NOT NULL,
        tbl TEXT NOT NULL,
        col TEXT NOT NULL,
        kind TEXT NOT NULL,
        grantee TEXT NOT NULL,
        privilege TEXT NOT NULL,
        grantor TEXT NOT NULL,
        grantable INTEGER NOT NULL,
        PRIMARY KEY (db, tbl, col, kind, grantee, privilege, grantor)
    ) WITHOUT ROWID;
    CREATE INDEX grants_by_grantee ON grants (grantee);
    CREATE TABLE default_privileges (
        owner TEXT NOT NULL,
        db TEXT NOT NULL,
        grantee TEXT NOT NULL,
        privilege TEXT NOT NULL,
        grantable INTEGER NOT NULL,
        PRIMARY KEY (owner, db, grantee, privilege)
    ) WITHOUT ROWID;
    -- PostgreSQL 15's defaults: everyone may connect, and use (not create in) the schema
    -- clients see as `public`, which the database owner owns.
    INSERT INTO grants VALUES ('', '', '', 'catalog', 'PUBLIC', 'CONNECT', 'pg_database_owner', 0);
    INSERT INTO grants VALUES ('', '', '', 'catalog', 'PUBLIC', 'TEMPORARY', 'pg_database_owner', 0);
    INSERT INTO grants VALUES ('default', '', '', 'database', 'PUBLIC', 'USAGE', 'pg_database_owner', 0);
    UPDATE dbs SET owner = 'pg_database_owner' WHERE name = 'default' AND owner IS NULL;
    "#,
    // v5: write intents. A writer records its write id before it writes a file; readers that
    // list directories skip the files of writes still pending, the commit removes the intent
    // in its transaction, and VACUUM reclaims the files of intents that outlive the retention.
    r#"
    CREATE TABLE pending_writes (
        write_id TEXT PRIMARY KEY,
        db TEXT NOT NULL,
        tbl TEXT NOT NULL,
        started_at INTEGER NOT NULL,
        user_name TEXT NOT NULL,
        statement TEXT NOT NULL,
        -- The writer gave up (its files may be partial); VACUUM may reclaim it at once.
        failed INTEGER NOT NULL DEFAULT 0
    );
    CREATE INDEX pending_writes_by_table ON pending_writes (db, tbl);
    -- Writes are numbered as they begin; a write id starts with its number, then this
    -- catalog's id (so numbers of other catalogs writing the same lake are told apart).
    CREATE TABLE write_sequence (
        id INTEGER PRIMARY KEY CHECK (id = 0),
        last INTEGER NOT NULL,
        catalog_id TEXT NOT NULL
    );
    INSERT INTO write_sequence VALUES (0, 0, lower(hex(randomblob(4))));
    -- A batch id is an idempotency key: a re-run supersedes the earlier runs' rows.
    ALTER TABLE batches ADD COLUMN live INTEGER NOT NULL DEFAULT 1;
    ALTER TABLE batches ADD COLUMN write_id TEXT;
    CREATE INDEX batches_by_id ON batches (tbl_id, batch_id);
    "#,
    // v6: intents carry the table's location, so a table declared later over the same
    // directories under another name skips their files; a dropped managed table's committed
    // writes become failed intents (its files are deleted after the metadata commit).
    r#"
    ALTER TABLE pending_writes ADD COLUMN location TEXT NOT NULL DEFAULT '';
    "#,
    // v7: secrets every server of the catalog shares (the seed of decoy login verifiers).
    r#"
    CREATE TABLE secrets (
        name TEXT PRIMARY KEY,
        value TEXT NOT NULL
    ) WITHOUT ROWID;
    "#,
    // v8: table locks of metastore clients (see `crate::locks`).
    r#"
    CREATE TABLE locks (
        lock_id INTEGER NOT NULL,
        db TEXT NOT NULL,
        tbl TEXT,
        exclusive INTEGER NOT NULL,
        owner TEXT NOT NULL,
        acquired INTEGER NOT NULL,
        heartbeat INTEGER NOT NULL
    );
    CREATE INDEX locks_by_id ON locks (lock_id);
    CREATE INDEX locks_by_object ON locks (db, tbl);
    "#,
    // v9: column statistics of tables and partitions (see `crate::colstats`); partitions by
    // directory (no two partitions of a table share one).
    r#"
    CREATE INDEX parts_by_location ON parts (tbl_id, location);
    CREATE TABLE tbl_col_stats (
        tbl_id INTEGER NOT NULL REFERENCES tbls(id) ON DELETE CASCADE,
        col TEXT NOT NULL,
        col_type TEXT NOT NULL,
        stats TEXT NOT NULL,
        analyzed INTEGER NOT NULL,
        PRIMARY KEY (tbl_id, col)
    ) WITHOUT ROWID;
    CREATE TABLE part_col_stats (
        part_id INTEGER NOT NULL REFERENCES parts(id) ON DELETE CASCADE,
        col TEXT NOT NULL,
        col_type TEXT NOT NULL,
        stats TEXT NOT NULL,
        analyzed INTEGER NOT NULL,
        PRIMARY KEY (part_id, col)
    ) WITHOUT ROWID;
    "#,
];

/// Brings the database to the newest schema version.
pub(super) fn migrate(conn: &mut Connection) -> Result<()> {
    let current: i64 = conn.query_row("PRAGMA user_version", [], |r| r.get(0))?;
    let current = usize::try_from(current).unwrap_or(usize::MAX);
    if current > MIGRATIONS.len() {
        return Err(CatalogError::Corrupt(format!(
            "metastore schema version {current} is newer than this tarn ({}); upgrade tarn",
            MIGRATIONS.len()
        )));
    }
    for (i, sql) in MIGRATIONS.iter().enumerate().skip(current) {
        let tx = conn.transaction_with_behavior(rusqlite::TransactionBehavior::Immediate)?;
        tx.execute_batch(sql)?;
        tx.pragma_update(None, "user_version", (i + 1) as i64)?;
        tx.commit()?;
    }
    Ok(())
}

/// Fails when the file's schema is not the one this tarn writes.
pub(super) fn check_version(conn: &Connection) -> Result<()> {
    let current: i64 = conn.query_row("PRAGMA user_version", [], |r| r.get(0))?;
    if current != MIGRATIONS.len() as i64 {
        return Err(CatalogError::Storage(format!(
            "the catalog schema is at version {current}, this tarn writes {}: it was migrated by \
             another tarn; upgrade this one",
            MIGRATIONS.len()
        )));
    }
    Ok(())
}

/// Connection settings every connection gets.
pub(super) fn configure(conn: &Connection) -> Result<()> {
    conn.busy_timeout(std::time::Duration::from_secs(10))?;
    conn.pragma_update(None, "foreign_keys", "ON")?;
    // FULL: a commit that returned survives a power loss, not only a crash of tarn.
    conn.pragma_update(None, "synchronous", "FULL")?;
    Ok(())
}
