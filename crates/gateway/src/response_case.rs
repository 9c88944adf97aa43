//! Response header names as API Gateway spells them on HTTP/1.1. hyper keeps names lower
//! case, but AWS passes a backend's or a Lambda function's names as they were sent
//! (`X-CuStOm-Header` stays) and spells its own as it always does (`x-amzn-RequestId`,
//! recorded). A response carries the names spelled otherwise than lower case in a
//! [`ResponseSpellings`] extension; the listener rewrites the letters of the head hyper
//! wrote ([`respell_head`]): same bytes ignoring case, so the framing never changes.
//! HTTP/2 names are lower case by definition and are left alone.

use std::sync::Arc;

/// What API Gateway prefixes a header it will not pass (`x-amzn-Remapped-Server`, recorded).
const REMAPPED: &str = "x-amzn-Remapped-";

/// The names hyper writes are lower case, so they are compared byte for byte with lower-case
/// forms (one `memcmp`) rather than ignoring case: this runs for every header line of every
/// HTTP/1 response.
const REMAPPED_LOWER: &[u8] = b"x-amzn-remapped-";

/// How API Gateway spells a name it adds or rewrites (recorded responses), and whether only
/// the gateway sets it (an integration's own go out remapped) or only when the integration
/// did not (its own keeps the integration's spelling). `lower`: the name, lower case.
fn aws_name(lower: &[u8]) -> Option<(&'static str, Owner)> {
    use Owner::{Default, Gateway};
    Some(match lower {
        b"date" => ("Date", Gateway),
        b"connection" => ("Connection", Gateway),
        b"content-length" => ("Content-Length", Gateway),
        b"x-amz-apigw-id" => ("x-amz-apigw-id", Gateway),
        b"x-amzn-requestid" => ("x-amzn-RequestId", Gateway),
        b"content-type" => ("Content-Type", Default),
        b"x-amzn-trace-id" => ("X-Amzn-Trace-Id", Default),
        b"x-amzn-errortype" => ("x-amzn-ErrorType", Default),
        _ => return None,
    })
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum Owner {
    Gateway,
    Default,
}

/// Response header names as an integration spelled them, where lower case or AWS's own
/// spelling would differ: a response extension, read by the listener. Each is kept with its
/// lower-case form, to be found by plain comparison. Shared, so a deployment's mapped names
/// are attached to each response without copying them.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ResponseSpellings(Arc<[Kept]>);

/// A name's lower-case form and its spelling.
type Kept = (Box<[u8]>, Box<str>);

impl ResponseSpellings {
    /// The spellings of `names` that writing them lower case (or as AWS spells its own
    /// names) would lose; `None` when there are none, so an all-lower-case answer costs no
    /// allocation.
    pub fn of<'n>(names: impl IntoIterator<Item = &'n str>) -> Option<ResponseSpellings> {
        let mut kept: Vec<Kept> = Vec::new();
        for name in names {
            if !needs_keeping(name) {
                continue;
            }
            let lower = name.to_ascii_lowercase().into_bytes();
            if !kept.iter().any(|(l, _)| **l == *lower) {
                kept.push((lower.into_boxed_slice(), name.into()));
            }
        }
        (!kept.is_empty()).then(|| ResponseSpellings(kept.into()))
    }

    /// Adds these spellings to a response (nothing when there are none).
    pub fn attach<B>(spellings: Option<ResponseSpellings>, resp: &mut http::Response<B>) {
        if let Some(s) = spellings {
            resp.extensions_mut().insert(s);
        }
    }

    /// The names as spelled (to keep them elsewhere; [`Self::of`] takes them back).
    pub fn names(&self) -> impl Iterator<Item = &str> {
        self.0.iter().map(|(_, spelled)| &**spelled)
    }

    /// The spelling of `lower` (a lower-case name).
    fn get(&self, lower: &[u8]) -> Option<&[u8]> {
        for (l, spelled) in self.0.iter() {
            if **l == *lower {
                return Some(spelled.as_bytes());
            }
        }
        None
    }
}

/// Whether `name` would go out spelled otherwise if not kept: it has capitals, or it is a
/// name AWS would otherwise spell its own way (a function's lower-case `content-type`).
/// Other lower-case names need nothing: hyper writes them so.
fn needs_keeping(name: &str) -> bool {
    name.bytes().any(|b| b.is_ascii_uppercase())
        || aws_name(name.as_bytes()).is_some_and(|(_, owner)| owner == Owner::Default)
}

/// The spelling of `name` (lower case, as hyper wrote it). A name an integration's header
/// is remapped under (`remapped`) keeps the integration's spelling, or stays as it is; any
/// other takes AWS's when only the gateway sets it, else the integration's, else AWS's
/// default, else stays as it is.
fn spelling<'a>(
    spellings: Option<&'a ResponseSpellings>,
    name: &[u8],
    remapped: bool,
) -> Option<&'a [u8]> {
    let integration = || spellings.and_then(|s| s.get(name));
    if remapped {
        return integration();
    }
    match aws_name(name) {
        Some((aws, Owner::Gateway)) => Some(aws.as_bytes()),
        Some((aws, Owner::Default)) => integration().or(Some(aws.as_bytes())),
        None => integration(),
    }
}

