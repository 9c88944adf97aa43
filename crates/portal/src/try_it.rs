//! "Try it": an operation's form, and the call it makes. The portal sends a real request to
//! the stage's invoke URL with one of the signed-in consumer's own keys in `x-api-key`
//! (checked on the server: the key's `customerId` is their email and it is in a plan
//! covering the stage), and shows the status, headers and the start of the body.

use std::fmt::Write;

use bytes::Bytes;
use http::{HeaderName, HeaderValue, Request};
use http_body_util::Full;
use percent_encoding::{utf8_percent_encode, AsciiSet, NON_ALPHANUMERIC};
use tollgate_console::session::Signed;
use tollgate_model::ApiKey;
use tollgate_store::State;

use crate::catalogue::Published;
use crate::context::{Consumer, Portal};
use crate::export::{Location, Operation};
use crate::invoke::{Exchange, MAX_SHOWN};
use crate::keys;
use crate::page::{self, esc};

/// What a path parameter's value keeps as it is: RFC 3986's unreserved characters.
const SEGMENT: &AsciiSet = &NON_ALPHANUMERIC
    .remove(b'-')
    .remove(b'_')
    .remove(b'.')
    .remove(b'~');

/// The methods an `ANY` operation may be tried with.
const METHODS: [&str; 7] = ["GET", "POST", "PUT", "PATCH", "DELETE", "HEAD", "OPTIONS"];

/// Headers the portal writes itself: a form may not set them.
const RESERVED: [&str; 6] = [
    "host",
    "x-api-key",
    "content-length",
    "content-type",
    "transfer-encoding",
    "connection",
];

fn field_name(location: Location, name: &str) -> String {
    let prefix = match location {
        Location::Path => "path",
        Location::Query => "querystring",
        Location::Header => "header",
    };
    format!("{prefix}.{name}")
}

/// The operation's form, or why there is none for this visitor.
pub fn form(
    p: &Published<'_>,
    op: &Operation,
    session: Option<&Signed<Consumer>>,
    keys: &[(&ApiKey, &str)],
) -> String {
    let Some(s) = session else {
        return "<p class=\"try\">To try this operation, <a href=\"/signin\">sign in</a> and create an API key.</p>".to_string();
    };
    if keys.is_empty() {
        return "<p class=\"try\">To try this operation, create an API key for this API first.</p>"
            .to_string();
    }
    let mut fields = String::new();
    if op.method == "ANY" {
        fields.push_str("<label>Method <select name=\"method\">");
        for m in METHODS {
            let _ = write!(fields, "<option>{m}</option>");
        }
        fields.push_str("</select></label>");
    } else {
        let _ = write!(
            fields,
            "<input type=\"hidden\" name=\"method\" value=\"{}\">",
            esc(&op.method)
        );
    }
    let _ = write!(
        fields,
        "<input type=\"hidden\" name=\"path\" value=\"{}\"><label>API key <select name=\"keyId\">",
        esc(&op.path)
    );
    for (k, plan) in keys {
        let _ = write!(
            fields,
            "<option value=\"{}\">{} ({})</option>",
            esc(&k.id),
            esc(&k.id),
            esc(plan)
        );
    }
    fields.push_str("</select></label>");
    for prm in &op.parameters {
        let _ = write!(
            fields,
            "<label>{} <code>{}</code> <input name=\"{}\"{}></label>",
            prm.location.as_str(),
            esc(&prm.name),
            esc(&field_name(prm.location, &prm.name)),
            if prm.required { " required" } else { "" }
        );
    }
    fields.push_str(
        "<label>Query string <input name=\"queryString\" placeholder=\"a=1&amp;b=2\"></label>",
    );
    if !matches!(op.method.as_str(), "GET" | "HEAD") {
        let media_type = op
            .request_body
            .first()
            .map_or("application/json", |c| c.media_type.as_str());
        let _ = write!(
            fields,
            "<label>Content type <input name=\"contentType\" value=\"{}\"></label>\
             <label>Body <textarea name=\"body\" rows=\"4\" cols=\"60\"></textarea></label>",
            esc(media_type)
        );
    }
    let action = format!("/apis/{}/{}/try", p.api_id, p.stage.stage_name);
    format!(
        "<div class=\"try\">{}</div>",
        page::form(&action, &s.csrf, &fields, "Try it")
    )
}

