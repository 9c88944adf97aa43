//! Lambda operations Tollgate does not implement. They answer in Lambda's own error shape and
//! name the operation, so a tool's log says what is missing (rather than another service's
//! complaint about the signature's scope).
//!
//! The error is 400 `InvalidParameterValueException`: a client error, so SDKs do not retry
//! it as they would a 5xx `ServiceException`.

use crate::core::error::ApiError;
use crate::core::registry::{IamAction, IamCall};

/// Every operation of botocore's `lambda` models (2015-03-31 and the legacy 2014-11-11), by
/// method and path; `*` stands for one path segment.
const OPERATIONS: &[(&str, &str, &str)] = &[
    (
        "GET",
        "/2014-11-13/event-source-mappings",
        "ListEventSources",
    ),
    (
        "POST",
        "/2014-11-13/event-source-mappings",
        "AddEventSource",
    ),
    (
        "DELETE",
        "/2014-11-13/event-source-mappings/*",
        "RemoveEventSource",
    ),
    (
        "GET",
        "/2014-11-13/event-source-mappings/*",
        "GetEventSource",
    ),
    ("GET", "/2014-11-13/functions", "ListFunctions"),
    ("DELETE", "/2014-11-13/functions/*", "DeleteFunction"),
    ("GET", "/2014-11-13/functions/*", "GetFunction"),
    ("PUT", "/2014-11-13/functions/*", "UploadFunction"),
    (
        "GET",
        "/2014-11-13/functions/*/configuration",
        "GetFunctionConfiguration",
    ),
    (
        "PUT",
        "/2014-11-13/functions/*/configuration",
        "UpdateFunctionConfiguration",
    ),
    (
        "POST",
        "/2014-11-13/functions/*/invoke-async",
        "InvokeAsync",
    ),
    (
        "GET",
        "/2015-03-31/event-source-mappings",
        "ListEventSourceMappings",
    ),
    (
        "POST",
        "/2015-03-31/event-source-mappings",
        "CreateEventSourceMapping",
    ),
    (
        "DELETE",
        "/2015-03-31/event-source-mappings/*",
        "DeleteEventSourceMapping",
    ),
    (
        "GET",
        "/2015-03-31/event-source-mappings/*",
        "GetEventSourceMapping",
    ),
    (
        "PUT",
        "/2015-03-31/event-source-mappings/*",
        "UpdateEventSourceMapping",
    ),
    ("GET", "/2015-03-31/functions", "ListFunctions"),
    ("POST", "/2015-03-31/functions", "CreateFunction"),
    ("DELETE", "/2015-03-31/functions/*", "DeleteFunction"),
    ("GET", "/2015-03-31/functions/*", "GetFunction"),
    ("GET", "/2015-03-31/functions/*/aliases", "ListAliases"),
    ("POST", "/2015-03-31/functions/*/aliases", "CreateAlias"),
    ("DELETE", "/2015-03-31/functions/*/aliases/*", "DeleteAlias"),
    ("GET", "/2015-03-31/functions/*/aliases/*", "GetAlias"),
    ("PUT", "/2015-03-31/functions/*/aliases/*", "UpdateAlias"),
    ("PUT", "/2015-03-31/functions/*/code", "UpdateFunctionCode"),
    (
        "GET",
        "/2015-03-31/functions/*/configuration",
        "GetFunctionConfiguration",
    ),
    (
        "PUT",
        "/2015-03-31/functions/*/configuration",
        "UpdateFunctionConfiguration",
    ),
    ("POST", "/2015-03-31/functions/*/invocations", "Invoke"),
    ("GET", "/2015-03-31/functions/*/policy", "GetPolicy"),
    ("POST", "/2015-03-31/functions/*/policy", "AddPermission"),
    (
        "DELETE",
        "/2015-03-31/functions/*/policy/*",
        "RemovePermission",
    ),
    (
        "GET",
        "/2015-03-31/functions/*/versions",
        "ListVersionsByFunction",
    ),
    ("POST", "/2015-03-31/functions/*/versions", "PublishVersion"),
    ("GET", "/2016-08-19/account-settings", "GetAccountSettings"),
    ("DELETE", "/2017-03-31/tags/*", "UntagResource"),
    ("GET", "/2017-03-31/tags/*", "ListTags"),
    ("POST", "/2017-03-31/tags/*", "TagResource"),
    (
        "DELETE",
        "/2017-10-31/functions/*/concurrency",
        "DeleteFunctionConcurrency",
    ),
    (
        "PUT",
        "/2017-10-31/functions/*/concurrency",
        "PutFunctionConcurrency",
    ),
    ("GET", "/2018-10-31/layers", "GetLayerVersionByArn"),
    ("GET", "/2018-10-31/layers/*/versions", "ListLayerVersions"),
    (
        "POST",
        "/2018-10-31/layers/*/versions",
        "PublishLayerVersion",
    ),
    (
        "DELETE",
        "/2018-10-31/layers/*/versions/*",
        "DeleteLayerVersion",
    ),
    ("GET", "/2018-10-31/layers/*/versions/*", "GetLayerVersion"),
    (
        "GET",
        "/2018-10-31/layers/*/versions/*/policy",
        "GetLayerVersionPolicy",
    ),
    (
        "POST",
        "/2018-10-31/layers/*/versions/*/policy",
        "AddLayerVersionPermission",
    ),
    (
        "DELETE",
        "/2018-10-31/layers/*/versions/*/policy/*",
        "RemoveLayerVersionPermission",
    ),
    (
        "DELETE",
        "/2019-09-25/functions/*/event-invoke-config",
        "DeleteFunctionEventInvokeConfig",
    ),
    (
        "GET",
        "/2019-09-25/functions/*/event-invoke-config",
        "GetFunctionEventInvokeConfig",
    ),
    (
        "POST",
        "/2019-09-25/functions/*/event-invoke-config",
        "UpdateFunctionEventInvokeConfig",
    ),
    (
        "PUT",
        "/2019-09-25/functions/*/event-invoke-config",
        "PutFunctionEventInvokeConfig",
    ),
    (
        "GET",
        "/2019-09-25/functions/*/event-invoke-config/list",
        "ListFunctionEventInvokeConfigs",
    ),
    (
        "GET",
        "/2019-09-30/functions/*/concurrency",
        "GetFunctionConcurrency",
    ),
    (
        "DELETE",
        "/2019-09-30/functions/*/provisioned-concurrency",
        "DeleteProvisionedConcurrencyConfig",
    ),
    (
        "GET",
        "/2019-09-30/functions/*/provisioned-concurrency",
        "GetProvisionedConcurrencyConfig",
    ),
    (
        "PUT",
        "/2019-09-30/functions/*/provisioned-concurrency",
        "PutProvisionedConcurrencyConfig",
    ),
    (
        "GET",
        "/2020-04-22/code-signing-configs",
        "ListCodeSigningConfigs",
    ),
    (
        "POST",
        "/2020-04-22/code-signing-configs",
        "CreateCodeSigningConfig",
    ),
    (
        "DELETE",
        "/2020-04-22/code-signing-configs/*",
        "DeleteCodeSigningConfig",
    ),
    (
        "GET",
        "/2020-04-22/code-signing-configs/*",
        "GetCodeSigningConfig",
    ),
    (
        "PUT",
        "/2020-04-22/code-signing-configs/*",
        "UpdateCodeSigningConfig",
    ),
    (
        "GET",
        "/2020-04-22/code-signing-configs/*/functions",
        "ListFunctionsByCodeSigningConfig",
    ),
    (
        "DELETE",
        "/2020-06-30/functions/*/code-signing-config",
        "DeleteFunctionCodeSigningConfig",
    ),
    (
        "GET",
        "/2020-06-30/functions/*/code-signing-config",
        "GetFunctionCodeSigningConfig",
    ),
    (
        "PUT",
        "/2020-06-30/functions/*/code-signing-config",
        "PutFunctionCodeSigningConfig",
    ),
    (
        "GET",
        "/2021-07-20/functions/*/runtime-management-config",
        "GetRuntimeManagementConfig",
    ),
    (
        "PUT",
        "/2021-07-20/functions/*/runtime-management-config",
        "PutRuntimeManagementConfig",
    ),
    (
        "DELETE",
        "/2021-10-31/functions/*/url",
        "DeleteFunctionUrlConfig",
    ),
    ("GET", "/2021-10-31/functions/*/url", "GetFunctionUrlConfig"),
    (
        "POST",
        "/2021-10-31/functions/*/url",
        "CreateFunctionUrlConfig",
    ),
    (
        "PUT",
        "/2021-10-31/functions/*/url",
        "UpdateFunctionUrlConfig",
    ),
    (
        "GET",
        "/2021-10-31/functions/*/urls",
        "ListFunctionUrlConfigs",
    ),
    (
        "POST",
        "/2021-11-15/functions/*/response-streaming-invocations",
        "InvokeWithResponseStream",
    ),
    (
        "GET",
        "/2024-08-31/functions/*/recursion-config",
        "GetFunctionRecursionConfig",
    ),
    (
        "PUT",
        "/2024-08-31/functions/*/recursion-config",
        "PutFunctionRecursionConfig",
    ),
    (
        "GET",
        "/2025-11-30/capacity-providers",
        "ListCapacityProviders",
    ),
    (
        "POST",
        "/2025-11-30/capacity-providers",
        "CreateCapacityProvider",
    ),
    (
        "DELETE",
        "/2025-11-30/capacity-providers/*",
        "DeleteCapacityProvider",
    ),
    (
        "GET",
        "/2025-11-30/capacity-providers/*",
        "GetCapacityProvider",
    ),
    (
        "PUT",
        "/2025-11-30/capacity-providers/*",
        "UpdateCapacityProvider",
    ),
    (
        "GET",
        "/2025-11-30/capacity-providers/*/function-versions",
        "ListFunctionVersionsByCapacityProvider",
    ),
    (
        "GET",
        "/2025-11-30/functions/*/function-scaling-config",
        "GetFunctionScalingConfig",
    ),
    (
        "PUT",
        "/2025-11-30/functions/*/function-scaling-config",
        "PutFunctionScalingConfig",
    ),
    (
        "POST",
        "/2025-12-01/durable-execution-callbacks/*/fail",
        "SendDurableExecutionCallbackFailure",
    ),
    (
        "POST",
        "/2025-12-01/durable-execution-callbacks/*/heartbeat",
        "SendDurableExecutionCallbackHeartbeat",
    ),
    (
        "POST",
        "/2025-12-01/durable-execution-callbacks/*/succeed",
        "SendDurableExecutionCallbackSuccess",
    ),
    (
        "DELETE",
        "/2025-12-01/durable-executions/*",
        "DeleteDurableExecution",
    ),
    (
        "GET",
        "/2025-12-01/durable-executions/*",
        "GetDurableExecution",
    ),
    (
        "POST",
        "/2025-12-01/durable-executions/*/checkpoint",
        "CheckpointDurableExecution",
    ),
    (
        "GET",
        "/2025-12-01/durable-executions/*/history",
        "GetDurableExecutionHistory",
    ),
    (
        "POST",
        "/2025-12-01/durable-executions/*/pause",
        "PauseDurableExecution",
    ),
    (
        "POST",
        "/2025-12-01/durable-executions/*/resume",
        "ResumeDurableExecution",
    ),
    (
        "GET",
        "/2025-12-01/durable-executions/*/state",
        "GetDurableExecutionState",
    ),
    (
        "POST",
        "/2025-12-01/durable-executions/*/stop",
        "StopDurableExecution",
    ),
    (
        "GET",
        "/2025-12-01/functions/*/durable-executions",
        "ListDurableExecutionsByFunction",
    ),
    (
        "DELETE",
        "/2026-07-09/resource-policy/*",
        "DeleteResourcePolicy",
    ),
    ("GET", "/2026-07-09/resource-policy/*", "GetResourcePolicy"),
    ("PUT", "/2026-07-09/resource-policy/*", "PutResourcePolicy"),
];

