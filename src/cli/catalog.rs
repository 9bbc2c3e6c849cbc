//! `tarn catalog export|import`: the whole catalog as a JSON file, so an embedded catalog can
//! move into a shared PostgreSQL one (or be backed up and restored).

use std::path::PathBuf;
use std::process::ExitCode;

use clap::Subcommand;
use tarn::Tarn;

#[derive(Subcommand, Debug)]
pub enum CatalogCommand {
    /// Write every database, table, partition, file index entry, role and grant to FILE
    /// (read in one snapshot; mode 0600: it holds password verifiers).
    Export { file: PathBuf },
    /// Replace the configured catalog with FILE's contents (in one transaction). A dump is
    /// trusted as a superuser's: only import your own. Stop the other servers first.
    Import {
        file: PathBuf,
        /// Overwrite a catalog that already has tables or login roles.
        #[arg(long)]
        replace: bool,
    },
}

pub async fn run(tarn: &Tarn, command: CatalogCommand) -> ExitCode {
    match command {
        CatalogCommand::Export { file } => export(tarn, file).await,
        CatalogCommand::Import { file, replace } => import(tarn, file, replace).await,
    }
}

async fn export(tarn: &Tarn, file: PathBuf) -> ExitCode {
    let dump = match tarn.engine().export_catalog().await {
        Ok(d) => d,
        Err(e) => {
            super::print_error(&e);
            return ExitCode::FAILURE;
        }
    };
    let text = match serde_json::to_vec(&dump) {
        Ok(t) => t,
        Err(e) => {
            eprintln!("error: cannot encode the catalog: {e}");
            return ExitCode::FAILURE;
        }
    };
    if let Err(e) = write_private(&file, &text) {
        eprintln!("error: cannot write {}: {e}", file.display());
        return ExitCode::FAILURE;
    }
    let (tables, partitions) = dump.counts();
    eprintln!(
        "exported {tables} tables and {partitions} partitions to {}",
        file.display()
    );
    ExitCode::SUCCESS
}

/// The dump holds password verifiers and the catalog's secrets: readable by its owner only.
fn write_private(file: &std::path::Path, bytes: &[u8]) -> std::io::Result<()> {
    use std::io::Write;
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create(true).truncate(true);
    #[cfg(unix)]
    std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
    let mut out = options.open(file)?;
    // An existing file keeps its mode when opened: tighten it before writing.
    #[cfg(unix)]
    out.set_permissions(std::os::unix::fs::PermissionsExt::from_mode(0o600))?;
    out.write_all(bytes)?;
    out.sync_all()
}

async fn import(tarn: &Tarn, file: PathBuf, replace: bool) -> ExitCode {
    let dump = match std::fs::read(&file)
        .map_err(|e| e.to_string())
        .and_then(|b| {
            serde_json::from_slice::<tarn::catalog::CatalogDump>(&b).map_err(|e| e.to_string())
        }) {
        Ok(d) => d,
        Err(e) => {
            eprintln!(
                "error: cannot read the catalog dump {}: {e}",
                file.display()
            );
            return ExitCode::FAILURE;
        }
    };
    let (tables, partitions) = dump.counts();
    match tarn.engine().import_catalog(dump, replace).await {
        Ok(()) => {
            eprintln!("imported {tables} tables and {partitions} partitions");
            ExitCode::SUCCESS
        }
        Err(e) => {
            super::print_error(&e);
            ExitCode::FAILURE
        }
    }
}