/// A refusal: the page's status and what to say.
pub type Refusal = (u16, String);

fn refuse(status: u16, m: impl Into<String>) -> Refusal {
    (status, m.into())
}

/// The posted form.
pub struct Posted(pub Vec<(String, String)>);

impl Posted {
    fn get(&self, name: &str) -> Option<&str> {
        self.0
            .iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.as_str())
    }

    fn filled(&self, name: &str) -> Option<&str> {
        self.get(name).filter(|v| !v.is_empty())
    }
}

/// The request the form asks for, after every check: nothing is sent otherwise.
pub fn request(
    portal: &Portal,
    state: &State,
    email: &str,
    p: &Published<'_>,
    form: &Posted,
) -> Result<(String, Request<Full<Bytes>>), Refusal> {
    let method = form.get("method").unwrap_or("");
    let path = form.get("path").unwrap_or("");
    let Some(deployment) = p.api.deployments.get(&p.stage.deployment_id) else {
        return Err(refuse(404, "This stage has no deployment."));
    };
    let summary = deployment.api_summary();
    let known = summary.get(path).is_some_and(|methods| {
        methods.contains_key(method) || (methods.contains_key("ANY") && METHODS.contains(&method))
    });
    if !known {
        return Err(refuse(
            404,
            format!("This API has no operation {method} {path}."),
        ));
    }
    let stage = p.stage.stage_name.as_str();
    let key_id = form.get("keyId").unwrap_or("");
    let owned = keys::owned(state, email, p.api_id, stage)
        .into_iter()
        .find(|(k, _)| k.id == key_id)
        .map(|(k, _)| k.value.clone());
    let Some(key_value) = owned else {
        return Err(refuse(
            403,
            "That API key is not one of yours for this API: choose one of your keys.",
        ));
    };
    let Some(endpoint) = &portal.config.api_endpoint else {
        return Err(refuse(
            503,
            "This server has no data-plane listener to call the API on.",
        ));
    };
    let mut url = format!("{}/{stage}", endpoint.replace("{apiId}", p.api_id));
    url.push_str(&fill_path(path, form)?);
    let query = query_string(form)?;
    if !query.is_empty() {
        url.push('?');
        url.push_str(&query);
    }
    let body = form.get("body").unwrap_or("").to_string();
    let mut req = Request::builder()
        .method(method)
        .uri(&url)
        .header("x-api-key", key_value);
    for (name, value) in &form.0 {
        let Some(name) = name.strip_prefix("header.").filter(|_| !value.is_empty()) else {
            continue;
        };
        let (Ok(n), Ok(v)) = (
            HeaderName::from_bytes(name.as_bytes()),
            HeaderValue::from_str(value),
        ) else {
            return Err(refuse(400, format!("The header {name} is not valid.")));
        };
        if RESERVED.contains(&n.as_str()) {
            return Err(refuse(
                400,
                format!("The portal sets the {n} header itself."),
            ));
        }
        req = req.header(n, v);
    }
    if !body.is_empty() {
        let media_type = form.filled("contentType").unwrap_or("application/json");
        let Ok(v) = HeaderValue::from_str(media_type) else {
            return Err(refuse(400, "The content type is not valid."));
        };
        req = req.header(http::header::CONTENT_TYPE, v);
    }
    match req.body(Full::new(Bytes::from(body))) {
        Ok(r) => Ok((url, r)),
        Err(e) => Err(refuse(400, format!("The request is not valid: {e}."))),
    }
}

