//! The service call an `AWS` integration's URI names, parsed when the deployment is
//! compiled: `arn:aws:apigateway:{region}:{service}:path/{path}`,
//! `...:{service}:action/{Action}[&Name=value...]`, the `{subdomain}.{service}` forms
//! (an S3 bucket, `runtime.sagemaker`), and S3's `s3:path/{bucket}/{key}`.

use super::protocol::Protocol;
use crate::uri::{compile_uri, UriPiece};

/// Why an `AWS` integration's URI names no service call.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ServiceUriError {
    #[error("AWS ARN for integration must contain path or action: {0}")]
    NoPathOrAction(String),
    #[error("integration URI {0} is not an API Gateway service ARN")]
    NotServiceArn(String),
}

/// What is called on the service.
#[derive(Debug)]
pub enum Operation {
    /// `path/{path}`: the request path (without its leading `/`), with `{param}` and
    /// `${stageVariables.x}` pieces, sent with the integration's HTTP method.
    Path(Vec<UriPiece>),
    /// `action/{Action}`: sent in the service's protocol, with the parameters written in the
    /// URI after the action.
    Action {
        name: Box<str>,
        params: Vec<(String, String)>,
        protocol: Protocol,
    },
}

/// An `AWS` integration's service, region and operation.
#[derive(Debug)]
pub struct ServiceTarget {
    pub region: Box<str>,
    /// The service's endpoint prefix, also its signing name (`sqs`, `s3`, `states`).
    pub service: Box<str>,
    /// The labels before the service in a `{subdomain}.{service}` form.
    pub subdomain: Option<Box<str>>,
    pub operation: Operation,
}

impl ServiceTarget {
    /// Parses a service ARN (Lambda's form is the Lambda integration's, not this).
    pub fn compile(uri: &str) -> Result<ServiceTarget, ServiceUriError> {
        let not_arn = || ServiceUriError::NotServiceArn(uri.into());
        let mut parts = uri.splitn(6, ':');
        let (Some("arn"), Some(_partition), Some("apigateway"), Some(region), Some(host), Some(op)) = (
            parts.next(),
            parts.next(),
            parts.next(),
            parts.next(),
            parts.next(),
            parts.next(),
        ) else {
            return Err(not_arn());
        };
        if region.is_empty() || host.is_empty() {
            return Err(not_arn());
        }
        let (subdomain, service) = match host.rsplit_once('.') {
            Some((sub, service)) if !sub.is_empty() && !service.is_empty() => {
                (Some(sub.into()), service)
            }
            Some(_) => return Err(not_arn()),
            None => (None, host),
        };
        let operation = if let Some(path) = op.strip_prefix("path/") {
            Operation::Path(compile_uri(path))
        } else if let Some(action) = op.strip_prefix("action/") {
            let (name, rest) = match action.find(['&', '?']) {
                Some(i) => (&action[..i], &action[i + 1..]),
                None => (action, ""),
            };
            if name.is_empty() {
                return Err(ServiceUriError::NoPathOrAction(uri.into()));
            }
            let params = rest
                .split('&')
                .filter(|p| !p.is_empty())
                .map(|p| match p.split_once('=') {
                    Some((k, v)) => (k.to_string(), v.to_string()),
                    None => (p.to_string(), String::new()),
                })
                .collect();
            Operation::Action {
                name: name.into(),
                params,
                protocol: Protocol::of(service),
            }
        } else {
            return Err(ServiceUriError::NoPathOrAction(uri.into()));
        };
        Ok(ServiceTarget {
            region: region.into(),
            service: service.into(),
            subdomain,
            operation,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn action_forms() {
        let t =
            ServiceTarget::compile("arn:aws:apigateway:us-east-1:dynamodb:action/PutItem").unwrap();
        assert_eq!((&*t.region, &*t.service), ("us-east-1", "dynamodb"));
        match t.operation {
            Operation::Action {
                name,
                params,
                protocol,
            } => {
                assert_eq!(&*name, "PutItem");
                assert!(params.is_empty());
                assert!(matches!(protocol, Protocol::Json { .. }));
            }
            other => panic!("{other:?}"),
        }
        let t = ServiceTarget::compile(
            "arn:aws:apigateway:eu-west-1:sqs:action/SendMessage&QueueUrl=http://q&DelaySeconds=1",
        )
        .unwrap();
        match t.operation {
            Operation::Action { name, params, .. } => {
                assert_eq!(&*name, "SendMessage");
                assert_eq!(
                    params,
                    vec![
                        ("QueueUrl".into(), "http://q".into()),
                        ("DelaySeconds".into(), "1".into())
                    ]
                );
            }
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn path_and_subdomain_forms() {
        let t =
            ServiceTarget::compile("arn:aws:apigateway:us-east-1:s3:path/{bucket}/{key}").unwrap();
        assert_eq!(&*t.service, "s3");
        assert!(t.subdomain.is_none());
        match t.operation {
            Operation::Path(p) => assert_eq!(
                p,
                vec![
                    UriPiece::PathParam("bucket".into()),
                    UriPiece::Literal("/".into()),
                    UriPiece::PathParam("key".into())
                ]
            ),
            other => panic!("{other:?}"),
        }
        let t = ServiceTarget::compile("arn:aws:apigateway:us-east-1:my-bucket.s3:path/k").unwrap();
        assert_eq!(t.subdomain.as_deref(), Some("my-bucket"));
        assert_eq!(&*t.service, "s3");
        let t = ServiceTarget::compile(
            "arn:aws:apigateway:us-east-1:runtime.sagemaker:path/endpoints/e/invocations",
        )
        .unwrap();
        assert_eq!(
            (t.subdomain.as_deref(), &*t.service),
            (Some("runtime"), "sagemaker")
        );
    }

    #[test]
    fn refused_forms() {
        assert!(matches!(
            ServiceTarget::compile("arn:aws:apigateway:us-east-1:sqs:queue/x"),
            Err(ServiceUriError::NoPathOrAction(_))
        ));
        assert!(ServiceTarget::compile("arn:aws:apigateway:us-east-1:sqs:action/").is_err());
        assert!(ServiceTarget::compile("http://example.com").is_err());
        assert!(ServiceTarget::compile("arn:aws:apigateway::sqs:path/x").is_err());
    }
}
