//! UpdateIntegration's and UpdateIntegrationResponse's patch paths.

use tollgate_model::{
    ConnectionType, ContentHandlingStrategy, Integration, IntegrationResponse, IntegrationType,
    PassthroughBehavior, TlsConfig,
};

use crate::core::error::{ApiError, ApiResult, Violation};
use crate::core::patch::{patch_bool, patch_i64};
use crate::core::patch_table::{NoMatch, PatchRule, PatchTable};

/// A `replace` rule that sets a required string member (a missing value is empty).
macro_rules! replace_string {
    ($path:literal, $field:ident) => {
        PatchRule {
            ops: &["replace"],
            path: $path,
            apply: |t, c| {
                t.$field = c.value.unwrap_or_default().to_string();
                Ok(())
            },
        }
    };
}

/// `type`, with AWS's message for an unknown value (the put's member name, as before).
pub fn integration_type(v: &str) -> ApiResult<IntegrationType> {
    v.parse().map_err(|_| {
        Violation::enum_value(
            v,
            "putIntegrationInput.type",
            "HTTP, MOCK, AWS_PROXY, HTTP_PROXY, AWS",
        )
        .into()
    })
}

pub fn passthrough_behavior(v: &str) -> ApiResult<PassthroughBehavior> {
    v.parse().map_err(|_| {
        ApiError::bad_request(format!(
            "Invalid passthrough behavior specified: {v}. Valid values are WHEN_NO_MATCH, WHEN_NO_TEMPLATES, NEVER"
        ))
    })
}

/// `contentHandling`; absent or empty means unset.
pub fn content_handling(
    v: Option<&str>,
    member: &str,
) -> ApiResult<Option<ContentHandlingStrategy>> {
    match v.filter(|s| !s.is_empty()) {
        None => Ok(None),
        Some(v) => v.parse().map(Some).map_err(|_| {
            Violation::enum_value(v, member, "CONVERT_TO_BINARY, CONVERT_TO_TEXT").into()
        }),
    }
}

pub fn connection_type(v: &str) -> ApiResult<ConnectionType> {
    v.parse().map_err(|_| {
        Violation::enum_value(
            v,
            "putIntegrationInput.connectionType",
            "INTERNET, VPC_LINK",
        )
        .into()
    })
}

pub static INTEGRATION_PATCH: PatchTable<Integration, ()> = PatchTable {
    rules: &[
        PatchRule {
            ops: &["replace"],
            path: "/type",
            apply: |i, c| {
                i.integration_type = integration_type(c.value.unwrap_or_default())?;
                Ok(())
            },
        },
        replace_opt!("/httpMethod", http_method),
        replace_opt!("/uri", uri),
        replace_opt!("/credentials", credentials),
        PatchRule {
            ops: &["replace"],
            path: "/connectionType",
            apply: |i, c| {
                i.connection_type = c
                    .value
                    .filter(|s| !s.is_empty())
                    .map(connection_type)
                    .transpose()?;
                Ok(())
            },
        },
        replace_opt!("/connectionId", connection_id),
        PatchRule {
            ops: &["replace"],
            path: "/passthroughBehavior",
            apply: |i, c| {
                i.passthrough_behavior = passthrough_behavior(c.value.unwrap_or_default())?;
                Ok(())
            },
        },
        PatchRule {
            ops: &["replace"],
            path: "/contentHandling",
            apply: |i, c| {
                i.content_handling =
                    content_handling(c.value, "putIntegrationInput.contentHandling")?;
                Ok(())
            },
        },
        PatchRule {
            ops: &["replace"],
            path: "/timeoutInMillis",
            apply: |i, c| {
                i.timeout_in_millis = patch_i64(c.value, c.path)?;
                Ok(())
            },
        },
        replace_string!("/cacheNamespace", cache_namespace),
        PatchRule {
            ops: &["replace"],
            path: "/tlsConfig/insecureSkipVerification",
            apply: |i, c| {
                i.tls_config = Some(TlsConfig {
                    insecure_skip_verification: patch_bool(c.value),
                });
                Ok(())
            },
        },
        PatchRule {
            ops: &["add", "replace"],
            path: "/requestParameters/*",
            apply: |i, c| c.put_in(&mut i.request_parameters),
        },
        PatchRule {
            ops: &["remove"],
            path: "/requestParameters/*",
            apply: |i, c| c.remove_from(&mut i.request_parameters, no_parameter),
        },
        PatchRule {
            ops: &["add", "replace"],
            path: "/requestTemplates/*",
            apply: |i, c| c.put_in(&mut i.request_templates),
        },
        PatchRule {
            ops: &["remove"],
            path: "/requestTemplates/*",
            apply: |i, c| c.remove_from(&mut i.request_templates, no_content_type),
        },
        PatchRule {
            ops: &["add"],
            path: "/cacheKeyParameters/*",
            apply: |i, c| {
                let p = c.param(0).to_string();
                if !i.cache_key_parameters.contains(&p) {
                    i.cache_key_parameters.push(p)
                }
                Ok(())
            },
        },
        PatchRule {
            ops: &["remove"],
            path: "/cacheKeyParameters/*",
            apply: |i, c| {
                i.cache_key_parameters.retain(|p| p != c.param(0));
                Ok(())
            },
        },
    ],
    replace_only: &[],
    no_match: NoMatch::InvalidPath,
};

