//! What psql shows of roles and privileges (`\dp`, `\du`, `\dn+`), as a DBA reads them.

use std::process::Command;

use super::fixture;
use crate::pg::clients::run;
use crate::pg::{PASSWORD, USER};

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
    let meta = |command: &'static str| {
        let mut c = Command::new("psql");
        c.args([
            "-X",
            "-A",
            "-t",
            "-v",
            "ON_ERROR_STOP=1",
            "-h",
            "127.0.0.1",
            "-p",
        ])
        .arg(pg.addr.port().to_string())
        .args(["-U", USER, "-d", "tarn", "-c", command])
        .env("PGPASSWORD", PASSWORD)
        .env("PGCONNECT_TIMEOUT", "10");
        c
    };
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
