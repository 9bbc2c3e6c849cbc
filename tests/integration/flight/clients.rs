//! Real Python Flight SQL clients (installed by `scripts/test-deps.sh`): ADBC's DB-API driver,
//! pyarrow.flight and polars. The test fails, rather than skips, when a client is missing.

use std::process::Command;

use super::{FlightFixture, PASSWORD, USER};
use crate::pg::clients::venv_python;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn adbc_pyarrow_and_polars() {
    let f = FlightFixture::start().await;
    let script = format!(
        "{}/tests/clients/flight_adbc.py",
        env!("CARGO_MANIFEST_DIR")
    );
    let mut command = Command::new(venv_python());
    command.args([script.as_str(), &f.uri(), USER, PASSWORD]);
    let out = tokio::task::spawn_blocking(move || {
        command
            .output()
            .expect("run python (see scripts/test-deps.sh)")
    })
    .await
    .unwrap();
    assert!(
        out.status.success(),
        "stdout: {}\nstderr: {}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
}
