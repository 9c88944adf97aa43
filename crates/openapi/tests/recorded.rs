//! The recorded AWS cases (shared/aws-recorded: test_apigateway_import and the export
//! entries of test_apigateway_extended) replayed on the layer: what the import creates
//! and what the export writes.

mod common;

use serde_json::{json, Value};
use tollgate_model::{AuthorizationType, AuthorizerType, IntegrationType, RestApiDefinition};
use tollgate_openapi::document::Flavor;
use tollgate_openapi::rest::{self, BasePath, ExportOptions, Extensions, ImportOptions, Mode};

fn fixture(name: &str) -> Vec<u8> {
    std::fs::read(format!(
        "{}/tests/fixtures/{name}",
        env!("CARGO_MANIFEST_DIR")
    ))
    .unwrap()
}

fn import(name: &str, basepath: BasePath) -> (RestApiDefinition, Vec<String>) {
    let i = rest::read(&fixture(name), ImportOptions { basepath }).unwrap();
    let mut def = common::rest_definition("apiid");
    rest::apply(&mut def, &i, Mode::Overwrite).unwrap();
    (def, i.warnings)
}

fn method<'a>(def: &'a RestApiDefinition, path: &str, verb: &str) -> &'a tollgate_model::Method {
    let r = def.resources.values().find(|r| r.path == path).unwrap();
    &r.resource_methods[verb]
}

#[test]
fn petstore_swagger_as_recorded() {
    let (def, warnings) = import("petstore-authorizer.swagger.json", BasePath::Ignore);
    assert!(warnings.is_empty());
    assert_eq!(def.api.name, "PetStore");
    assert_eq!(def.api.version.as_deref(), Some("1.0"));
    let mut paths: Vec<&str> = def.resources.values().map(|r| r.path.as_str()).collect();
    paths.sort();
    assert_eq!(paths, ["/", "/pets", "/pets/{petId}"]);
    // Models: exactly the document's (no default Empty/Error), refs as model URLs.
    let names: Vec<&String> = def.models.keys().collect();
    assert_eq!(
        names,
        [
            "Empty",
            "NewPet",
            "NewPetResponse",
            "Pet",
            "PetType",
            "Pets"
        ]
    );
    let pets: Value = serde_json::from_str(def.models["Pets"].schema.as_deref().unwrap()).unwrap();
    assert_eq!(
        pets,
        json!({"type": "array", "items": {"$ref": "https://apigateway.amazonaws.com/restapis/apiid/models/Pet"}})
    );
    // Authorizers: both schemes, the TOKEN identity source from the scheme's header.
    assert_eq!(def.authorizers.len(), 2);
    let used = def
        .authorizers
        .values()
        .find(|a| a.name == "test-authorizer")
        .unwrap();
    assert_eq!(used.authorizer_type, AuthorizerType::Token);
    assert_eq!(used.auth_type.as_deref(), Some("oauth2"));
    assert_eq!(
        used.identity_source.as_deref(),
        Some("method.request.header.Authorization")
    );
    assert_eq!(used.authorizer_result_ttl_in_seconds, Some(60));
    let root_get = method(&def, "/", "GET");
    assert_eq!(root_get.authorization_type, AuthorizationType::Custom);
    assert_eq!(root_get.authorizer_id.as_deref(), Some(used.id.as_str()));
    // method-pets-get, as recorded
    let pets_get = method(&def, "/pets", "GET");
    let got = serde_json::to_value(pets_get).unwrap();
    let pets_id = def
        .resources
        .values()
        .find(|r| r.path == "/pets")
        .unwrap()
        .id
        .clone();
    assert_eq!(
        got["requestParameters"],
        json!({"method.request.querystring.page": false, "method.request.querystring.type": false})
    );
    assert_eq!(
        got["methodResponses"],
        json!({"200": {"responseModels": {"application/json": "Pets"}, "responseParameters": {"method.response.header.Access-Control-Allow-Origin": false}, "statusCode": "200"}})
    );
    assert_eq!(
        got["methodIntegration"],
        json!({
            "cacheKeyParameters": [], "cacheNamespace": pets_id, "connectionType": "INTERNET", "httpMethod": "GET",
            "integrationResponses": {"200": {"responseParameters": {"method.response.header.Access-Control-Allow-Origin": "'*'"}, "statusCode": "200"}},
            "passthroughBehavior": "WHEN_NO_MATCH",
            "requestParameters": {"integration.request.querystring.page": "method.request.querystring.page", "integration.request.querystring.type": "method.request.querystring.type"},
            "timeoutInMillis": 29000, "type": "HTTP", "uri": "http://petstore.execute-api.eu-west-1.amazonaws.com/petstore/pets"
        })
    );
    // method-pets-post: the body parameter's model, the operation name, no authorizer.
    let post = method(&def, "/pets", "POST");
    assert_eq!(post.operation_name.as_deref(), Some("CreatePet"));
    assert_eq!(post.request_models["application/json"], "NewPet");
    assert_eq!(post.authorization_type, AuthorizationType::None);
    // method-root-get: a response without schema has no models.
    assert_eq!(root_get.method_responses["200"].response_models, None);
    let mock = root_get.method_integration.as_ref().unwrap();
    assert_eq!(mock.integration_type, IntegrationType::Mock);
    assert_eq!(mock.connection_type, None);
}

