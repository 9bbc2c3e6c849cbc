//! The `tarn` command: `tarn serve` (Postgres wire), `tarn sql` (REPL and scripts), `tarn demo`,
//! `tarn user`.

mod cli;

/// jemalloc rather than glibc's malloc: query execution allocates and frees many short-lived
/// buffers per batch (decoded pages, taken and concatenated arrays, encoder pages), where
/// glibc's arenas fault fresh pages in and consolidate chunks on the hot path.
#[global_allocator]
static ALLOCATOR: tikv_jemallocator::Jemalloc = tikv_jemallocator::Jemalloc;

use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Parser, Subcommand};

use cli::render::Format;

#[derive(Parser, Debug)]
#[command(
    name = "tarn",
    version,
    about = "An embedded SQL lakehouse: Hive metastore + DataFusion"
)]
struct Args {
    /// Data directory: metastore, warehouse, history.
    #[arg(
        long,
        global = true,
        env = "TARN_DATA_DIR",
        default_value = "./tarn-data"
    )]
    data_dir: PathBuf,
    /// Config file (default: <data-dir>/tarn.toml if present).
    #[arg(long, global = true, env = "TARN_CONFIG")]
    config: Option<PathBuf>,
    /// Where managed tables live: a directory or an object-store URL (s3://bucket/lake);
    /// default <data-dir>/warehouse.
    #[arg(long, global = true, env = "TARN_WAREHOUSE")]
    warehouse: Option<String>,
    /// A shared catalog: postgresql://user@host:port/db (env TARN_CATALOG; password from
    /// TARN_CATALOG_PASSWORD or `[catalog] password_file`); default: the embedded SQLite
    /// catalog in the data dir.
    #[arg(long, global = true)]
    catalog: Option<String>,
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand, Debug)]
enum Command {
    /// Run SQL: an interactive REPL, or statements from -e / -f.
    Sql {
        /// Statements to run (repeatable); exits non-zero when one fails.
        #[arg(short = 'e', long = "execute")]
        execute: Vec<String>,
        /// A file of statements to run.
        #[arg(short = 'f', long = "file")]
        file: Option<PathBuf>,
        /// Output format.
        #[arg(long, value_enum, default_value = "table")]
        format: Format,
        /// Create the demo lakehouse first (once per data dir).
        #[arg(long)]
        demo: bool,
        /// No row counts or timings.
        #[arg(short, long)]
        quiet: bool,
    },
    /// Serve Postgres clients (psql, BI tools, drivers) on the data dir.
    Serve(cli::serve::ServeArgs),
    /// Manage the users who may connect.
    #[command(subcommand)]
    User(cli::serve::UserCommand),
    /// Move the catalog between stores: export it to a file, import a file into the
    /// configured catalog (e.g. from the embedded one to `--catalog postgresql://…`).
    #[command(subcommand)]
    Catalog(cli::catalog::CatalogCommand),
    /// Create the demo lakehouse (events, a CSV raw zone, TPC-H) in the data dir, once.
    Demo {
        /// TPC-H scale factor.
        #[arg(long, default_value_t = 0.01)]
        scale: f64,
    },
}

fn main() -> ExitCode {
    let args = Args::parse();
    tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_env("TARN_LOG")
                .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("warn")),
        )
        .with_writer(std::io::stderr)
        .init();
    let runtime = match tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
    {
        Ok(rt) => rt,
        Err(e) => {
            eprintln!("error: cannot start the runtime: {e}");
            return ExitCode::FAILURE;
        }
    };
    runtime.block_on(run(args))
}

async fn run(args: Args) -> ExitCode {
    let (tarn, file) = match cli::open(
        &args.data_dir,
        args.config.as_deref(),
        args.warehouse.as_deref(),
        args.catalog.as_deref(),
    )
    .await
    {
        Ok(t) => t,
        Err(e) => {
            cli::print_error(&e);
            return ExitCode::FAILURE;
        }
    };
    match args.command {
        Command::Demo { scale } => cli::demo(&tarn, &args.data_dir, scale).await,
        Command::Serve(serve) => {
            cli::serve::serve(
                &tarn,
                &args.data_dir,
                (&file.pg, &file.flight, &file.hms),
                &serve,
            )
            .await
        }
        Command::User(command) => cli::serve::user(&tarn, command).await,
        Command::Catalog(command) => cli::catalog::run(&tarn, command).await,
        Command::Sql {
            execute,
            file,
            format,
            demo,
            quiet,
        } => {
            if demo && cli::demo(&tarn, &args.data_dir, 0.01).await != ExitCode::SUCCESS {
                return ExitCode::FAILURE;
            }
            let options = cli::RunOptions { format, quiet };
            if execute.is_empty() && file.is_none() {
                return cli::repl::run(&tarn, &args.data_dir, &options).await;
            }
            cli::script(&tarn, &execute, file.as_deref(), &options).await
        }
    }
}
