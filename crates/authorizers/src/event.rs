//! The events a REST Lambda authorizer receives (lambda-events.md §5.1).

use serde_json::{Map, Value};

/// `{"type":"TOKEN","authorizationToken":…,"methodArn":…}`
pub fn token_event(token: &str, method_arn: &str) -> Vec<u8> {
    let mut m = Map::with_capacity(3);
    m.insert("type".into(), "TOKEN".into());
    m.insert("authorizationToken".into(), token.into());
    m.insert("methodArn".into(), method_arn.into());
    serde_json::to_vec(&Value::Object(m)).unwrap_or_default()
}

/// `type: "REQUEST"` and `methodArn`, then the request's members as the pipeline read
/// them (`resource`, `path`, `httpMethod`, `headers`, `multiValueHeaders`,
/// `queryStringParameters`, `multiValueQueryStringParameters`, `pathParameters`,
/// `stageVariables`, `requestContext`): the same reading the proxy event makes, so both
/// agree on every header and parameter.
pub fn request_event(method_arn: &str, request: Map<String, Value>) -> Vec<u8> {
    let mut m = Map::with_capacity(request.len() + 2);
    m.insert("type".into(), "REQUEST".into());
    m.insert("methodArn".into(), method_arn.into());
    m.extend(request);
    serde_json::to_vec(&Value::Object(m)).unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;
    use aws_lambda_events::apigw::{
        ApiGatewayCustomAuthorizerRequest, ApiGatewayCustomAuthorizerRequestTypeRequest,
    };
    use serde_json::json;

    const ARN: &str = "arn:aws:execute-api:us-east-1:000000000000:abc123/dev/GET/pets/7";

    #[test]
    fn token_events_read_as_aws_lambda_events_does() {
        let e: ApiGatewayCustomAuthorizerRequest =
            serde_json::from_slice(&token_event("Bearer x", ARN)).unwrap();
        assert_eq!(e.type_.as_deref(), Some("TOKEN"));
        assert_eq!(e.authorization_token.as_deref(), Some("Bearer x"));
        assert_eq!(e.method_arn.as_deref(), Some(ARN));
    }

    #[test]
    fn request_events_read_as_aws_lambda_events_does() {
        let request = json!({"resource": "/pets/{id}", "path": "/pets/7", "httpMethod": "GET",
            "headers": {"X-Tenant": "t1"}, "multiValueHeaders": {"X-Tenant": ["t1"]},
            "queryStringParameters": {"q": "1"}, "multiValueQueryStringParameters": {"q": ["1"]},
            "pathParameters": {"id": "7"}, "stageVariables": null,
            "requestContext": {"path": "/dev/pets/7", "accountId": "000000000000",
                "resourceId": "r1", "stage": "dev", "requestId": "id", "resourcePath": "/pets/{id}",
                "httpMethod": "GET", "apiId": "abc123",
                "identity": {"sourceIp": "127.0.0.1", "apiKey": null}}});
        let Value::Object(request) = request else {
            unreachable!()
        };
        let bytes = request_event(ARN, request);
        let raw: Value = serde_json::from_slice(&bytes).unwrap();
        let keys: Vec<&String> = raw.as_object().unwrap().keys().take(3).collect();
        assert_eq!(keys, ["type", "methodArn", "resource"]);
        let e: ApiGatewayCustomAuthorizerRequestTypeRequest =
            serde_json::from_slice(&bytes).unwrap();
        assert_eq!(e.type_.as_deref(), Some("REQUEST"));
        assert_eq!(e.method_arn.as_deref(), Some(ARN));
        assert_eq!(e.headers.get("x-tenant").unwrap(), "t1");
        assert_eq!(e.path_parameters["id"], "7");
        assert_eq!(e.request_context.apiid.as_deref(), Some("abc123"));
    }
}
