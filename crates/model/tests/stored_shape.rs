//! The stored shape of every entity kind the store keeps a row for, pinned.
//!
//! The model types' serde is the STORED shape: rows written by an older Tollgate must read
//! back into the same values and write out the same bytes. Each fixture in `tests/stored/`
//! is one fully populated row (every optional member set, so a renamed or dropped member
//! shows); the test reads it, writes it back and compares the bytes, and compares it with
//! the value built here. A change to the wire (what the control plane answers) belongs in
//! the admin crate's views, never here. Changing a fixture means a stored-row migration.
//!
//! `UPDATE_STORED_SHAPES=1 cargo test -p tollgate-model --test stored_shape` rewrites the
//! fixtures from the values below (for a new member; review the diff).

use std::collections::{BTreeMap, BTreeSet};
use std::path::PathBuf;
use std::sync::Arc;

use serde::de::DeserializeOwned;
use serde::Serialize;
use tollgate_model::lambda::{
    Alias, AliasRoutingConfiguration, EnvironmentResponse, EphemeralStorage, Function,
    FunctionConfiguration, LoggingConfig, TracingConfig,
};
use tollgate_model::*;

fn check<T: Serialize + DeserializeOwned + PartialEq + std::fmt::Debug>(name: &str, value: &T) {
    let path = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("tests/stored")
        .join(format!("{name}.json"));
    let written = serde_json::to_string_pretty(value).unwrap() + "\n";
    if std::env::var_os("UPDATE_STORED_SHAPES").is_some() {
        std::fs::write(&path, &written).unwrap();
    }
    let pinned = std::fs::read_to_string(&path).unwrap();
    assert_eq!(written, pinned, "{name}: the stored shape changed");
    let read: T = serde_json::from_str(&pinned).unwrap();
    assert_eq!(&read, value, "{name}: a pinned row reads back differently");
    assert_eq!(
        serde_json::to_string_pretty(&read).unwrap() + "\n",
        pinned,
        "{name}: a pinned row does not write back byte for byte"
    );
}

fn map<V: Clone>(entries: &[(&str, V)]) -> BTreeMap<String, V> {
    entries
        .iter()
        .map(|(k, v)| (k.to_string(), v.clone()))
        .collect()
}

fn integration() -> Integration {
    Integration {
        integration_type: IntegrationType::Aws,
        http_method: Some("POST".into()),
        uri: Some("arn:aws:apigateway:us-east-1:lambda:path/2015-03-31/functions/arn:aws:lambda:us-east-1:000000000000:function:f/invocations".into()),
        connection_type: Some(ConnectionType::Internet),
        connection_id: Some("vpclink1".into()),
        credentials: Some("arn:aws:iam::000000000000:role/r".into()),
        request_parameters: map(&[(
            "integration.request.header.x-id",
            "method.request.path.id".to_string(),
        )]),
        request_templates: map(&[("application/json", "$input.body".to_string())]),
        passthrough_behavior: PassthroughBehavior::WhenNoTemplates,
        content_handling: Some(ContentHandlingStrategy::ConvertToText),
        timeout_in_millis: 1000,
        cache_namespace: "res001".into(),
        cache_key_parameters: vec!["method.request.path.id".into()],
        tls_config: Some(TlsConfig {
            insecure_skip_verification: true,
        }),
        integration_responses: map(&[(
            "200",
            IntegrationResponse {
                status_code: "200".into(),
                selection_pattern: Some("2\\d\\d".into()),
                response_parameters: Some(map(&[(
                    "method.response.header.x-a",
                    "'b'".to_string(),
                )])),
                response_templates: Some(map(&[("application/json", Some("{}".to_string()))])),
                content_handling: Some(ContentHandlingStrategy::ConvertToBinary),
            },
        )]),
        response_transfer_mode: Some(ResponseTransferMode::Buffered),
        integration_target: Some("target".into()),
    }
}

