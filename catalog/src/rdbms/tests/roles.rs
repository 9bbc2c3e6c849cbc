//! Roles, memberships, grants and default privileges, on every store.

use super::*;

pub(super) async fn users_store_verifiers_not_passwords(h: Harness) {
    use crate::{RoleChanges, ScramVerifier, User};
    let store = h.open().await;
    let mut user = User::login("alice", ScramVerifier::new("pw1").unwrap(), false);
    user.create_time = 1;
    assert!(store.create_user(user.clone(), false).await.unwrap());
    assert!(!store.create_user(user.clone(), true).await.unwrap());
    assert!(matches!(
        store.create_user(user.clone(), false).await,
        Err(CatalogError::UserExists(_))
    ));
    assert_eq!(store.get_user("alice").await.unwrap(), Some(user.clone()));
    assert_eq!(store.get_user("Alice").await.unwrap(), None);
    let v2 = ScramVerifier::new("pw2").unwrap();
    let changes = RoleChanges {
        verifier: Some(Some(v2.clone())),
        superuser: Some(true),
        ..Default::default()
    };
    store.alter_user("alice", changes).await.unwrap();
    let got = store.get_user("alice").await.unwrap().unwrap();
    assert_eq!((got.verifier, got.superuser), (Some(v2), true));
    let logins: Vec<_> = store.list_users().await.unwrap();
    assert_eq!(logins.iter().filter(|u| u.can_login).count(), 1);
    let raw = h.raw_contents().await;
    assert!(!raw.windows(3).any(|w| w == b"pw1" || w == b"pw2"));
    // PASSWORD NULL and NOLOGIN: the role stays, without a way in.
    let nologin = RoleChanges {
        verifier: Some(None),
        can_login: Some(false),
        ..Default::default()
    };
    store.alter_user("alice", nologin).await.unwrap();
    let got = store.get_user("alice").await.unwrap().unwrap();
    assert_eq!((got.verifier.clone(), got.can_login), (None, false));
    assert!(got.login_verifier().is_none());
    assert!(store.drop_user("alice", false).await.unwrap());
    assert!(!store.drop_user("alice", true).await.unwrap());
    assert!(matches!(
        store.alter_user("alice", RoleChanges::default()).await,
        Err(CatalogError::UserNotFound(_))
    ));
}

pub(super) async fn predefined_roles_and_postgres_15_default_grants_exist(h: Harness) {
    use crate::{GrantScope, PUBLIC, Privilege, Securable};
    let s = h.open().await;
    for name in crate::acl::predefined::ALL {
        let role = s.get_user(name).await.unwrap().unwrap();
        assert!(!role.can_login && role.verifier.is_none(), "{name}");
    }
    let catalog = s
        .list_grants(GrantScope::Object(Securable::Catalog))
        .await
        .unwrap();
    assert!(
        catalog
            .iter()
            .any(|g| g.grantee == PUBLIC && g.privilege == Privilege::Connect)
    );
    let public = s
        .list_grants(GrantScope::Object(Securable::Database("default".into())))
        .await
        .unwrap();
    let public: Vec<_> = public
        .iter()
        .map(|g| (g.grantee.as_str(), g.privilege))
        .collect();
    assert_eq!(public, vec![(PUBLIC, Privilege::Usage)]);
    let db = s.get_database("default").await.unwrap().unwrap();
    assert_eq!(db.owner.as_deref(), Some("pg_database_owner"));
}

fn login(name: &str) -> crate::User {
    crate::User::login(
        name,
        crate::ScramVerifier::with_salt("pw", vec![1; 16], 1),
        false,
    )
}

