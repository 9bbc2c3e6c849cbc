//! The attacks from the security review, each refused, with the data checked afterwards by
//! reading the files on disk (not the catalog's own counts).

use super::{denied, fixture, login, outcome, value};

/// Every file under `dir`, recursively.
fn files_under(dir: &std::path::Path) -> Vec<std::path::PathBuf> {
    let mut out = Vec::new();
    let mut stack = vec![dir.to_path_buf()];
    while let Some(d) = stack.pop() {
        for entry in std::fs::read_dir(&d).into_iter().flatten().flatten() {
            let path = entry.path();
            if path.is_dir() {
                stack.push(path);
            } else {
                out.push(path);
            }
        }
    }
    out.sort();
    out
}

#[tokio::test]
async fn an_ordinary_login_cannot_point_a_table_at_the_warehouse_and_drop_it() {
    let (pg, admin) = fixture(&["bob"]).await;
    let warehouse = pg._lake.data_dir().join("warehouse");
    let data_dir = pg._lake.data_dir();
    let lake = pg._lake.lake();
    admin
        .batch_execute(
            "CREATE TABLE precious (id int); INSERT INTO precious VALUES (1), (2), (3);
             CREATE SCHEMA lab; GRANT USAGE, CREATE ON SCHEMA lab TO bob",
        )
        .await
        .unwrap();
    admin
        .batch_execute(&format!(
            "CREATE EXTERNAL TABLE sales (id bigint, amount double, note string)
             PARTITIONED BY (year int, month int) STORED AS PARQUET LOCATION '{}/sales';
             MSCK REPAIR TABLE sales",
            lake.display()
        ))
        .await
        .unwrap();
    let before = files_under(&data_dir);
    let lake_before = files_under(&lake);
    assert!(!before.is_empty());

    let bob = login(&pg, "bob").await;
    bob.batch_execute(
        "CREATE TABLE lab.mine (a int); CREATE TABLE lab.parts (a int) PARTITIONED BY (p int)",
    )
    .await
    .unwrap();
    let set =
        |path: &std::path::Path| format!("ALTER TABLE lab.mine SET LOCATION '{}'", path.display());
    // Without pg_read_server_files: no locations at all.
    denied(&bob, &set(&warehouse)).await;
    denied(
        &bob,
        &format!(
            "CREATE EXTERNAL TABLE lab.ext (a int) LOCATION '{}/sales'",
            lake.display()
        ),
    )
    .await;
    denied(
        &bob,
        &format!("COPY lab.mine FROM '{}/people'", lake.display()),
    )
    .await;
    denied(
        &bob,
        &format!("COPY (SELECT 1) TO '{}/out.csv'", lake.display()),
    )
    .await;
    denied(
        &bob,
        &format!(
            "ALTER TABLE lab.parts ADD PARTITION (p=1) LOCATION '{}'",
            warehouse.display()
        ),
    )
    .await;

    // With it: still never the warehouse, the data dir, a root, or another table's data.
    admin
        .batch_execute("GRANT pg_read_server_files TO bob")
        .await
        .unwrap();
    for forbidden in [
        warehouse.clone(),
        data_dir.clone(),
        lake.clone(),
        lake.join("sales"),
        lake.join("sales/year=2023"),
        warehouse.join("precious"),
    ] {
        denied(&bob, &set(&forbidden)).await;
    }
    assert_eq!(outcome(&bob, "DROP TABLE lab.mine").await, "ok");

    // Everything is still there: the files on disk and what a query reads.
    assert_eq!(files_under(&lake), lake_before);
    for file in &before {
        if !file.starts_with(warehouse.join("lab.db"))
            && !file.to_string_lossy().contains("metastore")
        {
            assert!(file.exists(), "{} was deleted", file.display());
        }
    }
    assert_eq!(
        value(&admin, "SELECT count(*) FROM precious")
            .await
            .as_deref(),
        Some("3")
    );
}

