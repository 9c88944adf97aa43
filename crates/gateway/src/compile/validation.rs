//! Request validators, compiled: the required parameters and the request models as JSON
//! Schema draft 4.

use std::sync::Arc;

use tollgate_model::{Method, RestApiDefinition};

use super::error::CompileError;

/// Where a required method request parameter must be present.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ParameterLocation {
    Path,
    Query,
    Header,
}

/// A request model's JSON Schema, compiled once per deployment and shared by every method
/// that uses the model; `Err` holds why the schema (or a model it refers to) cannot be used.
pub type ModelSchema = Result<Arc<jsonschema::Validator>, Arc<CompileError>>;

/// What the method's request validator checks, resolved at compile time.
#[derive(Debug, Default)]
pub struct RequestValidation {
    /// Required `method.request.*` parameters (when the validator checks parameters), in
    /// AWS's report order: sorted by the whole parameter key.
    pub required: Vec<(ParameterLocation, Box<str>)>,
    /// (content type as stored, schema) of the method's request models (when the
    /// validator checks bodies).
    pub models: Vec<(String, ModelSchema)>,
}

/// The checks of the method's request validator. A validator id the snapshot does not hold
/// (the control plane refuses to create one) validates nothing.
pub(crate) fn compile_validation(
    def: &RestApiDefinition,
    m: &Method,
    models: &mut ModelCompiler,
) -> Option<RequestValidation> {
    let v = def
        .request_validators
        .get(m.request_validator_id.as_deref()?)?;
    let mut out = RequestValidation::default();
    if v.validate_request_parameters {
        // BTreeMap order is the whole key's order, which is the order AWS lists them in.
        for (key, _) in m.request_parameters.iter().filter(|(_, req)| **req) {
            let Some((loc, name)) = tollgate_model::validate::method_request_parameter(key) else {
                continue;
            };
            let loc = match loc {
                "path" => ParameterLocation::Path,
                "querystring" | "multivaluequerystring" => ParameterLocation::Query,
                _ => ParameterLocation::Header,
            };
            out.required.push((loc, name.into()));
        }
    }
    if v.validate_request_body {
        out.models = m
            .request_models
            .iter()
            .map(|(ct, name)| (ct.clone(), models.schema(name)))
            .collect();
    }
    (!out.required.is_empty() || !out.models.is_empty()).then_some(out)
}

/// Compiles the API's models as JSON Schema draft 4, each at most once per deployment.
/// A `$ref` to `https://apigateway.amazonaws.com/restapis/{api}/models/{name}` (any host)
/// resolves to that model of this API, cycles included; nothing is ever fetched.
pub(crate) struct ModelCompiler {
    api_id: String,
    retriever: ApiModels,
    compiled: std::collections::HashMap<String, ModelSchema>,
}

/// The API's model schemas, parsed, for `$ref` resolution.
#[derive(Clone)]
struct ApiModels {
    api_id: Arc<str>,
    schemas: Arc<std::collections::HashMap<String, serde_json::Value>>,
}

impl ApiModels {
    /// The model a canonical model URI path (`/restapis/{api}/models/{name}`) names.
    fn lookup(&self, path: &str) -> Option<&serde_json::Value> {
        let rest = path.strip_prefix("/restapis/")?;
        let (api, name) = rest.split_once("/models/")?;
        (api == &*self.api_id).then(|| self.schemas.get(name))?
    }
}

impl jsonschema::Retrieve for ApiModels {
    fn retrieve(
        &self,
        uri: &jsonschema::Uri<String>,
    ) -> Result<serde_json::Value, Box<dyn std::error::Error + Send + Sync>> {
        self.lookup(uri.path().as_str())
            .cloned()
            .ok_or_else(|| format!("{uri} is not a model of this API").into())
    }
}

impl ModelCompiler {
    pub(crate) fn new(def: &RestApiDefinition) -> ModelCompiler {
        let models = def
            .models
            .iter()
            .filter_map(|(name, m)| Some((name.as_str(), m.schema.as_deref()?)));
        ModelCompiler::of(&def.api.id, models)
    }

    /// The compiler of an API's models given as (name, schema source); a schema that is
    /// not JSON is left out (a method that needs it answers 500).
    pub(crate) fn of<'a>(
        api_id: &str,
        models: impl Iterator<Item = (&'a str, &'a str)>,
    ) -> ModelCompiler {
        let schemas = models
            .filter_map(|(name, schema)| {
                Some((name.to_string(), serde_json::from_str(schema).ok()?))
            })
            .collect();
        ModelCompiler {
            api_id: api_id.to_string(),
            retriever: ApiModels {
                api_id: api_id.into(),
                schemas: Arc::new(schemas),
            },
            compiled: Default::default(),
        }
    }

    pub(crate) fn schema(&mut self, name: &str) -> ModelSchema {
        if let Some(done) = self.compiled.get(name) {
            return done.clone();
        }
        let result = self.build(name);
        if let Err(e) = &result {
            tracing::warn!(api = %self.api_id, model = name, error = %e, "model cannot validate request bodies; requests that need it answer 500");
        }
        self.compiled.insert(name.to_string(), result.clone());
        result
    }

    fn build(&self, name: &str) -> ModelSchema {
        let schema = self
            .retriever
            .schemas
            .get(name)
            .ok_or_else(|| Arc::new(CompileError::ModelWithoutSchema(name.into())))?;
        jsonschema::draft4::options()
            .with_base_uri(format!(
                "https://apigateway.amazonaws.com/restapis/{}/models/{name}",
                self.api_id
            ))
            .with_retriever(self.retriever.clone())
            .build(schema)
            .map(Arc::new)
            .map_err(|e| {
                Arc::new(CompileError::ModelSchema {
                    name: name.into(),
                    reason: e.to_string(),
                })
            })
    }
}