#[test]
fn base_paths_as_recorded() {
    let cases = [
        (BasePath::Ignore, vec!["/", "/test"]),
        (
            BasePath::Prepend,
            vec!["/", "/base-url", "/base-url/part", "/base-url/part/test"],
        ),
        (BasePath::Split, vec!["/", "/part", "/part/test"]),
    ];
    for (mode, expected) in cases {
        let (def, warnings) = import("openapi-basepath-url.yaml", mode);
        let mut paths: Vec<&str> = def.resources.values().map(|r| r.path.as_str()).collect();
        paths.sort();
        assert_eq!(paths, expected);
        let leaf = expected.last().unwrap();
        assert_eq!(warnings, [format!(
            "Invalid format for 'requestParameters'. Expected type string for property 'integration.request.header.nothing' of resource '{leaf}' and method 'GET' but got 'true'"
        )]);
    }
}

#[test]
fn circular_models_and_validator_as_recorded() {
    let (def, _) = import(
        "openapi.spec.circular-ref-with-request-body.json",
        BasePath::Ignore,
    );
    assert_eq!(def.api.name, "Circular model reference");
    let v: Vec<_> = def.request_validators.values().collect();
    assert_eq!(v.len(), 1);
    assert_eq!(v[0].name.as_deref(), Some("basic"));
    assert!(v[0].validate_request_body && v[0].validate_request_parameters);
    let post = method(&def, "/person", "POST");
    assert_eq!(post.request_validator_id.as_deref(), Some(v[0].id.as_str()));
    assert_eq!(post.request_models["application/json"], "Person");
    assert_eq!(
        def.models["House"].description.as_deref(),
        Some("Where a Person can live")
    );
    let person: Value =
        serde_json::from_str(def.models["Person"].schema.as_deref().unwrap()).unwrap();
    assert_eq!(
        person["properties"]["house"]["$ref"],
        "https://apigateway.amazonaws.com/restapis/apiid/models/House"
    );
}

#[test]
fn put_merge_and_overwrite_binary_media_types_as_recorded() {
    let doc = br#"{"swagger": "2.0", "info": {"title": "t2", "version": "1.0.0"}, "paths": {},
                   "x-amazon-apigateway-binary-media-types": ["image/png", "image/jpg"]}"#;
    let i = rest::read(doc, ImportOptions::default()).unwrap();
    for (mode, expected) in [
        (Mode::Merge, vec!["image/heif", "image/png", "image/jpg"]),
        (Mode::Overwrite, vec!["image/png", "image/jpg"]),
    ] {
        let mut def = common::rest_definition("apiid");
        def.api.binary_media_types = vec!["image/heif".into()];
        rest::apply(&mut def, &i, mode).unwrap();
        assert_eq!(def.api.binary_media_types, expected);
        assert_eq!(def.api.name, "t2");
        assert_eq!(def.api.version.as_deref(), Some("1.0.0"));
    }
}

