//! The HTTP client "Try it" calls a deployed API with: a real request to the stage's
//! invoke URL (through the data plane's listener, so the key, its plan's throttle and
//! quota, and usage counting all apply), within a time limit and with the answer's body
//! cut to what a page shows.

use std::future::Future;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr};
use std::pin::Pin;
use std::sync::OnceLock;
use std::task::{Context, Poll};
use std::time::Duration;

use bytes::Bytes;
use http::Request;
use http_body_util::{BodyExt, Full};
use hyper_util::client::legacy::connect::dns::Name;
use hyper_util::client::legacy::connect::HttpConnector;
use hyper_util::client::legacy::Client;
use hyper_util::rt::TokioExecutor;

/// How long a call may take, answer included.
pub const TIMEOUT: Duration = Duration::from_secs(10);
/// The most of an answer's body a page shows.
pub const MAX_SHOWN: usize = 64 * 1024;

/// Resolves names as the system does, but `localhost` and its subdomains (the invoke URL
/// of a loopback listener is `{apiId}.execute-api.localhost`) to the loopback addresses,
/// as RFC 6761 asks: many resolvers know only `localhost` itself.
#[derive(Clone)]
pub struct Resolver;

type Addrs = std::vec::IntoIter<SocketAddr>;

impl tower::Service<Name> for Resolver {
    type Response = Addrs;
    type Error = std::io::Error;
    type Future = Pin<Box<dyn Future<Output = std::io::Result<Addrs>> + Send>>;

    fn poll_ready(&mut self, _: &mut Context<'_>) -> Poll<std::io::Result<()>> {
        Poll::Ready(Ok(()))
    }

    fn call(&mut self, name: Name) -> Self::Future {
        let host = name.as_str().trim_end_matches('.').to_ascii_lowercase();
        Box::pin(async move {
            if host == "localhost" || host.ends_with(".localhost") {
                let loopback = [
                    IpAddr::V4(Ipv4Addr::LOCALHOST),
                    IpAddr::V6(Ipv6Addr::LOCALHOST),
                ];
                return Ok(loopback
                    .map(|ip| SocketAddr::new(ip, 0))
                    .to_vec()
                    .into_iter());
            }
            let found: Vec<SocketAddr> =
                tokio::net::lookup_host((host.as_str(), 0)).await?.collect();
            Ok(found.into_iter())
        })
    }
}

type Connector = hyper_rustls::HttpsConnector<HttpConnector<Resolver>>;

/// The answer, as far as it is shown.
pub struct Exchange {
    pub status: u16,
    pub headers: Vec<(String, String)>,
    pub body: Vec<u8>,
    /// Whether the body went on past [`MAX_SHOWN`].
    pub truncated: bool,
}

/// Built on first use: a portal nobody tries from loads no root certificates.
#[derive(Default)]
pub struct Invoker {
    client: OnceLock<Client<Connector, Full<Bytes>>>,
}

fn client() -> Client<Connector, Full<Bytes>> {
    let mut tcp = HttpConnector::new_with_resolver(Resolver);
    tcp.set_connect_timeout(Some(TIMEOUT));
    tcp.enforce_http(false);
    let builder = match hyper_rustls::HttpsConnectorBuilder::new().with_native_roots() {
        Ok(b) => b,
        Err(e) => {
            // Still call http:// endpoints; https:// ones fail verification, with a reason.
            tracing::warn!(error = %e, "no system root certificates found");
            let config = rustls::ClientConfig::builder()
                .with_root_certificates(rustls::RootCertStore::empty())
                .with_no_client_auth();
            hyper_rustls::HttpsConnectorBuilder::new().with_tls_config(config)
        }
    };
    let connector = builder.https_or_http().enable_http1().wrap_connector(tcp);
    Client::builder(TokioExecutor::new())
        .pool_max_idle_per_host(4)
        .build(connector)
}

/// The error and what caused it, in words.
fn describe(e: &(dyn std::error::Error + 'static)) -> String {
    let mut out = e.to_string();
    let mut src = e.source();
    while let Some(s) = src {
        out.push_str(": ");
        out.push_str(&s.to_string());
        src = s.source();
    }
    out
}

impl Invoker {
    /// Sends `req`: the answer, or why there is none.
    pub async fn send(&self, req: Request<Full<Bytes>>) -> Result<Exchange, String> {
        let client = self.client.get_or_init(client).clone();
        let exchange = async move {
            let answer = client
                .request(req)
                .await
                .map_err(|e| format!("The request failed: {}", describe(&e)))?;
            let status = answer.status().as_u16();
            let headers = answer
                .headers()
                .iter()
                .map(|(k, v)| {
                    let v = String::from_utf8_lossy(v.as_bytes()).into_owned();
                    (k.as_str().to_string(), v)
                })
                .collect();
            let mut body = answer.into_body();
            let mut shown = Vec::new();
            let mut truncated = false;
            while let Some(frame) = body.frame().await {
                let frame = frame.map_err(|e| format!("Reading the answer failed: {e}"))?;
                let Ok(data) = frame.into_data() else {
                    continue;
                };
                let room = MAX_SHOWN - shown.len();
                if data.len() > room {
                    shown.extend_from_slice(&data[..room]);
                    truncated = true;
                    break;
                }
                shown.extend_from_slice(&data);
            }
            Ok(Exchange {
                status,
                headers,
                body: shown,
                truncated,
            })
        };
        match tokio::time::timeout(TIMEOUT, exchange).await {
            Ok(result) => result,
            Err(_) => Err(format!("No answer within {} seconds.", TIMEOUT.as_secs())),
        }
    }
}

#[cfg(test)]
mod tests {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    use tower::Service;

    use super::*;

    fn get(port: u16) -> Request<Full<Bytes>> {
        let uri = format!("http://api.execute-api.localhost:{port}/prod/");
        Request::get(uri).body(Full::new(Bytes::new())).unwrap()
    }

    #[tokio::test]
    async fn a_long_body_is_cut_to_what_is_shown() {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let port = listener.local_addr().unwrap().port();
        tokio::spawn(async move {
            let (mut socket, _) = listener.accept().await.unwrap();
            let mut head = [0u8; 4096];
            let _ = socket.read(&mut head).await;
            let body = vec![b'x'; 3 * MAX_SHOWN];
            let answer = format!(
                "HTTP/1.1 201 Created\r\nx-seen: yes\r\ncontent-length: {}\r\n\r\n",
                body.len()
            );
            let _ = socket.write_all(answer.as_bytes()).await;
            let _ = socket.write_all(&body).await;
        });
        let x = Invoker::default().send(get(port)).await.unwrap();
        assert_eq!(x.status, 201);
        assert!(x
            .headers
            .contains(&("x-seen".to_string(), "yes".to_string())));
        assert_eq!(x.body.len(), MAX_SHOWN);
        assert!(x.truncated);
    }

    #[tokio::test]
    async fn nothing_listening_is_said_in_words() {
        let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        let port = listener.local_addr().unwrap().port();
        drop(listener);
        let e = Invoker::default().send(get(port)).await.err().unwrap();
        assert!(e.starts_with("The request failed: "), "{e}");
    }

    #[tokio::test]
    async fn localhost_subdomains_are_loopback() {
        let name: super::Name = "abc.execute-api.localhost".parse().unwrap();
        let addrs: Vec<_> = super::Resolver.call(name).await.unwrap().collect();
        assert!(addrs.iter().all(|a| a.ip().is_loopback()) && !addrs.is_empty());
    }
}
