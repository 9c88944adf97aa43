//! HTTP API parameter mappings at call time (request-pipeline.md §8): the sources they
//! read (request, `$context`, stage variables, the backend's response, bodies as JSON),
//! the backend path and query after `requestParameters`, and `responseParameters`.

use std::borrow::Cow;

use http::{HeaderMap, Response};
use serde_json::Value;

use super::call::{HttpApiCall, PATH_SEGMENT};
use crate::access_log::ContextVars;
use crate::body::GatewayBody;
use crate::compile::http_api::HttpIntegration;
use crate::compile::http_mapping::{apply_headers, reads_body, render, Action, Sources, Target};
use crate::error::HttpApiError;
use crate::error::MAX_BODY;

/// A mapping's sources: the request, and the backend's response headers once there are;
/// the bodies as JSON when a mapping reads them.
pub(super) struct MappingSources<'a, 'c> {
    pub call: &'a HttpApiCall<'c>,
    pub response: Option<&'a HeaderMap>,
    pub request_body: Option<Value>,
    pub response_body: Option<Value>,
}

/// The most of a body `$request.body` / `$response.body` read (request-pipeline.md §8).
const MAX_MAPPED_BODY: usize = 100 * 1024;

/// A body as JSON for body mappings (AWS reads the first 100 KB: a larger body maps to
/// nothing).
pub(super) fn mapped_body(body: &[u8]) -> Option<Value> {
    serde_json::from_slice(body.get(..MAX_MAPPED_BODY).unwrap_or(body)).ok()
}

pub(crate) fn joined_header<'h>(headers: &'h HeaderMap, name: &str) -> Option<Cow<'h, str>> {
    let mut values = headers.get_all(name).iter().filter_map(|v| v.to_str().ok());
    let first = values.next()?;
    let rest: Vec<&str> = values.collect();
    if rest.is_empty() {
        return Some(Cow::Borrowed(first));
    }
    Some(Cow::Owned(
        std::iter::once(first)
            .chain(rest)
            .collect::<Vec<_>>()
            .join(","),
    ))
}

impl Sources for MappingSources<'_, '_> {
    fn request_header(&self, name: &str) -> Option<Cow<'_, str>> {
        joined_header(&self.call.parts.headers, name)
    }
    fn request_query(&self, name: &str) -> Option<Cow<'_, str>> {
        let values: Vec<String> = query_pairs(self.call.parts.uri.query().unwrap_or_default())
            .filter(|(k, _)| k == name)
            .map(|(_, v)| v)
            .collect();
        (!values.is_empty()).then(|| Cow::Owned(values.join(",")))
    }
    fn request_path(&self) -> &str {
        self.call.routing_path
    }
    fn path_parameter(&self, name: &str) -> Option<&str> {
        self.call
            .path_params
            .iter()
            .find(|(k, _)| *k == name)
            .map(|(_, v)| v.as_str())
    }
    fn context(&self, name: &str) -> Option<Cow<'_, str>> {
        self.call.context.var(name)
    }
    fn stage_variable(&self, name: &str) -> Option<&str> {
        self.call.stage_variables.get(name).map(String::as_str)
    }
    fn response_header(&self, name: &str) -> Option<Cow<'_, str>> {
        joined_header(self.response?, name)
    }
    fn request_body(&self) -> Option<&Value> {
        self.request_body.as_ref()
    }
    fn response_body(&self) -> Option<&Value> {
        self.response_body.as_ref()
    }
}

/// The integration's `responseParameters` for the backend's status: headers appended,
/// overwritten or removed, and the status overwritten.
pub async fn map_response(
    c: &HttpApiCall<'_>,
    i: &HttpIntegration,
    mut resp: Response<GatewayBody>,
) -> Result<Response<GatewayBody>, HttpApiError> {
    let mappings = i.response_mappings(resp.status().as_u16());
    if mappings.is_empty() {
        return Ok(resp);
    }
    let mut response_body = None;
    if reads_body(mappings) {
        // `$response.body` needs the backend's whole answer, bounded like any body in size
        // and by the integration's timeout in time (a backend that stalls after its
        // headers is a timeout, never a request held open).
        let (parts, body) = resp.into_parts();
        let collect =
            http_body_util::BodyExt::collect(http_body_util::Limited::new(body, MAX_BODY));
        let bytes = tokio::time::timeout(i.timeout, collect)
            .await
            .map_err(|_| HttpApiError::ServiceUnavailable)?
            .map_err(|_| HttpApiError::Internal)?
            .to_bytes();
        response_body = mapped_body(&bytes);
        resp = Response::from_parts(parts, GatewayBody::from_bytes(bytes));
    }
    let backend = resp.headers().clone();
    let sources = MappingSources {
        call: c,
        response: Some(&backend),
        request_body: None,
        response_body,
    };
    apply_headers(mappings, &sources, resp.headers_mut());
    for m in mappings.iter().filter(|m| m.target == Target::StatusCode) {
        let status = render(&m.value, &sources);
        match status
            .trim()
            .parse::<u16>()
            .ok()
            .and_then(|s| http::StatusCode::from_u16(s).ok())
        {
            Some(s) => *resp.status_mut() = s,
            None => {
                tracing::info!(api = %c.api_id, status, "overwrite:statuscode maps to no status")
            }
        }
    }
    Ok(resp)
}

/// The backend path and query after `requestParameters` (`overwrite:path`,
/// `…:querystring.x`).
pub(super) fn mapped_path_and_query(
    c: &HttpApiCall<'_>,
    i: &HttpIntegration,
    sources: &MappingSources<'_, '_>,
) -> (Option<String>, Option<String>) {
    let mut path = None;
    let mut query: Option<Vec<(String, String)>> = None;
    for m in &i.request_mappings {
        match &m.target {
            Target::Path => path = Some(render(&m.value, sources)),
            Target::QueryString(name) => {
                let q = query.get_or_insert_with(|| {
                    query_pairs(c.parts.uri.query().unwrap_or_default()).collect()
                });
                if m.action != Action::Append {
                    q.retain(|(k, _)| k != name);
                }
                if m.action != Action::Remove {
                    q.push((name.clone(), render(&m.value, sources)));
                }
            }
            _ => {}
        }
    }
    let query = query.map(|q| {
        q.iter()
            .map(|(k, v)| {
                let enc =
                    |s: &str| percent_encoding::utf8_percent_encode(s, PATH_SEGMENT).to_string();
                format!("{}={}", enc(k), enc(v))
            })
            .collect::<Vec<_>>()
            .join("&")
    });
    (path, query)
}

pub(crate) fn query_pairs(q: &str) -> impl Iterator<Item = (String, String)> + '_ {
    let decode = |v: &str| {
        percent_encoding::percent_decode_str(&v.replace('+', " "))
            .decode_utf8_lossy()
            .into_owned()
    };
    q.split('&').filter(|p| !p.is_empty()).map(move |p| {
        let (k, v) = p.split_once('=').unwrap_or((p, ""));
        (decode(k), decode(v))
    })
}
