//! Authorization: who a session acts as, which roles that brings, and the one place every
//! privilege and ownership check is decided (PostgreSQL 15's model over the catalog's grants).
//!
//! Every front end reaches data through a [`crate::Session`]; the session's [`Identity`] travels
//! into the DataFusion catalog provider (table resolution checks SELECT), the write funnel and
//! the catalog statements, so no front end re-implements a check. The effective role set is
//! read from the catalog once per statement (roles and grants changed by another session apply
//! to the next statement, as in PostgreSQL).

mod checks;

use std::collections::HashSet;
use std::sync::{Arc, Mutex, RwLock};

use tarn_catalog::{Metastore, PUBLIC, RoleMembership, User, acl::predefined};

pub(crate) use checks::{
    SelectVerdicts, TableAccess, TableGrants, catalog_privilege, check_location_role, relation,
    require_catalog, require_database_owner, require_schema, require_table_owner, schema_name,
    schema_privilege,
};

use crate::error::{EngineError, Result};

/// Who a session is: the user that logged in, the role it acts as (SET ROLE), and the
/// statement's effective privileges once computed.
#[derive(Debug)]
pub(crate) struct Identity {
    session_user: String,
    /// A local, trusted session (the CLI, an embedding program): a superuser without needing a
    /// catalog role, as the OS user who owns the data dir is.
    trusted: bool,
    /// SET ROLE; `None` acts as the session user.
    role: RwLock<Option<String>>,
    /// The statement's access, computed on first use and forgotten at the next statement.
    cached: Mutex<Option<Arc<Access>>>,
    /// The schemas and tables visible to the statement, loaded before planning one that reads
    /// DataFusion's information_schema: its callbacks are synchronous and must not wait on the
    /// catalog.
    names: Mutex<Option<Arc<VisibleNames>>>,
}

/// Schema names (as clients see them) and, per tarn database, the visible table names.
#[derive(Debug, Default)]
pub(crate) struct VisibleNames {
    pub schemas: Vec<String>,
    pub tables: std::collections::HashMap<String, Vec<String>>,
}

impl Identity {
    pub(crate) fn new(session_user: &str, trusted: bool) -> Arc<Self> {
        Arc::new(Self {
            session_user: session_user.to_string(),
            trusted,
            role: RwLock::new(None),
            cached: Mutex::new(None),
            names: Mutex::new(None),
        })
    }

    /// The identity a view's query runs under: its owner's (PostgreSQL checks the tables a view
    /// reads with the view owner's privileges). A view without an owner is the database
    /// owner's, which only superusers are.
    pub(crate) fn view_owner(owner: Option<&str>) -> Arc<Self> {
        Self::new(owner.unwrap_or(predefined::DATABASE_OWNER), false)
    }

    /// A copy for a forked session (same user and role, its own per-statement cache).
    pub(crate) fn fork(&self) -> Arc<Self> {
        let forked = Self::new(&self.session_user, self.trusted);
        *forked.role.write().unwrap_or_else(|e| e.into_inner()) = self.role_setting();
        forked
    }

    pub(crate) fn session_user(&self) -> &str {
        &self.session_user
    }

    fn role_setting(&self) -> Option<String> {
        self.role.read().map(|r| r.clone()).unwrap_or(None)
    }

    /// The role privileges are checked for (`current_user`).
    pub(crate) fn current_role(&self) -> String {
        self.role_setting()
            .unwrap_or_else(|| self.session_user.clone())
    }

    /// SET ROLE (`None`: back to the session user). The caller checked membership.
    pub(crate) fn set_role(&self, role: Option<String>) {
        if let Ok(mut r) = self.role.write() {
            *r = role;
        }
        self.new_statement();
    }

    /// Forgets the computed access: the next check reads roles and grants again.
    pub(crate) fn new_statement(&self) {
        if let Ok(mut c) = self.cached.lock() {
            *c = None;
        }
        if let Ok(mut n) = self.names.lock() {
            *n = None;
        }
    }

    /// Reads the names this identity may see, for the statement about to be planned.
    pub(crate) async fn load_names(&self, metastore: &dyn Metastore) -> Result<()> {
        let access = self.access(metastore).await?;
        let mut names = VisibleNames::default();
        for schema in crate::introspect::schemas(metastore, Some(&access)).await? {
            if schema == crate::provider::SYSTEM_SCHEMA {
                continue;
            }
            let database = crate::provider::database_for_schema(&schema);
            let mut tables = metastore.list_tables(&database, None).await?;
            if !access.superuser {
                let grants = TableGrants::load_database(metastore, &database).await?;
                tables.retain(|t| grants.any(&access, t));
            }
            names
                .tables
                .insert(database, tables.into_iter().map(|t| t.name).collect());
            names.schemas.push(schema);
        }
        if let Ok(mut n) = self.names.lock() {
            *n = Some(Arc::new(names));
        }
        Ok(())
    }

    /// The names loaded for this statement (none if it was not expected to list any).
    pub(crate) fn names(&self) -> Arc<VisibleNames> {
        self.names
            .lock()
            .ok()
            .and_then(|n| n.clone())
            .unwrap_or_default()
    }

