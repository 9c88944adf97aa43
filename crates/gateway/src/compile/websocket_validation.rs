//! A WebSocket route's request checks, compiled with the deployment: its request models
//! chosen by the model selection expression (websocket.md §3; AWS's "Request validation
//! for WebSocket APIs": the expression's value is a `requestModels` key, `$default` the
//! fallback, no model at all a failed validation) and, on `$connect`, the route request
//! parameters marked `required`.

use std::collections::HashMap;

use tollgate_model::selection::Expression;
use tollgate_model::v2::{Definition, Route, DEFAULT};

use super::validation::{ModelCompiler, ModelSchema, ParameterLocation, RequestValidation};

/// How a route's message bodies are validated.
#[derive(Debug)]
pub struct WsBodyValidation {
    /// `modelSelectionExpression`; without one the `$default` model is the only one used.
    pub selection: Option<Expression>,
    /// By `requestModels` key.
    pub models: HashMap<Box<str>, ModelSchema>,
}

impl WsBodyValidation {
    /// The model a selected key names: that key's, else `$default`'s; `None` fails the
    /// validation.
    pub fn model(&self, key: &str) -> Option<&ModelSchema> {
        self.models.get(key).or_else(|| self.models.get(DEFAULT))
    }
}

/// The API's models by name, compiled on first use.
pub(crate) fn model_compiler(def: &Definition) -> ModelCompiler {
    let models = def
        .models
        .values()
        .map(|m| (m.name.as_str(), m.schema.as_str()));
    ModelCompiler::of(&def.api.api_id, models)
}

/// The route's body validation: none without request models, or without a selection
/// expression and a `$default` model (AWS validates when the route says how to pick a
/// model). A model name the API does not hold validates as a schema that cannot compile
/// (the message answers an internal error), never as a pass.
pub(crate) fn body_validation(r: &Route, models: &mut ModelCompiler) -> Option<WsBodyValidation> {
    if r.request_models.is_empty() {
        return None;
    }
    let selection = match r.model_selection_expression.as_deref() {
        Some(e) => Some(Expression::parse(e).ok()?),
        None if r.request_models.contains_key(DEFAULT) => None,
        None => return None,
    };
    let models = r
        .request_models
        .iter()
        .map(|(key, name)| (key.as_str().into(), models.schema(name)))
        .collect();
    Some(WsBodyValidation { selection, models })
}

/// The route's `requestParameters` marked `required` (`route.request.header.X`,
/// `route.request.querystring.X`), in the order of their whole key; `None` without any.
pub(crate) fn parameter_validation(r: &Route) -> Option<RequestValidation> {
    let required: Vec<(ParameterLocation, Box<str>)> = r
        .request_parameters
        .iter()
        .filter(|(_, c)| c.required)
        .filter_map(|(key, _)| {
            let rest = key.strip_prefix("route.request.")?;
            let (loc, name) = rest.split_once('.')?;
            let loc = match loc {
                "header" => ParameterLocation::Header,
                "querystring" => ParameterLocation::Query,
                _ => return None,
            };
            (!name.is_empty()).then(|| (loc, name.into()))
        })
        .collect();
    (!required.is_empty()).then(|| RequestValidation {
        required,
        models: Vec::new(),
    })
}