fn method() -> Method {
    Method {
        http_method: "GET".into(),
        authorization_type: AuthorizationType::Custom,
        authorizer_id: Some("auth01".into()),
        api_key_required: true,
        request_validator_id: Some("val001".into()),
        operation_name: Some("GetPet".into()),
        request_parameters: map(&[("method.request.path.id", true)]),
        request_models: map(&[("application/json", "Empty".to_string())]),
        authorization_scopes: Some(vec!["scope".into()]),
        method_responses: map(&[(
            "200",
            MethodResponse {
                status_code: "200".into(),
                response_parameters: Some(map(&[("method.response.header.x-a", false)])),
                response_models: Some(map(&[("application/json", "Empty".to_string())])),
            },
        )]),
        method_integration: Some(integration()),
    }
}

fn definition() -> RestApiDefinition {
    let api = RestApi {
        id: "abcdefghij".into(),
        name: "pets".into(),
        description: Some("d".into()),
        version: Some("v1".into()),
        created_date: 1_700_000_000,
        binary_media_types: vec!["image/png".into()],
        minimum_compression_size: Some(1024),
        api_key_source: ApiKeySourceType::Authorizer,
        endpoint_configuration: EndpointConfiguration {
            types: vec![EndpointType::Private],
            ip_address_type: Some(IpAddressType::Dualstack),
            vpc_endpoint_ids: Some(vec!["vpce-1".into()]),
        },
        policy: Some("{}".into()),
        tags: map(&[("team", "a".to_string())]),
        disable_execute_api_endpoint: true,
        root_resource_id: "rootrootro".into(),
        security_policy: Some("TLS_1_2".into()),
        endpoint_access_mode: Some(EndpointAccessMode::Basic),
    };
    let mut def = RestApiDefinition::new(api);
    for m in def.models.values_mut() {
        m.id = format!("id{}", m.name);
    }
    def.resources.insert(
        "res001".into(),
        Resource {
            id: "res001".into(),
            parent_id: Some("rootrootro".into()),
            path_part: Some("{id}".into()),
            path: "/{id}".into(),
            resource_methods: map(&[("GET", method())]),
        },
    );
    def.request_validators.insert(
        "val001".into(),
        RequestValidator {
            id: "val001".into(),
            name: Some("all".into()),
            validate_request_body: true,
            validate_request_parameters: true,
        },
    );
    def.authorizers.insert(
        "auth01".into(),
        Authorizer {
            id: "auth01".into(),
            name: "a".into(),
            authorizer_type: AuthorizerType::Request,
            auth_type: Some("custom".into()),
            authorizer_uri: Some("arn:aws:apigateway:us-east-1:lambda:path/x".into()),
            authorizer_credentials: Some("arn:aws:iam::000000000000:role/r".into()),
            identity_source: Some("method.request.header.Authorization".into()),
            identity_validation_expression: Some(".*".into()),
            authorizer_result_ttl_in_seconds: Some(300),
            provider_arns: Some(vec!["arn:p".into()]),
        },
    );
    def.gateway_responses.insert(
        "DEFAULT_4XX".into(),
        GatewayResponse {
            response_type: GatewayResponseType::Default4xx,
            status_code: Some("400".into()),
            response_parameters: map(&[("gatewayresponse.header.x-a", "'b'".to_string())]),
            response_templates: map(&[("application/json", "{}".to_string())]),
            default_response: false,
        },
    );
    def
}

fn stage() -> Stage {
    let mut s = Stage::new("dev".into(), "dep001".into(), 1_700_000_000);
    s.description = Some("d".into());
    s.client_certificate_id = Some("cert".into());
    s.documentation_version = Some("1".into());
    s.web_acl_arn = Some("arn:waf".into());
    s.set_cache_cluster(true);
    s.method_settings = map(&[(
        "~1{id}/GET",
        MethodSetting {
            logging_level: Some(LoggingLevel::Info),
            unauthorized_cache_control_header_strategy:
                UnauthorizedCacheControlHeaderStrategy::FailWith403,
            ..MethodSetting::default()
        },
    )]);
    s.variables = map(&[("backend", "http://b".to_string())]);
    s.access_log_settings = Some(AccessLogSettings {
        format: Some("$context.requestId".into()),
        destination_arn: Some("arn:logs".into()),
    });
    s.canary_settings = Some(CanarySettings {
        percent_traffic: Some(10.0),
        deployment_id: Some("dep002".into()),
        stage_variable_overrides: map(&[("backend", "http://c".to_string())]),
        use_stage_cache: false,
    });
    s.tracing_enabled = true;
    s.tags = map(&[("team", "a".to_string())]);
    s.last_updated_date = 1_700_000_001;
    s
}

