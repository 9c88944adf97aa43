//! Reading a query-protocol call's parameters with IAM's validation errors, and IAM's
//! list pages (`MaxItems`, `Marker`, `IsTruncated`).

use std::collections::HashMap;

use tollgate_model::iam::Tag;

use crate::core::error::{ApiError, ApiResult, Violation};
use crate::core::query::element;

/// What an action answers: its result's XML, or `None` for actions without one.
pub type Answer = ApiResult<Option<String>>;

/// IAM's one ValidationError for a broken member constraint.
pub fn invalid(v: Violation) -> ApiError {
    ApiError::new(
        400,
        "ValidationError",
        format!("1 validation error detected: {v}"),
    )
}

/// The member name AWS's messages use: the parameter in lower camel case.
fn member(param: &str) -> String {
    let mut c = param.chars();
    c.next()
        .map(|f| f.to_ascii_lowercase().to_string() + c.as_str())
        .unwrap_or_default()
}

/// The parameters of one call.
pub struct Params<'a>(pub &'a HashMap<String, String>);

impl<'a> Params<'a> {
    pub fn get(&self, name: &str) -> Option<&'a str> {
        self.0.get(name).map(String::as_str)
    }

    pub fn required(&self, name: &str) -> ApiResult<&'a str> {
        self.get(name).ok_or_else(|| {
            invalid(Violation {
                value: "null".into(),
                member: member(name),
                rule: "Member must not be null".into(),
            })
        })
    }

    /// A required IAM name (`RoleName`, `UserName`, `PolicyName`): `[\w+=,.@-]+`, at most
    /// `max` characters.
    pub fn name(&self, param: &str, max: usize) -> ApiResult<&'a str> {
        let v = self.required(param)?;
        check_name(v, param, max)?;
        Ok(v)
    }

    /// `Path` (default `/`): begins and ends with `/`, printable ASCII, at most 512.
    pub fn path(&self, param: &str) -> ApiResult<String> {
        let Some(p) = self.get(param) else {
            return Ok("/".into());
        };
        let ok = p.len() <= 512
            && p.starts_with('/')
            && p.ends_with('/')
            && p.bytes().all(|b| (0x21..=0x7e).contains(&b));
        if !ok {
            return Err(invalid(Violation::new(
                p,
                member(param),
                "Member must satisfy regular expression pattern: (\\u002F)|(\\u002F[\\u0021-\\u007E]+\\u002F)",
            )));
        }
        Ok(p.to_string())
    }

    /// `Tags.member.N.Key` / `.Value`, in order.
    pub fn tags(&self) -> ApiResult<Vec<Tag>> {
        let mut tags = Vec::new();
        for i in 1.. {
            let Some(key) = self.get(&format!("Tags.member.{i}.Key")) else {
                break;
            };
            let value = self
                .get(&format!("Tags.member.{i}.Value"))
                .unwrap_or_default();
            if key.is_empty() || key.len() > 128 || value.len() > 256 {
                return Err(invalid(Violation::new(
                    key,
                    format!("tags.{i}.member.key"),
                    "Member must have length between 1 and 128",
                )));
            }
            tags.push(Tag {
                key: key.to_string(),
                value: value.to_string(),
            });
        }
        if tags.len() > 50 {
            return Err(ApiError::new(
                400,
                "LimitExceeded",
                "Cannot exceed quota for TagsPerRole: 50",
            ));
        }
        Ok(tags)
    }

    /// `MaxItems` (1 to 1000, default 100) and `Marker`.
    fn page(&self) -> ApiResult<(usize, Option<&'a str>)> {
        let max = match self.get("MaxItems") {
            None => 100,
            Some(v) => match v.parse::<usize>() {
                Ok(n @ 1..=1000) => n,
                _ => {
                    return Err(invalid(Violation::new(
                        v,
                        "maxItems",
                        "Member must have value between 1 and 1000",
                    )))
                }
            },
        };
        Ok((max, self.get("Marker")))
    }
}

/// IAM's `LimitExceeded` for an account quota (`RolesPerAccount`, ...), which also bounds
/// what the state holds.
pub fn quota(name: &str, limit: usize) -> ApiError {
    ApiError::new(
        409,
        "LimitExceeded",
        format!("Cannot exceed quota for {name}: {limit}"),
    )
}

/// Checks one IAM name against `[\w+=,.@-]+` and its length.
pub fn check_name(v: &str, param: &str, max: usize) -> ApiResult<()> {
    if v.is_empty() || v.chars().count() > max {
        return Err(invalid(Violation::new(
            v,
            member(param),
            format!("Member must have length less than or equal to {max}"),
        )));
    }
    let ok = v
        .chars()
        .all(|c| c.is_alphanumeric() || "_+=,.@-".contains(c));
    if !ok {
        return Err(invalid(Violation::new(
            v,
            member(param),
            "Member must satisfy regular expression pattern: [\\w+=,.@-]+",
        )));
    }
    Ok(())
}

/// One page of a list: `<IsTruncated>`, the `<{list}>` of `items` (each `(marker key,
/// member XML)`, in order), and `<Marker>` when more follow: the next item's key (a marker
/// naming no item gives an empty page).
pub fn page(p: &Params<'_>, list: &str, items: Vec<(String, String)>) -> ApiResult<String> {
    let (max, marker) = p.page()?;
    let start = match marker {
        Some(m) => items
            .iter()
            .position(|(k, _)| k == m)
            .unwrap_or(items.len()),
        None => 0,
    };
    let rest = &items[start..];
    let shown = &rest[..rest.len().min(max)];
    let truncated = rest.len() > max;
    let mut out = String::new();
    element(
        &mut out,
        "IsTruncated",
        if truncated { "true" } else { "false" },
    );
    out.push_str(&format!("<{list}>"));
    for (_, xml) in shown {
        out.push_str("<member>");
        out.push_str(xml);
        out.push_str("</member>");
    }
    out.push_str(&format!("</{list}>"));
    if truncated {
        element(&mut out, "Marker", &rest[max].0);
    }
    Ok(out)
}

/// `<Tags><member><Key/><Value/></member>...</Tags>`, or nothing without tags.
pub fn tags_xml(out: &mut String, tags: &[Tag]) {
    if tags.is_empty() {
        return;
    }
    out.push_str("<Tags>");
    for t in tags {
        out.push_str("<member>");
        element(out, "Key", &t.key);
        element(out, "Value", &t.value);
        out.push_str("</member>");
    }
    out.push_str("</Tags>");
}