#[tokio::test]
async fn dropping_a_managed_table_moved_elsewhere_keeps_the_other_data() {
    let (pg, admin) = fixture(&[]).await;
    let lake = pg._lake.lake();
    let elsewhere = lake.join("people");
    let kept = files_under(&elsewhere);
    assert!(!kept.is_empty());
    // Even a superuser's SET LOCATION makes the location foreign: DROP deletes nothing there.
    admin
        .batch_execute(&format!(
            "CREATE TABLE moved (id int); INSERT INTO moved VALUES (1);
             ALTER TABLE moved SET LOCATION '{}'; DROP TABLE moved",
            elsewhere.display()
        ))
        .await
        .unwrap();
    assert_eq!(files_under(&elsewhere), kept);
    // A managed table's own data does go.
    admin
        .batch_execute("CREATE TABLE gone (id int); INSERT INTO gone VALUES (1)")
        .await
        .unwrap();
    let dir = pg._lake.data_dir().join("warehouse").join("gone");
    assert!(!files_under(&dir).is_empty());
    admin.batch_execute("DROP TABLE gone").await.unwrap();
    assert!(files_under(&dir).is_empty());
}

#[tokio::test]
async fn server_files_need_the_predefined_roles() {
    let (pg, admin) = fixture(&["bob"]).await;
    let lake = pg._lake.lake();
    admin
        .batch_execute("CREATE SCHEMA lab; GRANT USAGE, CREATE ON SCHEMA lab TO bob")
        .await
        .unwrap();
    let bob = login(&pg, "bob").await;
    let out = lake.join("export");
    let copy_to = format!(
        "COPY (SELECT 1 AS a) TO '{}' STORED AS PARQUET",
        out.display()
    );
    denied(&bob, &copy_to).await;
    assert!(!out.exists());
    admin
        .batch_execute("GRANT pg_write_server_files TO bob")
        .await
        .unwrap();
    assert_eq!(outcome(&bob, &copy_to).await, "ok");
    assert!(out.exists());
    let external = format!(
        "CREATE EXTERNAL TABLE lab.people (id int, name string, age int) STORED AS CSV LOCATION '{}/people'",
        lake.display()
    );
    denied(&bob, &external).await;
    admin
        .batch_execute("GRANT pg_read_server_files TO bob")
        .await
        .unwrap();
    assert_eq!(outcome(&bob, &external).await, "ok");
}

/// A partition may live outside its table's directory; no other table may then point at it,
/// nor contain it (the check covers partitions, not only tables).
#[tokio::test]
async fn a_partition_location_outside_its_table_is_not_shared() {
    let (pg, admin) = fixture(&[]).await;
    let lake = pg._lake.lake();
    let people = lake.join("people");
    let kept = files_under(&people);
    assert!(!kept.is_empty());
    admin
        .batch_execute(&format!(
            "CREATE EXTERNAL TABLE ext (id int, name string, age int) PARTITIONED BY (p int)
             STORED AS CSV LOCATION '{lake}/ext';
             ALTER TABLE ext ADD PARTITION (p=1) LOCATION '{people}'",
            lake = lake.display(),
            people = people.display()
        ))
        .await
        .unwrap();
    for location in [people.clone(), people.join("sub")] {
        let e = admin
            .batch_execute(&format!(
                "CREATE EXTERNAL TABLE other (id int) STORED AS CSV LOCATION '{}'",
                location.display()
            ))
            .await
            .unwrap_err();
        assert_eq!(
            e.code(),
            Some(&tokio_postgres::error::SqlState::INSUFFICIENT_PRIVILEGE),
            "{e}"
        );
        let message = e.as_db_error().expect("a server error").message();
        assert!(message.contains("partition p=1 of table"), "{message}");
    }
    // Nor may a sibling partition point into it: DROP PARTITION would delete it.
    let e = admin
        .batch_execute(&format!(
            "ALTER TABLE ext ADD PARTITION (p=2) LOCATION '{}'",
            people.join("sub").display()
        ))
        .await
        .unwrap_err();
    let message = e.as_db_error().expect("a server error").message();
    assert!(message.contains("partition p=1 of table"), "{message}");
    admin
        .batch_execute("CREATE TABLE m (id int)")
        .await
        .unwrap();
    let e = admin
        .batch_execute(&format!(
            "ALTER TABLE m SET LOCATION '{}'",
            people.display()
        ))
        .await
        .unwrap_err();
    let message = e.as_db_error().expect("a server error").message();
    assert!(message.contains("overlaps"), "{message}");
    admin
        .batch_execute("ALTER TABLE ext DROP PARTITION (p=1); DROP TABLE m; DROP TABLE ext")
        .await
        .unwrap();
    assert_eq!(files_under(&people), kept);
}
