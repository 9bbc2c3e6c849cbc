//! The demo lakehouse: a partitioned web-analytics `events` table (Parquet, with a NULL
//! partition), a CSV raw zone (`raw.events`), and the TPC-H tables (`tpch.*`) generated with
//! tpchgen. Data is written once into the warehouse and registered through ordinary SQL (Hive
//! DDL + MSCK REPAIR), exactly as a user would.

use std::fs::File;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use datafusion::arrow::array::{
    ArrayRef, Decimal128Array, Int32Array, Int64Array, RecordBatch, StringArray,
    TimestampMicrosecondArray,
};
use datafusion::arrow::datatypes::{DataType, Field, Schema, SchemaRef, TimeUnit};
use datafusion::arrow::error::ArrowError;
use datafusion::arrow::record_batch::RecordBatchReader;
use datafusion::parquet::arrow::ArrowWriter;
use datafusion::parquet::basic::{Compression, ZstdLevel};
use datafusion::parquet::file::properties::WriterProperties;
use tarn_engine::{EngineError, Result};

use crate::TarnSession;

/// Settings for the demo data.
#[derive(Debug, Clone)]
pub struct DemoOptions {
    /// Days of events (each one partition), ending 2026-11-21.
    pub days: u32,
    pub events_per_day: usize,
    /// TPC-H scale factor.
    pub tpch_scale: f64,
}

impl Default for DemoOptions {
    fn default() -> Self {
        Self {
            days: 7,
            events_per_day: 20_000,
            tpch_scale: 0.01,
        }
    }
}

/// Callbacks for a progress display: `(total)` once, then `(message)` per file written.
pub trait DemoProgress {
    fn start(&self, total: u64);
    fn step(&self, message: &str);
    fn finish(&self);
}

/// No progress display.
pub struct Quiet;

impl DemoProgress for Quiet {
    fn start(&self, _: u64) {}
    fn step(&self, _: &str) {}
    fn finish(&self) {}
}

const MARKER: &str = "demo-created";
const FIRST_DAY: (i32, u32, u32) = (2026, 11, 21);
const TPCH_TABLES: [&str; 8] = [
    "nation", "region", "part", "supplier", "partsupp", "customer", "orders", "lineitem",
];

/// Creates the demo lakehouse unless this data dir already has it. Returns whether it was created.
pub async fn create(
    session: &TarnSession,
    data_dir: &Path,
    warehouse: &Path,
    options: &DemoOptions,
    progress: &dyn DemoProgress,
) -> Result<bool> {
    let marker = data_dir.join(MARKER);
    if marker.exists() {
        return Ok(false);
    }
    progress.start(u64::from(options.days) + 1 + 3 + TPCH_TABLES.len() as u64 + 1);
    let events_dir = warehouse.join("events");
    write_events(&events_dir, options, progress)?;
    let raw_dir = warehouse.join("raw.db").join("events");
    write_raw_csv(&raw_dir, progress)?;
    let tpch_dir = warehouse.join("tpch.db");
    write_tpch(&tpch_dir, options.tpch_scale, progress)?;
    progress.step("registering tables");
    register(session, &events_dir, &raw_dir, &tpch_dir).await?;
    std::fs::write(&marker, b"tarn demo lakehouse\n").map_err(|e| io_error(&marker, e))?;
    progress.finish();
    Ok(true)
}

async fn register(session: &TarnSession, events: &Path, raw: &Path, tpch: &Path) -> Result<()> {
    let mut sql = format!(
        "CREATE EXTERNAL TABLE IF NOT EXISTS default.events (
            event_id bigint COMMENT 'unique event id',
            event_time timestamp COMMENT 'when the event happened (UTC)',
            user_id bigint,
            session_id string,
            event_type string COMMENT 'page_view, click, add_to_cart, purchase, signup',
            page string,
            country string COMMENT 'ISO 3166 alpha-2',
            device string,
            duration_ms int,
            revenue decimal(10,2) COMMENT 'set on purchases only')
         COMMENT 'web analytics events, one partition per day'
         PARTITIONED BY (dt date)
         STORED AS PARQUET
         LOCATION '{}';
         MSCK REPAIR TABLE default.events;
         CREATE DATABASE IF NOT EXISTS raw COMMENT 'landing zone: files as received';
         CREATE EXTERNAL TABLE IF NOT EXISTS raw.events (
            event_id bigint, event_time string, user_id bigint, event_type string,
            page string, country string)
         PARTITIONED BY (dt string)
         ROW FORMAT DELIMITED FIELDS TERMINATED BY ','
         STORED AS CSV
         LOCATION '{}'
         TBLPROPERTIES ('skip.header.line.count'='1');
         MSCK REPAIR TABLE raw.events;
         CREATE DATABASE IF NOT EXISTS tpch COMMENT 'TPC-H benchmark tables';",
        events.display(),
        raw.display()
    );
    for table in TPCH_TABLES {
        sql.push_str(&format!(
            "CREATE EXTERNAL TABLE IF NOT EXISTS tpch.{table} STORED AS PARQUET LOCATION '{}';",
            tpch.join(table).display()
        ));
    }
    session.query(&sql).await?;
    Ok(())
}

