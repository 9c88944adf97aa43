//! The console's pages, scripts and styles, embedded in the binary: nothing is fetched at
//! run time, and a page is the same bytes as the binary's version.

use axum::body::Body;
use http::{HeaderValue, Response};

use crate::reply;

macro_rules! asset {
    ($path:literal, $type:expr) => {
        ($path, $type, include_str!(concat!("../assets", $path)))
    };
}

const JS: &str = "text/javascript; charset=utf-8";

/// `(path under /_tollgate, content type, contents)`.
static ASSETS: &[(&str, &str, &str)] = &[
    asset!("/index.html", "text/html; charset=utf-8"),
    asset!("/style.css", "text/css; charset=utf-8"),
    asset!("/js/app.js", JS),
    asset!("/js/aws.js", JS),
    asset!("/js/dom.js", JS),
    asset!("/js/chart.js", JS),
    asset!("/js/metrics.js", JS),
    asset!("/js/logs.js", JS),
    asset!("/js/login.js", JS),
    asset!("/js/landing.js", JS),
    asset!("/js/rest_api.js", JS),
    asset!("/js/test_invoke.js", JS),
    asset!("/js/stages.js", JS),
    asset!("/js/http_api.js", JS),
    asset!("/js/functions.js", JS),
    asset!("/js/keys.js", JS),
];

pub fn serve(file: &str) -> Response<Body> {
    let file = if file == "/" { "/index.html" } else { file };
    let Some((_, content_type, body)) = ASSETS.iter().find(|(p, _, _)| *p == file) else {
        return reply::error(404, "NotFoundException", "No such page.");
    };
    let mut r = Response::new(Body::from(*body));
    r.headers_mut().insert(
        http::header::CONTENT_TYPE,
        HeaderValue::from_static(content_type),
    );
    // Revalidated on each load, so a new binary's pages are used at once.
    r.headers_mut().insert(
        http::header::CACHE_CONTROL,
        HeaderValue::from_static("no-cache"),
    );
    r
}

#[cfg(test)]
mod tests {
    #[test]
    fn every_module_a_script_imports_is_embedded() {
        for (path, _, body) in super::ASSETS {
            for line in body.lines().filter(|l| l.starts_with("import ")) {
                let from = line.rsplit_once("from '").map(|(_, f)| f).unwrap_or("");
                let name = from.trim_end_matches("';").trim_start_matches("./");
                let wanted = format!("/js/{name}");
                assert!(
                    super::ASSETS.iter().any(|(p, _, _)| *p == wanted),
                    "{path} imports {wanted}, which is not embedded"
                );
            }
        }
    }
}
