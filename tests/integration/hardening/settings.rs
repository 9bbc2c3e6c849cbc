//! `SET` of DataFusion options: the runtime (memory pool, spill directory) is the server's;
//! other non-planning options are for superusers.

use crate::pg::{PgFixture, sqlstate};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn datafusion_runtime_options_are_refused() {
    let pg = PgFixture::start().await;
    pg._lake.add_user("bob", "pw", false).await;
    let bob = pg.connect_as("bob", "pw").await.unwrap();
    let admin = pg.client().await;
    for sql in [
        "SET datafusion.runtime.temp_directory = '/etc'",
        "SET datafusion.runtime.memory_limit = '1T'",
        "SET datafusion.runtime.max_temp_directory_size = '1T'",
        "RESET datafusion.runtime.memory_limit",
    ] {
        for client in [&bob, &admin] {
            let err = client.simple_query(sql).await.unwrap_err();
            assert_eq!(sqlstate(&err), "42501", "{sql}: {err}");
        }
    }
    let err = bob
        .simple_query("SET datafusion.catalog.location = '/etc'")
        .await
        .unwrap_err();
    assert_eq!(sqlstate(&err), "42501", "{err}");
    admin
        .simple_query("SET datafusion.catalog.location = '/tmp'")
        .await
        .expect("superusers may");
    bob.simple_query("SET datafusion.execution.batch_size = 1024")
        .await
        .expect("planning and execution options stay open");
    bob.simple_query("SET datafusion.optimizer.max_passes = 2")
        .await
        .expect("optimizer options stay open");
    // Turning the VACUUM retention check off is for superusers.
    let err = bob
        .simple_query("SET tarn.vacuum_retention_check = off")
        .await
        .unwrap_err();
    assert_eq!(sqlstate(&err), "42501", "{err}");
}
