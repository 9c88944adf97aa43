//! Following other nodes' commits: a connection of its own `LISTEN`s on the commit
//! channel, and each notification makes the store catch up ([`Store::refresh`]: reload
//! and publish on this node's feed when the database is ahead). A periodic version check
//! is the safety net for a notification lost while the listener was reconnecting.

use std::sync::Arc;
use std::time::Duration;

use tokio::sync::mpsc;
use tokio_postgres::{AsyncMessage, Client};
use tollgate_store::{Store, StoreError};

use crate::connect::{pg, Target};
use crate::tables::COMMIT_CHANNEL;

/// Keeps `store` up to date with the database at `url` for as long as the store lives:
/// on every commit notification, and at least every `every`.
pub fn follow(url: &str, store: Arc<Store>, every: Duration) -> Result<(), StoreError> {
    let target = Target::parse(url)?;
    let store = Arc::downgrade(&store);
    tokio::spawn(async move {
        let mut tick = tokio::time::interval(every);
        tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        let mut listener: Option<Listener> = None;
        let (mut listen_failing, mut refresh_failing) = (false, false);
        loop {
            if listener.is_none() {
                match listen(&target).await {
                    Ok(l) => {
                        listen_failing = false;
                        listener = Some(l);
                    }
                    Err(e) if !listen_failing => {
                        listen_failing = true;
                        tracing::warn!(error = %e, "cannot listen for other nodes' commits; checking every {every:?}");
                    }
                    Err(_) => {}
                }
            }
            tokio::select! {
                woke = recv(&mut listener) => if !woke { listener = None },
                _ = tick.tick() => {}
            }
            let Some(store) = store.upgrade() else { return };
            match store.refresh().await {
                Ok(_) => refresh_failing = false,
                Err(e) if !refresh_failing => {
                    refresh_failing = true;
                    tracing::warn!(error = %e, "cannot check the store's version");
                }
                Err(_) => {}
            }
        }
    });
    Ok(())
}

/// The listening connection: its client (the connection closes when it is dropped) and
/// one message per notification (coalesced while one is pending), closed with the
/// connection.
struct Listener {
    _client: Client,
    wakeups: mpsc::Receiver<()>,
}

/// The next notification: `false` once the listening connection closed; with no
/// listener, never.
async fn recv(listener: &mut Option<Listener>) -> bool {
    match listener {
        Some(l) => l.wakeups.recv().await.is_some(),
        None => std::future::pending().await,
    }
}

async fn listen(target: &Target) -> Result<Listener, StoreError> {
    let (client, mut driver) = target.connect().await?;
    let (tx, wakeups) = mpsc::channel(1);
    // The driver must run for the LISTEN below to complete, and its messages are where
    // notifications arrive.
    tokio::spawn(async move {
        while let Some(msg) = std::future::poll_fn(|cx| driver.poll_message(cx)).await {
            match msg {
                Ok(AsyncMessage::Notification(_)) => {
                    let _ = tx.try_send(());
                }
                Ok(_) => {}
                Err(e) => {
                    tracing::warn!(error = %e, "lost the connection listening for commits");
                    break;
                }
            }
        }
    });
    client
        .batch_execute(&format!("LISTEN {COMMIT_CHANNEL}"))
        .await
        .map_err(pg)?;
    Ok(Listener {
        _client: client,
        wakeups,
    })
}