fn export(def: &RestApiDefinition, flavor: Flavor, extensions: Extensions) -> Value {
    rest::export(
        def,
        &ExportOptions {
            flavor,
            api_id: "apiid",
            region: "us-east-1",
            stage: "local",
            version: "1.0.0",
            extensions,
        },
    )
}

#[test]
fn pets_export_as_recorded() {
    let (def, _) = import("pets.json", BasePath::Ignore);
    let plain = export(&def, Flavor::Swagger2, Extensions::default());
    assert_eq!(
        plain,
        json!({
            "swagger": "2.0",
            "info": {"version": "1.0.0", "title": "Simple PetStore (Swagger)"},
            "host": "apiid.execute-api.us-east-1.amazonaws.com",
            "basePath": "/local",
            "schemes": ["https"],
            "paths": {
                "/pets": {"get": {"responses": {"200": {"description": "200 response"}}}},
                "/pets/{petId}": {"get": {
                    "parameters": [{"name": "petId", "in": "path", "required": true, "type": "string"}],
                    "responses": {"200": {"description": "200 response"}}}}
            }
        })
    );
    let apigw = Extensions {
        apigateway: true,
        ..Extensions::default()
    };
    let with = export(&def, Flavor::Swagger2, apigw);
    assert_eq!(
        with["paths"]["/pets/{petId}"]["get"]["x-amazon-apigateway-integration"],
        json!({
            "type": "http", "httpMethod": "GET",
            "uri": "http://petstore-demo-endpoint.execute-api.com/petstore/pets/{id}",
            "responses": {"default": {"statusCode": "200"}},
            "requestParameters": {"integration.request.path.id": "method.request.path.petId"},
            "passthroughBehavior": "when_no_match"
        })
    );
    let oas = export(&def, Flavor::Oas3, Extensions::default());
    assert_eq!(
        oas["servers"],
        json!([{
            "url": "https://apiid.execute-api.us-east-1.amazonaws.com/{basePath}",
            "variables": {"basePath": {"default": "local"}}
        }])
    );
    assert_eq!(
        oas["paths"]["/pets/{petId}"]["get"]["parameters"],
        json!([{"name": "petId", "in": "path", "required": true, "schema": {"type": "string"}}])
    );
}

#[test]
fn petstore_export_as_recorded() {
    let (def, _) = import("petstore-authorizer.swagger.json", BasePath::Ignore);
    let doc = export(&def, Flavor::Swagger2, Extensions::default());
    assert_eq!(
        doc["paths"]["/"]["get"]["consumes"],
        json!(["application/json"])
    );
    assert_eq!(doc["paths"]["/"]["get"]["produces"], json!(["text/html"]));
    assert_eq!(
        doc["paths"]["/pets"]["post"]["parameters"],
        json!([
            {"in": "body", "name": "NewPet", "required": true, "schema": {"$ref": "#/definitions/NewPet"}}
        ])
    );
    assert_eq!(
        doc["definitions"]["Pets"],
        json!({"type": "array", "items": {"$ref": "#/definitions/Pet"}})
    );
    let oas = export(&def, Flavor::Oas3, Extensions::default());
    assert_eq!(
        oas["paths"]["/"]["get"]["responses"]["200"],
        json!({
            "description": "200 response",
            "headers": {"Content-Type": {"schema": {"type": "string"}}},
            "content": {}
        })
    );
    assert_eq!(
        oas["paths"]["/pets"]["post"]["requestBody"],
        json!({
            "content": {"application/json": {"schema": {"$ref": "#/components/schemas/NewPet"}}},
            "required": true
        })
    );
    // Without extensions there is no x-amazon-apigateway-* key anywhere.
    assert!(!serde_json::to_string(&oas)
        .unwrap()
        .contains("x-amazon-apigateway-"));
}