#[test]
fn rest_api_definition() {
    check("rest_api_definition", &definition());
}

#[test]
fn deployment() {
    check(
        "deployment",
        &Deployment {
            id: "dep001".into(),
            description: Some("first".into()),
            created_date: 1_700_000_000,
            snapshot: Arc::new(definition()),
        },
    );
}

#[test]
fn stage_row() {
    check("stage", &stage());
}

#[test]
fn account() {
    check(
        "account",
        &Account {
            cloudwatch_role_arn: Some("arn:aws:iam::000000000000:role/cw".into()),
            ..Account::default()
        },
    );
}

#[test]
fn api_key() {
    check(
        "api_key",
        &ApiKey {
            id: "key001".into(),
            value: "v".repeat(20),
            name: Some("k".into()),
            description: Some("d".into()),
            enabled: true,
            customer_id: Some("c".into()),
            stage_keys: vec!["abcdefghij/dev".into()],
            created_date: 1_700_000_000,
            last_updated_date: 1_700_000_001,
            tags: map(&[("team", "a".to_string())]),
        },
    );
}

#[test]
fn portal_consumer() {
    check(
        "portal_consumer",
        &tollgate_model::portal::PortalConsumer {
            email: "dev@example.com".into(),
            password_hash: "$argon2id$v=19$m=19456,t=2,p=1$c2FsdHNhbHQ$aGFzaA".into(),
            created_date: 1_700_000_000,
        },
    );
}

#[test]
fn usage_plan() {
    let throttle = ThrottleSettings {
        burst_limit: 10,
        rate_limit: 5.5,
    };
    check(
        "usage_plan",
        &UsagePlan {
            id: "plan01".into(),
            name: "p".into(),
            description: Some("d".into()),
            api_stages: vec![ApiStage {
                api_id: "abcdefghij".into(),
                stage: "dev".into(),
                throttle: map(&[("/{id}/GET", throttle)]),
            }],
            throttle: Some(throttle),
            quota: Some(QuotaSettings {
                limit: 100,
                offset: 1,
                period: QuotaPeriodType::Week,
            }),
            product_code: Some("pc".into()),
            tags: map(&[("team", "a".to_string())]),
            key_ids: BTreeSet::from(["key001".to_string()]),
            created_date: 1_700_000_000,
        },
    );
}

