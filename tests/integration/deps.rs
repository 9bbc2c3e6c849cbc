//! The crate graph stays as designed: dependencies point one way (tarn -> server -> engine ->
//! {catalog, sql}) and the build has one datafusion, one arrow, one parquet, one object_store.

use std::process::Command;

fn cargo(args: &[&str]) -> String {
    let out = Command::new(env!("CARGO"))
        .args(args)
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .output()
        .expect("run cargo");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout).expect("utf8")
}

#[test]
fn dependencies_point_one_way() {
    let metadata: serde_json::Value = serde_json::from_str(&cargo(&[
        "metadata",
        "--format-version",
        "1",
        "--no-deps",
        "--offline",
    ]))
    .expect("metadata json");
    let allowed: &[(&str, &[&str])] = &[
        ("tarn-sql", &[]),
        ("tarn-catalog", &[]),
        ("tarn-engine", &["tarn-sql", "tarn-catalog"]),
        ("tarn-server", &["tarn-engine"]),
        (
            "tarn",
            &["tarn-server", "tarn-engine", "tarn-sql", "tarn-catalog"],
        ),
    ];
    for package in metadata["packages"].as_array().expect("packages") {
        let name = package["name"].as_str().expect("name");
        let internal: Vec<&str> = package["dependencies"]
            .as_array()
            .expect("deps")
            .iter()
            .filter_map(|d| d["name"].as_str())
            .filter(|d| d.starts_with("tarn"))
            .collect();
        let (_, ok) = allowed
            .iter()
            .find(|(n, _)| *n == name)
            .expect("known member");
        for dep in internal {
            assert!(ok.contains(&dep), "{name} must not depend on {dep}");
        }
    }
}

#[test]
fn one_datafusion_one_arrow_one_pgwire_one_tonic() {
    let dups = cargo(&[
        "tree",
        "-d",
        "--workspace",
        "--offline",
        "-e",
        "normal",
        "--prefix",
        "none",
        "--depth",
        "0",
    ]);
    for krate in [
        "datafusion ",
        "arrow ",
        "parquet ",
        "object_store ",
        "sqlparser ",
        "pgwire ",
        "tokio-rustls ",
        "tonic ",
        "prost ",
        "arrow-flight ",
    ] {
        let versions: Vec<&str> = dups.lines().filter(|l| l.starts_with(krate)).collect();
        assert!(
            versions.is_empty(),
            "more than one {krate}in the build: {versions:?}"
        );
    }
}
