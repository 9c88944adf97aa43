//! A function's `CodeUri` directory as a zip: entries sorted by path and stamped with one
//! fixed time, so unchanged code zips to the same bytes and `tollgate sam` can tell, by the
//! hash Lambda reports (`CodeSha256`), that a function needs no new code.

use std::path::{Path, PathBuf};

use base64::Engine;
use sha2::{Digest, Sha256};

/// Bigger than Lambda's own limit for a direct upload (50 MB zipped): refused before
/// reading further.
const MAX_UNZIPPED: u64 = 250 * 1024 * 1024;

#[derive(Debug, thiserror::Error)]
pub enum PackageError {
    #[error("CodeUri {}: {source}", .path.display())]
    Read {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("CodeUri {}: more than 250 MB of files", .0.display())]
    TooLarge(PathBuf),
}

/// Where a function's code comes from.
#[derive(Debug, Clone, PartialEq)]
pub enum Code {
    /// `CodeUri` (or a plain function's `Code` path): a directory, or a zip file.
    Path(PathBuf),
    /// `Code: {ZipFile: ...}` of an `AWS::Lambda::Function`: one source file.
    Inline { file: String, source: String },
}

/// The zipped code and its `CodeSha256` (base64 of the zip's sha256, as Lambda reports it).
pub struct Package {
    pub zip: Vec<u8>,
    pub sha256: String,
}

fn files(root: &Path, dir: &Path, out: &mut Vec<(String, PathBuf)>) -> Result<(), PackageError> {
    fn read(path: &Path) -> impl FnOnce(std::io::Error) -> PackageError + '_ {
        move |source| PackageError::Read {
            path: path.to_path_buf(),
            source,
        }
    }
    for entry in std::fs::read_dir(dir).map_err(read(dir))? {
        let entry = entry.map_err(read(dir))?;
        let path = entry.path();
        let kind = entry.file_type().map_err(read(&path))?;
        if kind.is_dir() {
            files(root, &path, out)?;
        } else if kind.is_file() || (kind.is_symlink() && path.is_file()) {
            // A symlink to a file is packaged as the file (sam build does the same).
            let name = path
                .strip_prefix(root)
                .unwrap_or(&path)
                .to_string_lossy()
                .replace('\\', "/");
            out.push((name, path));
        }
    }
    Ok(())
}

/// A packaged file's mode: 0755 when its owner may run it (a `provided.*` runtime's
/// `bootstrap` must stay executable), else 0644; nothing else of the local mode is kept,
/// so the same files always zip to the same bytes.
fn file_mode(path: &Path) -> u32 {
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        if std::fs::metadata(path).is_ok_and(|m| m.permissions().mode() & 0o100 != 0) {
            return 0o755;
        }
    }
    let _ = path;
    0o644
}

/// Zips the directory (a file `CodeUri` is taken as a ready zip).
pub fn package(code: &Code) -> Result<Package, PackageError> {
    let code_uri = match code {
        Code::Path(p) => p.as_path(),
        Code::Inline { file, source } => {
            let zip = tollgate_functions::code::build_zip(&[(file, source.as_bytes(), 0o644)]);
            return Ok(sealed(zip));
        }
    };
    let zip = if code_uri.is_file() {
        std::fs::read(code_uri).map_err(|source| PackageError::Read {
            path: code_uri.to_path_buf(),
            source,
        })?
    } else {
        let mut list = vec![];
        files(code_uri, code_uri, &mut list)?;
        list.sort();
        let mut total = 0u64;
        let mut contents = Vec::with_capacity(list.len());
        for (name, path) in list {
            let data = std::fs::read(&path).map_err(|source| PackageError::Read {
                path: path.clone(),
                source,
            })?;
            let mode = file_mode(&path);
            total += data.len() as u64;
            if total > MAX_UNZIPPED {
                return Err(PackageError::TooLarge(code_uri.to_path_buf()));
            }
            contents.push((name, data, mode));
        }
        let entries: Vec<(&str, &[u8], u32)> = contents
            .iter()
            .map(|(n, d, m)| (n.as_str(), d.as_slice(), *m))
            .collect();
        tollgate_functions::code::build_zip(&entries)
    };
    Ok(sealed(zip))
}

fn sealed(zip: Vec<u8>) -> Package {
    let sha256 = base64::engine::general_purpose::STANDARD.encode(Sha256::digest(&zip));
    Package { zip, sha256 }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_same_files_zip_to_the_same_bytes() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::create_dir(dir.path().join("lib")).unwrap();
        std::fs::write(dir.path().join("app.py"), "x = 1\n").unwrap();
        std::fs::write(dir.path().join("lib/util.py"), "y = 2\n").unwrap();
        let a = package(&Code::Path(dir.path().to_path_buf())).unwrap();
        let b = package(&Code::Path(dir.path().to_path_buf())).unwrap();
        assert_eq!(a.sha256, b.sha256);
        std::fs::write(dir.path().join("app.py"), "x = 3\n").unwrap();
        assert_ne!(
            package(&Code::Path(dir.path().to_path_buf()))
                .unwrap()
                .sha256,
            a.sha256
        );
    }

    #[cfg(unix)]
    #[test]
    fn an_executable_stays_executable() {
        use std::os::unix::fs::PermissionsExt;
        let dir = tempfile::tempdir().unwrap();
        let bootstrap = dir.path().join("bootstrap");
        std::fs::write(&bootstrap, "#!/bin/sh\n").unwrap();
        let plain = package(&Code::Path(dir.path().to_path_buf())).unwrap();
        std::fs::set_permissions(&bootstrap, std::fs::Permissions::from_mode(0o755)).unwrap();
        let run = package(&Code::Path(dir.path().to_path_buf())).unwrap();
        assert_ne!(plain.sha256, run.sha256, "the mode is part of the zip");
        assert_eq!(file_mode(&bootstrap), 0o755);
    }
}