    /// The statement's access (roles read from the catalog once per statement).
    pub(crate) async fn access(&self, metastore: &dyn Metastore) -> Result<Arc<Access>> {
        if let Some(access) = self.cached.lock().ok().and_then(|c| c.clone()) {
            return Ok(access);
        }
        let access = Arc::new(self.compute(metastore).await?);
        if let Ok(mut c) = self.cached.lock() {
            *c = Some(access.clone());
        }
        Ok(access)
    }

    async fn compute(&self, metastore: &dyn Metastore) -> Result<Access> {
        let role = self.current_role();
        let acting_as_self = self.role_setting().is_none();
        if self.trusted && acting_as_self {
            // A local superuser: nothing in the catalog can change that, so nothing is read.
            return Ok(Access {
                roles: [role.clone(), PUBLIC.to_string()].into(),
                role,
                superuser: true,
            });
        }
        let (users, memberships) = metastore.roles_and_memberships().await?;
        let record = users.iter().find(|u| u.name == role);
        let superuser = (self.trusted && acting_as_self) || record.is_some_and(|u| u.superuser);
        let roles = effective_roles(&role, &users, &memberships);
        Ok(Access {
            role,
            superuser,
            roles,
        })
    }
}

/// The privileges a statement runs with.
#[derive(Debug, Clone)]
pub struct Access {
    /// The role checks are made for (`current_user`).
    pub role: String,
    /// Bypasses every check.
    pub superuser: bool,
    /// The role itself, every role whose privileges it inherits, and PUBLIC.
    roles: HashSet<String>,
}

impl Access {
    /// The access `role` has, from roles and memberships already read (for the privilege
    /// inquiry functions, which ask about any role).
    pub(crate) fn for_role(role: &str, users: &[User], memberships: &[RoleMembership]) -> Self {
        Access {
            role: role.to_string(),
            superuser: users.iter().any(|u| u.name == role && u.superuser),
            roles: effective_roles(role, users, memberships),
        }
    }

    /// Whether privileges granted to `grantee` (a role or PUBLIC) are ours.
    pub fn holds(&self, grantee: &str) -> bool {
        self.superuser || self.roles.contains(grantee)
    }

    /// Whether we own an object owned by `owner` (directly or through an inherited role).
    /// Objects without an owner belong to the database owner: only superusers.
    pub fn owns(&self, owner: Option<&str>) -> bool {
        self.superuser
            || owner.is_some_and(|o| o != predefined::DATABASE_OWNER && self.roles.contains(o))
    }

    /// Membership (with inheritance) in a predefined role such as pg_read_server_files.
    pub fn has_role(&self, role: &str) -> bool {
        self.superuser || self.roles.contains(role)
    }
}

/// `role`, PUBLIC, and the roles it inherits: through memberships, transitively, following
/// only members that have INHERIT (PostgreSQL 15 semantics). Cycles end the walk.
fn effective_roles(role: &str, users: &[User], memberships: &[RoleMembership]) -> HashSet<String> {
    let inherits = |name: &str| {
        users
            .iter()
            .find(|u| u.name == name)
            .is_none_or(|u| u.inherit)
    };
    let mut roles: HashSet<String> = [role.to_string(), PUBLIC.to_string()].into();
    let mut frontier = vec![role.to_string()];
    while let Some(member) = frontier.pop() {
        if !inherits(&member) {
            continue;
        }
        for m in memberships.iter().filter(|m| m.member == member) {
            if roles.insert(m.role.clone()) {
                frontier.push(m.role.clone());
            }
        }
    }
    roles
}

/// Whether `member` is a member of `role` at all (inheritance aside), as SET ROLE and
/// `pg_has_role(…, 'MEMBER')` ask.
pub(crate) fn is_member(role: &str, member: &str, memberships: &[RoleMembership]) -> bool {
    let mut seen: HashSet<&str> = HashSet::from([member]);
    let mut frontier = vec![member];
    while let Some(m) = frontier.pop() {
        if m == role {
            return true;
        }
        for edge in memberships.iter().filter(|e| e.member == m) {
            if seen.insert(&edge.role) {
                frontier.push(&edge.role);
            }
        }
    }
    false
}

/// `permission denied for <what>` (42501), naming the object as PostgreSQL does.
pub(crate) fn denied(what: impl std::fmt::Display) -> EngineError {
    EngineError::PermissionDenied(format!("permission denied for {what}"))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn role(name: &str, inherit: bool) -> User {
        let mut u = User::login(
            name,
            tarn_catalog::ScramVerifier::with_salt("p", vec![0; 16], 1),
            false,
        );
        u.inherit = inherit;
        u
    }

    fn member(role: &str, member: &str) -> RoleMembership {
        RoleMembership {
            role: role.into(),
            member: member.into(),
            admin_option: false,
            grantor: "admin".into(),
        }
    }

    #[test]
    fn inheritance_follows_members_with_inherit_and_stops_at_cycles() {
        let users = vec![role("alice", true), role("mid", false), role("top", true)];
        let edges = vec![
            member("mid", "alice"),
            member("top", "mid"),
            member("alice", "top"),
        ];
        let roles = effective_roles("alice", &users, &edges);
        // alice inherits mid, but mid is NOINHERIT: top's privileges do not flow through it.
        assert!(roles.contains("mid") && !roles.contains("top") && roles.contains(PUBLIC));
        let roles = effective_roles("top", &users, &edges);
        assert!(roles.contains("alice") && roles.contains("mid"));
        assert!(is_member("top", "alice", &edges));
        assert!(!is_member("nobody", "alice", &edges));
    }
}
