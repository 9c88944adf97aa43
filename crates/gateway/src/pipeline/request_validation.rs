//! Request validation phase: for a method with a request validator, the required method
//! request parameters must be present and not blank (BAD_REQUEST_PARAMETERS), then the body
//! must match the request model chosen by Content-Type (BAD_REQUEST_BODY). Schemas were
//! compiled with the deployment (`compile.rs`); nothing here parses a schema.
//!
//! `$context.error.validationErrorString` gets the body's schema violations in the wording
//! of the Java validator API Gateway runs (json-schema-validator), as a bracketed list:
//! `[object has missing required properties (["a","b"])]`.

use std::collections::HashMap;

use jsonschema::error::{TypeKind, ValidationErrorKind as K};
use jsonschema::ValidationError;
use serde_json::Value;
use tollgate_model::GatewayResponseType as T;

use super::method_request::Params;
use crate::compile::{ModelSchema, ParameterLocation, RequestValidation};
use crate::error::GatewayError;

/// `Missing required request parameters: [a, b]`, names in the order the validation
/// lists them; a parameter that is present but empty counts as missing ("not blank").
pub fn check_parameters(v: &RequestValidation, params: &Params<'_>) -> Result<(), GatewayError> {
    let missing: Vec<&str> = v
        .required
        .iter()
        .filter(|(loc, name)| {
            let value = match loc {
                ParameterLocation::Path => params.path(name),
                ParameterLocation::Query => params.query(name),
                ParameterLocation::Header => params.header(name),
            };
            value.is_none_or(|v| v.trim().is_empty())
        })
        .map(|(_, name)| &**name)
        .collect();
    if missing.is_empty() {
        return Ok(());
    }
    Err(GatewayError::new(
        T::BadRequestParameters,
        format!(
            "Missing required request parameters: [{}]",
            missing.join(", ")
        ),
    ))
}

/// The model for the request's Content-Type (absent means `application/json`), else the
/// `$default` model; `None` when neither exists: AWS then does not validate the body.
pub fn body_model<'v>(
    v: &'v RequestValidation,
    content_type: Option<&str>,
) -> Option<&'v ModelSchema> {
    let wanted = crate::mapping::media_type(content_type);
    let find = |key: &str| {
        v.models
            .iter()
            .find(|(ct, _)| ct.eq_ignore_ascii_case(key))
            .map(|(_, m)| m)
    };
    find(&wanted).or_else(|| find("$default"))
}

fn invalid_body(details: String) -> GatewayError {
    GatewayError::new(T::BadRequestBody, "Invalid request body").with_validation_error(details)
}

/// Validates the body against the chosen model. An empty body is validated as `{}`; a body
/// that is not JSON fails. A model that could not be compiled answers 500 (as a method that
/// cannot be compiled does), never a silent pass.
pub fn check_body(model: &ModelSchema, body: &[u8]) -> Result<(), GatewayError> {
    let schema = model.as_ref().map_err(|_| GatewayError::internal())?;
    let instance: Value = if body.iter().all(u8::is_ascii_whitespace) {
        Value::Object(Default::default())
    } else {
        serde_json::from_slice(body)
            .map_err(|e| invalid_body(format!("[Invalid JSON in request body: {e}]")))?
    };
    if schema.is_valid(&instance) {
        return Ok(());
    }
    // The validator collects every violation before handing out the first (hundreds of
    // bytes each): a large body lists only the first one it finds.
    let listed = if values_at_most(&instance, MAX_VALUES_FOR_FULL_LIST) {
        messages(schema.iter_errors(&instance))
    } else {
        messages(schema.validate(&instance).err().into_iter())
    };
    Err(invalid_body(format!("[{}]", listed.join(", "))))
}

/// Bodies with more JSON values than this report their first violation only.
const MAX_VALUES_FOR_FULL_LIST: usize = 10_000;

/// Whether `v` holds at most `budget` JSON values (itself included); stops counting early.
fn values_at_most(v: &Value, budget: usize) -> bool {
    let mut left = budget;
    let mut pending = vec![v];
    while let Some(v) = pending.pop() {
        let Some(rest) = left.checked_sub(1) else {
            return false;
        };
        left = rest;
        match v {
            Value::Array(a) => pending.extend(a),
            Value::Object(o) => pending.extend(o.values()),
            _ => {}
        }
    }
    true
}

