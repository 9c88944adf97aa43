//! API documentation: parts (a JSON `properties` document attached to one API entity by
//! its location) and versions (named snapshots of every part of an API).

use serde::{Deserialize, Serialize};

use crate::vocabulary::DocumentationPartType;

/// `DocumentationPartLocation`: which entity a part documents. Members that do not apply
/// to the type are absent; a member left out where it applies stands for AWS's default
/// (`/` for `path`, `*` for `method` and `statusCode`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct DocumentationPartLocation {
    #[serde(rename = "type")]
    pub part_type: DocumentationPartType,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub path: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub method: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub status_code: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
}

/// Why a location does not address an entity of its type.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum LocationError {
    #[error("Invalid location. Property '{member}' is not applicable to type {part_type}")]
    NotApplicable {
        member: &'static str,
        part_type: DocumentationPartType,
    },
    #[error("Invalid location. Property 'name' is required for type {0}")]
    NameRequired(DocumentationPartType),
    #[error("Invalid location. Path '{0}' must start with '/'")]
    BadPath(String),
}

impl DocumentationPartLocation {
    /// Checks AWS's rules: `path` applies to every type but API, AUTHORIZER and MODEL;
    /// `method` to the types below a method; `statusCode` to responses; `name` is required
    /// for named entities (models, authorizers, parameters, headers) and refused elsewhere.
    pub fn validate(&self) -> Result<(), LocationError> {
        use DocumentationPartType as T;
        let t = self.part_type;
        let not = |member| {
            Err(LocationError::NotApplicable {
                member,
                part_type: t,
            })
        };
        let has_path = !matches!(t, T::Api | T::Authorizer | T::Model);
        let has_method = has_path && t != T::Resource;
        let has_status = matches!(t, T::Response | T::ResponseHeader | T::ResponseBody);
        let named = matches!(
            t,
            T::Authorizer
                | T::Model
                | T::PathParameter
                | T::QueryParameter
                | T::RequestHeader
                | T::ResponseHeader
        );
        if self.path.is_some() && !has_path {
            return not("path");
        }
        if self.method.is_some() && !has_method {
            return not("method");
        }
        if self.status_code.is_some() && !has_status {
            return not("statusCode");
        }
        if self.name.is_some() && !named {
            return not("name");
        }
        if named && self.name.as_deref().is_none_or(str::is_empty) {
            return Err(LocationError::NameRequired(t));
        }
        if let Some(p) = &self.path {
            if !p.starts_with('/') {
                return Err(LocationError::BadPath(p.clone()));
            }
        }
        Ok(())
    }

    /// The location with AWS's defaults filled in: two locations address the same entity
    /// exactly when their keys are equal.
    pub fn key(&self) -> (DocumentationPartType, String, String, String, String) {
        use DocumentationPartType as T;
        let t = self.part_type;
        let has_path = !matches!(t, T::Api | T::Authorizer | T::Model);
        let path = match &self.path {
            Some(p) => p.clone(),
            None if has_path => "/".into(),
            None => String::new(),
        };
        let method = match &self.method {
            Some(m) => m.to_ascii_uppercase(),
            None if has_path && t != T::Resource => "*".into(),
            None => String::new(),
        };
        let status = match &self.status_code {
            Some(s) => s.clone(),
            None if matches!(t, T::Response | T::ResponseHeader | T::ResponseBody) => "*".into(),
            None => String::new(),
        };
        (
            t,
            path,
            method,
            status,
            self.name.clone().unwrap_or_default(),
        )
    }
}

/// `DocumentationPart`. `properties` is kept as the JSON text the caller sent (AWS answers
/// it as a string).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct DocumentationPart {
    pub id: String,
    pub location: DocumentationPartLocation,
    pub properties: String,
}

/// `DocumentationVersion`, with the parts it froze (Tollgate's member: the wire shows
/// `version`, `createdDate` and `description` only).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct DocumentationVersion {
    pub version: String,
    pub created_date: i64,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
    #[serde(default)]
    pub parts: Vec<DocumentationPart>,
}
