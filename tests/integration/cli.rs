//! The `tarn` binary, black-box: scripts, formats, exit codes, the demo lakehouse.

use std::process::Command;

fn tarn(data_dir: &std::path::Path, args: &[&str]) -> std::process::Output {
    Command::new(env!("CARGO_BIN_EXE_tarn"))
        .arg("--data-dir")
        .arg(data_dir)
        .args(args)
        .env_remove("TARN_CONFIG")
        .output()
        .expect("run tarn")
}

#[test]
fn execute_formats_and_exit_codes() {
    let dir = tempfile::tempdir().unwrap();
    let out = tarn(
        dir.path(),
        &[
            "sql",
            "--format",
            "csv",
            "-q",
            "-e",
            "SELECT 1 AS a, 'x' AS b",
        ],
    );
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert_eq!(String::from_utf8_lossy(&out.stdout), "a,b\n1,x\n");

    let out = tarn(
        dir.path(),
        &["sql", "--format", "ndjson", "-q", "-e", "SELECT 1 AS a"],
    );
    assert_eq!(String::from_utf8_lossy(&out.stdout).trim(), "{\"a\":1}");

    let out = tarn(dir.path(), &["sql", "-e", "SELECT * FROM missing_table"]);
    assert!(!out.status.success());
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains("ERROR [undefined table]"), "{stderr}");
    assert!(stderr.contains("HINT"), "{stderr}");

    // A failing statement stops the script.
    let script = dir.path().join("s.sql");
    std::fs::write(
        &script,
        "CREATE DATABASE a;\nSELEC oops;\nCREATE DATABASE b;\n",
    )
    .unwrap();
    let out = tarn(dir.path(), &["sql", "-f", script.to_str().unwrap()]);
    assert!(!out.status.success());
    assert!(
        String::from_utf8_lossy(&out.stderr).contains("LINE 2"),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let out = tarn(
        dir.path(),
        &["sql", "--format", "csv", "-q", "-e", "SHOW DATABASES"],
    );
    assert_eq!(
        String::from_utf8_lossy(&out.stdout),
        "database_name\na\ndefault\n"
    );
}

#[test]
fn unknown_config_keys_are_rejected() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("tarn.toml"), "allowed_rootz = []\n").unwrap();
    let out = tarn(dir.path(), &["sql", "-e", "SELECT 1"]);
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("unknown field"));
}

#[test]
fn demo_lakehouse_is_created_once_and_queryable() {
    let dir = tempfile::tempdir().unwrap();
    let out = tarn(dir.path(), &["demo"]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let out = tarn(
        dir.path(),
        &[
            "sql",
            "--demo",
            "--format",
            "csv",
            "-q",
            "-e",
            "SELECT count(*) AS n, count(DISTINCT dt) AS days, sum(CASE WHEN dt IS NULL THEN 1 ELSE 0 END) AS null_dt FROM events",
        ],
    );
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert_eq!(
        String::from_utf8_lossy(&out.stdout),
        "n,days,null_dt\n140500,7,500\n"
    );
    let out = tarn(
        dir.path(),
        &[
            "sql",
            "--format",
            "csv",
            "-q",
            "-e",
            "SELECT count(*) FROM raw.events; SELECT count(*) FROM tpch.lineitem; SHOW PARTITIONS events",
        ],
    );
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(stdout.contains("6000\n"), "{stdout}");
    assert!(stdout.contains("dt=__HIVE_DEFAULT_PARTITION__"), "{stdout}");
}
