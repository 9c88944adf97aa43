//! Local files the configuration points at (mutual TLS truststores): read only when they
//! are regular files of a bounded size, so a URI naming `/dev/zero` or a FIFO can neither
//! exhaust memory nor block the control plane or the change feed.

use std::io::Read;
use std::path::Path;

/// The largest truststore read: AWS's limit for a truststore bundle is 1 MB.
pub const MAX_TRUSTSTORE: u64 = 1024 * 1024;

/// The bytes of the regular file at `path`, at most `max` of them; an error for anything
/// else (a directory, a device, a FIFO, a larger file).
pub fn read_regular(path: &Path, max: u64) -> std::io::Result<Vec<u8>> {
    let meta = std::fs::metadata(path)?;
    if !meta.is_file() {
        return Err(std::io::Error::new(
            std::io::ErrorKind::InvalidInput,
            "not a regular file",
        ));
    }
    if meta.len() > max {
        return Err(std::io::Error::new(
            std::io::ErrorKind::InvalidInput,
            format!("larger than {max} bytes"),
        ));
    }
    let mut out = Vec::with_capacity(meta.len() as usize);
    // Bounded again while reading: the file may grow after the check.
    std::fs::File::open(path)?
        .take(max + 1)
        .read_to_end(&mut out)?;
    if out.len() as u64 > max {
        return Err(std::io::Error::new(
            std::io::ErrorKind::InvalidInput,
            format!("larger than {max} bytes"),
        ));
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_bounded_regular_files_are_read() {
        let dir = tempfile::tempdir().unwrap();
        let f = dir.path().join("ca.pem");
        std::fs::write(&f, b"0123456789").unwrap();
        assert_eq!(read_regular(&f, 10).unwrap(), b"0123456789");
        assert!(read_regular(&f, 9).is_err());
        assert!(read_regular(dir.path(), 10).is_err());
        assert!(read_regular(Path::new("/dev/zero"), 10).is_err());
    }
}