#[test]
fn broken_documents_are_invalid_openapi_input() {
    for doc in [
        &b"{\"swagger\": \"2.0\", "[..],
        b"openapi: 3.0.1\npaths: [",
        b"hello",
        b"{\"info\": {}}",
    ] {
        let e = rest::read(doc, ImportOptions::default()).unwrap_err();
        assert_eq!(e.to_string(), "Invalid OpenAPI input.");
    }
}

#[test]
fn http_only_extensions_warn() {
    let doc = br#"{"openapi": "3.0.1", "info": {"title": "t", "version": "1"}, "paths": {},
                   "x-amazon-apigateway-cors": {"allowOrigins": ["*"]}}"#;
    let i = rest::read(doc, ImportOptions::default()).unwrap();
    assert_eq!(
        i.warnings,
        ["Ignoring x-amazon-apigateway-cors: it applies to HTTP APIs only"]
    );
    let doc = br#"{"openapi": "3.0.1", "info": {"title": "t", "version": "1"}, "paths": {},
                   "tags": [{"name": "a", "x-amazon-apigateway-tag-value": "b"}],
                   "components": {"x-amazon-apigateway-integrations": {}}}"#;
    let i = rest::read(doc, ImportOptions::default()).unwrap();
    assert_eq!(
        i.warnings,
        [
            "Ignoring x-amazon-apigateway-tag-value: it applies to HTTP APIs only",
            "Ignoring x-amazon-apigateway-integrations: it applies to HTTP APIs only",
        ]
    );
}

fn import_text(text: &str) -> RestApiDefinition {
    let i = rest::read(text.as_bytes(), ImportOptions::default()).unwrap();
    assert!(i.warnings.is_empty(), "{:?}", i.warnings);
    let mut def = common::rest_definition("apiid");
    rest::apply(&mut def, &i, Mode::Overwrite).unwrap();
    def
}

/// test_import_with_global_api_key_authorizer: the root `security` applies to every
/// method, a REQUEST authorizer keeps its TTL, and a path variable nobody declared is a
/// required path parameter.
#[test]
fn global_authorizer_as_recorded() {
    let text = String::from_utf8(fixture("openapi.spec.global-auth.json")).unwrap().replace(
        "${authorizer_lambda_invocation_arn}",
        "arn:aws:apigateway:us-east-1:lambda:path/2015-03-31/functions/arn:aws:lambda:us-east-1:000000000000:function:auth/invocations",
    );
    let def = import_text(&text);
    assert_eq!(
        def.api.api_key_source,
        tollgate_model::ApiKeySourceType::Authorizer
    );
    let a: Vec<_> = def.authorizers.values().collect();
    assert_eq!(
        serde_json::to_value(a[0]).unwrap(),
        json!({"authType": "custom", "authorizerResultTtlInSeconds": 300, "id": a[0].id,
               "authorizerUri": "arn:aws:apigateway:us-east-1:lambda:path/2015-03-31/functions/arn:aws:lambda:us-east-1:000000000000:function:auth/invocations",
               "identitySource": "method.request.header.Custom-Authorization",
               "name": "GatewayAuthorizer", "type": "REQUEST"})
    );
    let echo = serde_json::to_value(method(&def, "/echo/{data}", "ANY")).unwrap();
    let echo_id = def
        .resources
        .values()
        .find(|r| r.path == "/echo/{data}")
        .unwrap()
        .id
        .clone();
    assert_eq!(
        echo,
        json!({
            "apiKeyRequired": false, "authorizationType": "CUSTOM", "authorizerId": a[0].id, "httpMethod": "ANY",
            "methodIntegration": {"cacheKeyParameters": [], "cacheNamespace": echo_id,
                "integrationResponses": {"200": {"responseTemplates": {"application/json": "{\"echo\": \"$input.params('data')\", \"response\": \"mocked\"}"}, "statusCode": "200"}},
                "passthroughBehavior": "WHEN_NO_TEMPLATES", "requestTemplates": {"application/json": "{\"statusCode\": 200}"},
                "timeoutInMillis": 29000, "type": "MOCK"},
            "methodResponses": {"200": {"responseModels": {"application/json": "Empty"}, "statusCode": "200"}},
            "requestParameters": {"method.request.path.data": true}
        })
    );
    let pets = serde_json::to_value(method(&def, "/pets", "GET")).unwrap();
    assert_eq!(
        pets["methodResponses"],
        json!({"200": {"statusCode": "200"}})
    );
    assert_eq!(pets["methodIntegration"]["connectionType"], "INTERNET");
}

