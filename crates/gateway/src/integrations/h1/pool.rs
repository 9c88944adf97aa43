//! Keep-alive connections to plain-HTTP backends, kept per worker thread: each runtime is
//! single-threaded, so a connection is only ever used by the thread whose reactor it is
//! registered with, and the idle lists need no lock.

use std::cell::RefCell;
use std::collections::{HashMap, VecDeque};
use std::future::Future;
use std::pin::pin;
use std::task::{Context, Poll, Waker};
use std::time::{Duration, Instant};

use bytes::BytesMut;
use tokio::io::Interest;
use tokio::net::TcpStream;

use super::response;

/// Idle connections kept per backend address (hyper-util's pool kept as many).
const MAX_IDLE_PER_BACKEND: usize = 256;

/// An idle connection older than this is closed rather than reused.
const IDLE_TIMEOUT: Duration = Duration::from_secs(60);

/// How long a new connection may take.
const CONNECT_TIMEOUT: Duration = Duration::from_secs(10);

/// One backend connection and its buffers, reused by every request it carries.
pub(super) struct Conn {
    pub stream: TcpStream,
    /// Bytes read from the backend not yet consumed.
    pub read: BytesMut,
    /// The request head being written.
    pub write: Vec<u8>,
    /// The backend address (`host:port` as the URI has it): the idle list it returns to.
    key: Box<str>,
    /// It carried a request before: a failure with no answer may be the backend having
    /// closed it meanwhile.
    pub reused: bool,
    /// The header names of the last response and their spellings: a backend sends the
    /// same names answer after answer, so they are worked out once.
    pub names: response::Names,
}

struct Idle {
    conn: Conn,
    since: Instant,
}

/// A connection's read buffer above this is not kept while it idles.
const MAX_IDLE_BUFFER: usize = 64 * 1024;

/// The idle lists of one thread.
struct Lists {
    by_backend: HashMap<Box<str>, VecDeque<Idle>, foldhash::fast::FixedState>,
    /// When every list was last cleared of expired connections (backends no longer
    /// called would otherwise keep theirs open).
    swept: Instant,
}

thread_local! {
    static IDLE: RefCell<Lists> = RefCell::new(Lists {
        by_backend: HashMap::with_hasher(Default::default()),
        swept: Instant::now(),
    });
}

/// Drops the connections of `list` idle since before `now - IDLE_TIMEOUT` (the oldest
/// are at the front).
fn expire(list: &mut VecDeque<Idle>, now: Instant) {
    while list
        .front()
        .is_some_and(|i| now.duration_since(i.since) >= IDLE_TIMEOUT)
    {
        list.pop_front();
    }
}

impl Conn {
    /// A new connection to `key` (`host:port`, the URI's authority) at `host` and `port`.
    pub async fn connect(key: &str, host: &str, port: u16) -> std::io::Result<Conn> {
        // An IPv6 literal is bracketed in a URI, not in an address.
        let host = host
            .strip_prefix('[')
            .and_then(|h| h.strip_suffix(']'))
            .unwrap_or(host);
        let stream = tokio::time::timeout(CONNECT_TIMEOUT, TcpStream::connect((host, port)))
            .await
            .map_err(|_| std::io::Error::from(std::io::ErrorKind::TimedOut))??;
        stream.set_nodelay(true)?;
        Ok(Conn {
            stream,
            read: BytesMut::new(),
            write: Vec::with_capacity(1024),
            key: key.into(),
            reused: false,
            names: response::Names::default(),
        })
    }

    /// Whether the backend has not closed this idle connection, as far as the reactor
    /// has seen (no system call: a hang-up it has reported is remembered).
    fn open(&self) -> bool {
        let mut cx = Context::from_waker(Waker::noop());
        match pin!(self.stream.ready(Interest::READABLE)).poll(&mut cx) {
            Poll::Ready(Ok(ready)) => !(ready.is_read_closed() || ready.is_error()),
            Poll::Ready(Err(_)) => false,
            Poll::Pending => true,
        }
    }
}

/// An idle connection to `key`, the most recently used first.
pub(super) fn checkout(key: &str) -> Option<Conn> {
    IDLE.try_with(|idle| {
        let mut idle = idle.borrow_mut();
        let list = idle.by_backend.get_mut(key)?;
        while let Some(Idle { mut conn, since }) = list.pop_back() {
            if since.elapsed() < IDLE_TIMEOUT && conn.open() {
                conn.reused = true;
                return Some(conn);
            }
        }
        None
    })
    .ok()
    .flatten()
}

/// Keeps `conn` for the next request to its backend (a response was read whole).
pub(super) fn checkin(mut conn: Conn) {
    if conn.read.capacity() > MAX_IDLE_BUFFER {
        conn.read = BytesMut::new();
    }
    let _ = IDLE.try_with(|idle| {
        let idle = &mut *idle.borrow_mut();
        let now = Instant::now();
        if now.duration_since(idle.swept) >= IDLE_TIMEOUT {
            idle.swept = now;
            idle.by_backend.retain(|_, list| {
                expire(list, now);
                !list.is_empty()
            });
        }
        let lists = &mut idle.by_backend;
        let list = match lists.get_mut(&*conn.key) {
            Some(list) => list,
            None => lists.entry(conn.key.clone()).or_default(),
        };
        expire(list, now);
        if list.len() >= MAX_IDLE_PER_BACKEND {
            list.pop_front();
        }
        list.push_back(Idle { conn, since: now });
    });
}
