//! Which portal page answers a request. Nothing else is served here (on the portal's
//! listener or a custom domain serving it): the control plane, the console and deployed
//! APIs are reached by other listeners or names.

use std::sync::Arc;

use axum::body::Body;
use http::{HeaderValue, Method, Request, Response};
use serde::Deserialize;
use tollgate_console::reply;
use tollgate_console::session::Signed;
use tollgate_model::DocumentationPartType;

use crate::accounts::{self, Kind};
use crate::catalogue::{self, Published};
use crate::context::{Consumer, Portal, Visitor, SESSION};
use crate::page::{self, esc, Page};
use crate::{export, form, keys, try_it, usage};

const STYLE: &str = include_str!("../assets/style.css");

impl Portal {
    /// Answers a request that came to the portal's listener, or to a custom domain serving
    /// the portal, from `visitor`.
    pub async fn handle(self: &Arc<Self>, req: Request<Body>, visitor: Visitor) -> Response<Body> {
        let mut r = reply::harden(self.route(req, visitor).await);
        // A form post's `Origin` is "null" under `no-referrer`: the portal's forms need the
        // real origin (the CSRF check compares it), and nothing is sent to other sites.
        r.headers_mut().insert(
            http::header::REFERRER_POLICY,
            HeaderValue::from_static("same-origin"),
        );
        r
    }

    async fn route(self: &Arc<Self>, req: Request<Body>, visitor: Visitor) -> Response<Body> {
        let tls = visitor.tls;
        let path = req.uri().path().to_string();
        let session = SESSION.read(&req).and_then(|t| self.sessions.get(&t));
        let segs: Vec<&str> = path.trim_start_matches('/').split('/').collect();
        match (req.method().clone(), segs.as_slice()) {
            (Method::GET | Method::HEAD, [""]) => self.landing(session.as_deref()),
            (Method::GET | Method::HEAD, ["style.css"]) => style(),
            (Method::GET, ["signup"]) => accounts::show(self, Kind::SignUp, 200, None, tls),
            (Method::GET, ["signin"]) => accounts::show(self, Kind::SignIn, 200, None, tls),
            (Method::POST, ["signup"]) => accounts::submit(self, Kind::SignUp, req, visitor).await,
            (Method::POST, ["signin"]) => accounts::submit(self, Kind::SignIn, req, visitor).await,
            (Method::POST, ["signout"]) => accounts::sign_out(self, req, tls).await,
            (Method::GET, ["apis", api, stage]) => {
                self.api_page(session.as_deref(), api, stage, None, 200)
                    .await
            }
            (Method::POST, ["apis", api, stage, "keys"]) => {
                self.create_key(session.as_deref(), req, api, stage).await
            }
            (Method::POST, ["apis", api, stage, "try"]) => {
                self.try_operation(session.as_deref(), req, api, stage)
                    .await
            }
            (Method::GET, ["keys", key, "usage"]) => self.usage_page(session.as_deref(), key).await,
            (Method::GET | Method::HEAD | Method::POST, _) => not_found(),
            _ => reply::error(405, "MethodNotAllowed", "Method not allowed."),
        }
    }

    fn landing(&self, session: Option<&Signed<Consumer>>) -> Response<Body> {
        let state = self.config.store.state();
        Page {
            title: "APIs",
            signed_in: session.map(|s| (s.who.email.as_str(), s.csrf.as_str())),
            body: catalogue::landing(&state),
        }
        .render(200)
    }

    /// A published stage's page, answering `status`; `notice` comes first (a key just
    /// created, an operation's answer, what went wrong).
    async fn api_page(
        &self,
        session: Option<&Signed<Consumer>>,
        api_id: &str,
        stage: &str,
        notice: Option<String>,
        status: u16,
    ) -> Response<Body> {
        // Only a published stage's export is read (GetExport is called as the owner).
        if catalogue::find(&self.config.store.state(), api_id, stage).is_none() {
            return not_found();
        }
        let doc = export::fetch(self, api_id, stage).await;
        let state = self.config.store.state();
        let Some(p) = catalogue::find(&state, api_id, stage) else {
            return not_found();
        };
        let mut body = String::new();
        body.push_str(&notice.unwrap_or_default());
        if let Some(d) = p.description() {
            body.push_str(&format!("<p class=\"description\">{}</p>", esc(d)));
        }
        if let Some(d) = catalogue::documented(&p, DocumentationPartType::Api, None) {
            body.push_str(&format!("<p class=\"documentation\">{}</p>", esc(&d)));
        }
        if let Some(endpoint) = &self.config.api_endpoint {
            let base = format!("{}/{}", endpoint.replace("{apiId}", api_id), stage);
            body.push_str(&format!(
                "<p>Base URL: <code id=\"base-url\">{}</code></p>",
                esc(&base)
            ));
        }
        body.push_str(&catalogue::operations(&p));
        body.push_str(&self.plans_and_keys(&state, session, &p));
        body.push_str(&details(&state, session, &p, doc));
        Page {
            title: p.name(),
            signed_in: session.map(|s| (s.who.email.as_str(), s.csrf.as_str())),
            body,
        }
        .render(status)
    }