/// test_import_with_cognito_auth_identity_source: Cognito authorizers take the scheme's
/// header, the requirement's scopes (the document's default requirement where the
/// operation has none), and no TTL.
#[test]
fn cognito_authorizers_as_recorded() {
    let text = String::from_utf8(fixture("openapi.cognito-auth.json"))
        .unwrap()
        .replace(
            "${cognito_pool_arn}",
            "arn:aws:cognito-idp:us-east-1:111111111111:userpool/us-east-1_ABC123",
        );
    let def = import_text(&text);
    let by_name = |n: &str| def.authorizers.values().find(|a| a.name == n).unwrap();
    let first = by_name("cognito-test-identity-source");
    assert_eq!(first.authorizer_type, AuthorizerType::CognitoUserPools);
    assert_eq!(
        first.provider_arns,
        Some(vec![
            "arn:aws:cognito-idp:us-east-1:111111111111:userpool/us-east-1_ABC123".to_string()
        ])
    );
    assert_eq!(first.auth_type.as_deref(), Some("cognito_user_pools"));
    assert_eq!(
        first.identity_source.as_deref(),
        Some("method.request.header.TestHeaderAuth")
    );
    assert_eq!(first.authorizer_result_ttl_in_seconds, None);
    let scopes = |path: &str| method(&def, path, "GET").authorization_scopes.clone();
    assert_eq!(scopes("/default-no-scope"), None);
    assert_eq!(
        scopes("/default-scope-override"),
        Some(vec!["openid".into()])
    );
    assert_eq!(
        scopes("/non-default-authorizer"),
        Some(vec!["email".into(), "openid".into()])
    );
    assert_eq!(scopes("/pets"), Some(vec!["email".into()]));
    let second = by_name("extra-test-identity-source");
    assert_eq!(
        method(&def, "/non-default-authorizer", "GET")
            .authorizer_id
            .as_deref(),
        Some(second.id.as_str())
    );
    let pets = serde_json::to_value(method(&def, "/pets", "GET")).unwrap();
    assert_eq!(pets["operationName"], "GET HTTP");
    assert_eq!(pets["authorizationType"], "COGNITO_USER_POOLS");
    assert_eq!(pets["methodIntegration"]["type"], "HTTP_PROXY");
    assert_eq!(pets["methodIntegration"]["connectionType"], "INTERNET");
    assert!(pets["methodIntegration"]
        .get("integrationResponses")
        .is_none());
    assert_eq!(
        pets["methodResponses"]["200"]["responseModels"],
        json!({"application/json": "Pets"})
    );
}

/// test_import_with_http_method_integration: an AWS integration has no connection type.
#[test]
fn aws_integration_has_no_connection_type() {
    let def = import_text(
        r#"{"openapi": "3.0.1", "info": {"title": "t", "version": "1"}, "paths": {"/": {"get": {
        "responses": {"200": {"description": "ok"}},
        "x-amazon-apigateway-integration": {"type": "aws", "httpMethod": "POST", "contentHandling": "CONVERT_TO_TEXT",
          "uri": "arn:aws:apigateway:us-east-1:lambda:path/2015-03-31/functions/arn:aws:lambda:us-east-1:000000000000:function:f/invocations",
          "passthroughBehavior": "when_no_templates", "responses": {"default": {"statusCode": "200"}}}}}}}"#,
    );
    let i = serde_json::to_value(method(&def, "/", "GET")).unwrap()["methodIntegration"].clone();
    assert!(i.get("connectionType").is_none(), "{i}");
    assert_eq!(i["contentHandling"], "CONVERT_TO_TEXT");
    assert_eq!(i["passthroughBehavior"], "WHEN_NO_TEMPLATES");
}
