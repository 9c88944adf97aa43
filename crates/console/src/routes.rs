//! Which console endpoint answers a request, and as whom.

use axum::body::Body;
use http::{Method, Request, Response};

use crate::context::{Console, PREFIX};
use crate::guard::{self, Caller};
use crate::{assets, login, logs, proxy, reply, session};

impl Console {
    /// Whether `req` is the console's: a `/_tollgate` path on a host that is not an
    /// `{id}.execute-api.*` name (such a host addresses a deployed API).
    pub fn claims<B>(req: &Request<B>) -> bool {
        let path = req.uri().path();
        let ours = path == PREFIX || path.starts_with("/_tollgate/");
        ours && !guard::host(req).is_some_and(tollgate_admin::names_an_api)
    }

    /// Answers a request [`Console::claims`]; `loopback` says whether the client's address
    /// is a loopback one.
    pub async fn handle(&self, req: Request<Body>, loopback: bool) -> Response<Body> {
        reply::harden(self.route(req, loopback).await)
    }

    async fn route(&self, req: Request<Body>, loopback: bool) -> Response<Body> {
        let path = req.uri().path().to_string();
        let rest = path.strip_prefix(PREFIX).unwrap_or("");
        match (req.method().clone(), rest) {
            (Method::GET, "") => reply::redirect("/_tollgate/"),
            (Method::POST, "/login") => login::login(self, req, loopback).await,
            (method, "/session" | "/logout" | "/aws" | "/logs") => {
                let Some(caller) = self.caller(&req, loopback) else {
                    return reply::error(
                        401,
                        "UnauthorizedException",
                        "Log in to use the console.",
                    );
                };
                match (method, rest) {
                    (Method::GET, "/session") => login::describe(&caller),
                    _ if !guard::csrf_ok(&req, caller.csrf()) => reply::error(
                        403,
                        "AccessDeniedException",
                        "The request is not from the console's own pages.",
                    ),
                    (Method::POST, "/logout") => login::logout(self, &req),
                    (Method::POST, "/aws") => proxy::forward(self, &caller, req).await,
                    (Method::GET, "/logs") => logs::tail(self, &caller, req).await,
                    _ => reply::error(405, "MethodNotAllowed", "Method not allowed."),
                }
            }
            (Method::GET | Method::HEAD, file) => assets::serve(file),
            _ => reply::error(405, "MethodNotAllowed", "Method not allowed."),
        }
    }

    /// The session's caller, else the root on loopback (by a loopback host name, so a
    /// DNS-rebound name cannot borrow it).
    fn caller<B>(&self, req: &Request<B>, loopback: bool) -> Option<Caller> {
        if let Some(s) = session::CONSOLE
            .read(req)
            .and_then(|t| self.sessions.get(&t))
        {
            return Some(Caller::Session(s));
        }
        (loopback && guard::host(req).is_some_and(guard::loopback_name)).then(|| Caller::Root {
            access_key_id: self.config.root.0.clone(),
            secret: self.config.root.1.clone(),
            csrf: self.loopback_csrf.clone(),
        })
    }
}