pub static INTEGRATION_RESPONSE_PATCH: PatchTable<IntegrationResponse, ()> = PatchTable {
    rules: &[
        PatchRule {
            ops: &["replace"],
            path: "/selectionPattern",
            apply: |ir, c| {
                ir.selection_pattern = c.value.map(str::to_string);
                Ok(())
            },
        },
        PatchRule {
            ops: &["replace"],
            path: "/contentHandling",
            apply: |ir, c| {
                ir.content_handling =
                    content_handling(c.value, "putIntegrationResponseInput.contentHandling")?;
                Ok(())
            },
        },
        PatchRule {
            ops: &["add", "replace"],
            path: "/responseParameters/*",
            apply: |ir, c| c.put_in(ir.response_parameters.get_or_insert_with(Default::default)),
        },
        PatchRule {
            ops: &["remove"],
            path: "/responseParameters/*",
            apply: |ir, c| c.remove_from_opt(&mut ir.response_parameters, no_parameter),
        },
        PatchRule {
            ops: &["add", "replace"],
            path: "/responseTemplates/*",
            apply: |ir, c| {
                let template = c.value.filter(|t| !t.is_empty()).map(str::to_string);
                ir.response_templates
                    .get_or_insert_with(Default::default)
                    .insert(c.param(0).to_string(), template);
                Ok(())
            },
        },
        PatchRule {
            ops: &["remove"],
            path: "/responseTemplates/*",
            apply: |ir, c| c.remove_from_opt(&mut ir.response_templates, no_parameter),
        },
    ],
    replace_only: &[],
    no_match: NoMatch::InvalidPath,
};

fn no_parameter() -> ApiError {
    ApiError::not_found("Invalid parameter name specified")
}

fn no_content_type() -> ApiError {
    ApiError::not_found("Content-Type specified was not found")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn unknown_vocabulary_values_get_aws_messages() {
        let e = integration_type("HTTPS_PROXY").unwrap_err();
        assert_eq!(
            (e.status, e.message.as_str()),
            (400, "1 validation error detected: Value 'HTTPS_PROXY' at 'putIntegrationInput.type' failed to satisfy constraint: Member must satisfy enum value set: [HTTP, MOCK, AWS_PROXY, HTTP_PROXY, AWS]")
        );
        let e = passthrough_behavior("ALWAYS").unwrap_err();
        assert_eq!(
            e.message,
            "Invalid passthrough behavior specified: ALWAYS. Valid values are WHEN_NO_MATCH, WHEN_NO_TEMPLATES, NEVER"
        );
        let e = content_handling(
            Some("convert_to_text"),
            "putIntegrationInput.contentHandling",
        )
        .unwrap_err();
        assert_eq!(
            e.message,
            "1 validation error detected: Value 'convert_to_text' at 'putIntegrationInput.contentHandling' failed to satisfy constraint: Member must satisfy enum value set: [CONVERT_TO_BINARY, CONVERT_TO_TEXT]"
        );
        let e = connection_type("VPC").unwrap_err();
        assert_eq!(
            e.message,
            "1 validation error detected: Value 'VPC' at 'putIntegrationInput.connectionType' failed to satisfy constraint: Member must satisfy enum value set: [INTERNET, VPC_LINK]"
        );
    }

    #[test]
    fn known_values_parse_and_empty_content_handling_is_unset() {
        assert_eq!(
            integration_type("AWS_PROXY").unwrap(),
            IntegrationType::AwsProxy
        );
        assert_eq!(
            passthrough_behavior("NEVER").unwrap(),
            PassthroughBehavior::Never
        );
        assert_eq!(content_handling(Some(""), "m").unwrap(), None);
        assert_eq!(content_handling(None, "m").unwrap(), None);
        assert_eq!(
            content_handling(Some("CONVERT_TO_BINARY"), "m").unwrap(),
            Some(ContentHandlingStrategy::ConvertToBinary)
        );
        assert_eq!(
            connection_type("VPC_LINK").unwrap(),
            ConnectionType::VpcLink
        );
    }
}