/// The operation's path with each `{name}` (and greedy `{name+}`) filled from the form.
fn fill_path(template: &str, form: &Posted) -> Result<String, Refusal> {
    let mut out = String::new();
    for segment in template.split('/').filter(|s| !s.is_empty()) {
        out.push('/');
        let Some(name) = segment.strip_prefix('{').and_then(|s| s.strip_suffix('}')) else {
            out.push_str(segment);
            continue;
        };
        let (name, greedy) = match name.strip_suffix('+') {
            Some(n) => (n, true),
            None => (name, false),
        };
        let Some(value) = form.filled(&field_name(Location::Path, name)) else {
            return Err(refuse(400, format!("Enter the path parameter {name}.")));
        };
        if greedy {
            // A greedy parameter spans segments: its slashes stay.
            let parts: Vec<String> = value
                .split('/')
                .map(|v| utf8_percent_encode(v, SEGMENT).to_string())
                .collect();
            out.push_str(&parts.join("/"));
        } else {
            out.push_str(&utf8_percent_encode(value, SEGMENT).to_string());
        }
    }
    if out.is_empty() {
        out.push('/');
    }
    Ok(out)
}

/// The declared query parameters filled in, then the free query string.
fn query_string(form: &Posted) -> Result<String, Refusal> {
    // Percent-encoded (a space as `%20`): API Gateway does not read `+` as a space.
    let pairs: Vec<String> = form
        .0
        .iter()
        .filter(|(_, v)| !v.is_empty())
        .filter_map(|(k, v)| {
            let name = k.strip_prefix("querystring.")?;
            let enc = |s: &str| utf8_percent_encode(s, SEGMENT).to_string();
            Some(format!("{}={}", enc(name), enc(v)))
        })
        .collect();
    let mut query = pairs.join("&");
    let extra = form
        .get("queryString")
        .unwrap_or("")
        .trim()
        .trim_start_matches('?');
    if extra
        .chars()
        .any(|c| c.is_whitespace() || c.is_control() || c == '#' || !c.is_ascii())
    {
        return Err(refuse(
            400,
            "The query string may not hold spaces, '#' or non-ASCII characters: percent-encode them.",
        ));
    }
    if !extra.is_empty() {
        if !query.is_empty() {
            query.push('&');
        }
        query.push_str(extra);
    }
    Ok(query)
}

/// The answer, shown on the API's page.
pub fn answer(method: &str, url: &str, x: &Exchange) -> String {
    let mut out = format!(
        "<section class=\"try-result\" id=\"try-result\"><h2>Try it: {} <code>{}</code></h2>\
         <p>Status <strong id=\"try-status\">{}</strong></p>\
         <table class=\"headers\"><tr><th>Header</th><th>Value</th></tr>",
        esc(method),
        esc(url),
        x.status
    );
    for (k, v) in &x.headers {
        let _ = write!(out, "<tr><td>{}</td><td>{}</td></tr>", esc(k), esc(v));
    }
    out.push_str("</table>");
    let body = String::from_utf8_lossy(&x.body);
    let _ = write!(out, "<pre id=\"try-body\">{}</pre>", esc(&body));
    if x.truncated {
        let _ = write!(
            out,
            "<p>Only the first {} KiB of the body are shown.</p>",
            MAX_SHOWN / 1024
        );
    }
    out.push_str("</section>");
    out
}

#[cfg(test)]
mod tests {
    use super::Posted;

    fn posted(fields: &[(&str, &str)]) -> Posted {
        Posted(
            fields
                .iter()
                .map(|(k, v)| (k.to_string(), v.to_string()))
                .collect(),
        )
    }

    #[test]
    fn path_parameters_are_filled_and_encoded() {
        let f = posted(&[("path.petId", "a b/c"), ("path.proxy", "x/y z")]);
        assert_eq!(
            super::fill_path("/pets/{petId}/{proxy+}", &f).unwrap(),
            "/pets/a%20b%2Fc/x/y%20z"
        );
        assert_eq!(super::fill_path("/", &f).unwrap(), "/");
        let missing = super::fill_path("/owners/{ownerId}", &f).unwrap_err();
        assert_eq!(missing.0, 400);
    }

    #[test]
    fn query_strings_are_joined_and_checked() {
        let f = posted(&[("querystring.q", "a&b c"), ("queryString", "?x=1")]);
        assert_eq!(super::query_string(&f).unwrap(), "q=a%26b%20c&x=1");
        let bad = posted(&[("queryString", "x=a b")]);
        assert_eq!(super::query_string(&bad).unwrap_err().0, 400);
    }
}
