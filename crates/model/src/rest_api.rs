//! RestApi and everything that hangs off it: resources, methods, integrations, models,
//! request validators and authorizers.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use crate::gateway_response::GatewayResponse;
use crate::vocabulary::{
    ApiKeySourceType, AuthorizationType, AuthorizerType, ConnectionType, ContentHandlingStrategy,
    EndpointAccessMode, EndpointType, IntegrationType, IpAddressType, PassthroughBehavior,
    ResponseTransferMode,
};

fn is_false(b: &bool) -> bool {
    !*b
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct EndpointConfiguration {
    pub types: Vec<EndpointType>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub ip_address_type: Option<IpAddressType>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub vpc_endpoint_ids: Option<Vec<String>>,
}

impl Default for EndpointConfiguration {
    fn default() -> Self {
        EndpointConfiguration {
            types: vec![EndpointType::Edge],
            ip_address_type: Some(IpAddressType::Ipv4),
            vpc_endpoint_ids: None,
        }
    }
}

/// A REST API (v1). Serialises to the `RestApi` shape of GetRestApi.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct RestApi {
    pub id: String,
    pub name: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub version: Option<String>,
    pub created_date: i64,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub binary_media_types: Vec<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub minimum_compression_size: Option<i64>,
    pub api_key_source: ApiKeySourceType,
    pub endpoint_configuration: EndpointConfiguration,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub policy: Option<String>,
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub tags: BTreeMap<String, String>,
    pub disable_execute_api_endpoint: bool,
    pub root_resource_id: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub security_policy: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub endpoint_access_mode: Option<EndpointAccessMode>,
}

/// A resource of the API's path tree. Methods live inside their resource, as in AWS's
/// `GetResource?embed=methods` view.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Resource {
    pub id: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub parent_id: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub path_part: Option<String>,
    pub path: String,
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub resource_methods: BTreeMap<String, Method>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Method {
    pub http_method: String,
    pub authorization_type: AuthorizationType,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub authorizer_id: Option<String>,
    pub api_key_required: bool,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub request_validator_id: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub operation_name: Option<String>,
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub request_parameters: BTreeMap<String, bool>,
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub request_models: BTreeMap<String, String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub authorization_scopes: Option<Vec<String>>,
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub method_responses: BTreeMap<String, MethodResponse>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub method_integration: Option<Integration>,
}

#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct MethodResponse {
    pub status_code: String,
    /// `Some({})` when given empty (AWS answers `{}`); `None` when never given or emptied
    /// by UpdateMethodResponse (AWS then leaves the member out).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub response_parameters: Option<BTreeMap<String, bool>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub response_models: Option<BTreeMap<String, String>>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct TlsConfig {
    #[serde(default)]
    pub insecure_skip_verification: bool,
}

/// An integration: `HTTP`, `HTTP_PROXY`, `AWS`, `AWS_PROXY` or `MOCK`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Integration {
    #[serde(rename = "type")]
    pub integration_type: IntegrationType,
    /// The backend verb (`integrationHttpMethod` in the SDKs, `httpMethod` on the wire).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub http_method: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub uri: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub connection_type: Option<ConnectionType>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub connection_id: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub credentials: Option<String>,
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub request_parameters: BTreeMap<String, String>,
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub request_templates: BTreeMap<String, String>,
    pub passthrough_behavior: PassthroughBehavior,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub content_handling: Option<ContentHandlingStrategy>,
    pub timeout_in_millis: i64,
    pub cache_namespace: String,
    pub cache_key_parameters: Vec<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub tls_config: Option<TlsConfig>,
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub integration_responses: BTreeMap<String, IntegrationResponse>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub response_transfer_mode: Option<ResponseTransferMode>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub integration_target: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct IntegrationResponse {
    pub status_code: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub selection_pattern: Option<String>,
    /// `Some({})` when given empty (AWS answers `{}`), `None` when not given.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub response_parameters: Option<BTreeMap<String, String>>,
    /// A template given as null or empty is stored as null (AWS answers `null`) and
    /// passes the integration's body through.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub response_templates: Option<BTreeMap<String, Option<String>>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub content_handling: Option<ContentHandlingStrategy>,
}

