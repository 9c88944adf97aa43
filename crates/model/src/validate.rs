//! Validation rules of the control plane that need no I/O. Each returns AWS's message text.

use crate::HTTP_METHODS;

/// The kind of a resource path part.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PathPart<'a> {
    Static(&'a str),
    /// `{name}`
    Param(&'a str),
    /// `{name+}`
    Greedy(&'a str),
}

pub const PATH_PART_MESSAGE: &str = "Resource's path part only allow a-zA-Z0-9._- and curly braces at the beginning and the end and an optional plus sign before the closing brace.";

/// Classifies a path part, or gives AWS's error message when it is not valid.
pub fn path_part(part: &str) -> Result<PathPart<'_>, &'static str> {
    let literal_ok = |s: &str| {
        !s.is_empty()
            && s.bytes()
                .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'.' | b'_' | b'-' | b':'))
    };
    if let Some(inner) = part.strip_prefix('{').and_then(|p| p.strip_suffix('}')) {
        let (name, greedy) = match inner.strip_suffix('+') {
            Some(n) => (n, true),
            None => (inner, false),
        };
        if !literal_ok(name) {
            return Err(PATH_PART_MESSAGE);
        }
        return Ok(if greedy {
            PathPart::Greedy(name)
        } else {
            PathPart::Param(name)
        });
    }
    if literal_ok(part) {
        Ok(PathPart::Static(part))
    } else {
        Err(PATH_PART_MESSAGE)
    }
}

pub fn http_method(m: &str) -> Result<(), &'static str> {
    if HTTP_METHODS.contains(&m) {
        Ok(())
    } else {
        Err("Invalid HttpMethod specified. Valid options are GET,PUT,POST,DELETE,PATCH,OPTIONS,HEAD,ANY")
    }
}

/// Status codes of method and integration responses: `[1-5]\d\d`.
pub fn status_code(s: &str) -> bool {
    let b = s.as_bytes();
    b.len() == 3 && (b'1'..=b'5').contains(&b[0]) && b[1].is_ascii_digit() && b[2].is_ascii_digit()
}

pub fn stage_name(s: &str) -> bool {
    !s.is_empty()
        && s.len() <= 128
        && s.bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'_' || b == b'-')
}

/// Stage variable name and value rules; returns AWS's message on failure.
pub fn stage_variable(name: &str, value: &str) -> Result<(), String> {
    if name.is_empty()
        || name.len() > 64
        || !name.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'_')
    {
        return Err(format!(
            "Stage variable name {name} must be alphanumeric or underscore and less than 64 characters"
        ));
    }
    if value.is_empty()
        || value.len() > 512
        || !value.bytes().all(|b| {
            b.is_ascii_alphanumeric()
                || matches!(
                    b,
                    b'-' | b'.' | b'_' | b'~' | b':' | b'/' | b'?' | b'#' | b'&' | b'=' | b','
                )
        })
    {
        return Err(format!(
            "Stage variable value {value} must be alphanumeric, contain only the special characters -._~:/?#&=, and be less than 512 characters"
        ));
    }
    Ok(())
}

pub fn tag(key: &str, value: &str) -> Result<(), String> {
    if key.is_empty() || key.len() > 128 || key.starts_with("aws:") {
        return Err(format!("Invalid tag key: {key}"));
    }
    if value.len() > 256 {
        return Err(format!("Invalid tag value: {value}"));
    }
    Ok(())
}

/// Request parameter keys of a method: `method.request.{loc}.{name}`.
pub fn method_request_parameter(key: &str) -> Option<(&str, &str)> {
    let rest = key.strip_prefix("method.request.")?;
    let (loc, name) = rest.split_once('.')?;
    matches!(
        loc,
        "path" | "querystring" | "header" | "multivaluequerystring" | "multivalueheader"
    )
    .then_some((loc, name))
    .filter(|(_, n)| !n.is_empty())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn path_parts() {
        assert_eq!(path_part("pets"), Ok(PathPart::Static("pets")));
        assert_eq!(path_part("{id}"), Ok(PathPart::Param("id")));
        assert_eq!(path_part("{proxy+}"), Ok(PathPart::Greedy("proxy")));
        assert_eq!(path_part("v1.2_a-b:c"), Ok(PathPart::Static("v1.2_a-b:c")));
        for bad in [
            "", "a/b", "{", "{}", "{+}", "a{b}", "{a}b", "pe ts", "{a b}", "ü",
        ] {
            assert!(path_part(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn status_codes() {
        assert!(status_code("200") && status_code("599") && status_code("100"));
        assert!(
            !status_code("600")
                && !status_code("20")
                && !status_code("2000")
                && !status_code("abc")
        );
    }

    #[test]
    fn stage_rules() {
        assert!(stage_name("dev") && stage_name("prod_v-2"));
        assert!(!stage_name("") && !stage_name("a b") && !stage_name("$default"));
        assert!(stage_variable("backend", "http://host:80/a?b=c&d=e#f").is_ok());
        assert!(stage_variable("bad-name", "x").is_err());
        assert!(stage_variable("ok", "with space").is_err());
    }

    #[test]
    fn method_params() {
        assert_eq!(
            method_request_parameter("method.request.path.id"),
            Some(("path", "id"))
        );
        assert_eq!(method_request_parameter("method.request.body.id"), None);
        assert_eq!(method_request_parameter("method.request.header."), None);
    }
}