/// The name of the Lambda operation `method path` calls, if any.
pub fn operation_name(method: &str, path: &str) -> Option<&'static str> {
    let segs: Vec<&str> = path.trim_end_matches('/').split('/').collect();
    OPERATIONS
        .iter()
        .find(|(m, template, _)| {
            *m == method && {
                let t: Vec<&str> = template.split('/').collect();
                t.len() == segs.len() && t.iter().zip(&segs).all(|(a, b)| *a == "*" || a == b)
            }
        })
        .map(|(_, _, name)| *name)
}

/// The answer to a Lambda path no handler serves.
pub fn answer(method: &str, path: &str) -> ApiError {
    match operation_name(method, path) {
        Some(op) => ApiError::new(
            400,
            "InvalidParameterValueException",
            format!("{op} is not supported by Tollgate"),
        ),
        None => ApiError::new(
            404,
            "UnknownOperationException",
            format!("Unknown operation: {method} {path}"),
        ),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn operations_are_named_by_method_and_path() {
        assert_eq!(
            operation_name("POST", "/2021-10-31/functions/f/url"),
            Some("CreateFunctionUrlConfig")
        );
        assert_eq!(
            operation_name("PUT", "/2019-09-30/functions/f/provisioned-concurrency"),
            Some("PutProvisionedConcurrencyConfig")
        );
        assert_eq!(
            operation_name("POST", "/2015-03-31/event-source-mappings/"),
            Some("CreateEventSourceMapping")
        );
        assert_eq!(operation_name("GET", "/2021-10-31/functions/f/nope"), None);
        assert_eq!(operation_name("PATCH", "/2015-03-31/functions/f"), None);
    }
}

/// The IAM action and resource a Lambda call is, for IAM-issued keys' identity policies:
/// `lambda:{Operation}` (the invoke operations as `lambda:InvokeFunction`) on the function
/// named by `/{date}/functions/{name}/...`, by its name, `name:qualifier` or its (possibly
/// qualified) ARN, as the unqualified function ARN.
pub fn iam_action(c: &IamCall<'_>) -> Option<IamAction> {
    let op = operation_name(c.parts.method.as_str(), c.path)?;
    let mut segs = c.path.split('/').skip(2);
    let resource = match (segs.next(), segs.next()) {
        (Some("functions"), Some(f)) => {
            let name = match f.strip_prefix("arn:") {
                // arn:aws:lambda:{region}:{account}:function:{name}[:{qualifier}]
                Some(_) => f.split(':').nth(6).unwrap_or(f),
                None => f.split(':').next().unwrap_or(f),
            };
            format!(
                "arn:aws:lambda:{}:{}:function:{name}",
                c.region,
                tollgate_model::ACCOUNT_ID
            )
        }
        _ => "*".to_string(),
    };
    let action = match op {
        "Invoke" | "InvokeAsync" => "InvokeFunction",
        other => other,
    };
    Some(IamAction {
        action: format!("lambda:{action}"),
        resource,
        keys: Vec::new(),
    })
}

#[cfg(test)]
mod iam_action_tests {
    use crate::core::registry::call_for_test;

    #[test]
    fn functions_are_named_by_their_unqualified_arn() {
        let f = "arn:aws:lambda:us-east-1:000000000000:function:secret";
        for uri in [
            "/2015-03-31/functions/s%65cret",
            "/2015-03-31/functions/secret%3Alive",
            "/2015-03-31/functions/arn%3Aaws%3Alambda%3Aus-east-1%3A000000000000%3Afunction%3Asecret%3Alive",
        ] {
            let r = call_for_test("GET", uri, b"", |c| super::iam_action(c).map(|a| a.resource));
            assert_eq!(r.as_deref(), Some(f), "{uri}");
        }
    }
}
