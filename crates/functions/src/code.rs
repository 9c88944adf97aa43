//! Deployment packages: a zip is unpacked once into a content-addressed directory
//! (`<root>/{sha256 hex}`), which every version and worker using that code shares.
//!
//! Unpacking is the security boundary for uploaded code, so it refuses anything that could
//! write outside the directory: absolute or `..` paths, and symlinks that point outside.
//! Sizes are counted from the bytes actually written, never from the zip's headers.

use std::io::{Read, Write};
use std::path::{Component, Path, PathBuf};

use base64::Engine;
use sha2::{Digest, Sha256};
use tollgate_model::lambda::MAX_UNZIPPED_CODE;

/// A package that is unpacked and ready to run.
#[derive(Debug, Clone, PartialEq)]
pub struct CodePackage {
    /// Base64 of the zip's SHA-256, as Lambda reports `CodeSha256`.
    pub sha256: String,
    /// Size of the zip in bytes (`CodeSize`).
    pub size: u64,
    pub dir: PathBuf,
}

#[derive(Debug, thiserror::Error, PartialEq)]
pub enum CodeError {
    /// Lambda's text for a package it cannot read.
    #[error("Could not unzip uploaded file. Please check your file, then try to upload again.")]
    Unreadable,
    #[error("Unzipped size must be smaller than {MAX_UNZIPPED_CODE} bytes")]
    TooLarge,
    #[error("the code package contains an unsafe path: {0}")]
    UnsafePath(String),
    #[error("cannot store the code package: {0}")]
    Io(String),
}

/// The directory of the package with this `CodeSha256`.
pub fn code_dir(root: &Path, sha256_b64: &str) -> PathBuf {
    let hex = base64::engine::general_purpose::STANDARD
        .decode(sha256_b64)
        .map(hex::encode)
        .unwrap_or_else(|_| sha256_b64.replace(['/', '+', '='], "_"));
    root.join(hex)
}

/// Unpacks `zip` under `root` (blocking; call from a blocking thread). Installing the same
/// bytes twice reuses the first directory.
pub fn install(root: &Path, zip: &[u8]) -> Result<CodePackage, CodeError> {
    let digest = Sha256::digest(zip);
    let sha256 = base64::engine::general_purpose::STANDARD.encode(digest);
    let dir = root.join(hex::encode(digest));
    let package = CodePackage {
        sha256,
        size: zip.len() as u64,
        dir: dir.clone(),
    };
    if dir.is_dir() {
        return Ok(package);
    }
    std::fs::create_dir_all(root).map_err(|e| CodeError::Io(e.to_string()))?;
    let tmp = root.join(format!(".tmp-{}", uuid::Uuid::new_v4()));
    let result = unpack(zip, &tmp).and_then(|()| {
        match std::fs::rename(&tmp, &dir) {
            Ok(()) => Ok(()),
            // Another upload of the same bytes won the race.
            Err(_) if dir.is_dir() => Ok(()),
            Err(e) => Err(CodeError::Io(e.to_string())),
        }
    });
    if tmp.exists() {
        let _ = std::fs::remove_dir_all(&tmp);
    }
    result.map(|()| package)
}

/// The entry's path relative to the package root, or `None` when it would escape it.
fn safe_relative(name: &str) -> Option<PathBuf> {
    let mut out = PathBuf::new();
    for c in Path::new(name).components() {
        match c {
            Component::Normal(p) => out.push(p),
            Component::CurDir => {}
            _ => return None,
        }
    }
    (!out.as_os_str().is_empty()).then_some(out)
}

/// Whether a symlink at `link` (relative to the root) pointing to `target` stays inside.
fn link_stays_inside(link: &Path, target: &str) -> bool {
    if target.starts_with('/') {
        return false;
    }
    let mut depth: i64 = link.components().count() as i64 - 1;
    for c in Path::new(target).components() {
        match c {
            Component::Normal(_) => depth += 1,
            Component::CurDir => {}
            Component::ParentDir => {
                depth -= 1;
                if depth < 0 {
                    return false;
                }
            }
            _ => return false,
        }
    }
    true
}

