//! Runs `tests/slt/*.slt` in-process with the sqllogictest crate.
//!
//! Each file gets a fresh data dir and fixture lake (`${LAKE}` in the files). Errors render as
//! `[<error kind>] message`, so files assert on the protocol-neutral kind:
//! `statement error \[undefined table\]`. `cargo test --test slt -- --complete` rewrites the
//! expected output of every file (or of the files named after it).

mod support;

use std::path::PathBuf;

use sqllogictest::{AsyncDB, DBOutput, DefaultColumnType, Runner};
use tarn::datafusion::arrow::array::RecordBatch;
use tarn::datafusion::arrow::util::display::{ArrayFormatter, FormatOptions};
use tarn::{Output, TarnSession};

#[derive(Debug)]
struct SltError(String);

impl std::fmt::Display for SltError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for SltError {}

impl From<tarn::Error> for SltError {
    fn from(e: tarn::Error) -> Self {
        SltError(format!("[{}] {}", e.kind().name(), e.message()))
    }
}

struct TarnDb {
    session: TarnSession,
    /// Scratch paths shown as `${LAKE}` / `${DATA}` so expected output is machine-independent.
    paths: Vec<(String, &'static str)>,
}

fn render(batches: &[RecordBatch], paths: &[(String, &str)]) -> Result<Vec<Vec<String>>, SltError> {
    let options = FormatOptions::default().with_null("NULL");
    let mut rows = Vec::new();
    for batch in batches {
        let formatters = batch
            .columns()
            .iter()
            .map(|c| ArrayFormatter::try_new(c.as_ref(), &options))
            .collect::<Result<Vec<_>, _>>()
            .map_err(|e| SltError(e.to_string()))?;
        for row in 0..batch.num_rows() {
            let cells: Vec<String> = formatters
                .iter()
                .map(|f| {
                    let mut s = f.value(row).to_string();
                    for (path, name) in paths {
                        s = s.replace(path.as_str(), name);
                    }
                    if s.is_empty() {
                        "(empty)".to_string()
                    } else {
                        s
                    }
                })
                .collect();
            // A multi-line single value (SHOW CREATE TABLE) is compared line by line.
            match cells.as_slice() {
                [text] if text.contains('\n') => {
                    rows.extend(text.lines().map(|line| vec![line.to_string()]));
                }
                _ => rows.push(cells),
            }
        }
    }
    Ok(rows)
}

#[async_trait::async_trait]
impl AsyncDB for TarnDb {
    type Error = SltError;
    type ColumnType = DefaultColumnType;

    async fn run(&mut self, sql: &str) -> Result<DBOutput<DefaultColumnType>, SltError> {
        let mut last = DBOutput::StatementComplete(0);
        let statements = self.session.session().parse(sql)?;
        for statement in statements {
            last = match self.session.session().execute(statement).await? {
                Output::Stream(stream) => {
                    let width = stream.schema().fields().len();
                    let batches = tarn::collect(stream).await?;
                    DBOutput::Rows {
                        types: vec![DefaultColumnType::Any; width],
                        rows: render(&batches, &self.paths)?,
                    }
                }
                Output::Command { rows, .. } => DBOutput::StatementComplete(rows.unwrap_or(0)),
            };
        }
        Ok(last)
    }

    async fn shutdown(&mut self) {}

    fn engine_name(&self) -> &str {
        "tarn"
    }
}

fn slt_files(filter: &[String]) -> Vec<PathBuf> {
    let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/slt");
    let mut files: Vec<PathBuf> = std::fs::read_dir(&dir)
        .expect("tests/slt")
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.extension().is_some_and(|e| e == "slt"))
        .filter(|p| {
            filter.is_empty()
                || filter
                    .iter()
                    .any(|f| p.to_string_lossy().contains(f.as_str()))
        })
        .collect();
    files.sort();
    files
}

async fn run_file(path: &PathBuf, complete: bool) -> Result<(), String> {
    let lake = support::TestLake::new();
    let tarn = lake.tarn.clone();
    let paths = vec![
        (lake.lake().display().to_string(), "${LAKE}"),
        (lake.data_dir().display().to_string(), "${DATA}"),
    ];
    let mut runner = Runner::new(move || {
        let (tarn, paths) = (tarn.clone(), paths.clone());
        async move {
            Ok(TarnDb {
                session: tarn.session("slt"),
                paths,
            })
        }
    });
    runner.set_var("LAKE".into(), lake.lake().display().to_string());
    runner.set_var("DATA".into(), lake.data_dir().display().to_string());
    if complete {
        runner
            .update_test_file(
                path,
                " ",
                sqllogictest::default_validator,
                sqllogictest::default_normalizer,
                sqllogictest::default_column_validator,
            )
            .await
            .map_err(|e| e.to_string())
    } else {
        runner
            .run_file_async(path)
            .await
            .map_err(|e| e.display(true).to_string())
    }
}

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let complete = args.iter().any(|a| a == "--complete");
    let filter: Vec<String> = args.into_iter().filter(|a| !a.starts_with('-')).collect();
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .expect("runtime");
    let files = slt_files(&filter);
    let (mut passed, mut failed) = (0, 0);
    for file in &files {
        let name = file
            .file_name()
            .unwrap_or_default()
            .to_string_lossy()
            .to_string();
        match runtime.block_on(run_file(file, complete)) {
            Ok(()) => {
                passed += 1;
                println!("slt {name} ... ok");
            }
            Err(e) => {
                failed += 1;
                println!("slt {name} ... FAILED\n{e}");
            }
        }
    }
    println!("\nslt: {passed} passed, {failed} failed");
    if failed > 0 || files.is_empty() {
        std::process::exit(1);
    }
}
