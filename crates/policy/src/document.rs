//! A policy document: statements, compiled once, and IAM's evaluation logic.

use serde_json::Value;

use crate::condition::{Condition, ConditionKeys};
use crate::principal::{Caller, Principals};
use crate::wildcard::Wildcard;

/// What a policy decides for one request.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Decision {
    Allow,
    /// No statement matched.
    ImplicitDeny,
    /// A `Deny` statement matched.
    ExplicitDeny,
}

/// Why a policy document cannot be used.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum PolicyError {
    #[error("policy document is not a JSON object with a Statement")]
    NoStatement,
    #[error("statement {0} has no valid Effect")]
    Effect(usize),
    #[error("statement {0} has no Action or NotAction")]
    Action(usize),
    #[error("statement {0} has no Resource or NotResource")]
    Resource(usize),
}

/// One request as a policy sees it.
pub struct Request<'r> {
    /// e.g. `execute-api:Invoke`, `lambda:InvokeFunction` (compared without case).
    pub action: &'r str,
    /// The resource's ARN (compared with case).
    pub resource: &'r str,
    /// Matched against `Principal`/`NotPrincipal`; statements without either ignore it.
    pub caller: Caller<'r>,
    pub keys: &'r dyn ConditionKeys,
}

/// A compiled policy document.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Policy {
    statements: Vec<Statement>,
}

#[derive(Debug, Clone, PartialEq)]
struct Statement {
    allow: bool,
    principals: Option<Principals>,
    actions: Patterns,
    resources: Patterns,
    conditions: Vec<Condition>,
}

/// `Action`/`Resource` (`negated: false`) or `NotAction`/`NotResource`.
#[derive(Debug, Clone, PartialEq)]
struct Patterns {
    negated: bool,
    patterns: Vec<Wildcard>,
}

impl Patterns {
    fn compile(s: &Value, plain: &str, negated: &str) -> Option<Patterns> {
        let (v, negated) = match (s.get(plain), s.get(negated)) {
            (Some(v), _) => (v, false),
            (None, Some(v)) => (v, true),
            (None, None) => return None,
        };
        let patterns = match v {
            Value::String(s) => vec![Wildcard::new(s.clone())],
            Value::Array(a) => a
                .iter()
                .filter_map(|x| x.as_str().map(|s| Wildcard::new(s.to_string())))
                .collect(),
            _ => return None,
        };
        Some(Patterns { negated, patterns })
    }

    fn matches(&self, value: &str, ignore_case: bool) -> bool {
        let any = self.patterns.iter().any(|p| p.matches(value, ignore_case));
        any != self.negated
    }

    /// Rewrites every pattern (e.g. a resource policy's `execute-api:/...` shorthand).
    fn rewrite(&mut self, f: &dyn Fn(&str) -> Option<String>) {
        for p in &mut self.patterns {
            if let Some(new) = f(p.as_str()) {
                *p = Wildcard::new(new);
            }
        }
    }
}

impl Policy {
    /// Compiles a policy document (`Statement` one object or a list).
    pub fn compile(doc: &Value) -> Result<Policy, PolicyError> {
        Self::compile_with(doc, true)
    }

    /// Compiles a role's trust policy: its statements name no resource (they are about
    /// the role itself), so a statement without `Resource` applies to any.
    pub fn compile_trust(doc: &Value) -> Result<Policy, PolicyError> {
        Self::compile_with(doc, false)
    }

    fn compile_with(doc: &Value, resource_required: bool) -> Result<Policy, PolicyError> {
        let statements = match doc.get("Statement") {
            Some(Value::Array(a)) => a.iter().collect::<Vec<_>>(),
            Some(o @ Value::Object(_)) => vec![o],
            _ => return Err(PolicyError::NoStatement),
        };
        let statements = statements
            .into_iter()
            .enumerate()
            .map(|(i, s)| {
                let allow = match s.get("Effect").and_then(Value::as_str) {
                    Some("Allow") => true,
                    Some("Deny") => false,
                    _ => return Err(PolicyError::Effect(i)),
                };
                Ok(Statement {
                    allow,
                    principals: Principals::compile(s),
                    actions: Patterns::compile(s, "Action", "NotAction")
                        .ok_or(PolicyError::Action(i))?,
                    resources: match Patterns::compile(s, "Resource", "NotResource") {
                        Some(p) => p,
                        None if !resource_required => Patterns {
                            negated: false,
                            patterns: vec![Wildcard::new("*".to_string())],
                        },
                        None => return Err(PolicyError::Resource(i)),
                    },
                    conditions: Condition::compile_all(s.get("Condition")),
                })
            })
            .collect::<Result<Vec<_>, _>>()?;
        Ok(Policy { statements })
    }

    /// Rewrites every `Resource`/`NotResource` pattern `f` answers for, once at compile
    /// time (an API's resource policy names its methods as `execute-api:/{stage}/...`).
    pub fn rewrite_resources(mut self, f: &dyn Fn(&str) -> Option<String>) -> Policy {
        for s in &mut self.statements {
            s.resources.rewrite(f);
        }
        self
    }

    /// Whether a decision may depend on the request's condition keys (some statement has
    /// a `Condition`); without, it depends only on the action, resource and caller.
    pub fn reads_condition_keys(&self) -> bool {
        self.statements.iter().any(|s| !s.conditions.is_empty())
    }

    /// The decision for one request.
    pub fn evaluate(&self, req: &Request<'_>) -> Decision {
        let mut allowed = false;
        for s in &self.statements {
            if !s.applies(req) {
                continue;
            }
            if !s.allow {
                return Decision::ExplicitDeny;
            }
            allowed = true;
        }
        if allowed {
            Decision::Allow
        } else {
            Decision::ImplicitDeny
        }
    }
}

/// IAM's logic across several policies of one identity: one explicit deny wins, else one
/// allow suffices, else the deny is implicit.
pub fn decide_all<'p>(
    policies: impl IntoIterator<Item = &'p Policy>,
    req: &Request<'_>,
) -> Decision {
    let mut decision = Decision::ImplicitDeny;
    for p in policies {
        match p.evaluate(req) {
            Decision::ExplicitDeny => return Decision::ExplicitDeny,
            Decision::Allow => decision = Decision::Allow,
            Decision::ImplicitDeny => {}
        }
    }
    decision
}

impl Statement {
    fn applies(&self, req: &Request<'_>) -> bool {
        self.principals
            .as_ref()
            .is_none_or(|p| p.matches(&req.caller))
            && self.actions.matches(req.action, true)
            && self.resources.matches(req.resource, false)
            && self
                .conditions
                .iter()
                .all(|c| c.holds(req.keys, self.allow))
    }
}