fn unpack(zip: &[u8], into: &Path) -> Result<(), CodeError> {
    use std::os::unix::fs::PermissionsExt;

    let mut archive =
        zip::ZipArchive::new(std::io::Cursor::new(zip)).map_err(|_| CodeError::Unreadable)?;
    std::fs::create_dir_all(into).map_err(|e| CodeError::Io(e.to_string()))?;
    let io = |e: std::io::Error| CodeError::Io(e.to_string());
    let mut written: u64 = 0;
    // Symlinks are created last, so no file is ever written through one.
    let mut links = Vec::new();
    let mut buf = vec![0u8; 64 * 1024];
    for i in 0..archive.len() {
        let mut entry = archive.by_index(i).map_err(|_| CodeError::Unreadable)?;
        let name = entry.name().map_err(|_| CodeError::Unreadable)?.to_string();
        let rel = safe_relative(&name).ok_or_else(|| CodeError::UnsafePath(name.clone()))?;
        let path = into.join(&rel);
        let mode = entry.unix_mode();
        if entry.is_dir() {
            std::fs::create_dir_all(&path).map_err(io)?;
            continue;
        }
        if mode.is_some_and(|m| m & 0o170000 == 0o120000) {
            let mut target = String::new();
            entry
                .read_to_string(&mut target)
                .map_err(|_| CodeError::Unreadable)?;
            if !link_stays_inside(&rel, &target) {
                return Err(CodeError::UnsafePath(name));
            }
            links.push((path, target));
            continue;
        }
        if let Some(parent) = path.parent() {
            std::fs::create_dir_all(parent).map_err(io)?;
        }
        let mut file = std::fs::File::create(&path).map_err(io)?;
        loop {
            let n = entry.read(&mut buf).map_err(|_| CodeError::Unreadable)?;
            if n == 0 {
                break;
            }
            written += n as u64;
            if written > MAX_UNZIPPED_CODE {
                return Err(CodeError::TooLarge);
            }
            file.write_all(&buf[..n]).map_err(io)?;
        }
        // Keep the owner's execute bit (a `bootstrap` must stay runnable); always readable.
        let perm = mode.map_or(0o644, |m| (m & 0o755) | 0o444);
        std::fs::set_permissions(&path, std::fs::Permissions::from_mode(perm)).map_err(io)?;
    }
    for (path, target) in links {
        if let Some(parent) = path.parent() {
            std::fs::create_dir_all(parent).map_err(io)?;
        }
        std::os::unix::fs::symlink(&target, &path).map_err(io)?;
    }
    Ok(())
}

/// Builds a zip in memory (tests and tools): `(name, contents, unix mode)`.
pub fn build_zip(files: &[(&str, &[u8], u32)]) -> Vec<u8> {
    let mut out = std::io::Cursor::new(Vec::new());
    {
        let mut w = zip::ZipWriter::new(&mut out);
        for (name, data, mode) in files {
            let opts = zip::write::SimpleFileOptions::default()
                .compression_method(zip::CompressionMethod::Deflated)
                .unix_permissions(*mode);
            w.start_file(*name, opts).expect("zip entry");
            w.write_all(data).expect("zip write");
        }
        w.finish().expect("zip finish");
    }
    out.into_inner()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn installs_once_and_keeps_modes() {
        let root = tempfile::tempdir().unwrap();
        let zip = build_zip(&[
            ("bootstrap", b"#!/bin/sh\necho hi\n", 0o755),
            ("lib/data.txt", b"x", 0o600),
        ]);
        let p = install(root.path(), &zip).unwrap();
        assert_eq!(p.size, zip.len() as u64);
        assert_eq!(code_dir(root.path(), &p.sha256), p.dir);
        use std::os::unix::fs::PermissionsExt;
        let m = std::fs::metadata(p.dir.join("bootstrap"))
            .unwrap()
            .permissions()
            .mode();
        assert_eq!(m & 0o777, 0o755);
        let m = std::fs::metadata(p.dir.join("lib/data.txt"))
            .unwrap()
            .permissions()
            .mode();
        assert_eq!(m & 0o777, 0o644);
        assert_eq!(install(root.path(), &zip).unwrap(), p);
    }

    #[test]
    fn refuses_escaping_paths_and_garbage() {
        let root = tempfile::tempdir().unwrap();
        let zip = build_zip(&[("../evil", b"x", 0o644)]);
        assert!(matches!(
            install(root.path(), &zip),
            Err(CodeError::UnsafePath(_))
        ));
        assert!(!root.path().parent().unwrap().join("evil").exists());
        let zip = build_zip(&[("/abs", b"x", 0o644)]);
        assert!(install(root.path(), &zip).is_err());
        assert_eq!(
            install(root.path(), b"not a zip"),
            Err(CodeError::Unreadable)
        );
        // Nothing half-written stays behind.
        let left: Vec<_> = std::fs::read_dir(root.path()).unwrap().collect();
        assert!(left.is_empty(), "{left:?}");
    }

    #[test]
    fn symlinks_must_stay_inside() {
        assert!(link_stays_inside(Path::new("a/link"), "../b"));
        assert!(link_stays_inside(Path::new("a/b/link"), "../../c"));
        assert!(!link_stays_inside(Path::new("link"), "../x"));
        assert!(!link_stays_inside(Path::new("a/link"), "/etc/passwd"));
        assert!(!link_stays_inside(Path::new("a/link"), "../../x"));
    }
}