#[test]
fn function() {
    let config = |version: &str| FunctionConfiguration {
        function_name: "f".into(),
        function_arn: "arn:aws:lambda:us-east-1:000000000000:function:f".into(),
        runtime: Runtime::Python312,
        role: "arn:aws:iam::000000000000:role/r".into(),
        handler: "app.handler".into(),
        code_size: 123,
        description: "d".into(),
        timeout: 3,
        memory_size: 128,
        last_modified: "2024-02-09T18:23:28.941+0000".into(),
        code_sha256: "sha".into(),
        version: version.into(),
        environment: Some(EnvironmentResponse {
            variables: map(&[("A", "1".to_string())]),
        }),
        tracing_config: TracingConfig {
            mode: TracingMode::PassThrough,
        },
        revision_id: "rev".into(),
        state: FunctionState::Active,
        last_update_status: LastUpdateStatus::Successful,
        package_type: PackageType::Zip,
        architectures: vec![Architecture::X86_64],
        ephemeral_storage: EphemeralStorage { size: 512 },
        logging_config: LoggingConfig {
            log_format: LogFormat::Text,
            log_group: "/aws/lambda/f".into(),
        },
    };
    check(
        "function",
        &Function {
            latest: config("$LATEST"),
            versions: BTreeMap::from([(1, config("1"))]),
            last_version: 1,
            aliases: map(&[(
                "live",
                Alias {
                    alias_arn: "arn:aws:lambda:us-east-1:000000000000:function:f:live".into(),
                    name: "live".into(),
                    function_version: "1".into(),
                    description: "d".into(),
                    routing_config: Some(AliasRoutingConfiguration {
                        additional_version_weights: BTreeMap::from([("2".to_string(), 0.5)]),
                    }),
                    revision_id: "rev".into(),
                },
            )]),
            policy: vec![serde_json::json!({"Sid": "s", "Effect": "Allow"})],
            policy_revision_id: "prev".into(),
            reserved_concurrency: Some(5),
            tags: map(&[("team", "a".to_string())]),
            url_configs: map(&[(
                "live",
                tollgate_model::function_url::FunctionUrlConfig {
                    url_id: "abcdefghijklmnopqrstuvwxyz012345".into(),
                    auth_type: tollgate_model::function_url::FunctionUrlAuthType::AwsIam,
                    cors: Some(tollgate_model::function_url::FunctionUrlCors {
                        allow_credentials: Some(true),
                        allow_headers: Some(vec!["x-a".into()]),
                        allow_methods: Some(vec!["GET".into()]),
                        allow_origins: Some(vec!["*".into()]),
                        expose_headers: Some(vec!["x-b".into()]),
                        max_age: Some(60),
                    }),
                    invoke_mode: "BUFFERED".into(),
                    creation_time: "2024-01-02T03:04:05.000Z".into(),
                    last_modified_time: "2024-01-02T03:04:05.000Z".into(),
                },
            )]),
        },
    );
}

