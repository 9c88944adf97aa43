//! Phase 0: is this request for a deployed API, and which one?
//!
//! `{apiId}.execute-api.{anything}` hosts, and the path form `/_aws/execute-api/{apiId}/...`
//! for clients that cannot set a Host header. Everything else is the control plane.

/// A data-plane request: the API id and where `/{stage}/...` starts in the URI path.
#[derive(Debug, PartialEq)]
pub struct Target<'a> {
    pub api_id: String,
    pub stage_path: &'a str,
    pub domain_name: &'a str,
}

const PATH_PREFIX: &str = "/_aws/execute-api/";

pub fn classify<'a>(host: Option<&'a str>, path: &'a str) -> Option<Target<'a>> {
    let host = host.unwrap_or_default();
    let hostname = strip_port(host);
    if let Some(dot) = hostname.find('.') {
        let (label, rest) = hostname.split_at(dot);
        if rest.len() > ".execute-api".len()
            && rest[..".execute-api.".len().min(rest.len())].eq_ignore_ascii_case(".execute-api.")
            && !label.is_empty()
        {
            return Some(Target {
                api_id: label.to_ascii_lowercase(),
                stage_path: path,
                domain_name: hostname,
            });
        }
    }
    let rest = path.strip_prefix(PATH_PREFIX)?;
    let (id, tail) = rest.split_at(rest.find('/').unwrap_or(rest.len()));
    if id.is_empty() {
        return None;
    }
    Some(Target {
        api_id: id.to_ascii_lowercase(),
        stage_path: tail,
        domain_name: hostname,
    })
}

fn strip_port(host: &str) -> &str {
    if let Some(v6) = host.strip_prefix('[') {
        return v6.split(']').next().unwrap_or(v6);
    }
    host.rsplit_once(':').map_or(host, |(h, p)| {
        if p.bytes().all(|b| b.is_ascii_digit()) {
            h
        } else {
            host
        }
    })
}

/// Splits `/{stage}/rest` into the stage name and the routing path (`/rest`). Extra leading
/// slashes before the stage are tolerated, as AWS does.
pub fn split_stage(stage_path: &str) -> Option<(&str, &str)> {
    let p = stage_path.trim_start_matches('/');
    let end = p.find(['/', '?']).unwrap_or(p.len());
    let stage = &p[..end];
    if stage.is_empty() {
        return None;
    }
    let rest = &p[end..];
    Some((stage, if rest.is_empty() { "/" } else { rest }))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn host_forms() {
        let t = classify(Some("abc123.execute-api.localhost:4566"), "/dev/pets").unwrap();
        assert_eq!(
            (t.api_id.as_str(), t.stage_path, t.domain_name),
            ("abc123", "/dev/pets", "abc123.execute-api.localhost")
        );
        let t = classify(Some("ABC123.Execute-Api.us-east-1.amazonaws.com"), "/dev").unwrap();
        assert_eq!(t.api_id, "abc123");
        assert!(classify(Some("localhost:4566"), "/restapis").is_none());
        assert!(classify(Some("execute-api.localhost"), "/x").is_none());
        assert!(classify(Some(".execute-api.localhost"), "/x").is_none());
    }

    #[test]
    fn path_form() {
        let t = classify(Some("localhost:4566"), "/_aws/execute-api/abc/dev/pets").unwrap();
        assert_eq!((t.api_id.as_str(), t.stage_path), ("abc", "/dev/pets"));
        assert!(classify(None, "/_aws/execute-api/").is_none());
        assert_eq!(
            classify(Some("[::1]:4566"), "/_aws/execute-api/x")
                .unwrap()
                .stage_path,
            ""
        );
    }

    #[test]
    fn stages() {
        assert_eq!(split_stage("/dev/pets/1"), Some(("dev", "/pets/1")));
        assert_eq!(split_stage("//dev/pets"), Some(("dev", "/pets")));
        assert_eq!(split_stage("/dev"), Some(("dev", "/")));
        assert_eq!(split_stage("/dev/"), Some(("dev", "/")));
        assert_eq!(split_stage("/"), None);
        assert_eq!(split_stage(""), None);
    }
}
