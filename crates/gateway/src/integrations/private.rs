//! Private integrations (`connectionType: VPC_LINK`): the request goes to one of the
//! link's targets in turn, the next one when a target refuses the connection (then marked
//! down for 10 s). With several targets the body is read first, so it can be sent again.

use std::time::Duration;

use arc_swap::ArcSwap;
use http::Response;

use tollgate_model::IntegrationType;

use super::call::{Answer, Call, CallRecord, Integration};
use super::http::{read_output, with_timeout, Attempt, HttpClient};
use crate::body::GatewayBody;
use crate::error::{GatewayError, MAX_BODY};
use crate::invocation::{Invocation, RequestBody};
use crate::pipeline::integration_request::{self, BackendRequest};
use crate::pipeline::respond;
use crate::vpc_link::{LinkRef, VpcLinks};

/// `uri` with its authority replaced by a target's.
fn retarget(uri: &http::Uri, target: &http::uri::Authority) -> Result<http::Uri, GatewayError> {
    let mut parts = uri.clone().into_parts();
    parts.authority = Some(target.clone());
    if parts.scheme.is_none() {
        parts.scheme = Some(http::uri::Scheme::HTTP);
    }
    http::Uri::from_parts(parts).map_err(|_| GatewayError::internal())
}

/// The whole body, within the limits the client's own body has.
async fn collect(body: GatewayBody, stall: Duration) -> Result<bytes::Bytes, GatewayError> {
    match tokio::time::timeout(stall, http_body_util::BodyExt::collect(body)).await {
        Ok(Ok(c)) => Ok(c.to_bytes()),
        Ok(Err(e)) if e.is::<http_body_util::LengthLimitError>() => Err(GatewayError::too_large()),
        Ok(Err(_)) => Err(GatewayError::new(
            tollgate_model::GatewayResponseType::BadRequestBody,
            "Invalid request body",
        )),
        Err(_) => Err(GatewayError::new(
            tollgate_model::GatewayResponseType::Default4xx,
            "Request body not received in time",
        )
        .with_status(408)),
    }
}

fn via<'a>(call: &'a Call<'_, '_>, link: &'a LinkRef, inv: &'a Invocation<'_>) -> Via<'a> {
    Via {
        links: call.vpc_links,
        link,
        stage_variables: inv.stage_variables,
        api_id: &inv.ctx.api_id,
    }
}

/// `HTTP` and `HTTP_PROXY` through a VPC link: the request built as for the internet
/// kinds, sent to the link's targets.
pub struct Private;

impl Integration for Private {
    async fn call(
        &self,
        call: &Call<'_, '_>,
        inv: &Invocation<'_>,
        rec: &mut CallRecord,
        body: RequestBody,
    ) -> Result<Answer, GatewayError> {
        let i = call.integration;
        let link = i.vpc_link.as_ref().ok_or_else(GatewayError::internal)?;
        let client = HttpClient::for_backend(inv.backend_tls, i.insecure_skip_verification);
        if i.kind == IntegrationType::HttpProxy {
            let req = integration_request::http_proxy(inv, i, call.params, body)?;
            let sent = send(&client, via(call, link, inv), req, call.body_stall);
            let resp = rec.timed(with_timeout(i.timeout, sent)).await?;
            rec.status = Some(resp.status().as_u16());
            return Ok(Answer::Response(respond::proxy_response(resp)));
        }
        let r = call.render(inv, rec, body).await?;
        let req =
            integration_request::http(inv, i, call.params, &r.body, r.payload, r.context.as_ref())?;
        let exchange = async {
            let resp = send(&client, via(call, link, inv), req, call.body_stall).await?;
            read_output(resp, MAX_BODY).await
        };
        let out = rec.timed(with_timeout(i.timeout, exchange)).await;
        Ok(rec.output(inv, out?))
    }
}

/// Which link a request goes through: the integration's, for a stage of an API.
pub struct Via<'a> {
    pub links: &'a ArcSwap<VpcLinks>,
    pub link: &'a LinkRef,
    pub stage_variables: &'a std::collections::BTreeMap<String, String>,
    pub api_id: &'a str,
}

/// Sends `req` to one of the link's targets (its URI's authority replaced).
pub async fn send(
    client: &HttpClient,
    via: Via<'_>,
    req: BackendRequest,
    body_stall: Duration,
) -> Result<Response<GatewayBody>, GatewayError> {
    let links = via.links.load();
    let id = via.link.resolve(via.stage_variables);
    let pool = links
        .pool(id, via.api_id)
        .ok_or_else(GatewayError::internal)?;
    let BackendRequest {
        method,
        uri,
        headers,
        body,
    } = req;
    let mut single = None;
    let kept = if pool.targets.len() > 1 {
        Some(collect(body, body_stall).await?)
    } else {
        single = Some(body);
        None
    };
    let mut last = GatewayError::internal();
    for target in pool.order() {
        let body = match (&kept, single.take()) {
            (Some(b), _) => GatewayBody::from_bytes(b.clone()),
            (None, Some(b)) => b,
            (None, None) => break,
        };
        let attempt = BackendRequest {
            method: method.clone(),
            uri: retarget(&uri, &target.authority)?,
            headers: headers.clone(),
            body,
        };
        match client.attempt(attempt).await {
            Ok(resp) => return Ok(super::backend_head::into_gateway(resp)),
            Err(Attempt::Unreachable(e)) => {
                target.mark_down();
                last = e;
            }
            Err(Attempt::Failed(e)) => return Err(e),
        }
    }
    Err(last)
}