fn io_error(path: &Path, e: impl std::fmt::Display) -> EngineError {
    EngineError::Storage {
        location: path.display().to_string(),
        message: e.to_string(),
    }
}

fn write_parquet(
    path: &Path,
    schema: SchemaRef,
    batches: impl IntoIterator<Item = std::result::Result<RecordBatch, ArrowError>>,
) -> Result<()> {
    if let Some(dir) = path.parent() {
        std::fs::create_dir_all(dir).map_err(|e| io_error(dir, e))?;
    }
    let file = File::create(path).map_err(|e| io_error(path, e))?;
    let props = WriterProperties::builder()
        .set_compression(Compression::ZSTD(
            ZstdLevel::try_new(3).map_err(|e| io_error(path, e))?,
        ))
        .build();
    let mut writer =
        ArrowWriter::try_new(file, schema, Some(props)).map_err(|e| io_error(path, e))?;
    for batch in batches {
        writer.write(&batch?).map_err(|e| io_error(path, e))?;
    }
    writer.close().map_err(|e| io_error(path, e))?;
    Ok(())
}

/// A small deterministic generator (SplitMix64), so the demo is the same everywhere.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    fn below(&mut self, n: u64) -> u64 {
        self.next() % n
    }

    fn pick<'a>(&mut self, items: &[&'a str]) -> &'a str {
        items[self.below(items.len() as u64) as usize]
    }
}

const EVENT_TYPES: [&str; 5] = ["page_view", "click", "add_to_cart", "purchase", "signup"];
const COUNTRIES: [&str; 8] = ["US", "DE", "FR", "BR", "IN", "JP", "GB", "NL"];
const DEVICES: [&str; 3] = ["desktop", "mobile", "tablet"];

fn events_schema() -> SchemaRef {
    Arc::new(Schema::new(vec![
        Field::new("event_id", DataType::Int64, false),
        Field::new(
            "event_time",
            DataType::Timestamp(TimeUnit::Microsecond, None),
            true,
        ),
        Field::new("user_id", DataType::Int64, false),
        Field::new("session_id", DataType::Utf8, false),
        Field::new("event_type", DataType::Utf8, false),
        Field::new("page", DataType::Utf8, false),
        Field::new("country", DataType::Utf8, false),
        Field::new("device", DataType::Utf8, false),
        Field::new("duration_ms", DataType::Int32, false),
        Field::new("revenue", DataType::Decimal128(10, 2), true),
    ]))
}

/// One day of events; `day_start` is `None` for the NULL partition (unknown timestamps).
fn events_batch(
    rng: &mut Rng,
    first_id: i64,
    rows: usize,
    day_start: Option<i64>,
) -> Result<RecordBatch> {
    let mut cols: (Vec<i64>, Vec<Option<i64>>, Vec<i64>, Vec<String>) = Default::default();
    let (mut types, mut pages, mut countries, mut devices) = (vec![], vec![], vec![], vec![]);
    let (mut durations, mut revenue) = (vec![], vec![]);
    for i in 0..rows {
        cols.0.push(first_id + i as i64);
        cols.1
            .push(day_start.map(|d| d + rng.below(86_400_000_000) as i64));
        cols.2.push(1 + rng.below(5_000) as i64);
        cols.3.push(format!("s-{:08x}", rng.next() as u32));
        let event_type = rng.pick(&EVENT_TYPES);
        types.push(event_type);
        pages.push(match rng.below(5) {
            0 => "/".to_string(),
            1 => format!("/products/{}", rng.below(500)),
            2 => "/cart".to_string(),
            3 => "/checkout".to_string(),
            _ => format!("/blog/{}", rng.below(60)),
        });
        countries.push(rng.pick(&COUNTRIES));
        devices.push(rng.pick(&DEVICES));
        durations.push(rng.below(120_000) as i32);
        revenue.push((event_type == "purchase").then(|| 500 + rng.below(50_000) as i128));
    }
    let columns: Vec<ArrayRef> = vec![
        Arc::new(Int64Array::from(cols.0)),
        Arc::new(TimestampMicrosecondArray::from(cols.1)),
        Arc::new(Int64Array::from(cols.2)),
        Arc::new(StringArray::from(cols.3)),
        Arc::new(StringArray::from(types)),
        Arc::new(StringArray::from(pages)),
        Arc::new(StringArray::from(countries)),
        Arc::new(StringArray::from(devices)),
        Arc::new(Int32Array::from(durations)),
        Arc::new(Decimal128Array::from(revenue).with_precision_and_scale(10, 2)?),
    ];
    Ok(RecordBatch::try_new(events_schema(), columns)?)
}