/// Rewrites the header names of an HTTP/1 response head as hyper writes it (names lower
/// case; `head`: the status line and
/// header lines, and maybe what follows the head, left alone) to their spellings. Answers
/// whether any byte changed, and where the head ends (after its empty line; `None` when
/// `head` holds no whole head: its whole lines are respelled).
pub fn respell_head(
    head: &mut [u8],
    spellings: Option<&ResponseSpellings>,
) -> (bool, Option<usize>) {
    let mut changed = false;
    // Skip the status line.
    let Some(mut at) = memchr::memchr(b'\n', head).map(|i| i + 1) else {
        return (false, None);
    };
    loop {
        let line = &head[at..];
        if line.starts_with(b"\r\n") {
            return (changed, Some(at + 2));
        }
        let Some(colon) = memchr::memchr2(b':', b'\n', line) else {
            return (changed, None);
        };
        if line[colon] == b'\n' {
            // Not a header line (a bare `\n` ending the head, or a malformed one).
            return (changed, (colon == 0).then_some(at + 1));
        }
        let Some(end) = memchr::memchr(b'\n', &line[colon..]) else {
            return (changed, None);
        };
        changed |= respell_name(&mut head[at..at + colon], spellings);
        at += colon + end + 1;
    }
}

/// Respells one name in place; `x-amzn-Remapped-{name}` keeps the remapped name's spelling.
pub(crate) fn respell_name(name: &mut [u8], spellings: Option<&ResponseSpellings>) -> bool {
    let mut changed = false;
    let mut rest = name;
    let remapped = rest.len() > REMAPPED.len() && rest.starts_with(REMAPPED_LOWER);
    if remapped {
        // The whole remapped name, if the integration spelled it so, else the prefix.
        if let Some(s) = spellings.and_then(|s| s.get(rest)) {
            return copy(rest, s);
        }
        let (prefix, tail) = rest.split_at_mut(REMAPPED.len());
        changed |= copy(prefix, REMAPPED.as_bytes());
        rest = tail;
    }
    match spelling(spellings, rest, remapped) {
        Some(s) => changed | copy(rest, s),
        None => changed,
    }
}

fn copy(to: &mut [u8], from: &[u8]) -> bool {
    if to == from || to.len() != from.len() {
        return false;
    }
    to.copy_from_slice(from);
    true
}

#[cfg(test)]
mod tests {
    use super::*;

    fn respelled(head: &str, names: &[&str]) -> String {
        let s = ResponseSpellings::of(names.iter().copied());
        let mut bytes = head.as_bytes().to_vec();
        let (_, end) = respell_head(&mut bytes, s.as_ref());
        assert_eq!(end, head.find("\r\n\r\n").map(|i| i + 4), "{head}");
        String::from_utf8(bytes).unwrap()
    }

    #[test]
    fn lower_case_names_need_nothing_kept() {
        assert_eq!(ResponseSpellings::of(["x-custom", "etag", "vary"]), None);
        // A backend's own lower-case date is remapped as it is: nothing to keep.
        assert_eq!(ResponseSpellings::of(["date", "content-length"]), None);
        let s = ResponseSpellings::of(["X-CuStOm-Header", "content-type", "x-custom"]).unwrap();
        assert_eq!(s.0.len(), 2, "{s:?}");
    }

    #[test]
    fn names_take_the_integrations_then_aws_spelling() {
        let head = "HTTP/1.1 200 OK\r\nx-custom-header: 1\r\ncontent-type: a/b\r\n\
                    x-amzn-requestid: r\r\nx-amzn-remapped-server: s\r\n\
                    x-amzn-remapped-date: d\r\nvary: x\r\ncontent-length: 0\r\n\r\n";
        assert_eq!(
            respelled(head, &["X-CuStOm-Header", "Server", "x-amzn-requestid"]),
            "HTTP/1.1 200 OK\r\nX-CuStOm-Header: 1\r\nContent-Type: a/b\r\n\
             x-amzn-RequestId: r\r\nx-amzn-Remapped-Server: s\r\n\
             x-amzn-Remapped-date: d\r\nvary: x\r\nContent-Length: 0\r\n\r\n",
            "the gateway's own x-amzn-RequestId is AWS's whatever the backend's was"
        );
        assert!(respelled(head, &["Date"]).contains("\r\nx-amzn-Remapped-Date: d"));
        // A function's own lower-case content-type stays lower case.
        assert!(respelled(head, &["content-type"]).contains("\r\ncontent-type: a/b"));
    }

    #[test]
    fn a_head_cut_short_is_respelled_up_to_its_last_whole_line() {
        let mut bytes = b"HTTP/1.1 200 OK\r\ndate: x\r\nx-amzn-reque".to_vec();
        assert_eq!(respell_head(&mut bytes, None), (true, None));
        assert_eq!(bytes, b"HTTP/1.1 200 OK\r\nDate: x\r\nx-amzn-reque");
        let mut plain = b"HTTP/1.1 204 No Content\r\nvary: a\r\n\r\nbody: x\r\n".to_vec();
        assert_eq!(respell_head(&mut plain, None), (false, Some(36)));
    }
}
