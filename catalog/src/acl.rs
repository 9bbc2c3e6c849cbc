//! Privileges, grants, role memberships and default privileges: PostgreSQL's access model kept
//! in the Hive-model catalog, so every front end (pg, Flight, HMS, Glue) answers from one truth.
//!
//! The catalog only stores; deciding whether a principal may do something is the engine's
//! authorizer. Names of roles are case-sensitive (as PostgreSQL's quoted names); `PUBLIC` is the
//! pseudo-role every role belongs to.

use std::fmt;

use crate::error::{CatalogError, Result};

/// The pseudo-role every role is a member of.
pub const PUBLIC: &str = "PUBLIC";

/// Roles that exist in every catalog (PostgreSQL's predefined roles tarn honours). Nobody is a
/// member of them until a superuser grants them.
pub mod predefined {
    /// May point tables at storage locations and COPY from server-side paths.
    pub const READ_SERVER_FILES: &str = "pg_read_server_files";
    /// May COPY to server-side paths and point writable tables at storage locations.
    pub const WRITE_SERVER_FILES: &str = "pg_write_server_files";
    /// Reads every table (SELECT and schema USAGE everywhere).
    pub const READ_ALL_DATA: &str = "pg_read_all_data";
    /// Writes every table (INSERT, UPDATE, DELETE and schema USAGE everywhere).
    pub const WRITE_ALL_DATA: &str = "pg_write_all_data";
    /// Stands for "the owner of the database": owns the `default` database (PostgreSQL 15's
    /// `public` schema is owned by it); only superusers act as it.
    pub const DATABASE_OWNER: &str = "pg_database_owner";

    pub const ALL: [&str; 5] = [
        READ_SERVER_FILES,
        WRITE_SERVER_FILES,
        READ_ALL_DATA,
        WRITE_ALL_DATA,
        DATABASE_OWNER,
    ];
}

/// A privilege, by PostgreSQL's name.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Privilege {
    Select,
    Insert,
    Update,
    Delete,
    Truncate,
    References,
    Trigger,
    Usage,
    Create,
    Connect,
    Temporary,
}

impl Privilege {
    /// Every privilege, in the order aclitem text lists them.
    pub const ALL: [Privilege; 11] = [
        Privilege::Insert,
        Privilege::Select,
        Privilege::Update,
        Privilege::Delete,
        Privilege::Truncate,
        Privilege::References,
        Privilege::Trigger,
        Privilege::Usage,
        Privilege::Create,
        Privilege::Connect,
        Privilege::Temporary,
    ];

    pub fn name(self) -> &'static str {
        match self {
            Privilege::Select => "SELECT",
            Privilege::Insert => "INSERT",
            Privilege::Update => "UPDATE",
            Privilege::Delete => "DELETE",
            Privilege::Truncate => "TRUNCATE",
            Privilege::References => "REFERENCES",
            Privilege::Trigger => "TRIGGER",
            Privilege::Usage => "USAGE",
            Privilege::Create => "CREATE",
            Privilege::Connect => "CONNECT",
            Privilege::Temporary => "TEMPORARY",
        }
    }

    /// The letter of PostgreSQL's aclitem text form (`r` SELECT, `a` INSERT, …).
    pub fn acl_char(self) -> char {
        match self {
            Privilege::Select => 'r',
            Privilege::Insert => 'a',
            Privilege::Update => 'w',
            Privilege::Delete => 'd',
            Privilege::Truncate => 'D',
            Privilege::References => 'x',
            Privilege::Trigger => 't',
            Privilege::Usage => 'U',
            Privilege::Create => 'C',
            Privilege::Connect => 'c',
            Privilege::Temporary => 'T',
        }
    }

    /// Parses a privilege name as written in GRANT (`TEMP` is `TEMPORARY`), case-insensitively.
    pub fn parse(name: &str) -> Result<Self> {
        let upper = name.to_ascii_uppercase();
        if upper == "TEMP" {
            return Ok(Privilege::Temporary);
        }
        Privilege::ALL
            .into_iter()
            .find(|p| p.name() == upper)
            .ok_or_else(|| CatalogError::invalid(format!("unrecognized privilege type \"{name}\"")))
    }

    /// The privileges that exist on a kind of object (`ALL PRIVILEGES` expands to these).
    pub fn applicable(kind: ObjectKind) -> &'static [Privilege] {
        use Privilege::*;
        match kind {
            ObjectKind::Catalog => &[Create, Connect, Temporary],
            ObjectKind::Database => &[Usage, Create],
            ObjectKind::Table => &[
                Select, Insert, Update, Delete, Truncate, References, Trigger,
            ],
            ObjectKind::Column => &[Select, Insert, Update, References],
        }
    }
}