fn v2_definition() -> v2::Definition {
    let api = v2::Api {
        api_id: "aabbccddee".into(),
        name: "pets".into(),
        protocol_type: ProtocolType::Http,
        route_selection_expression: v2::HTTP_ROUTE_SELECTION.into(),
        api_key_selection_expression: v2::API_KEY_SELECTION.into(),
        cors_configuration: Some(v2::Cors {
            allow_credentials: Some(true),
            allow_headers: Some(vec!["x-a".into()]),
            allow_methods: Some(vec!["GET".into()]),
            allow_origins: Some(vec!["https://example.com".into()]),
            expose_headers: Some(vec!["x-b".into()]),
            max_age: Some(60),
        }),
        created_date: "2024-01-02T03:04:05Z".into(),
        description: Some("d".into()),
        version: Some("1".into()),
        disable_execute_api_endpoint: true,
        ip_address_type: IpAddressType::Dualstack,
        tags: map(&[("team", "a".to_string())]),
    };
    let mut def = v2::Definition::new(api);
    def.routes.insert(
        "1122334".into(),
        v2::Route {
            route_id: "1122334".into(),
            route_key: "GET /pets/{id}".into(),
            api_gateway_managed: true,
            api_key_required: true,
            authorization_type: AuthorizationType::Jwt,
            authorizer_id: Some("a1b2c3".into()),
            authorization_scopes: Some(vec!["read".into()]),
            operation_name: Some("getPet".into()),
            request_models: map(&[("$default", "M".to_string())]),
            request_parameters: map(&[(
                "route.request.header.x",
                v2::ParameterConstraints { required: true },
            )]),
            model_selection_expression: Some("$request.body.a".into()),
            route_response_selection_expression: Some("$default".into()),
            target: Some("integrations/0abcdef".into()),
        },
    );
    def.integrations.insert(
        "0abcdef".into(),
        v2::Integration {
            integration_id: "0abcdef".into(),
            api_gateway_managed: true,
            connection_type: ConnectionType::VpcLink,
            connection_id: Some("abcd123".into()),
            credentials_arn: Some("arn:aws:iam::000000000000:role/r".into()),
            description: Some("d".into()),
            integration_method: Some("POST".into()),
            integration_subtype: Some("SQS-SendMessage".into()),
            integration_type: IntegrationType::AwsProxy,
            integration_uri: Some("arn:aws:lambda:us-east-1:000000000000:function:f".into()),
            payload_format_version: PayloadFormatVersion::V2,
            request_parameters: map(&[("append:header.x", "$request.header.y".to_string())]),
            response_parameters: map(&[(
                "200",
                map(&[("overwrite:statuscode", "204".to_string())]),
            )]),
            timeout_in_millis: 5000,
            tls_config: Some(v2::TlsConfig {
                server_name_to_verify: Some("example.com".into()),
            }),
            content_handling_strategy: Some(ContentHandlingStrategy::ConvertToText),
            integration_response_selection_expression: Some(
                "${integration.response.statuscode}".into(),
            ),
            passthrough_behavior: Some(PassthroughBehavior::Never),
            request_templates: map(&[("$default", "{}".to_string())]),
            template_selection_expression: Some("\\$default".into()),
        },
    );
    def.authorizers.insert(
        "a1b2c3".into(),
        v2::Authorizer {
            authorizer_id: "a1b2c3".into(),
            name: "jwt".into(),
            authorizer_type: V2AuthorizerType::Jwt,
            identity_source: vec!["$request.header.Authorization".into()],
            authorizer_credentials_arn: Some("arn:aws:iam::000000000000:role/r".into()),
            authorizer_payload_format_version: Some(PayloadFormatVersion::V2),
            authorizer_result_ttl_in_seconds: Some(300),
            authorizer_uri: Some("arn:aws:apigateway:us-east-1:lambda:path/2015-03-31/functions/arn:aws:lambda:us-east-1:000000000000:function:a/invocations".into()),
            enable_simple_responses: Some(true),
            identity_validation_expression: Some(".*".into()),
            jwt_configuration: Some(v2::JwtConfiguration {
                audience: vec!["client".into()],
                issuer: Some("https://issuer.example.com".into()),
            }),
        },
    );
    def.route_responses.insert(
        "1122334/rr1234".into(),
        v2::RouteResponse {
            route_response_id: "rr1234".into(),
            route_response_key: "$default".into(),
            model_selection_expression: Some("$default".into()),
            response_models: map(&[("$default", "Out".to_string())]),
            response_parameters: map(&[(
                "route.response.header.x",
                v2::ParameterConstraints { required: true },
            )]),
        },
    );
    def.integration_responses.insert(
        "0abcdef/ir1234".into(),
        v2::IntegrationResponse {
            integration_response_id: "ir1234".into(),
            integration_response_key: "/2\\d\\d/".into(),
            content_handling_strategy: Some(ContentHandlingStrategy::ConvertToBinary),
            response_parameters: map(&[("method.response.header.x", "'v'".to_string())]),
            response_templates: map(&[("$default", "$input.body".to_string())]),
            template_selection_expression: Some("${integration.response.statuscode}".into()),
        },
    );
    def.models.insert(
        "m12345".into(),
        v2::Model {
            model_id: "m12345".into(),
            name: "Out".into(),
            content_type: Some("application/json".into()),
            description: Some("d".into()),
            schema: "{}".into(),
        },
    );
    def
}

#[test]
fn v2_definition_row() {
    check("v2_definition", &v2_definition());
}

#[test]
fn v2_deployment() {
    check(
        "v2_deployment",
        &v2::Deployment {
            deployment_id: "53lz9l".into(),
            auto_deployed: true,
            created_date: "2024-01-02T03:04:05Z".into(),
            deployment_status: DeploymentStatus::Deployed,
            deployment_status_message: Some("ok".into()),
            description: Some("first".into()),
            snapshot: Arc::new(v2_definition()),
        },
    );
}

