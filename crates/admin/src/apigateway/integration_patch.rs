//! UpdateIntegration's and UpdateIntegrationResponse's patch paths.

use tollgate_model::{Integration, IntegrationResponse, TlsConfig};

use crate::core::error::ApiError;
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

pub static INTEGRATION_PATCH: PatchTable<Integration, ()> = PatchTable {
    rules: &[
        replace_string!("/type", integration_type),
        replace_opt!("/httpMethod", http_method),
        replace_opt!("/uri", uri),
        replace_opt!("/credentials", credentials),
        replace_opt!("/connectionType", connection_type),
        replace_opt!("/connectionId", connection_id),
        replace_string!("/passthroughBehavior", passthrough_behavior),
        replace_opt!("/contentHandling", content_handling),
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
                    insecure_skip_verification: patch_bool(c.value, c.path)?,
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
        replace_opt!("/contentHandling", content_handling),
        PatchRule {
            ops: &["add", "replace"],
            path: "/responseParameters/*",
            apply: |ir, c| c.put_in(&mut ir.response_parameters),
        },
        PatchRule {
            ops: &["remove"],
            path: "/responseParameters/*",
            apply: |ir, c| c.remove_from(&mut ir.response_parameters, no_parameter),
        },
        PatchRule {
            ops: &["add", "replace"],
            path: "/responseTemplates/*",
            apply: |ir, c| c.put_in(&mut ir.response_templates),
        },
        PatchRule {
            ops: &["remove"],
            path: "/responseTemplates/*",
            apply: |ir, c| c.remove_from(&mut ir.response_templates, no_parameter),
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