impl fmt::Display for Privilege {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// The kinds of objects privileges are granted on. A tarn database is a PostgreSQL schema;
/// the catalog as a whole is the PostgreSQL database clients connect to.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ObjectKind {
    Catalog,
    Database,
    Table,
    Column,
}

impl ObjectKind {
    pub fn name(self) -> &'static str {
        match self {
            ObjectKind::Catalog => "catalog",
            ObjectKind::Database => "database",
            ObjectKind::Table => "table",
            ObjectKind::Column => "column",
        }
    }
}

/// An object privileges are granted on. Database, table and column names are lower case.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Securable {
    Catalog,
    Database(String),
    Table {
        database: String,
        table: String,
    },
    Column {
        database: String,
        table: String,
        column: String,
    },
}

impl Securable {
    pub fn table(database: &str, table: &str) -> Self {
        Securable::Table {
            database: database.to_lowercase(),
            table: table.to_lowercase(),
        }
    }

    pub fn kind(&self) -> ObjectKind {
        match self {
            Securable::Catalog => ObjectKind::Catalog,
            Securable::Database(_) => ObjectKind::Database,
            Securable::Table { .. } => ObjectKind::Table,
            Securable::Column { .. } => ObjectKind::Column,
        }
    }

    /// `(kind, database, table, column)` as stored: absent parts are empty strings.
    pub fn to_parts(&self) -> (&'static str, &str, &str, &str) {
        let kind = self.kind().name();
        match self {
            Securable::Catalog => (kind, "", "", ""),
            Securable::Database(db) => (kind, db, "", ""),
            Securable::Table { database, table } => (kind, database, table, ""),
            Securable::Column {
                database,
                table,
                column,
            } => (kind, database, table, column),
        }
    }

    pub fn from_parts(kind: &str, db: &str, table: &str, column: &str) -> Result<Self> {
        Ok(match kind {
            "catalog" => Securable::Catalog,
            "database" => Securable::Database(db.into()),
            "table" => Securable::Table {
                database: db.into(),
                table: table.into(),
            },
            "column" => Securable::Column {
                database: db.into(),
                table: table.into(),
                column: column.into(),
            },
            other => {
                return Err(CatalogError::Corrupt(format!(
                    "unknown object kind {other}"
                )));
            }
        })
    }
}

/// One privilege held by one grantee on one object, as granted by one grantor.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Grant {
    pub object: Securable,
    /// A role name, or [`PUBLIC`].
    pub grantee: String,
    pub privilege: Privilege,
    pub grantor: String,
    /// WITH GRANT OPTION: the grantee may grant it on.
    pub grantable: bool,
}

/// Which grants to list.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum GrantScope {
    All,
    /// Grants on one object only.
    Object(Securable),
    /// Grants on a table and on its columns.
    TableAndColumns {
        database: String,
        table: String,
    },
    /// Grants on every object of one database (the database itself, its tables and columns).
    Database(String),
}

/// `member` belongs to `role` (GRANT role TO member).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RoleMembership {
    pub role: String,
    pub member: String,
    /// WITH ADMIN OPTION: the member may grant the role to others.
    pub admin_option: bool,
    pub grantor: String,
}

/// ALTER DEFAULT PRIVILEGES: privileges given to `grantee` on every table `owner` creates later
/// (in `database`, or anywhere when `None`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DefaultPrivilege {
    pub owner: String,
    pub database: Option<String>,
    pub grantee: String,
    pub privilege: Privilege,
    pub grantable: bool,
}

