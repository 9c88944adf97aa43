//! Gateway responses, resolved once per deployment for every response type.

use std::sync::Arc;

use http::header::HeaderName;
use tollgate_model::{GatewayResponseType, RestApiDefinition};

use super::expression::Source;
use super::template::{CompiledTemplate, MappingTemplate};
use crate::response_case::ResponseSpellings;

/// A gateway response with the resolution order already applied.
#[derive(Debug, Clone)]
pub struct CompiledGatewayResponse {
    pub status: u16,
    /// Header values: literals, stage variables, `$context` and the client's headers and
    /// query string; any other source gives an empty value.
    pub headers: Vec<(HeaderName, Source)>,
    /// (content type, template), sorted by content type; rendered by the VTL engine.
    pub templates: Vec<(String, MappingTemplate)>,
    /// The API customised this type or its family (else AWS's default is answered).
    pub customised: bool,
    /// The mapped header names as the API spells them (HTTP/1.1 writes them so).
    pub spellings: Option<ResponseSpellings>,
}

/// Applies AWS's resolution order: the type's own customisation, else the DEFAULT_4XX /
/// DEFAULT_5XX customisation of its family, else the built-in default.
pub(crate) fn compile_gateway_response(
    def: &RestApiDefinition,
    t: GatewayResponseType,
) -> CompiledGatewayResponse {
    let default_status = t
        .default_status()
        .unwrap_or(if t == GatewayResponseType::Default5xx {
            500
        } else {
            400
        });
    let customised = def.gateway_responses.contains_key(t.as_str())
        || t.family()
            .is_some_and(|f| def.gateway_responses.contains_key(f.as_str()));
    let chosen = t.effective(&def.gateway_responses);
    let status = chosen
        .status_code
        .as_deref()
        .and_then(|s| s.parse().ok())
        .unwrap_or(default_status);
    let spellings = ResponseSpellings::of(
        chosen
            .response_parameters
            .keys()
            .filter_map(|k| k.strip_prefix("gatewayresponse.header.")),
    );
    let headers = chosen
        .response_parameters
        .iter()
        .filter_map(|(k, v)| {
            let name = k.strip_prefix("gatewayresponse.header.")?;
            let h = HeaderName::from_bytes(name.as_bytes()).ok()?;
            let source = match Source::parse(v) {
                Some(
                    s @ (Source::Literal(_)
                    | Source::StageVariable(_)
                    | Source::Context(_)
                    | Source::Header(_)
                    | Source::Query(_)),
                ) => s,
                _ => Source::Literal(String::new()),
            };
            Some((h, source))
        })
        .collect();
    let templates = chosen
        .response_templates
        .iter()
        .map(|(ct, tpl)| {
            // A template that does not parse is answered as its text (AWS refuses it when
            // it is saved; stored ones from before must not break every error response).
            let t = CompiledTemplate::parse(tpl).unwrap_or_else(|e| {
                tracing::warn!(error = %e, "gateway response template does not parse; sent as text");
                CompiledTemplate::text(tpl)
            });
            (ct.clone(), Arc::new(t))
        })
        .collect();
    CompiledGatewayResponse {
        status,
        headers,
        templates,
        customised,
        spellings,
    }
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeMap;

    use tollgate_model::GatewayResponse;

    use super::*;
    use crate::compile::gateway_response_tests::empty_api;

    #[test]
    fn header_sources_are_mapping_expressions() {
        let mut def = empty_api("api");
        let params = [
            ("a", "'lit'"),
            ("b", "context.requestId"),
            ("c", "stageVariables.v"),
            ("d", "method.request.header.x-h"),
            ("e", "method.request.querystring.q"),
            // Sources a gateway response cannot read give an empty value.
            ("f", "method.request.path.p"),
            ("g", "integration.response.body"),
            ("h", "nonsense"),
        ];
        def.gateway_responses.insert(
            "DEFAULT_4XX".into(),
            GatewayResponse {
                response_type: GatewayResponseType::Default4xx,
                status_code: None,
                response_parameters: params
                    .iter()
                    .map(|(k, v)| (format!("gatewayresponse.header.{k}"), v.to_string()))
                    .collect(),
                response_templates: BTreeMap::new(),
                default_response: false,
            },
        );
        let gr = compile_gateway_response(&def, GatewayResponseType::Default4xx);
        let empty = Source::Literal(String::new());
        let got: Vec<(&str, &Source)> = gr.headers.iter().map(|(h, s)| (h.as_str(), s)).collect();
        assert_eq!(
            got,
            vec![
                ("a", &Source::Literal("lit".into())),
                ("b", &Source::Context("requestId".into())),
                ("c", &Source::StageVariable("v".into())),
                ("d", &Source::Header("x-h".into())),
                ("e", &Source::Query("q".into())),
                ("f", &empty),
                ("g", &empty),
                ("h", &empty),
            ]
        );
    }
}
