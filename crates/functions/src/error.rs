//! Why the engine could not start.

use std::path::PathBuf;

/// A failure of [`Functions::start`](crate::Functions::start): the data directory, the
/// runtime scripts, the event queue or the remote endpoint's client.
#[derive(Debug, thiserror::Error)]
pub enum StartError {
    #[error("cannot resolve {}: {source}", .path.display())]
    Resolve {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("cannot create {}: {source}", .path.display())]
    CreateDir {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("cannot write the {file} runtime: {source}")]
    WriteRuntime {
        file: &'static str,
        source: std::io::Error,
    },
    #[error("cannot load the system's root certificates: {0}")]
    RootCertificates(#[source] std::io::Error),
}
