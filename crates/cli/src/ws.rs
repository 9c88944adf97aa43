//! `tollgate ws URL`: a minimal WebSocket client for trying WebSocket APIs from a shell
//! (no common tool ships one): connects, sends each `--send` message, prints every message
//! it receives on its own line, and leaves after `--for` seconds or when the server closes.

use std::time::Duration;

use futures_util::{SinkExt, StreamExt};
use tokio_tungstenite::tungstenite::Message;

use crate::error::CliError;

#[derive(clap::Args)]
pub struct WsArgs {
    /// The stage's URL, e.g. ws://localhost:4566/_aws/execute-api/API/prod (a query string
    /// reaches `$connect`).
    url: String,
    /// A message to send once connected (repeatable; sent in order).
    #[arg(long)]
    send: Vec<String>,
    /// Seconds to stay connected; without it, until the server closes.
    #[arg(long = "for")]
    seconds: Option<u64>,
}

pub async fn run(args: WsArgs) -> Result<(), CliError> {
    let (mut ws, _) = tokio_tungstenite::connect_async(args.url.as_str())
        .await
        .map_err(|e| CliError::WebSocket(args.url.clone(), e.to_string()))?;
    for m in args.send {
        ws.send(Message::text(m))
            .await
            .map_err(|e| CliError::WebSocket(args.url.clone(), e.to_string()))?;
    }
    let print = async {
        while let Some(m) = ws.next().await {
            match m {
                Ok(Message::Text(t)) => println!("{}", t.as_str()),
                Ok(Message::Binary(b)) => println!("{}", String::from_utf8_lossy(&b)),
                Ok(Message::Close(f)) => {
                    eprintln!("closed: {}", f.map_or(1005, |f| u16::from(f.code)));
                    break;
                }
                Ok(_) => {}
                Err(e) => {
                    eprintln!("connection ended: {e}");
                    break;
                }
            }
        }
    };
    match args.seconds {
        Some(s) => {
            let _ = tokio::time::timeout(Duration::from_secs(s), print).await;
        }
        None => print.await,
    }
    Ok(())
}
