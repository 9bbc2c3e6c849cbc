//! Shared pieces of the CLI: opening tarn from flags/config, running statements, showing errors.

pub mod catalog;
pub mod render;
pub mod repl;
pub mod serve;

use std::path::Path;
use std::process::ExitCode;
use std::time::{Duration, Instant};

use indicatif::{ProgressBar, ProgressStyle};
use tarn::config::FileConfig;
use tarn::demo::{DemoOptions, DemoProgress};
use tarn::{Error, Output, Progress, Tarn, TarnSession};

use render::Format;

pub struct RunOptions {
    pub format: Format,
    pub quiet: bool,
}

pub async fn open(
    data_dir: &Path,
    config: Option<&Path>,
    warehouse: Option<&str>,
    catalog: Option<&str>,
) -> Result<(Tarn, FileConfig), Error> {
    let (path, required) = match config {
        Some(p) => (p.to_path_buf(), true),
        None => (data_dir.join("tarn.toml"), false),
    };
    let mut file = FileConfig::load(&path, required)?;
    file.apply_env(|k| std::env::var(k).ok())?;
    if let Some(w) = warehouse {
        file.warehouse = Some(w.to_string());
    }
    if let Some(c) = catalog {
        file.catalog.url = Some(c.to_string());
    }
    Ok((Tarn::connect(file.engine_config(data_dir)?).await?, file))
}

pub fn print_error(e: &Error) {
    let kind = e.kind();
    eprintln!("ERROR [{}]: {}", kind.name(), e.message());
    if let Some((line, column)) = e.position() {
        eprintln!("LINE {line}, COLUMN {column}");
    }
    if let Some(hint) = kind.hint() {
        eprintln!("HINT: {hint}");
    }
}

/// A session whose long catalog operations draw a progress spinner on stderr.
pub fn session(tarn: &Tarn) -> TarnSession {
    let mut session = tarn.session(&whoami());
    let bar = ProgressBar::hidden();
    let progress = move |p: Progress| match p {
        Progress::Started { what } => {
            bar.set_draw_target(indicatif::ProgressDrawTarget::stderr());
            bar.set_style(
                ProgressStyle::with_template("{spinner} {msg} [{pos} dirs]")
                    .unwrap_or_else(|_| ProgressStyle::default_spinner()),
            );
            bar.set_message(what);
            bar.enable_steady_tick(Duration::from_millis(120));
        }
        Progress::Advanced { done } => bar.set_position(done),
        Progress::Finished => bar.finish_and_clear(),
    };
    session
        .session()
        .set_progress(Some(std::sync::Arc::new(progress)));
    session
}

fn whoami() -> String {
    std::env::var("USER").unwrap_or_else(|_| "tarn".into())
}

/// Runs all statements of `sql`, printing results; stops at the first failure.
pub async fn run_sql(
    session: &mut TarnSession,
    sql: &str,
    options: &RunOptions,
) -> Result<(), Error> {
    let statements = session.session().parse(sql)?;
    for statement in statements {
        let started = Instant::now();
        let output = session.session().execute(statement).await?;
        let summary = match output {
            Output::Stream(stream) => {
                let rows = render::print_stream(stream, options.format).await?;
                format!("{rows} row{}", if rows == 1 { "" } else { "s" })
            }
            Output::Command { tag, rows } => match rows {
                Some(n) => format!("{tag} {n}"),
                None => tag,
            },
        };
        if !options.quiet {
            eprintln!("{summary} ({:.3}s)", started.elapsed().as_secs_f64());
        }
    }
    Ok(())
}

pub async fn script(
    tarn: &Tarn,
    execute: &[String],
    file: Option<&Path>,
    options: &RunOptions,
) -> ExitCode {
    let mut session = session(tarn);
    let mut scripts: Vec<String> = execute.to_vec();
    if let Some(path) = file {
        match std::fs::read_to_string(path) {
            Ok(text) => scripts.push(text),
            Err(e) => {
                eprintln!("error: cannot read {}: {e}", path.display());
                return ExitCode::FAILURE;
            }
        }
    }
    for sql in &scripts {
        if let Err(e) = run_sql(&mut session, sql, options).await {
            print_error(&e);
            return ExitCode::FAILURE;
        }
    }
    ExitCode::SUCCESS
}

struct DemoBar(ProgressBar);

impl DemoProgress for DemoBar {
    fn start(&self, total: u64) {
        self.0.set_length(total);
        self.0.set_style(
            ProgressStyle::with_template("{bar:30} {pos}/{len} {msg}")
                .unwrap_or_else(|_| ProgressStyle::default_bar()),
        );
    }
    fn step(&self, message: &str) {
        self.0.set_message(message.to_string());
        self.0.inc(1);
    }
    fn finish(&self) {
        self.0.finish_and_clear();
    }
}

pub async fn demo(tarn: &Tarn, data_dir: &Path, scale: f64) -> ExitCode {
    let session = tarn.session("tarn");
    let warehouse = tarn.engine().config().warehouse.clone();
    if tarn::storage::is_object_store_url(&warehouse) {
        eprintln!("ERROR: the demo lakehouse needs a local warehouse, not {warehouse}");
        return ExitCode::FAILURE;
    }
    let warehouse = std::path::PathBuf::from(warehouse);
    let options = DemoOptions {
        tpch_scale: scale,
        ..Default::default()
    };
    let bar = DemoBar(ProgressBar::with_draw_target(
        None,
        indicatif::ProgressDrawTarget::stderr(),
    ));
    match tarn::demo::create(&session, data_dir, &warehouse, &options, &bar).await {
        Ok(true) => {
            eprintln!(
                "demo lakehouse created in {} (databases: default, raw, tpch)",
                data_dir.display()
            );
            ExitCode::SUCCESS
        }
        Ok(false) => ExitCode::SUCCESS,
        Err(e) => {
            bar.0.abandon();
            print_error(&e);
            ExitCode::FAILURE
        }
    }
}
