//! What psql shows of roles and privileges (`\dp`, `\du`, `\dn+`), as a DBA reads them.

use super::fixture;
use crate::pg::clients::{psql_command, run};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn psql_shows_grants_memberships_and_schema_acls() {
    let (pg, admin) = fixture(&["bob"]).await;
    admin
        .batch_execute(
            "CREATE SCHEMA sales; CREATE TABLE sales.orders (id int);
             CREATE ROLE analysts; GRANT analysts TO bob;
             GRANT USAGE ON SCHEMA sales TO analysts;
             GRANT SELECT ON sales.orders TO analysts;
             GRANT INSERT ON sales.orders TO bob WITH GRANT OPTION",
        )
        .await
        .unwrap();
    let meta = |command: &'static str| psql_command(&pg, command);
    let cases: [(&str, &[&str]); 3] = [
        (
            "\\dp sales.orders",
            &[
                "sales|orders|table|alice=arwdDxt/alice",
                "analysts=r/alice",
                "bob=a*/alice||",
            ],
        ),
        ("\\du bob", &["bob||{analysts}"]),
        (
            "\\dn+ sales",
            &["sales|alice|alice=UC/alice", "analysts=U/alice|"],
        ),
    ];
    for (command, expected) in cases {
        let out = run(meta(command)).await;
        let stdout = String::from_utf8_lossy(&out.stdout);
        assert!(
            out.status.success(),
            "{command}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        let lines: Vec<&str> = stdout.lines().collect();
        assert_eq!(lines, expected, "{command}");
    }
}