fn day(offset: u32) -> chrono::NaiveDate {
    let (y, m, d) = FIRST_DAY;
    let last = chrono::NaiveDate::from_ymd_opt(y, m, d).unwrap_or_default();
    last - chrono::Days::new(u64::from(offset))
}

fn write_events(dir: &Path, options: &DemoOptions, progress: &dyn DemoProgress) -> Result<()> {
    let mut rng = Rng(42);
    let mut next_id = 1i64;
    for offset in (0..options.days).rev() {
        let date = day(offset);
        let start = date
            .and_hms_opt(0, 0, 0)
            .unwrap_or_default()
            .and_utc()
            .timestamp_micros();
        let batch = events_batch(&mut rng, next_id, options.events_per_day, Some(start))?;
        next_id += options.events_per_day as i64;
        let path = dir.join(format!("dt={date}")).join("part-00000.parquet");
        write_parquet(&path, events_schema(), [Ok(batch)])?;
        progress.step(&format!("events dt={date}"));
    }
    let late = events_batch(&mut rng, next_id, options.events_per_day / 40, None)?;
    let path = dir
        .join("dt=__HIVE_DEFAULT_PARTITION__")
        .join("part-00000.parquet");
    write_parquet(&path, events_schema(), [Ok(late)])?;
    progress.step("events dt=NULL");
    Ok(())
}

fn write_raw_csv(dir: &Path, progress: &dyn DemoProgress) -> Result<()> {
    let mut rng = Rng(7);
    for offset in 0..3 {
        let date = day(offset);
        let path: PathBuf = dir.join(format!("dt={date}")).join("events.csv");
        let parent = path.parent().unwrap_or(dir);
        std::fs::create_dir_all(parent).map_err(|e| io_error(parent, e))?;
        let mut text = String::from("event_id,event_time,user_id,event_type,page,country\n");
        for i in 0..2_000 {
            let secs = rng.below(86_400);
            text.push_str(&format!(
                "{},{date} {:02}:{:02}:{:02},{},{},/p/{},{}\n",
                offset * 10_000 + i,
                secs / 3600,
                secs / 60 % 60,
                secs % 60,
                1 + rng.below(5_000),
                rng.pick(&EVENT_TYPES),
                rng.below(100),
                rng.pick(&COUNTRIES),
            ));
        }
        std::fs::write(&path, text).map_err(|e| io_error(&path, e))?;
        progress.step(&format!("raw csv dt={date}"));
    }
    Ok(())
}

/// A tpchgen reader for one table.
fn tpch_reader(table: &str, scale: f64) -> Box<dyn RecordBatchReader> {
    use tpchgen::generators::*;
    use tpchgen_arrow::*;
    const BATCH: usize = 8192;
    match table {
        "nation" => {
            Box::new(NationArrow::new(NationGenerator::new(scale, 1, 1)).with_batch_size(BATCH))
        }
        "region" => {
            Box::new(RegionArrow::new(RegionGenerator::new(scale, 1, 1)).with_batch_size(BATCH))
        }
        "part" => Box::new(PartArrow::new(PartGenerator::new(scale, 1, 1)).with_batch_size(BATCH)),
        "supplier" => {
            Box::new(SupplierArrow::new(SupplierGenerator::new(scale, 1, 1)).with_batch_size(BATCH))
        }
        "partsupp" => {
            Box::new(PartSuppArrow::new(PartSuppGenerator::new(scale, 1, 1)).with_batch_size(BATCH))
        }
        "customer" => {
            Box::new(CustomerArrow::new(CustomerGenerator::new(scale, 1, 1)).with_batch_size(BATCH))
        }
        "orders" => {
            Box::new(OrderArrow::new(OrderGenerator::new(scale, 1, 1)).with_batch_size(BATCH))
        }
        _ => {
            Box::new(LineItemArrow::new(LineItemGenerator::new(scale, 1, 1)).with_batch_size(BATCH))
        }
    }
}

fn write_tpch(dir: &Path, scale: f64, progress: &dyn DemoProgress) -> Result<()> {
    for table in TPCH_TABLES {
        let path = dir.join(table).join("part-00000.parquet");
        let reader = tpch_reader(table, scale);
        write_parquet(&path, reader.schema(), reader)?;
        progress.step(&format!("tpch.{table}"));
    }
    Ok(())
}
