//! Helpers shared by this crate's tests (each test file uses some of them).
#![allow(dead_code)]

use std::collections::BTreeMap;

use tollgate_model::v2::{Api, Definition};
use tollgate_model::{
    ApiKeySourceType, EndpointConfiguration, IpAddressType, ProtocolType, RestApi,
    RestApiDefinition,
};

pub fn rest_definition(id: &str) -> RestApiDefinition {
    RestApiDefinition::new(RestApi {
        id: id.into(),
        name: "placeholder".into(),
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
        root_resource_id: format!("{id}root"),
        security_policy: None,
        endpoint_access_mode: None,
    })
}

pub fn http_definition(id: &str) -> Definition {
    Definition::new(Api {
        api_id: id.into(),
        name: "placeholder".into(),
        protocol_type: ProtocolType::Http,
        route_selection_expression: tollgate_model::v2::HTTP_ROUTE_SELECTION.into(),
        api_key_selection_expression: tollgate_model::v2::API_KEY_SELECTION.into(),
        cors_configuration: None,
        created_date: "2026-01-01T00:00:00Z".into(),
        description: None,
        version: None,
        disable_execute_api_endpoint: false,
        ip_address_type: IpAddressType::Ipv4,
        tags: BTreeMap::new(),
    })
}