    fn plans_and_keys(
        &self,
        state: &tollgate_store::State,
        session: Option<&Signed<Consumer>>,
        p: &Published<'_>,
    ) -> String {
        let stage = p.stage.stage_name.as_str();
        let mut body = String::from("<h2>Plans</h2><ul class=\"plans\">");
        let mut options = String::new();
        for plan in catalogue::plans(state, p.api_id, stage) {
            body.push_str(&format!(
                "<li><strong>{}</strong> {}: {}</li>",
                esc(&plan.name),
                esc(plan.description.as_deref().unwrap_or("")),
                esc(&catalogue::limits(plan))
            ));
            options.push_str(&format!(
                "<option value=\"{}\">{}</option>",
                esc(&plan.id),
                esc(&plan.name)
            ));
        }
        body.push_str("</ul>");
        let Some(s) = session else {
            body.push_str("<p><a href=\"/signin\">Sign in</a> or <a href=\"/signup\">Sign up</a> to get an API key.</p>");
            return body;
        };
        if !options.is_empty() {
            let fields = format!("<label>Plan <select name=\"planId\">{options}</select></label>");
            let action = format!("/apis/{}/{stage}/keys", p.api_id);
            body.push_str(&page::form(&action, &s.csrf, &fields, "Create API key"));
        }
        body.push_str("<h2>Your keys</h2>");
        body.push_str(&keys::table(&keys::owned(
            state,
            &s.who.email,
            p.api_id,
            stage,
        )));
        body
    }

    async fn create_key(
        &self,
        session: Option<&Signed<Consumer>>,
        req: Request<Body>,
        api_id: &str,
        stage: &str,
    ) -> Response<Body> {
        #[derive(Deserialize)]
        #[serde(rename_all = "camelCase")]
        struct Chosen {
            plan_id: String,
        }
        let chosen: Chosen = match form::read(req, session.map(|s| s.csrf.as_str())).await {
            Ok(c) => c,
            Err(r) => return r,
        };
        let Some(s) = session else {
            return page::redirect_see_other("/signin");
        };
        let api_name = {
            let state = self.config.store.state();
            let Some(p) = catalogue::find(&state, api_id, stage) else {
                return not_found();
            };
            if !catalogue::plans(&state, api_id, stage).any(|plan| plan.id == chosen.plan_id) {
                let m = "That plan is not offered for this API.";
                return reply::error(400, "BadRequestException", m);
            }
            p.name().to_string()
        };
        let notice = match keys::create(self, &s.who.email, &api_name, &chosen.plan_id).await {
            Ok((id, value)) => keys::created(&id, &value),
            Err(m) => page::notice(Some(&m)),
        };
        self.api_page(Some(s), api_id, stage, Some(notice), 200)
            .await
    }

    /// `POST /apis/{api}/{stage}/try`: calls the operation with the consumer's key and
    /// shows the answer; a refused form sends nothing.
    async fn try_operation(
        &self,
        session: Option<&Signed<Consumer>>,
        req: Request<Body>,
        api_id: &str,
        stage: &str,
    ) -> Response<Body> {
        let fields: Vec<(String, String)> =
            match form::read(req, session.map(|s| s.csrf.as_str())).await {
                Ok(f) => f,
                Err(r) => return r,
            };
        let Some(s) = session else {
            return page::redirect_see_other("/signin");
        };
        let prepared = {
            let state = self.config.store.state();
            let Some(p) = catalogue::find(&state, api_id, stage) else {
                return not_found();
            };
            try_it::request(self, &state, &s.who.email, &p, &try_it::Posted(fields))
        };
        let (status, notice) = match prepared {
            Err((status, m)) => (status, page::notice(Some(&m))),
            Ok((url, call)) => {
                let method = call.method().to_string();
                match self.invoker.send(call).await {
                    Ok(x) => (200, try_it::answer(&method, &url, &x)),
                    Err(m) => (502, page::notice(Some(&m))),
                }
            }
        };
        self.api_page(Some(s), api_id, stage, Some(notice), status)
            .await
    }

    async fn usage_page(&self, session: Option<&Signed<Consumer>>, key_id: &str) -> Response<Body> {
        let Some(s) = session else {
            return page::redirect_see_other("/signin");
        };
        let plan = {
            let state = self.config.store.state();
            let mine = state
                .api_keys
                .get(key_id)
                .is_some_and(|k| k.customer_id.as_deref() == Some(s.who.email.as_str()));
            if !mine {
                return not_found();
            }
            let plan = state
                .usage_plans
                .values()
                .find(|p| p.key_ids.contains(key_id));
            match plan {
                Some(p) => p.clone(),
                None => return not_found(),
            }
        };
        let body = match usage::body(self, &plan, key_id).await {
            Ok(b) => b,
            Err(m) => page::notice(Some(&m)),
        };
        Page {
            title: &format!("Usage of {key_id}"),
            signed_in: Some((s.who.email.as_str(), s.csrf.as_str())),
            body,
        }
        .render(200)
    }
}

/// The operations of the stage's OpenAPI export, each with its "Try it" form.
fn details(
    state: &tollgate_store::State,
    session: Option<&Signed<Consumer>>,
    p: &Published<'_>,
    doc: Result<serde_json::Value, String>,
) -> String {
    let doc = match doc {
        Ok(d) => d,
        Err(m) => return page::notice(Some(&m)),
    };
    let stage = p.stage.stage_name.as_str();
    let keys = session.map_or_else(Vec::new, |s| {
        keys::owned(state, &s.who.email, p.api_id, stage)
    });
    let mut body = String::from("<h2>Reference</h2>");
    for op in export::operations(&doc) {
        let about = catalogue::documented(
            p,
            DocumentationPartType::Method,
            Some((&op.path, &op.method)),
        );
        let form = try_it::form(p, &op, session, &keys);
        body.push_str(&export::operation_html(&doc, &op, about.as_deref(), &form));
    }
    body
}

fn style() -> Response<Body> {
    let mut r = Response::new(Body::from(STYLE));
    r.headers_mut().insert(
        http::header::CONTENT_TYPE,
        HeaderValue::from_static("text/css; charset=utf-8"),
    );
    r.headers_mut().insert(
        http::header::CACHE_CONTROL,
        HeaderValue::from_static("no-cache"),
    );
    r
}

fn not_found() -> Response<Body> {
    reply::error(404, "NotFoundException", "No such page.")
}
