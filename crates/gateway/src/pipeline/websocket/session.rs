//! One established connection: the socket taken over from hyper after the 101, read and
//! written by one task. Client messages go to [`super::message`] (a bounded number at
//! once, each in its own task, so a slow integration never stops pings or pushes);
//! `@connections` pushes and closes arrive on the connection's queue; the idle timeout and
//! the maximum duration close it with 1001. When it ends, for whatever reason,
//! `$disconnect` runs with the close code and reason, then it leaves the registry.

use std::sync::Arc;
use std::time::Duration;

use bytes::Bytes;
use futures_util::{SinkExt, StreamExt};
use hyper::upgrade::OnUpgrade;
use hyper_util::rt::TokioIo;
use tokio::sync::mpsc;
use tokio::task::JoinSet;
use tokio_tungstenite::tungstenite::protocol::frame::coding::{CloseCode, Data, OpCode};
use tokio_tungstenite::tungstenite::protocol::frame::Frame;
use tokio_tungstenite::tungstenite::protocol::{CloseFrame, Role, WebSocketConfig};
use tokio_tungstenite::tungstenite::{Error as WsError, Message};
use tokio_tungstenite::WebSocketStream;

use super::event::{Event, EventKind, Shared};
use super::integrate::{self, Call};
use super::message;
use crate::connections::WebSocketSettings as Settings;
use crate::connections::{ConnectionRegistry, Outbound};

/// Frame and message limits (websocket.md §5): larger ones close the connection with 1009.
pub const MAX_FRAME: usize = 32 * 1024;
pub const MAX_MESSAGE: usize = 128 * 1024;
/// Client messages whose integrations may run at once on one connection; beyond it, the
/// socket is not read until one finishes.
const MAX_IN_FLIGHT: usize = 16;

/// How the connection ended, as `$disconnect` reports it.
struct Closed {
    code: u16,
    reason: String,
}

impl Closed {
    fn new(code: u16, reason: &str) -> Closed {
        Closed {
            code,
            reason: reason.to_string(),
        }
    }
}

/// Small buffers, so an idle connection holds little memory (tungstenite's default read
/// buffer is 128 KiB per connection, zero-filled before each read; 1 KiB here, so a large
/// message takes one read per KiB, the price of idle sockets being cheap: bench/ws_idle.sh
/// measures the process holding 10,000 of them); a client that does not read its
/// pushes is cut off once a few messages wait in its write buffer.
fn config() -> WebSocketConfig {
    WebSocketConfig::default()
        .max_frame_size(Some(MAX_FRAME))
        .max_message_size(Some(MAX_MESSAGE))
        .read_buffer_size(1024)
        .write_buffer_size(0)
        .max_write_buffer_size(4 * MAX_MESSAGE)
}

/// Runs the connection until it closes, then forgets it and runs `$disconnect`.
pub async fn run(
    shared: Arc<Shared>,
    upgrade: OnUpgrade,
    outbound: mpsc::Receiver<Outbound>,
    registry: Arc<dyn ConnectionRegistry>,
    settings: Settings,
) {
    let closed = match upgrade.await {
        Ok(io) => {
            let ws =
                WebSocketStream::from_raw_socket(TokioIo::new(io), Role::Server, Some(config()))
                    .await;
            serve(&shared, ws, outbound, settings).await
        }
        Err(e) => {
            tracing::debug!(connection = %shared.info.connection_id, error = %e, "WebSocket upgrade failed");
            Closed::new(1006, "")
        }
    };
    // The socket is closed (its queue gone, so `@connections` answers 410); the id is
    // forgotten once `$disconnect` ran, so a shutdown waiting for the registry to empty
    // waits for the `$disconnect`s too.
    disconnect(&shared, closed).await;
    registry.remove(&shared.info.connection_id);
}

/// `$disconnect`: best effort, its answer ignored.
async fn disconnect(shared: &Shared, closed: Closed) {
    let Some(route) = shared.stage.deployment.disconnect.as_ref() else {
        return;
    };
    let Some(integration) = route.integration.as_ref() else {
        return;
    };
    let request_id = tollgate_model::ids::extended_request_id();
    let event = Event {
        conn: &shared.info,
        route_key: &route.key,
        request_id: &request_id,
        time_ms: tollgate_model::time::now_epoch_millis(),
        kind: EventKind::Disconnect {
            status_code: closed.code,
            reason: &closed.reason,
        },
    };
    let call = Call {
        event: &event,
        body: &[],
        json: None,
        stage_variables: &shared.stage.variables,
        functions: shared.functions.as_ref(),
        aws: &shared.aws,
    };
    match integrate::run(&call, integration).await {
        Ok(reply) => shared.log(&event, reply.status, None),
        Err(f) => {
            tracing::info!(api = %shared.info.api_id, connection = %shared.info.connection_id, failure = f.message(), "$disconnect integration failed");
            shared.log(&event, f.status(), Some(f.message()));
        }
    }
}

