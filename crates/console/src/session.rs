//! Browser sessions, shared by the console and the developer portal: a random token in an
//! HttpOnly, SameSite=Strict cookie names what a login proved (`T`), kept in memory only
//! (a restart signs everyone out) and never sent back to the browser, with a CSRF token
//! per session.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use http::Request;

/// The console's cookie.
pub const CONSOLE: Cookie = Cookie {
    name: "tollgate_console",
    path: "/_tollgate",
};
/// How long a console session lasts from its login.
pub const LIFETIME: Duration = Duration::from_secs(12 * 3600);
/// Sessions kept at once; a login beyond drops the oldest.
const CAPACITY: usize = 256;

/// The console's session: the credentials a login proved.
pub type Session = Signed<Credentials>;

pub struct Credentials {
    pub access_key_id: String,
    pub secret: String,
}

/// One session: who signed in, and the CSRF token its pages must send back.
pub struct Signed<T> {
    pub who: T,
    pub csrf: String,
    expires: Instant,
}

pub struct Sessions<T> {
    by_token: Mutex<HashMap<String, Arc<Signed<T>>>>,
    lifetime: Duration,
    capacity: usize,
}

impl<T> Sessions<T> {
    /// Sessions lasting `lifetime`, at most `capacity` at once.
    pub fn new(lifetime: Duration, capacity: usize) -> Self {
        Sessions {
            by_token: Mutex::new(HashMap::new()),
            lifetime,
            capacity,
        }
    }

    pub fn lifetime(&self) -> Duration {
        self.lifetime
    }

    /// A new session for `who`; its token.
    pub fn open(&self, who: T) -> String {
        let token = random_token();
        let now = Instant::now();
        let session = Arc::new(Signed {
            who,
            csrf: random_token(),
            expires: now + self.lifetime,
        });
        let mut map = self.by_token.lock().unwrap_or_else(|p| p.into_inner());
        map.retain(|_, s| s.expires > now);
        if map.len() >= self.capacity {
            if let Some(oldest) = map
                .iter()
                .min_by_key(|(_, s)| s.expires)
                .map(|(t, _)| t.clone())
            {
                map.remove(&oldest);
            }
        }
        map.insert(token.clone(), session);
        token
    }

    /// The live session `token` names.
    pub fn get(&self, token: &str) -> Option<Arc<Signed<T>>> {
        let map = self.by_token.lock().unwrap_or_else(|p| p.into_inner());
        map.get(token)
            .filter(|s| s.expires > Instant::now())
            .cloned()
    }

    pub fn close(&self, token: &str) {
        let mut map = self.by_token.lock().unwrap_or_else(|p| p.into_inner());
        map.remove(token);
    }
}

impl Default for Sessions<Credentials> {
    fn default() -> Self {
        Sessions::new(LIFETIME, CAPACITY)
    }
}

/// 256 random bits from the thread's CSPRNG, as hex.
pub fn random_token() -> String {
    hex::encode(rand::random::<[u8; 32]>())
}

/// A session cookie's name and the path it is sent to.
#[derive(Clone, Copy)]
pub struct Cookie {
    pub name: &'static str,
    pub path: &'static str,
}

impl Cookie {
    /// The session token the request's cookie carries.
    pub fn read<B>(&self, req: &Request<B>) -> Option<String> {
        req.headers()
            .get_all(http::header::COOKIE)
            .iter()
            .filter_map(|v| v.to_str().ok())
            .flat_map(|v| v.split(';'))
            .filter_map(|pair| pair.trim().split_once('='))
            .find(|(name, _)| *name == self.name)
            .map(|(_, value)| value.to_string())
            .filter(|v| v.len() == 64 && v.bytes().all(|b| b.is_ascii_hexdigit()))
    }

    /// The `Set-Cookie` value that installs `token` for `lifetime` (or, with `None`,
    /// removes the cookie).
    pub fn set(&self, token: Option<&str>, lifetime: Duration, secure: bool) -> String {
        let secure = if secure { "; Secure" } else { "" };
        let (value, age) = match token {
            Some(t) => (t, lifetime.as_secs()),
            None => ("", 0),
        };
        format!(
            "{}={value}; Path={}; HttpOnly; SameSite=Strict; Max-Age={age}{secure}",
            self.name, self.path
        )
    }
}

/// Whether `sent` is `expected`, in constant time.
pub fn same_token(sent: &str, expected: &str) -> bool {
    use subtle::ConstantTimeEq;
    !sent.is_empty() && bool::from(sent.as_bytes().ct_eq(expected.as_bytes()))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn creds() -> Credentials {
        Credentials {
            access_key_id: "AKID".into(),
            secret: "secret".into(),
        }
    }

    #[test]
    fn a_session_is_found_by_its_token_only_until_closed() {
        let s = Sessions::default();
        let t = s.open(creds());
        assert_eq!(t.len(), 64);
        assert_eq!(s.get(&t).unwrap().who.access_key_id, "AKID");
        assert!(s.get(&random_token()).is_none());
        s.close(&t);
        assert!(s.get(&t).is_none());
    }

    #[test]
    fn a_session_ends_with_its_lifetime() {
        let s = Sessions::new(Duration::ZERO, 4);
        let t = s.open(creds());
        assert!(s.get(&t).is_none());
    }

    #[test]
    fn the_cookie_is_read_among_others() {
        let t = random_token();
        let req = Request::builder()
            .header("cookie", format!("a=b; tollgate_console={t}; c=d"))
            .body(())
            .unwrap();
        assert_eq!(CONSOLE.read(&req), Some(t));
        let bad = Request::builder()
            .header("cookie", "tollgate_console=../x")
            .body(())
            .unwrap();
        assert_eq!(CONSOLE.read(&bad), None);
    }
}
