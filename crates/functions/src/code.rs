//! Deployment packages: a zip is unpacked once into a content-addressed directory
//! (`<root>/{sha256 hex}`), which every version and worker using that code shares.
//!
//! Unpacking is the security boundary for uploaded code, so it refuses anything that could
//! write outside the directory: absolute or `..` paths, and symlinks that point outside.
//! Sizes are counted from the bytes actually written, never from the zip's headers.

use std::collections::HashMap;
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
    root.join(sha256_hex(sha256_b64))
}

/// A `CodeSha256` (base64) as the hex the directory and the store name it by.
pub fn sha256_hex(sha256_b64: &str) -> String {
    tollgate_store::code::package_key(sha256_b64)
        .unwrap_or_else(|| sha256_b64.replace(['/', '+', '='], "_"))
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

/// Longest symlink target accepted (Linux's `PATH_MAX`).
const MAX_LINK_TARGET: u64 = 4096;
/// Links followed while resolving one path before giving up (Linux's `ELOOP` limit).
const MAX_LINK_HOPS: u32 = 40;

/// Whether the symlink at `link` (relative to the root) pointing to `target` stays inside
/// the package once every other link of the package is followed, as the kernel will follow
/// them: `a/b/c/l -> ../../..` is harmless alone, but `x -> a/b/c/l/../../..` climbs out
/// through it. `links` holds every symlink of the package (path relative to the root →
/// target).
fn link_stays_inside(links: &HashMap<PathBuf, String>, link: &Path, target: &str) -> bool {
    let mut at = Vec::new();
    let mut hops = 0;
    let parent = link.parent().unwrap_or(Path::new(""));
    walk(links, &mut at, parent, &mut hops).is_some()
        && walk(links, &mut at, Path::new(target), &mut hops).is_some()
}

/// Follows `path` from the directory `at` (components below the root), expanding links;
/// `None` when it leaves the root, is absolute, or loops.
fn walk(
    links: &HashMap<PathBuf, String>,
    at: &mut Vec<std::ffi::OsString>,
    path: &Path,
    hops: &mut u32,
) -> Option<()> {
    for c in path.components() {
        match c {
            Component::Normal(name) => {
                at.push(name.to_owned());
                let here: PathBuf = at.iter().collect();
                if let Some(target) = links.get(&here) {
                    *hops += 1;
                    if *hops > MAX_LINK_HOPS {
                        return None;
                    }
                    // A relative target is resolved from the link's own directory.
                    at.pop();
                    walk(links, at, Path::new(target), hops)?;
                }
            }
            Component::CurDir => {}
            Component::ParentDir => {
                at.pop()?;
            }
            Component::RootDir | Component::Prefix(_) => return None,
        }
    }
    Some(())
}

fn unpack(zip: &[u8], into: &Path) -> Result<(), CodeError> {
    use std::os::unix::fs::PermissionsExt;

    let mut archive =
        zip::ZipArchive::new(std::io::Cursor::new(zip)).map_err(|_| CodeError::Unreadable)?;
    std::fs::create_dir_all(into).map_err(|e| CodeError::Io(e.to_string()))?;
    let io = |e: std::io::Error| CodeError::Io(e.to_string());
    let mut written: u64 = 0;
    // Symlinks are created last, so no file is ever written through one.
    let mut links = HashMap::new();
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
            (&mut entry)
                .take(MAX_LINK_TARGET + 1)
                .read_to_string(&mut target)
                .map_err(|_| CodeError::Unreadable)?;
            written += target.len() as u64;
            if target.len() as u64 > MAX_LINK_TARGET {
                return Err(CodeError::UnsafePath(name));
            }
            if written > MAX_UNZIPPED_CODE {
                return Err(CodeError::TooLarge);
            }
            links.insert(rel, target);
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
    // Checked once every link is known: a link may climb out through another one.
    if let Some(bad) = links
        .iter()
        .find(|(rel, target)| !link_stays_inside(&links, rel, target))
    {
        return Err(CodeError::UnsafePath(bad.0.to_string_lossy().into_owned()));
    }
    for (rel, target) in &links {
        let path = into.join(rel);
        if let Some(parent) = path.parent() {
            std::fs::create_dir_all(parent).map_err(io)?;
        }
        std::os::unix::fs::symlink(target, &path).map_err(io)?;
    }
    Ok(())
}

/// Builds a zip in memory (tests and tools): `(name, contents, unix mode)`; an entry whose
/// mode has the symlink type (`0o120000`) is a symlink to `contents`.
pub fn build_zip(files: &[(&str, &[u8], u32)]) -> Vec<u8> {
    let mut out = std::io::Cursor::new(Vec::new());
    {
        let mut w = zip::ZipWriter::new(&mut out);
        for (name, data, mode) in files {
            let opts = zip::write::SimpleFileOptions::default()
                .compression_method(zip::CompressionMethod::Deflated)
                .unix_permissions(*mode);
            if mode & 0o170000 == 0o120000 {
                // A symlink: `data` is its target.
                let target = String::from_utf8_lossy(data);
                w.add_symlink(*name, target, opts).expect("zip symlink");
                continue;
            }
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
        let none = HashMap::new();
        let inside = |link: &str, target: &str| link_stays_inside(&none, Path::new(link), target);
        assert!(inside("a/link", "../b"));
        assert!(inside("a/b/link", "../../c"));
        assert!(!inside("link", "../x"));
        assert!(!inside("a/link", "/etc/passwd"));
        assert!(!inside("a/link", "../../x"));
    }

    /// A symlink whose zip entry is `(name, target)`.
    fn link(name: &'static str, target: &'static str) -> (&'static str, &'static [u8], u32) {
        (name, target.as_bytes(), 0o120777)
    }

    #[test]
    fn symlinks_cannot_climb_out_through_other_symlinks() {
        let root = tempfile::tempdir().unwrap();
        let code = root.path().join("code");
        // Each link alone stays inside lexically; followed through `l`, `x` is the parent
        // of the code root.
        let zip = build_zip(&[
            ("a/b/c/file", b"x", 0o644),
            link("a/b/c/l", "../../.."),
            link("x", "a/b/c/l/../../.."),
        ]);
        assert!(matches!(install(&code, &zip), Err(CodeError::UnsafePath(p)) if p == "x"));
        // The deeper variant, the order reversed.
        let zip = build_zip(&[
            link("x", "a/b/c/l/../../../../../../../../../../.."),
            link("a/b/c/l", "../../.."),
        ]);
        assert!(matches!(
            install(&code, &zip),
            Err(CodeError::UnsafePath(_))
        ));
        // A link placed through another link resolves from where it really lands.
        let zip = build_zip(&[link("d", "a/b/c"), link("d/up", "../../../..")]);
        assert!(matches!(
            install(&code, &zip),
            Err(CodeError::UnsafePath(_))
        ));
        // Loops are refused, not followed forever.
        let zip = build_zip(&[link("p", "q/x"), link("q", "p/x")]);
        assert!(matches!(
            install(&code, &zip),
            Err(CodeError::UnsafePath(_))
        ));
        // Nothing was stored.
        let left: Vec<_> = std::fs::read_dir(&code).unwrap().collect();
        assert!(left.is_empty(), "{left:?}");
        // Links that stay inside through each other are fine, and work.
        let zip = build_zip(&[
            ("a/b/c/file", b"data", 0o644),
            link("a/b/c/l", "../.."),
            link("y", "a/b/c/l/b/c/file"),
        ]);
        let p = install(&code, &zip).unwrap();
        assert_eq!(std::fs::read(p.dir.join("y")).unwrap(), b"data");
    }

    #[test]
    fn symlink_targets_are_bounded_and_counted() {
        let root = tempfile::tempdir().unwrap();
        let long = "a/".repeat(3000);
        let zip = build_zip(&[("l", long.as_bytes(), 0o120777)]);
        assert!(matches!(
            install(root.path(), &zip),
            Err(CodeError::UnsafePath(_))
        ));
    }
}
