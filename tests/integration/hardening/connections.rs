//! Reserved connection slots: ordinary users cannot take the last ones, so the administrator
//! can always get in.

use crate::pg::{PASSWORD, PgFixture, USER, sqlstate};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_last_slots_are_for_superusers() {
    let pg = PgFixture::with(|c| {
        c.max_connections = 4;
        c.superuser_reserved_connections = 2;
    })
    .await;
    pg._lake.add_user("bob", "pw", false).await;
    let _bob1 = pg.connect_as("bob", "pw").await.expect("first slot");
    let _bob2 = pg.connect_as("bob", "pw").await.expect("second slot");
    let err = pg.connect_as("bob", "pw").await.expect_err("reserved");
    assert_eq!(sqlstate(&err), "53300", "{err}");
    assert!(err.to_string().contains("reserved") || format!("{err:?}").contains("reserved"));
    let admin1 = pg
        .connect_as(USER, PASSWORD)
        .await
        .expect("a superuser gets in");
    let _admin2 = pg.connect_as(USER, PASSWORD).await.expect("and another");
    let err = pg.connect_as(USER, PASSWORD).await.expect_err("full");
    assert_eq!(sqlstate(&err), "53300", "{err}");
    let rows = admin1
        .simple_query("SELECT 1")
        .await
        .expect("still serving");
    assert!(!rows.is_empty());
}