/// At most this many violations are reported (AWS's list is bounded too); the rest of a
/// huge body's violations are not even formatted.
const MAX_VIOLATIONS: usize = 100;

/// One message per violation; the `required` violations of one object are one message
/// listing every missing property, as the Java validator reports them.
fn messages<'i>(errors: impl Iterator<Item = ValidationError<'i>>) -> Vec<String> {
    let mut out: Vec<String> = Vec::new();
    // Each object's required message: instance path -> (index in `out`, missing names).
    let mut required: HashMap<String, (usize, Vec<String>)> = HashMap::new();
    for e in errors {
        if let K::Required { property } = e.kind() {
            let path = e.instance_path().as_str();
            let name = property
                .as_str()
                .map_or_else(|| property.to_string(), str::to_string);
            if let Some((_, names)) = required.get_mut(path) {
                names.push(name);
                continue;
            }
            if out.len() == MAX_VIOLATIONS {
                break;
            }
            required.insert(path.to_string(), (out.len(), vec![name]));
            out.push(String::new());
            continue;
        }
        if out.len() == MAX_VIOLATIONS {
            break;
        }
        out.push(message(e.kind(), e.instance()));
    }
    for (at, mut names) in required.into_values() {
        names.sort();
        out[at] = format!(
            "object has missing required properties ({})",
            json_list(&names)
        );
    }
    out
}

/// `["a","b"]`: names as a compact JSON array.
fn json_list(names: &[String]) -> String {
    serde_json::to_string(names).unwrap_or_default()
}

/// The Java validator's type name of a value (`integer` for integral numbers).
fn type_name(v: &Value) -> &'static str {
    match v {
        Value::Null => "null",
        Value::Bool(_) => "boolean",
        Value::Number(n) if n.is_i64() || n.is_u64() => "integer",
        Value::Number(_) => "number",
        Value::String(_) => "string",
        Value::Array(_) => "array",
        Value::Object(_) => "object",
    }
}