#[test]
fn v2_stage() {
    let settings = v2::RouteSettings {
        data_trace_enabled: Some(false),
        detailed_metrics_enabled: Some(true),
        logging_level: Some(LoggingLevel::Info),
        throttling_burst_limit: Some(10),
        throttling_rate_limit: Some(2.5),
    };
    check(
        "v2_stage",
        &v2::Stage {
            stage_name: "$default".into(),
            access_log_settings: Some(AccessLogSettings {
                format: Some("$context.requestId".into()),
                destination_arn: Some("arn:aws:logs:us-east-1:000000000000:log-group:g".into()),
            }),
            api_gateway_managed: true,
            auto_deploy: true,
            created_date: "2024-01-02T03:04:05Z".into(),
            default_route_settings: settings.clone(),
            deployment_id: Some("53lz9l".into()),
            description: Some("d".into()),
            last_deployment_status_message: Some("Successfully deployed".into()),
            last_updated_date: "2024-01-02T03:04:06Z".into(),
            route_settings: map(&[("GET /pets/{id}", settings)]),
            stage_variables: map(&[("v", "1".to_string())]),
            tags: map(&[("team", "a".to_string())]),
        },
    );
}

#[test]
fn iam_rows() {
    use tollgate_model::iam::*;
    let tags = vec![Tag {
        key: "team".into(),
        value: "a".into(),
    }];
    check(
        "iam_role",
        &Role {
            role_name: "r".into(),
            role_id: "AROAABCDEFGHIJKLMNOPQ".into(),
            arn: "arn:aws:iam::000000000000:role/svc/r".into(),
            path: "/svc/".into(),
            create_date: "2024-01-02T03:04:05Z".into(),
            assume_role_policy_document: r#"{"Statement":[]}"#.into(),
            description: Some("d".into()),
            max_session_duration: 3600,
            tags: tags.clone(),
            attached_policies: vec!["arn:aws:iam::aws:policy/AdministratorAccess".into()],
            inline_policies: map(&[("p", r#"{"Statement":[]}"#.to_string())]),
        },
    );
    check(
        "iam_policy",
        &ManagedPolicy {
            policy_name: "p".into(),
            policy_id: "ANPAABCDEFGHIJKLMNOPQ".into(),
            arn: "arn:aws:iam::000000000000:policy/p".into(),
            path: "/".into(),
            description: Some("d".into()),
            create_date: "2024-01-02T03:04:05Z".into(),
            update_date: "2024-01-02T03:04:06Z".into(),
            default_version_id: "v2".into(),
            versions: vec![PolicyVersion {
                version_id: "v2".into(),
                document: r#"{"Statement":[]}"#.into(),
                create_date: "2024-01-02T03:04:06Z".into(),
            }],
            next_version: 3,
            tags: tags.clone(),
        },
    );
    check(
        "iam_user",
        &User {
            user_name: "u".into(),
            user_id: "AIDAABCDEFGHIJKLMNOPQ".into(),
            arn: "arn:aws:iam::000000000000:user/u".into(),
            path: "/".into(),
            create_date: "2024-01-02T03:04:05Z".into(),
            tags,
            attached_policies: vec!["arn:aws:iam::000000000000:policy/p".into()],
            inline_policies: map(&[("p", r#"{"Statement":[]}"#.to_string())]),
            access_keys: vec![AccessKey {
                access_key_id: "AKIAABCDEFGHIJKLMNOP".into(),
                secret_access_key: "secret".into(),
                status: AccessKeyStatus::Inactive,
                create_date: "2024-01-02T03:04:05Z".into(),
            }],
        },
    );
    check(
        "sts_session",
        &RoleSession {
            access_key_id: "ASIAABCDEFGHIJKLMNOP".into(),
            secret_access_key: "secret".into(),
            session_token: "token".into(),
            expiration: 1_704_164_645,
            role_name: "r".into(),
            role_session_name: "s".into(),
        },
    );
}

#[test]
fn documentation_rows() {
    let part = DocumentationPart {
        id: "dp1234".into(),
        location: DocumentationPartLocation {
            part_type: DocumentationPartType::ResponseHeader,
            path: Some("/pets".into()),
            method: Some("GET".into()),
            status_code: Some("200".into()),
            name: Some("x-next".into()),
        },
        properties: r#"{"description":"The next page"}"#.into(),
    };
    check("documentation_part", &part);
    check(
        "documentation_version",
        &DocumentationVersion {
            version: "v1".into(),
            created_date: 1_704_164_645,
            description: Some("first".into()),
            parts: vec![part],
        },
    );
}
