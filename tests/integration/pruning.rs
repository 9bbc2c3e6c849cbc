//! The catalog decides which files a query reads.

use tarn::datafusion::arrow::array::{AsArray, RecordBatch};

use crate::support::{SALES_COLUMNS, TestLake};

async fn physical_plan(session: &tarn::TarnSession, sql: &str) -> String {
    let batches: Vec<RecordBatch> = session.query(&format!("EXPLAIN {sql}")).await.unwrap();
    let mut text = String::new();
    for batch in &batches {
        let plans = batch.column(1).as_string::<i32>();
        for row in 0..batch.num_rows() {
            if batch.column(0).as_string::<i32>().value(row) == "physical_plan" {
                text.push_str(plans.value(row));
            }
        }
    }
    text
}

async fn setup(lake: &TestLake) -> tarn::TarnSession {
    let session = lake.tarn.session("t");
    lake.declare_sales(&session, SALES_COLUMNS).await;
    session
        .query(&format!(
            "CREATE EXTERNAL TABLE daily ({SALES_COLUMNS})
             PARTITIONED BY (dt date) STORED AS PARQUET LOCATION '{}/daily';
             MSCK REPAIR TABLE daily;",
            lake.lake().display()
        ))
        .await
        .unwrap();
    session
}

#[tokio::test]
async fn point_query_reads_only_its_partition() {
    let lake = TestLake::new();
    let session = setup(&lake).await;
    let plan = physical_plan(
        &session,
        "SELECT sum(amount) FROM sales WHERE year = 2024 AND month = 2",
    )
    .await;
    assert!(plan.contains("year=2024/month=2/part-0.parquet"), "{plan}");
    assert_eq!(plan.matches(".parquet").count(), 1, "{plan}");

    let plan = physical_plan(
        &session,
        "SELECT * FROM daily WHERE dt >= DATE '2024-01-04'",
    )
    .await;
    assert_eq!(plan.matches(".parquet").count(), 2, "{plan}");
    assert!(
        plan.contains("dt=2024-01-04") && plan.contains("dt=2024-01-05"),
        "{plan}"
    );

    let plan = physical_plan(&session, "SELECT * FROM sales WHERE month IS NULL").await;
    assert!(plan.contains("month=__HIVE_DEFAULT_PARTITION__"), "{plan}");
    assert_eq!(plan.matches(".parquet").count(), 1, "{plan}");

    // A filter on a data column prunes nothing by partition.
    let plan = physical_plan(&session, "SELECT * FROM sales WHERE id = 4").await;
    assert_eq!(plan.matches(".parquet").count(), 7, "{plan}");
}

#[tokio::test]
async fn functions_on_partition_columns_are_evaluated_exactly() {
    let lake = TestLake::new();
    let session = setup(&lake).await;
    let plan = physical_plan(&session, "SELECT * FROM sales WHERE year + month = 2026").await;
    // 2023+3 and 2024+2.
    assert_eq!(plan.matches(".parquet").count(), 2, "{plan}");
    let rows = session
        .query("SELECT count(*) FROM sales WHERE month IN (1, 3) OR month IS NULL")
        .await
        .unwrap();
    assert_eq!(
        rows[0]
            .column(0)
            .as_primitive::<tarn::datafusion::arrow::datatypes::Int64Type>()
            .value(0),
        14
    );
}

#[tokio::test]
async fn new_partitions_become_visible_after_msck() {
    let lake = TestLake::new();
    let session = setup(&lake).await;
    let count = |rows: Vec<RecordBatch>| {
        rows[0]
            .column(0)
            .as_primitive::<tarn::datafusion::arrow::datatypes::Int64Type>()
            .value(0)
    };
    assert_eq!(
        count(session.query("SELECT count(*) FROM daily").await.unwrap()),
        10
    );
    let dir = lake.lake().join("daily/dt=2024-01-06");
    std::fs::create_dir_all(&dir).unwrap();
    let batch = crate::support::fixtures::sales_batch(0, 4);
    let mut w = tarn::datafusion::parquet::arrow::ArrowWriter::try_new(
        std::fs::File::create(dir.join("x.parquet")).unwrap(),
        batch.schema(),
        None,
    )
    .unwrap();
    w.write(&batch).unwrap();
    w.close().unwrap();
    // Not catalogued yet: the catalog, not a listing, decides.
    assert_eq!(
        count(session.query("SELECT count(*) FROM daily").await.unwrap()),
        10
    );
    session.query("MSCK REPAIR TABLE daily").await.unwrap();
    assert_eq!(
        count(session.query("SELECT count(*) FROM daily").await.unwrap()),
        14
    );
}