fn message(kind: &K, instance: &Value) -> String {
    let v = instance.to_string();
    let len = |i: &Value| match i {
        Value::Array(a) => a.len(),
        Value::Object(o) => o.len(),
        Value::String(s) => s.chars().count(),
        _ => 0,
    };
    match kind {
        K::Type { kind } => {
            let mut allowed: Vec<String> = match kind {
                TypeKind::Single(t) => vec![t.to_string()],
                TypeKind::Multiple(set) => set.iter().map(|t| t.to_string()).collect(),
            };
            allowed.sort();
            format!(
                "instance type ({}) does not match any allowed primitive type (allowed: {})",
                type_name(instance),
                json_list(&allowed)
            )
        }
        K::Enum { options } => {
            format!("instance value ({v}) not found in enum (possible values: {options})")
        }
        K::Constant { expected_value } => {
            format!("instance value ({v}) not found in enum (possible values: [{expected_value}])")
        }
        K::Minimum { limit } => format!(
            "numeric instance is lower than the required minimum (minimum: {limit}, found: {v})"
        ),
        K::ExclusiveMinimum { limit } => {
            format!("numeric instance is not strictly greater than the required minimum {limit}")
        }
        K::Maximum { limit } => format!(
            "numeric instance is greater than the required maximum (maximum: {limit}, found: {v})"
        ),
        K::ExclusiveMaximum { limit } => {
            format!("numeric instance is not strictly lower than the required maximum {limit}")
        }
        K::MultipleOf { multiple_of } => {
            format!("remainder of division is not zero ({v} / {multiple_of})")
        }
        K::MinLength { limit } => format!(
            "string {v} is too short (length: {}, required minimum: {limit})",
            len(instance)
        ),
        K::MaxLength { limit } => format!(
            "string {v} is too long (length: {}, maximum allowed: {limit})",
            len(instance)
        ),
        K::Pattern { pattern } => {
            format!("ECMA 262 regex \"{pattern}\" does not match input string {v}")
        }
        K::Format { format } => match format.as_str() {
            "email" => format!("string {v} is not a valid email address"),
            "hostname" => format!("string {v} is not a valid hostname"),
            "ipv4" => format!("string {v} is not a valid IPv4 address"),
            "ipv6" => format!("string {v} is not a valid IPv6 address"),
            "uri" => format!("string {v} is not a valid URI"),
            "date-time" => format!(
                "string {v} is invalid against requested date format(s) [yyyy-MM-dd'T'HH:mm:ssZ, yyyy-MM-dd'T'HH:mm:ss.[0-9]{{1,12}}Z]"
            ),
            other => format!("string {v} is not a valid {other}"),
        },
        K::MinItems { limit } => format!(
            "array is too short: must have at least {limit} elements but instance has {} elements",
            len(instance)
        ),
        K::MaxItems { limit } => format!(
            "array is too long: must have at most {limit} elements but instance has {} elements",
            len(instance)
        ),
        K::AdditionalItems { limit } => format!(
            "array has too many elements (found {}, maximum allowed: {limit})",
            len(instance)
        ),
        K::UniqueItems => "array must not contain duplicate elements".into(),
        K::MinProperties { limit } => format!(
            "object has too few properties (found {} but schema requires at least {limit})",
            len(instance)
        ),
        K::MaxProperties { limit } => format!(
            "object has too many properties (found {} but schema requires at most {limit})",
            len(instance)
        ),
        K::AdditionalProperties { unexpected } => {
            let mut names = unexpected.clone();
            names.sort();
            format!(
                "object instance has properties which are not allowed by the schema: {}",
                json_list(&names)
            )
        }
        K::OneOfNotValid { context } => format!(
            "instance failed to match exactly one schema (matched 0 out of {})",
            context.len()
        ),
        K::OneOfMultipleValid { context } => format!(
            "instance failed to match exactly one schema (matched {} out of {})",
            context.iter().filter(|errors| errors.is_empty()).count(),
            context.len()
        ),
        K::AnyOf { context } => format!(
            "instance failed to match at least one required schema among {}",
            context.len()
        ),
        K::Not { .. } => "instance matched a schema which it should not have".into(),
        other => format!("instance failed the {} constraint", other.keyword()),
    }
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeMap;
    use std::sync::Arc;

    use http::HeaderMap;
    use tollgate_model::{Method, Model, RequestValidator, Resource, RestApiDefinition};

    use super::*;
    use crate::compile::compile;
    use crate::compile::gateway_response_tests::empty_api;

    const API: &str = "a1b2c3d4e5";

    fn model(def: &mut RestApiDefinition, name: &str, schema: Value) {
        def.models.insert(
            name.into(),
            Model {
                id: name.to_lowercase(),
                name: name.into(),
                description: None,
                schema: Some(schema.to_string()),
                content_type: "application/json".into(),
            },
        );
    }

    /// An API whose root `POST` has `validator` (body, params) and the given request models
    /// and parameters; returns its compiled validation.
    fn validation(
        checks: (bool, bool),
        models: &[(&str, &str)],
        params: &[(&str, bool)],
        extra: impl FnOnce(&mut RestApiDefinition),
    ) -> Option<Arc<crate::compile::CompiledMethod>> {
        let mut def = empty_api(API);
        extra(&mut def);
        def.request_validators.insert(
            "val123".into(),
            RequestValidator {
                id: "val123".into(),
                name: Some("all".into()),
                validate_request_body: checks.0,
                validate_request_parameters: checks.1,
            },
        );
        let method = Method {
            http_method: "POST".into(),
            authorization_type: tollgate_model::AuthorizationType::None,
            authorizer_id: None,
            api_key_required: false,
            request_validator_id: Some("val123".into()),
            operation_name: None,
            request_parameters: params.iter().map(|(k, r)| (k.to_string(), *r)).collect(),
            request_models: models
                .iter()
                .map(|(ct, m)| (ct.to_string(), m.to_string()))
                .collect(),
            authorization_scopes: None,
            method_responses: BTreeMap::new(),
            method_integration: None,
        };
        let root: &mut Resource = def.resources.get_mut("root").unwrap();
        root.resource_methods.insert("POST".into(), method);
        let compiled = compile(&def, "dep");
        let found = compiled.router.find("/", "POST")?;
        Some(found.method.clone())
    }

    fn pet_models(def: &mut RestApiDefinition) {
        model(
            def,
            "Pet",
            serde_json::json!({
                "$schema": "http://json-schema.org/draft-04/schema#",
                "type": "object",
                "required": ["name", "price"],
                "properties": {
                    "name": {"type": "string", "minLength": 2},
                    "price": {"type": "number", "minimum": 1},
                    "kind": {"enum": ["dog", "cat"]},
                    "owner": {"$ref": format!("https://apigateway.amazonaws.com/restapis/{API}/models/Person")}
                }
            }),
        );
        // Person and Pet refer to each other (AWS allows cycles between models).
        model(
            def,
            "Person",
            serde_json::json!({
                "type": "object",
                "required": ["email"],
                "properties": {
                    "email": {"type": "string"},
                    "pets": {"type": "array", "items": {"$ref": format!("https://apigateway.amazonaws.com/restapis/{API}/models/Pet")}}
                }
            }),
        );
    }

    /// The phase as the pipeline runs it: parameters, then the body if a model applies.
    fn check(
        v: &RequestValidation,
        params: &Params<'_>,
        content_type: Option<&str>,
        body: &[u8],
    ) -> Result<(), GatewayError> {
        check_parameters(v, params)?;
        body_model(v, content_type).map_or(Ok(()), |m| check_body(m, body))
    }

    fn params<'a>(
        path: &'a [(Arc<str>, String)],
        query: &'a [(String, String)],
        headers: &'a HeaderMap,
    ) -> Params<'a> {
        Params {
            path,
            query,
            headers,
        }
    }

    #[test]
    fn missing_parameters_are_listed_in_key_order() {
        let m = validation(
            (false, true),
            &[],
            &[
                ("method.request.querystring.qs1", true),
                ("method.request.path.issuer", true),
                ("method.request.header.x-header-param", true),
                ("method.request.querystring.optional", false),
            ],
            |_| {},
        )
        .unwrap();
        let v = m.validation.as_ref().unwrap();
        let headers = HeaderMap::new();
        let e = check_parameters(v, &params(&[], &[], &headers)).unwrap_err();
        assert_eq!(e.kind, T::BadRequestParameters);
        assert_eq!(
            e.message,
            "Missing required request parameters: [x-header-param, issuer, qs1]"
        );
        assert!(e.validation_error.is_none());

        let mut headers = HeaderMap::new();
        headers.insert("x-header-param", "yes".parse().unwrap());
        let path = [(Arc::<str>::from("issuer"), "me".to_string())];
        // Present but blank is missing.
        let blank = [("qs1".to_string(), " ".to_string())];
        let e = check_parameters(v, &params(&path, &blank, &headers)).unwrap_err();
        assert_eq!(e.message, "Missing required request parameters: [qs1]");
        let query = [("qs1".to_string(), "x".to_string())];
        assert!(check_parameters(v, &params(&path, &query, &headers)).is_ok());
    }

    #[test]
    fn a_validator_that_checks_nothing_compiles_to_none() {
        let m = validation(
            (false, false),
            &[("application/json", "Pet")],
            &[("method.request.header.h", true)],
            pet_models,
        )
        .unwrap();
        assert!(m.validation.is_none());
        // Parameters not required, no models: nothing to check either.
        let m = validation(
            (true, true),
            &[],
            &[("method.request.header.h", false)],
            |_| {},
        )
        .unwrap();
        assert!(m.validation.is_none());
    }

    #[test]
    fn body_model_follows_the_content_type() {
        let m = validation(
            (true, false),
            &[("application/json", "Pet"), ("text/plain", "Empty")],
            &[],
            pet_models,
        )
        .unwrap();
        let v = m.validation.as_ref().unwrap();
        let bad = br#"{"name": "x"}"#;
        // No Content-Type means application/json; parameters after ';' are ignored.
        assert!(check(v, &params(&[], &[], &HeaderMap::new()), None, bad).is_err());
        assert!(check(
            v,
            &params(&[], &[], &HeaderMap::new()),
            Some("Application/JSON; charset=utf-8"),
            bad
        )
        .is_err());
        // Another type with its own model uses that one; an unknown type is not validated.
        assert!(body_model(v, Some("text/plain")).is_some());
        assert!(body_model(v, Some("application/xml")).is_none());
        assert!(check(
            v,
            &params(&[], &[], &HeaderMap::new()),
            Some("application/xml"),
            b"<not json/>"
        )
        .is_ok());

        let m = validation((true, false), &[("$default", "Pet")], &[], pet_models).unwrap();
        let v = m.validation.as_ref().unwrap();
        assert!(body_model(v, Some("application/xml")).is_some());
    }

    #[test]
    fn violations_of_many_objects_are_grouped_per_object_and_bounded() {
        let schema = serde_json::json!({"type": "array", "items": {"type": "object", "required": ["a", "b"]}});
        let m = validation((true, false), &[("application/json", "Items")], &[], |d| {
            model(d, "Items", schema)
        })
        .unwrap();
        let model = body_model(m.validation.as_ref().unwrap(), None)
            .unwrap()
            .clone();
        let listed = |n: usize| {
            let body = format!("[{}]", vec![r#"{"c":1}"#; n].join(","));
            check_body(&model, body.as_bytes())
                .unwrap_err()
                .validation_error
                .unwrap()
        };
        let one = r#"object has missing required properties (["a","b"])"#;
        assert_eq!(listed(2), format!("[{one}, {one}]"));
        assert_eq!(listed(300).matches(one).count(), MAX_VIOLATIONS);
        // Past the budget only the first violation is found: its first missing property.
        assert_eq!(
            listed(MAX_VALUES_FOR_FULL_LIST),
            r#"[object has missing required properties (["a"])]"#
        );
    }

    #[test]
    fn body_errors_in_the_java_validators_words() {
        let m = validation(
            (true, false),
            &[("application/json", "Pet")],
            &[],
            pet_models,
        )
        .unwrap();
        let v = m.validation.as_ref().unwrap();
        let model = body_model(v, None).unwrap();
        let err = |body: &str| {
            let e = check_body(model, body.as_bytes()).unwrap_err();
            assert_eq!(e.kind, T::BadRequestBody);
            assert_eq!(e.message, "Invalid request body");
            e.validation_error.unwrap()
        };
        assert!(check_body(model, br#"{"name": "Rex", "price": 10, "kind": "dog"}"#).is_ok());
        assert_eq!(
            err("{}"),
            r#"[object has missing required properties (["name","price"])]"#
        );
        assert_eq!(
            err(""),
            r#"[object has missing required properties (["name","price"])]"#
        );
        assert_eq!(
            err(r#"{"name": "R", "price": "10", "kind": "bird"}"#),
            r#"[string "R" is too short (length: 1, required minimum: 2), instance type (string) does not match any allowed primitive type (allowed: ["number"]), instance value ("bird") not found in enum (possible values: ["dog","cat"])]"#
        );
        assert_eq!(
            err(r#"{"name": "Rex", "price": 0.5}"#),
            "[numeric instance is lower than the required minimum (minimum: 1, found: 0.5)]"
        );
        assert_eq!(
            err("[1]"),
            r#"[instance type (array) does not match any allowed primitive type (allowed: ["object"])]"#
        );
        let not_json = err("name=Rex");
        assert!(
            not_json.starts_with("[Invalid JSON in request body: "),
            "{not_json}"
        );
    }

    #[test]
    fn refs_resolve_to_the_apis_models_even_in_cycles() {
        let m = validation(
            (true, false),
            &[("application/json", "Pet")],
            &[],
            pet_models,
        )
        .unwrap();
        let model = body_model(m.validation.as_ref().unwrap(), None).unwrap();
        let ok = br#"{"name": "Rex", "price": 3, "owner": {"email": "a@b.c", "pets": [{"name": "Tom", "price": 2}]}}"#;
        assert!(check_body(model, ok).is_ok());
        let bad_owner = br#"{"name": "Rex", "price": 3, "owner": {"pets": [{"name": "Tom"}]}}"#;
        let e = check_body(model, bad_owner).unwrap_err();
        assert_eq!(
            e.validation_error.as_deref(),
            Some(
                r#"[object has missing required properties (["email"]), object has missing required properties (["price"])]"#
            )
        );
    }

    #[test]
    fn unusable_schemas_answer_500_not_a_pass() {
        // A reference to a model this API does not have, and a schema draft 4 refuses.
        let m = validation(
            (true, false),
            &[("application/json", "Broken"), ("text/plain", "Odd")],
            &[],
            |def| {
                model(
                    def,
                    "Broken",
                    serde_json::json!({"type": "object", "properties": {"x": {"$ref": "https://apigateway.amazonaws.com/restapis/other/models/Gone"}}}),
                );
                model(def, "Odd", serde_json::json!({"type": 12}));
            },
        )
        .unwrap();
        let v = m.validation.as_ref().unwrap();
        for ct in [None, Some("text/plain")] {
            let e = check_body(body_model(v, ct).unwrap(), b"{}").unwrap_err();
            assert_eq!(e.kind, T::ApiConfigurationError, "{ct:?}");
        }
    }
}
