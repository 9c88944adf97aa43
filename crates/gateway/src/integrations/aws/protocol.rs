//! How an AWS service takes an `action/{Action}` call: the query protocol (`Action=...`
//! parameters, XML answers) or the JSON protocol (`X-Amz-Target: {prefix}.{Action}` and
//! `application/x-amz-json-1.x` bodies), as the services' own API models declare.

/// A service's wire protocol for actions.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Protocol {
    /// `Action={Action}&Version={version}` form parameters (SQS, SNS, STS, IAM, EC2, ...).
    Query { version: &'static str },
    /// `X-Amz-Target: {target_prefix}.{Action}`, `Content-Type: application/x-amz-json-{json_version}`.
    Json {
        target_prefix: &'static str,
        json_version: &'static str,
    },
}

/// JSON-protocol services by endpoint prefix (botocore's `metadata.targetPrefix` and
/// `jsonVersion`).
const JSON: [(&str, &str, &str); 18] = [
    ("dynamodb", "DynamoDB_20120810", "1.0"),
    ("kinesis", "Kinesis_20131202", "1.1"),
    ("firehose", "Firehose_20150804", "1.1"),
    ("states", "AWSStepFunctions", "1.0"),
    ("events", "AWSEvents", "1.1"),
    ("ssm", "AmazonSSM", "1.1"),
    ("logs", "Logs_20140328", "1.1"),
    ("kms", "TrentService", "1.1"),
    ("secretsmanager", "secretsmanager", "1.1"),
    ("athena", "AmazonAthena", "1.1"),
    ("glue", "AWSGlue", "1.1"),
    ("ecs", "AmazonEC2ContainerServiceV20141113", "1.1"),
    ("cognito-idp", "AWSCognitoIdentityProviderService", "1.1"),
    ("cognito-identity", "AWSCognitoIdentityService", "1.1"),
    ("codebuild", "CodeBuild_20161006", "1.1"),
    ("sagemaker", "SageMaker", "1.1"),
    ("dms", "AmazonDMSv20160101", "1.1"),
    ("route53resolver", "Route53Resolver", "1.1"),
];

/// Query-protocol services and their API version.
const QUERY: [(&str, &str); 9] = [
    ("sqs", "2012-11-05"),
    ("sns", "2010-03-31"),
    ("sts", "2011-06-15"),
    ("iam", "2010-05-08"),
    ("ec2", "2016-11-15"),
    ("monitoring", "2010-08-01"),
    ("elasticloadbalancing", "2015-12-01"),
    ("cloudformation", "2010-05-15"),
    ("ses", "2010-12-01"),
];

impl Protocol {
    /// The protocol of a service's actions; a service not listed takes the query protocol
    /// without a version, which is how API Gateway's `action/` form began.
    pub fn of(service: &str) -> Protocol {
        if let Some((_, target_prefix, json_version)) = JSON.iter().find(|(s, ..)| *s == service) {
            return Protocol::Json {
                target_prefix,
                json_version,
            };
        }
        let version = QUERY
            .iter()
            .find(|(s, _)| *s == service)
            .map_or("", |(_, v)| v);
        Protocol::Query { version }
    }

    /// The Content-Type of a JSON-protocol body.
    pub fn content_type(self) -> &'static str {
        match self {
            Protocol::Json {
                json_version: "1.0",
                ..
            } => "application/x-amz-json-1.0",
            Protocol::Json { .. } => "application/x-amz-json-1.1",
            Protocol::Query { .. } => "application/x-www-form-urlencoded; charset=utf-8",
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn protocols_by_service() {
        assert_eq!(
            Protocol::of("dynamodb"),
            Protocol::Json {
                target_prefix: "DynamoDB_20120810",
                json_version: "1.0"
            }
        );
        assert_eq!(
            Protocol::of("sqs"),
            Protocol::Query {
                version: "2012-11-05"
            }
        );
        assert_eq!(
            Protocol::of("events").content_type(),
            "application/x-amz-json-1.1"
        );
        assert_eq!(Protocol::of("unknown"), Protocol::Query { version: "" });
    }
}