pub(super) async fn grants_are_stored_listed_revoked_and_forgotten_with_their_table(h: Harness) {
    use crate::{Grant, GrantScope, Privilege, Securable};
    let s = h.open().await;
    s.create_user(login("alice"), false).await.unwrap();
    let mut t = table("default", "t", &[]);
    t.owner = Some("alice".into());
    s.create_table(t, false).await.unwrap();
    let g = |privilege, grantable| Grant {
        object: Securable::table("default", "t"),
        grantee: "bob".into(),
        privilege,
        grantor: "alice".into(),
        grantable,
    };
    let col = Grant {
        object: Securable::Column {
            database: "default".into(),
            table: "t".into(),
            column: "x".into(),
        },
        ..g(Privilege::Select, false)
    };
    s.grant_privileges(vec![
        g(Privilege::Select, false),
        g(Privilege::Insert, true),
        col.clone(),
    ])
    .await
    .unwrap();
    // Granting again with the option upgrades, never downgrades.
    s.grant_privileges(vec![
        g(Privilege::Select, true),
        g(Privilege::Insert, false),
    ])
    .await
    .unwrap();
    let scope = GrantScope::TableAndColumns {
        database: "default".into(),
        table: "t".into(),
    };
    let got = s.list_grants(scope.clone()).await.unwrap();
    assert_eq!(got.len(), 3, "{got:?}");
    assert!(
        got.iter()
            .filter(|g| g.object.kind() == crate::ObjectKind::Table)
            .all(|g| g.grantable)
    );
    assert_eq!(
        s.revoke_privileges(vec![g(Privilege::Insert, false)], true)
            .await
            .unwrap(),
        1
    );
    assert_eq!(
        s.revoke_privileges(vec![g(Privilege::Select, false)], false)
            .await
            .unwrap(),
        1
    );
    let got = s.list_grants(scope.clone()).await.unwrap();
    assert_eq!(got.len(), 2);
    assert!(got.iter().all(|g| !g.grantable));
    // The owner holds its table: the role cannot be dropped until it is gone.
    assert!(matches!(
        s.drop_user("alice", false).await,
        Err(CatalogError::DependentObjects(_))
    ));
    s.drop_table("default", "t", false, None).await.unwrap();
    assert!(s.list_grants(scope).await.unwrap().is_empty());
    assert!(s.drop_user("alice", false).await.unwrap());
}

pub(super) async fn default_privileges_apply_to_tables_created_later(h: Harness) {
    use crate::{DefaultPrivilege, GrantScope, Privilege};
    let s = h.open().await;
    let defaults = vec![DefaultPrivilege {
        owner: "alice".into(),
        database: Some("default".into()),
        grantee: "analysts".into(),
        privilege: Privilege::Select,
        grantable: false,
    }];
    s.set_default_privileges(defaults.clone(), false)
        .await
        .unwrap();
    assert_eq!(s.list_default_privileges().await.unwrap(), defaults);
    for (name, owner) in [("mine", "alice"), ("theirs", "bob")] {
        let mut t = table("default", name, &[]);
        t.owner = Some(owner.into());
        s.create_table(t, false).await.unwrap();
    }
    let on = |t: &str| GrantScope::TableAndColumns {
        database: "default".into(),
        table: t.into(),
    };
    let mine = s.list_grants(on("mine")).await.unwrap();
    assert_eq!(mine.len(), 1);
    assert_eq!(
        (mine[0].grantee.as_str(), mine[0].grantor.as_str()),
        ("analysts", "alice")
    );
    assert!(s.list_grants(on("theirs")).await.unwrap().is_empty());
    s.set_default_privileges(defaults, true).await.unwrap();
    assert!(s.list_default_privileges().await.unwrap().is_empty());
}

pub(super) async fn role_memberships_need_existing_roles(h: Harness) {
    use crate::RoleMembership;
    let s = h.open().await;
    s.create_user(login("alice"), false).await.unwrap();
    let m = RoleMembership {
        role: "pg_read_all_data".into(),
        member: "alice".into(),
        admin_option: false,
        grantor: "admin".into(),
    };
    s.grant_role(m.clone()).await.unwrap();
    assert_eq!(s.list_role_memberships().await.unwrap(), vec![m.clone()]);
    let ghost = RoleMembership {
        member: "ghost".into(),
        ..m.clone()
    };
    assert!(matches!(
        s.grant_role(ghost).await,
        Err(CatalogError::UserNotFound(_))
    ));
    assert!(
        s.revoke_role("pg_read_all_data", "alice", false)
            .await
            .unwrap()
    );
    assert!(
        !s.revoke_role("pg_read_all_data", "alice", false)
            .await
            .unwrap()
    );
    s.grant_role(m).await.unwrap();
    // Dropping the member drops its memberships.
    assert!(s.drop_user("alice", false).await.unwrap());
    assert!(s.list_role_memberships().await.unwrap().is_empty());
}
