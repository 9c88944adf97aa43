//! For tests: a key prefix of their own on a shared Redis server (every key under it
//! deleted when the guard is dropped, with SCAN and DEL, never FLUSHALL), and a private
//! `redis-server` a test may stop and start again. The shared server is
//! `TOLLGATE_TEST_REDIS`, by default the local one.

use std::net::TcpListener;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

const DEFAULT_SERVER: &str = "redis://127.0.0.1:6379";

/// The shared test server's URL.
pub fn server_url() -> String {
    std::env::var("TOLLGATE_TEST_REDIS").unwrap_or_else(|_| DEFAULT_SERVER.into())
}

/// Runs `f` on a runtime of its own, on a thread of its own (so it works from `Drop` and
/// from synchronous tests alike).
fn blocking<T: Send + 'static>(f: impl std::future::Future<Output = T> + Send + 'static) -> T {
    std::thread::spawn(move || {
        tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .expect("a runtime")
            .block_on(f)
    })
    .join()
    .expect("the Redis helper thread")
}

/// A key prefix that exists as long as this value.
pub struct TempPrefix {
    pub url: String,
    pub prefix: String,
}

impl TempPrefix {
    pub fn new() -> Self {
        let nanos = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map_or(0, |d| d.as_nanos());
        TempPrefix {
            url: server_url(),
            prefix: format!("tollgate-test-{}-{nanos:x}:", std::process::id()),
        }
    }

    /// How many keys exist under the prefix.
    pub fn key_count(&self) -> usize {
        self.keys_under("")
    }

    /// How many keys exist under the prefix followed by `namespace` (e.g. `cache:`).
    pub fn keys_under(&self, namespace: &str) -> usize {
        let (url, pattern) = (self.url.clone(), format!("{}{namespace}*", self.prefix));
        blocking(async move {
            let client = redis::Client::open(url).expect("the test Redis URL");
            let mut conn = client
                .get_multiplexed_async_connection()
                .await
                .expect("the test Redis server must be running");
            let keys: Vec<String> = redis::cmd("KEYS")
                .arg(pattern)
                .query_async(&mut conn)
                .await
                .expect("KEYS");
            keys.len()
        })
    }
}

impl Default for TempPrefix {
    fn default() -> Self {
        TempPrefix::new()
    }
}

impl Drop for TempPrefix {
    fn drop(&mut self) {
        let (url, prefix) = (self.url.clone(), self.prefix.clone());
        if let Err(e) = blocking(async move { crate::delete_prefix(&url, &prefix).await }) {
            eprintln!("could not delete the test keys under {}: {e}", self.prefix);
        }
    }
}

/// A `redis-server` of the test's own on a free loopback port, without persistence.
/// Stopped (and its keys gone) when dropped.
pub struct PrivateRedis {
    pub port: u16,
    child: Option<Child>,
}

impl PrivateRedis {
    pub fn start() -> Self {
        let port = TcpListener::bind("127.0.0.1:0")
            .and_then(|l| l.local_addr())
            .expect("a free port")
            .port();
        let mut redis = PrivateRedis { port, child: None };
        redis.resume();
        redis
    }

    pub fn url(&self) -> String {
        format!("redis://127.0.0.1:{}", self.port)
    }

    /// Starts the server again on the same port (after [`PrivateRedis::kill`]).
    pub fn resume(&mut self) {
        let child = Command::new("redis-server")
            .args(["--port", &self.port.to_string(), "--bind", "127.0.0.1"])
            .args(["--save", "", "--appendonly", "no"])
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("redis-server must be installed");
        self.child = Some(child);
        let start = Instant::now();
        while std::net::TcpStream::connect(("127.0.0.1", self.port)).is_err() {
            assert!(
                start.elapsed() < Duration::from_secs(10),
                "redis-server did not start on port {}",
                self.port
            );
            std::thread::sleep(Duration::from_millis(20));
        }
    }

    /// Kills the server (SIGKILL): it is gone, with its keys.
    pub fn kill(&mut self) {
        if let Some(mut child) = self.child.take() {
            let _ = child.kill();
            let _ = child.wait();
        }
    }
}

impl Drop for PrivateRedis {
    fn drop(&mut self) {
        self.kill();
    }
}