impl IntegrationResponse {
    /// The response parameter mappings (target, source).
    pub fn parameters(&self) -> impl Iterator<Item = (&String, &String)> {
        self.response_parameters.iter().flatten()
    }

    /// The templates that render (content type, template); null ones pass through.
    pub fn templates(&self) -> impl Iterator<Item = (&String, &String)> {
        self.response_templates
            .iter()
            .flatten()
            .filter_map(|(ct, t)| Some((ct, t.as_ref()?)))
    }
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Model {
    pub id: String,
    pub name: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub schema: Option<String>,
    pub content_type: String,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct RequestValidator {
    pub id: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    pub validate_request_body: bool,
    pub validate_request_parameters: bool,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Authorizer {
    pub id: String,
    pub name: String,
    #[serde(rename = "type")]
    pub authorizer_type: AuthorizerType,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub auth_type: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub authorizer_uri: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub authorizer_credentials: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub identity_source: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub identity_validation_expression: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub authorizer_result_ttl_in_seconds: Option<i64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub provider_arns: Option<Vec<String>>,
}

/// Everything a deployment freezes: the API object and its whole runtime definition.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct RestApiDefinition {
    pub api: RestApi,
    pub resources: BTreeMap<String, Resource>,
    /// Keyed by model name (models are addressed by name).
    #[serde(default)]
    pub models: BTreeMap<String, Model>,
    #[serde(default)]
    pub request_validators: BTreeMap<String, RequestValidator>,
    #[serde(default)]
    pub authorizers: BTreeMap<String, Authorizer>,
    /// Only the customised gateway responses; the rest are AWS's defaults.
    #[serde(default)]
    pub gateway_responses: BTreeMap<String, GatewayResponse>,
    #[serde(default, skip_serializing_if = "is_false")]
    pub deleted: bool,
    /// Tollgate's own: the API's place in creation order (GetRestApis lists by creation,
    /// recorded; `createdDate` has seconds only). Kept in the API's store row, not in
    /// deployment snapshots; `None` for APIs stored before it existed.
    #[serde(skip)]
    pub created_sequence: Option<u64>,
}

impl RestApiDefinition {
    /// A new API with its root resource and the two default models AWS creates.
    pub fn new(api: RestApi) -> Self {
        let root = Resource {
            id: api.root_resource_id.clone(),
            parent_id: None,
            path_part: None,
            path: "/".into(),
            resource_methods: BTreeMap::new(),
        };
        let mut resources = BTreeMap::new();
        resources.insert(root.id.clone(), root);
        let mut models = BTreeMap::new();
        for m in default_models() {
            models.insert(m.name.clone(), m);
        }
        RestApiDefinition {
            api,
            resources,
            models,
            request_validators: BTreeMap::new(),
            authorizers: BTreeMap::new(),
            gateway_responses: BTreeMap::new(),
            deleted: false,
            created_sequence: None,
        }
    }

    /// Recomputes `path` of `id` and of all its descendants from their path parts.
    pub fn recompute_paths(&mut self, id: &str) {
        let parent_path = self
            .resources
            .get(id)
            .and_then(|r| r.parent_id.clone())
            .and_then(|p| self.resources.get(&p).map(|p| p.path.clone()));
        let mut stack = vec![(id.to_string(), parent_path)];
        while let Some((rid, parent_path)) = stack.pop() {
            let Some(res) = self.resources.get_mut(&rid) else {
                continue;
            };
            if let (Some(pp), Some(part)) = (parent_path, res.path_part.as_ref()) {
                res.path = if pp == "/" {
                    format!("/{part}")
                } else {
                    format!("{pp}/{part}")
                };
            }
            let path = res.path.clone();
            for child in self.children_of(&rid) {
                stack.push((child, Some(path.clone())));
            }
        }
    }

    /// Ids of the direct children of a resource.
    pub fn children_of(&self, id: &str) -> Vec<String> {
        self.resources
            .values()
            .filter(|r| r.parent_id.as_deref() == Some(id))
            .map(|r| r.id.clone())
            .collect()
    }

    /// Ids of a resource and all its descendants.
    pub fn subtree(&self, id: &str) -> Vec<String> {
        let mut out = vec![];
        let mut stack = vec![id.to_string()];
        while let Some(rid) = stack.pop() {
            stack.extend(self.children_of(&rid));
            out.push(rid);
        }
        out
    }

    /// True when any resource defines at least one method.
    pub fn has_methods(&self) -> bool {
        self.resources
            .values()
            .any(|r| !r.resource_methods.is_empty())
    }
}

/// The `Empty` and `Error` models every new REST API gets.
pub fn default_models() -> Vec<Model> {
    vec![
        Model {
            id: crate::ids::short_id(),
            name: "Empty".into(),
            description: Some("This is a default empty schema model".into()),
            schema: Some(
                "{\n  \"$schema\": \"http://json-schema.org/draft-04/schema#\",\n  \"title\" : \"Empty Schema\",\n  \"type\" : \"object\"\n}".into(),
            ),
            content_type: "application/json".into(),
        },
        Model {
            id: crate::ids::short_id(),
            name: "Error".into(),
            description: Some("This is a default error schema model".into()),
            schema: Some(
                "{\n  \"$schema\" : \"http://json-schema.org/draft-04/schema#\",\n  \"title\" : \"Error Schema\",\n  \"type\" : \"object\",\n  \"properties\" : {\n    \"message\" : { \"type\" : \"string\" }\n  }\n}".into(),
            ),
            content_type: "application/json".into(),
        },
    ]
}

#[cfg(test)]
mod tests {
    use super::*;

    fn api() -> RestApi {
        RestApi {
            id: "abcdefghij".into(),
            name: "pets".into(),
            description: None,
            version: None,
            created_date: 1,
            binary_media_types: vec![],
            minimum_compression_size: None,
            api_key_source: ApiKeySourceType::Header,
            endpoint_configuration: EndpointConfiguration::default(),
            policy: None,
            tags: BTreeMap::new(),
            disable_execute_api_endpoint: false,
            root_resource_id: "rootrootro".into(),
            security_policy: None,
            endpoint_access_mode: None,
        }
    }

    fn child(def: &mut RestApiDefinition, id: &str, parent: &str, part: &str) {
        def.resources.insert(
            id.into(),
            Resource {
                id: id.into(),
                parent_id: Some(parent.into()),
                path_part: Some(part.into()),
                path: String::new(),
                resource_methods: BTreeMap::new(),
            },
        );
        def.recompute_paths(id);
    }

    #[test]
    fn paths_follow_renames() {
        let mut def = RestApiDefinition::new(api());
        child(&mut def, "a", "rootrootro", "pets");
        child(&mut def, "b", "a", "{petId}");
        assert_eq!(def.resources["b"].path, "/pets/{petId}");
        def.resources.get_mut("a").unwrap().path_part = Some("dogs".into());
        def.recompute_paths("a");
        assert_eq!(def.resources["a"].path, "/dogs");
        assert_eq!(def.resources["b"].path, "/dogs/{petId}");
        let mut sub = def.subtree("a");
        sub.sort();
        assert_eq!(sub, vec!["a", "b"]);
    }

    #[test]
    fn wire_shape_omits_unset_members() {
        let v = serde_json::to_value(api()).unwrap();
        assert!(v.get("description").is_none());
        assert!(v.get("binaryMediaTypes").is_none());
        assert_eq!(v["apiKeySource"], "HEADER");
        assert_eq!(v["endpointConfiguration"]["types"][0], "EDGE");
        assert_eq!(v["disableExecuteApiEndpoint"], false);
    }

    #[test]
    fn new_api_has_root_and_default_models() {
        let def = RestApiDefinition::new(api());
        assert_eq!(def.resources.len(), 1);
        assert_eq!(def.resources["rootrootro"].path, "/");
        assert!(def.models.contains_key("Empty") && def.models.contains_key("Error"));
    }
}
