//! Fixture lake written by the tests: multi-level int partitions, date and string keys with NULL
//! and escaped values, CSV (with and without header), JSON, a corrupt file, hidden files.

use std::fs;
use std::path::Path;
use std::sync::Arc;

use tarn::datafusion::arrow::array::{
    ArrayRef, Float64Array, Int64Array, RecordBatch, StringArray,
};
use tarn::datafusion::arrow::datatypes::{DataType, Field, Schema};
use tarn::datafusion::parquet::arrow::ArrowWriter;

type Res = Result<(), Box<dyn std::error::Error>>;

fn write_parquet(path: &Path, batch: &RecordBatch) -> Res {
    fs::create_dir_all(path.parent().ok_or("no parent")?)?;
    let mut writer = ArrowWriter::try_new(fs::File::create(path)?, batch.schema(), None)?;
    writer.write(batch)?;
    writer.close()?;
    Ok(())
}

/// `id bigint, amount double, note string` rows `first..first+n`.
pub fn sales_batch(first: i64, n: i64) -> RecordBatch {
    let schema = Arc::new(Schema::new(vec![
        Field::new("id", DataType::Int64, false),
        Field::new("amount", DataType::Float64, false),
        Field::new("note", DataType::Utf8, true),
    ]));
    let ids: Vec<i64> = (first..first + n).collect();
    let amounts: Vec<f64> = ids.iter().map(|i| *i as f64 * 1.5).collect();
    let notes: Vec<Option<String>> = ids
        .iter()
        .map(|i| (i % 3 != 0).then(|| format!("n{i}")))
        .collect();
    let columns: Vec<ArrayRef> = vec![
        Arc::new(Int64Array::from(ids)),
        Arc::new(Float64Array::from(amounts)),
        Arc::new(StringArray::from(notes)),
    ];
    RecordBatch::try_new(schema, columns).expect("batch")
}

pub fn write_all(lake: &Path) -> Res {
    // sales: year=/month= (int keys), 3 rows per partition, plus a NULL month.
    let mut id = 0;
    for year in [2023, 2024] {
        for month in 1..=3 {
            let dir = lake.join(format!("sales/year={year}/month={month}"));
            write_parquet(&dir.join("part-0.parquet"), &sales_batch(id, 3))?;
            id += 3;
        }
    }
    write_parquet(
        &lake.join("sales/year=2024/month=__HIVE_DEFAULT_PARTITION__/part-0.parquet"),
        &sales_batch(100, 2),
    )?;
    // A re-delivered month kept outside the table, for SET LOCATION.
    write_parquet(
        &lake.join("archive/sales-2023-01/part-0.parquet"),
        &sales_batch(200, 3),
    )?;
    fs::write(lake.join("sales/year=2023/month=1/_SUCCESS"), b"")?;
    fs::write(
        lake.join("sales/year=2023/month=1/.part-0.parquet.crc"),
        b"junk",
    )?;

    // daily: dt date key.
    for day in 1..=5 {
        let dir = lake.join(format!("daily/dt=2024-01-0{day}"));
        write_parquet(&dir.join("data.parquet"), &sales_batch(day * 10, 2))?;
    }

    // logs: string key with escaped and NULL values.
    for (dir_name, first) in [
        ("src=a%2Fb", 0),
        ("src=with space", 10),
        ("src=100%25", 20),
        ("src=__HIVE_DEFAULT_PARTITION__", 30),
    ] {
        write_parquet(
            &lake.join("logs").join(dir_name).join("f.parquet"),
            &sales_batch(first, 1),
        )?;
    }

    // CSV with a header, and pipe-delimited without one.
    fs::create_dir_all(lake.join("people"))?;
    fs::write(
        lake.join("people/people.csv"),
        "id,name,age\n1,ada,36\n2,grace,45\n3,linus,\n",
    )?;
    fs::create_dir_all(lake.join("pipes/region=eu"))?;
    fs::create_dir_all(lake.join("pipes/region=us"))?;
    fs::write(lake.join("pipes/region=eu/a.txt"), "1|paris\n2|berlin\n")?;
    fs::write(lake.join("pipes/region=us/a.txt"), "3|boston\n")?;

    // Newline-delimited JSON.
    fs::create_dir_all(lake.join("json_events"))?;
    fs::write(
        lake.join("json_events/e1.json"),
        "{\"id\": 1, \"kind\": \"click\", \"score\": 0.5}\n{\"id\": 2, \"kind\": \"view\", \"score\": null}\n",
    )?;

    // A Parquet table with one corrupt file among good ones.
    write_parquet(&lake.join("broken/good.parquet"), &sales_batch(0, 2))?;
    fs::write(
        lake.join("broken/bad.parquet"),
        b"this is not a parquet file at all",
    )?;

    // Directories without files yet (filled by COPY in the .slt tests).
    fs::create_dir_all(lake.join("landing"))?;
    Ok(())
}