type Socket = WebSocketStream<TokioIo<hyper::upgrade::Upgraded>>;

async fn serve(
    shared: &Arc<Shared>,
    mut ws: Socket,
    mut outbound: mpsc::Receiver<Outbound>,
    settings: Settings,
) -> Closed {
    let expiry = tokio::time::sleep(settings.max_duration);
    let idle = tokio::time::sleep(settings.idle_timeout);
    tokio::pin!(idle, expiry);
    let mut in_flight: JoinSet<()> = JoinSet::new();
    loop {
        tokio::select! {
            frame = ws.next(), if in_flight.len() < MAX_IN_FLIGHT => {
                idle.as_mut().reset(tokio::time::Instant::now() + settings.idle_timeout);
                shared.conn.touch();
                match frame {
                    Some(Ok(Message::Text(t))) => {
                        in_flight.spawn(message::handle(shared.clone(), Bytes::from(t), false));
                    }
                    Some(Ok(Message::Binary(b))) => {
                        in_flight.spawn(message::handle(shared.clone(), b, true));
                    }
                    // tungstenite queues the pong; send it now.
                    Some(Ok(Message::Ping(_))) => {
                        let _ = ws.flush().await;
                    }
                    Some(Ok(Message::Pong(_) | Message::Frame(_))) => {}
                    Some(Ok(Message::Close(frame))) => {
                        // tungstenite answered the close; flush it, then stop.
                        let _ = ws.flush().await;
                        return match frame {
                            Some(f) => Closed::new(f.code.into(), &f.reason),
                            None => Closed::new(1005, "Client-side close frame status not set"),
                        };
                    }
                    Some(Err(WsError::Capacity(_))) => {
                        close(&mut ws, 1009, "Message too big").await;
                        return Closed::new(1009, "Message too big");
                    }
                    Some(Err(WsError::Protocol(_))) => {
                        close(&mut ws, 1002, "Protocol error").await;
                        return Closed::new(1002, "Protocol error");
                    }
                    Some(Err(_)) | None => return Closed::new(1006, ""),
                }
            }
            cmd = outbound.recv() => match cmd {
                Some(Outbound::Message { data, text }) => {
                    idle.as_mut().reset(tokio::time::Instant::now() + settings.idle_timeout);
                    if send(&mut ws, data, text).await.is_err() {
                        return Closed::new(1006, "");
                    }
                }
                Some(Outbound::Close { code, reason }) => {
                    close(&mut ws, code, reason).await;
                    return Closed::new(code, reason);
                }
                // Every handle is gone: nothing can reach this socket any more.
                None => {
                    close(&mut ws, 1001, "Going away").await;
                    return Closed::new(1001, "Going away");
                }
            },
            Some(_) = in_flight.join_next(), if !in_flight.is_empty() => {}
            _ = &mut idle => {
                close(&mut ws, 1001, "Going away").await;
                return Closed::new(1001, "Going away");
            }
            _ = &mut expiry => {
                close(&mut ws, 1001, "Going away").await;
                return Closed::new(1001, "Going away");
            }
        }
    }
}

/// Sends one message, in frames of at most 32 KB (continuation frames beyond).
async fn send(ws: &mut Socket, data: Bytes, text: bool) -> Result<(), WsError> {
    if data.len() <= MAX_FRAME {
        let m = if text {
            match String::from_utf8(data.to_vec()) {
                Ok(s) => Message::text(s),
                Err(_) => Message::Binary(data),
            }
        } else {
            Message::Binary(data)
        };
        return ws.send(m).await;
    }
    let first = if text { Data::Text } else { Data::Binary };
    let chunks: Vec<Bytes> = (0..data.len())
        .step_by(MAX_FRAME)
        .map(|i| data.slice(i..(i + MAX_FRAME).min(data.len())))
        .collect();
    let last = chunks.len() - 1;
    for (i, chunk) in chunks.into_iter().enumerate() {
        let opcode = if i == 0 {
            OpCode::Data(first)
        } else {
            OpCode::Data(Data::Continue)
        };
        ws.feed(Message::Frame(Frame::message(chunk, opcode, i == last)))
            .await?;
    }
    ws.flush().await
}

async fn close(ws: &mut Socket, code: u16, reason: &str) {
    let frame = CloseFrame {
        code: CloseCode::from(code),
        reason: reason.to_string().into(),
    };
    let closing = async {
        let _ = ws.send(Message::Close(Some(frame))).await;
        // Wait briefly for the client's answering close, as the protocol asks.
        while let Some(Ok(m)) = ws.next().await {
            if m.is_close() {
                break;
            }
        }
    };
    let _ = tokio::time::timeout(Duration::from_secs(1), closing).await;
}
