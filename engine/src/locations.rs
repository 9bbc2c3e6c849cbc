//! Locations are a security boundary: every table, partition, database and COPY location must lie
//! under a configured allowed root. `..` and symlinks are resolved before the check, so
//! `data/../../etc` or a link pointing out of the warehouse is refused like `/etc` itself.

use std::path::{Component, Path, PathBuf};

use crate::error::{EngineError, Result};

/// The configured roots: local directories and object-store URL prefixes (`s3://bucket/lake/`).
#[derive(Debug, Clone)]
pub struct AllowedRoots {
    local: Vec<PathBuf>,
    urls: Vec<String>,
}

impl AllowedRoots {
    /// Builds the roots; local roots are created if missing so they can be canonicalised.
    pub fn new(roots: &[String]) -> Result<Self> {
        let mut local = Vec::new();
        let mut urls = Vec::new();
        for root in roots {
            match split_scheme(root) {
                Some((scheme, _)) if scheme != "file" => {
                    urls.push(format!("{}/", root.trim_end_matches('/')));
                }
                _ => {
                    let path = local_path(root)?;
                    std::fs::create_dir_all(&path).map_err(|e| EngineError::Storage {
                        location: path.display().to_string(),
                        message: e.to_string(),
                    })?;
                    local.push(resolve(&path));
                }
            }
        }
        Ok(Self { local, urls })
    }

    /// Checks a location and returns its normalised form (absolute path, or the URL as given).
    pub fn check(&self, location: &str) -> Result<String> {
        if let Some((scheme, rest)) = split_scheme(location).filter(|(s, _)| *s != "file") {
            let normalized = format!("{scheme}://{}", normalize_url_path(rest)?);
            let with_slash = format!("{}/", normalized.trim_end_matches('/'));
            return if self
                .urls
                .iter()
                .any(|root| with_slash.starts_with(root.as_str()))
            {
                Ok(normalized.trim_end_matches('/').to_string())
            } else {
                Err(denied(location))
            };
        }
        let path = resolve(&local_path(location)?);
        if self.local.iter().any(|root| path.starts_with(root)) {
            Ok(path.display().to_string())
        } else {
            Err(denied(location))
        }
    }

    /// The roots as configured (for messages and SHOW).
    pub fn describe(&self) -> Vec<String> {
        self.local
            .iter()
            .map(|p| p.display().to_string())
            .chain(self.urls.clone())
            .collect()
    }
}

fn denied(location: &str) -> EngineError {
    EngineError::PermissionDenied(format!(
        "location '{location}' is outside the allowed roots"
    ))
}

fn split_scheme(location: &str) -> Option<(&str, &str)> {
    let (scheme, rest) = location.split_once("://")?;
    let valid = !scheme.is_empty()
        && scheme
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '+' | '-' | '.'));
    valid.then_some((scheme, rest))
}

/// A local location (plain path or `file://` URL) as an absolute, lexically normalised path.
fn local_path(location: &str) -> Result<PathBuf> {
    let raw = match location.strip_prefix("file://") {
        Some(rest) => rest,
        None => location,
    };
    if raw.is_empty() {
        return Err(EngineError::InvalidParameter(
            "a location must not be empty".into(),
        ));
    }
    let path = Path::new(raw);
    let absolute = if path.is_absolute() {
        path.to_path_buf()
    } else {
        std::env::current_dir()
            .map_err(|e| EngineError::Internal(format!("no current directory: {e}")))?
            .join(path)
    };
    Ok(lexical_normalize(&absolute))
}

/// Removes `.` and resolves `..` without touching the file system.
fn lexical_normalize(path: &Path) -> PathBuf {
    let mut out = PathBuf::new();
    for component in path.components() {
        match component {
            Component::ParentDir => {
                out.pop();
            }
            Component::CurDir => {}
            other => out.push(other),
        }
    }
    out
}

/// Resolves symlinks in the longest existing prefix of `path`.
fn resolve(path: &Path) -> PathBuf {
    let mut existing = path.to_path_buf();
    let mut rest = Vec::new();
    loop {
        if let Ok(canonical) = existing.canonicalize() {
            return rest
                .iter()
                .rev()
                .fold(canonical, |acc: PathBuf, part| acc.join(part));
        }
        match (
            existing.file_name().map(|n| n.to_os_string()),
            existing.parent(),
        ) {
            (Some(name), Some(parent)) => {
                rest.push(name);
                existing = parent.to_path_buf();
            }
            _ => return path.to_path_buf(),
        }
    }
}

fn normalize_url_path(rest: &str) -> Result<String> {
    if rest.split('/').any(|seg| seg == ".." || seg == ".") {
        return Err(EngineError::PermissionDenied(format!(
            "object store locations may not contain '.' or '..' segments: {rest}"
        )));
    }
    Ok(rest.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn refuses_escapes_and_accepts_children() {
        let dir = tempfile::tempdir().unwrap();
        let root = dir.path().join("warehouse");
        let roots =
            AllowedRoots::new(&[root.display().to_string(), "s3://lake/raw".into()]).unwrap();
        let inside = roots.check(&format!("{}/db.db/t", root.display())).unwrap();
        assert!(inside.ends_with("warehouse/db.db/t"));
        assert!(roots.check(&format!("file://{}/x", root.display())).is_ok());
        for bad in [
            "/etc",
            "/etc/",
            "/proc/self/environ",
            "file:///etc/passwd",
            "data/../../etc",
            &format!("{}/../../etc", root.display()),
            &format!("{}-sibling", root.display()),
            "s3://lake/rawish/x",
            "s3://lake/raw/../secret",
            "s3://other/raw",
            "",
        ] {
            let err = roots.check(bad).unwrap_err();
            assert!(
                matches!(
                    err,
                    EngineError::PermissionDenied(_) | EngineError::InvalidParameter(_)
                ),
                "{bad}: {err}"
            );
        }
        assert_eq!(
            roots.check("s3://lake/raw/events/").unwrap(),
            "s3://lake/raw/events"
        );
    }

    #[test]
    fn symlinks_out_of_a_root_are_refused() {
        let dir = tempfile::tempdir().unwrap();
        let root = dir.path().join("w");
        let roots = AllowedRoots::new(&[root.display().to_string()]).unwrap();
        std::os::unix::fs::symlink("/etc", root.join("link")).unwrap();
        assert!(
            roots
                .check(&format!("{}/link/passwd", root.display()))
                .is_err()
        );
    }
}
