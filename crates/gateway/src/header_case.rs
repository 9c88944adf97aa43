//! Header names as an HTTP/1 client spelled them. hyper keeps names lower case (its own
//! case map is private to it), but AWS shows REST proxy events' and REQUEST authorizers'
//! header names as received (`tEsT-HEADeR` stays). So each HTTP/1 connection keeps the
//! bytes of the request head it is reading ([`HeadCapture`], filled by the listener as it
//! reads; a copy of the head, bounded), and only a request that builds such an event parses
//! them again ([`RawHead::spellings`]); every other request pays the copy alone.

use std::sync::{Arc, Mutex};

use crate::error::MAX_HEAD;

/// Most bytes kept of one head: API Gateway's head limit, and some room for the request
/// line it does not count.
const MAX_CAPTURE: usize = MAX_HEAD + 2048;

/// Most headers parsed back (hyper's own default limit).
const MAX_HEADERS: usize = 100;

/// The bytes of the request head a connection is reading, or has last read.
#[derive(Default)]
pub struct HeadCapture {
    bytes: Mutex<Vec<u8>>,
}

impl HeadCapture {
    /// Records bytes read from the socket: the first of a new head (`new_head`), or more of
    /// the one being read.
    pub fn record(&self, new_head: bool, read: &[u8]) {
        let Ok(mut bytes) = self.bytes.lock() else {
            return;
        };
        if new_head {
            bytes.clear();
        }
        let room = MAX_CAPTURE.saturating_sub(bytes.len());
        bytes.extend_from_slice(&read[..read.len().min(room)]);
    }
}

/// A handle on the head of the request being served (HTTP/1 only).
#[derive(Clone)]
pub struct RawHead(pub Arc<HeadCapture>);

impl RawHead {
    /// The names as sent, by lower-case name (the first spelling of a repeated name), or
    /// `None` when the kept bytes are not this request's whole head (`method` and `path`
    /// must match its request line).
    pub fn spellings(&self, method: &str, path: &str) -> Option<Spellings> {
        let bytes = self.0.bytes.lock().ok()?;
        let mut headers = [httparse::EMPTY_HEADER; MAX_HEADERS];
        let mut req = httparse::Request::new(&mut headers);
        match req.parse(&bytes) {
            Ok(httparse::Status::Complete(_)) => {}
            _ => return None,
        }
        if req.method != Some(method) || req.path != Some(path) {
            return None;
        }
        let mut names: Vec<(String, String)> = Vec::with_capacity(req.headers.len());
        for h in req.headers.iter() {
            let lower = h.name.to_ascii_lowercase();
            if !names.iter().any(|(l, _)| *l == lower) {
                names.push((lower, h.name.to_string()));
            }
        }
        Some(Spellings(names))
    }
}

/// Header names as a client spelled them, by lower-case name.
pub struct Spellings(Vec<(String, String)>);

impl Spellings {
    /// How the client spelled `lower`, if it sent it.
    pub fn get(&self, lower: &str) -> Option<&str> {
        self.0
            .iter()
            .find(|(l, _)| l == lower)
            .map(|(_, s)| s.as_str())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn head(chunks: &[&[u8]]) -> RawHead {
        let capture = Arc::new(HeadCapture::default());
        for (i, c) in chunks.iter().enumerate() {
            capture.record(i == 0, c);
        }
        RawHead(capture)
    }

    #[test]
    fn names_keep_their_case_across_reads() {
        let h = head(&[
            b"GET /prod/x?a=1 HTTP/1.1\r\nHost: h\r\ntEsT-",
            b"HEADeR: aValUE\r\nuser-agent: u\r\nX-A: 1\r\nx-a: 2\r\n\r\n",
        ]);
        let s = h.spellings("GET", "/prod/x?a=1").expect("a whole head");
        assert_eq!(s.get("test-header"), Some("tEsT-HEADeR"));
        assert_eq!(s.get("user-agent"), Some("user-agent"));
        assert_eq!(s.get("x-a"), Some("X-A"));
        assert_eq!(s.get("accept"), None);
        // Another request's head, or half a head, says nothing.
        assert!(h.spellings("POST", "/prod/x?a=1").is_none());
        assert!(head(&[b"GET / HTTP/1.1\r\nHost: h\r\n"])
            .spellings("GET", "/")
            .is_none());
    }

    #[test]
    fn a_new_head_replaces_the_last_and_the_copy_is_bounded() {
        let h = head(&[b"GET /a HTTP/1.1\r\nA: 1\r\n\r\n"]);
        h.0.record(true, b"GET /b HTTP/1.1\r\nB: 1\r\n\r\n");
        assert!(h.spellings("GET", "/a").is_none());
        assert_eq!(h.spellings("GET", "/b").unwrap().get("b"), Some("B"));
        let huge = vec![b'a'; 3 * MAX_CAPTURE];
        h.0.record(true, &huge);
        h.0.record(false, &huge);
        assert_eq!(h.0.bytes.lock().unwrap().len(), MAX_CAPTURE);
    }
}