/// Changes of ALTER ROLE; `None` leaves an attribute as it is.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct RoleChanges {
    /// `Some(None)` removes the password (PASSWORD NULL).
    pub verifier: Option<Option<crate::users::ScramVerifier>>,
    pub superuser: Option<bool>,
    pub can_login: Option<bool>,
    pub create_role: Option<bool>,
    pub inherit: Option<bool>,
}

/// Formats grants of one object as PostgreSQL's aclitem array text (`{alice=arw*/bob,=r/bob}`):
/// one item per (grantee, grantor), privileges in aclitem order, `*` after grantable ones.
pub fn aclitems(grants: &[&Grant]) -> Vec<String> {
    let mut keys: Vec<(&str, &str)> = grants
        .iter()
        .map(|g| (g.grantee.as_str(), g.grantor.as_str()))
        .collect();
    keys.dedup();
    keys.sort();
    keys.dedup();
    keys.into_iter()
        .map(|(grantee, grantor)| {
            let mut privileges = String::new();
            for p in Privilege::ALL {
                let held = grants
                    .iter()
                    .find(|g| g.grantee == grantee && g.grantor == grantor && g.privilege == p);
                if let Some(g) = held {
                    privileges.push(p.acl_char());
                    if g.grantable {
                        privileges.push('*');
                    }
                }
            }
            let who = if grantee == PUBLIC {
                String::new()
            } else {
                quote_acl_name(grantee)
            };
            format!("{who}={privileges}/{}", quote_acl_name(grantor))
        })
        .collect()
}

/// An object's ACL as PostgreSQL shows it (`relacl`, `nspacl`, `datacl`): NULL (`None`) while
/// nothing was granted — the default, owner-only privileges — else the owner's implicit
/// privileges followed by the grants.
pub fn object_acl(owner: Option<&str>, kind: ObjectKind, grants: &[&Grant]) -> Option<Vec<String>> {
    if grants.is_empty() {
        return None;
    }
    let implicit: Vec<Grant> = owner
        .map(|owner| {
            Privilege::applicable(kind)
                .iter()
                .map(|p| Grant {
                    object: grants[0].object.clone(),
                    grantee: owner.to_string(),
                    privilege: *p,
                    grantor: owner.to_string(),
                    grantable: false,
                })
                .collect()
        })
        .unwrap_or_default();
    let mut all: Vec<&Grant> = implicit.iter().collect();
    all.extend(grants.iter().copied());
    Some(aclitems(&all))
}

/// Role names in aclitem text are quoted when they hold characters other than letters,
/// digits and underscores.
fn quote_acl_name(name: &str) -> String {
    if name.chars().all(|c| c.is_alphanumeric() || c == '_') {
        name.to_string()
    } else {
        format!("\"{}\"", name.replace('"', "\"\""))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn grant(grantee: &str, p: Privilege, grantable: bool) -> Grant {
        Grant {
            object: Securable::table("d", "t"),
            grantee: grantee.into(),
            privilege: p,
            grantor: "owner".into(),
            grantable,
        }
    }

    #[test]
    fn aclitems_match_postgres_text_form() {
        let grants = [
            grant("alice", Privilege::Select, true),
            grant("alice", Privilege::Insert, false),
            grant(PUBLIC, Privilege::Select, false),
            grant("odd name", Privilege::Update, false),
        ];
        let refs: Vec<&Grant> = grants.iter().collect();
        assert_eq!(
            aclitems(&refs),
            vec!["=r/owner", "alice=ar*/owner", "\"odd name\"=w/owner"]
        );
    }

    #[test]
    fn privileges_parse_and_round_trip() {
        for p in Privilege::ALL {
            assert_eq!(Privilege::parse(&p.name().to_lowercase()).unwrap(), p);
        }
        assert_eq!(Privilege::parse("temp").unwrap(), Privilege::Temporary);
        assert!(Privilege::parse("fly").is_err());
    }

    #[test]
    fn securables_round_trip_through_parts() {
        let all = [
            Securable::Catalog,
            Securable::Database("d".into()),
            Securable::table("D", "T"),
            Securable::Column {
                database: "d".into(),
                table: "t".into(),
                column: "c".into(),
            },
        ];
        for s in all {
            let (k, d, t, c) = s.to_parts();
            assert_eq!(Securable::from_parts(k, d, t, c).unwrap(), s);
        }
    }
}
