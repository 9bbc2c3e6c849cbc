//! The data dir's authentication secret: 32 random bytes in `<data_dir>/auth_secret` (mode
//! 0600), created on first open. Decoy salts derive from it, so they are stable across
//! restarts (a changing salt would reveal an unknown user) yet unguessable elsewhere.

use std::io::{Read, Write};
use std::path::Path;

use crate::error::{EngineError, Result};

const FILE: &str = "auth_secret";

pub(super) fn load_or_create(data_dir: &Path) -> Result<[u8; 32]> {
    let path = data_dir.join(FILE);
    match create(&path) {
        Ok(secret) => Ok(secret),
        Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => read(&path),
        Err(e) => Err(storage(&path, e)),
    }
}

/// Writes a fresh secret, failing if the file exists (another engine made it first).
fn create(path: &Path) -> std::io::Result<[u8; 32]> {
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create_new(true);
    #[cfg(unix)]
    std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
    let mut file = options.open(path)?;
    let mut secret = [0u8; 32];
    // Without the OS's randomness there is no secret worth having: fail, never use zeros.
    if let Err(e) = getrandom::fill(&mut secret) {
        drop(file);
        let _ = std::fs::remove_file(path);
        return Err(std::io::Error::other(format!("no randomness: {e}")));
    }
    file.write_all(&secret)?;
    file.sync_all()?;
    Ok(secret)
}

fn read(path: &Path) -> Result<[u8; 32]> {
    let mut bytes = Vec::with_capacity(32);
    std::fs::File::open(path)
        .and_then(|f| f.take(33).read_to_end(&mut bytes))
        .map_err(|e| storage(path, e))?;
    bytes.try_into().map_err(|_| EngineError::Storage {
        location: path.display().to_string(),
        message: "the authentication secret must be exactly 32 bytes".into(),
    })
}

fn storage(path: &Path, e: std::io::Error) -> EngineError {
    EngineError::Storage {
        location: path.display().to_string(),
        message: e.to_string(),
    }
}
