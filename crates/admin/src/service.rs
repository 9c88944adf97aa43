//! Which AWS service a control-plane call is addressed to. One endpoint serves several:
//! Lambda's paths start with an API date, STS is `/` with the service named only by the
//! signature's credential scope, and everything else is API Gateway.

use http::{HeaderMap, Uri};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Service {
    ApiGateway,
    Lambda,
    Sts,
}

impl Service {
    pub fn of(uri: &Uri, headers: &HeaderMap) -> Service {
        let path = uri.path();
        if crate::lambda::is_lambda_path(path) {
            Service::Lambda
        } else if path == "/" && scope_service(uri, headers) == Some("sts") {
            Service::Sts
        } else {
            Service::ApiGateway
        }
    }

    /// The service name a signature for this call must be scoped to.
    pub fn signing_name(self) -> &'static str {
        match self {
            Service::ApiGateway => "apigateway",
            Service::Lambda => "lambda",
            Service::Sts => "sts",
        }
    }
}

/// The service in the credential scope (`AKID/date/region/SERVICE/aws4_request`) of the
/// Authorization header or of a presigned URL's `X-Amz-Credential`. Only routes the call:
/// the verifier checks the whole signature afterwards.
fn scope_service<'a>(uri: &'a Uri, headers: &'a HeaderMap) -> Option<&'a str> {
    let from_header = headers
        .get(http::header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.split_once("Credential="))
        .map(|(_, rest)| rest.split([',', ' ']).next().unwrap_or(""));
    let from_query = || {
        uri.query().and_then(|q| {
            q.split('&')
                .find_map(|p| p.strip_prefix("X-Amz-Credential="))
        })
    };
    let credential = from_header.or_else(from_query)?;
    // In a query the slashes may be percent-encoded.
    let sep = if credential.contains('/') { "/" } else { "%2F" };
    credential.split(sep).nth(3)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn service(path: &str, auth: Option<&str>) -> Service {
        let mut headers = HeaderMap::new();
        if let Some(a) = auth {
            headers.insert("authorization", a.parse().unwrap());
        }
        Service::of(&path.parse().unwrap(), &headers)
    }

    #[test]
    fn services_by_path_and_scope() {
        let sts = "AWS4-HMAC-SHA256 Credential=test/20240101/us-east-1/sts/aws4_request, SignedHeaders=host, Signature=00";
        let apigw = sts.replace("/sts/", "/apigateway/");
        assert_eq!(service("/", Some(sts)), Service::Sts);
        assert_eq!(service("/", Some(&apigw)), Service::ApiGateway);
        assert_eq!(service("/", None), Service::ApiGateway);
        assert_eq!(service("/restapis", Some(sts)), Service::ApiGateway);
        assert_eq!(
            service("/2020-06-30/functions/f/code-signing-config", None),
            Service::Lambda
        );
        assert_eq!(
            service(
                "/?Action=GetCallerIdentity&X-Amz-Credential=test%2F20240101%2Fus-east-1%2Fsts%2Faws4_request",
                None
            ),
            Service::Sts
        );
        assert_eq!(service("/2015-03-31", None), Service::Lambda);
        assert_eq!(service("/restapis/2015-03-31/x", None), Service::ApiGateway);
    }
}
