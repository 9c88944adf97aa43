//! The declarative side of `patchOperations`: each Update* handler states which (op, path)
//! pairs it accepts and what each does, as a table, and [`PatchTable::apply`] does the
//! matching and AWS's error for a path the table does not know.

use std::collections::BTreeMap;

use crate::core::error::{ApiError, ApiResult};
use crate::core::patch::{
    invalid_path, invalid_path_for_op, replace_only, unescape, unsupported_op, PatchOp,
};

/// One patch operation as a rule's setter sees it.
pub struct Change<'a, C> {
    pub op: &'a str,
    /// The path as sent (escapes kept), for error messages.
    pub path: &'a str,
    pub value: Option<&'a str>,
    /// `from`, for `copy` and `move`.
    pub from: Option<&'a str>,
    /// The segments the pattern's `*`s matched, unescaped (`~1` → `/`, `~0` → `~`).
    pub params: Vec<String>,
    /// What the setter may read besides its target (the state, for cross-checks).
    pub ctx: &'a C,
}

impl<C> Change<'_, C> {
    /// The `n`th `*` segment.
    pub fn param(&self, n: usize) -> &str {
        self.params.get(n).map(String::as_str).unwrap_or_default()
    }

    /// Sets `map`'s entry named by the first `*` to the value (a missing value is empty).
    pub fn put_in(&self, map: &mut BTreeMap<String, String>) -> ApiResult<()> {
        map.insert(
            self.param(0).to_string(),
            self.value.unwrap_or_default().to_string(),
        );
        Ok(())
    }

    /// Removes `map`'s entry named by the first `*`, or answers `missing()`.
    pub fn remove_from<V>(
        &self,
        map: &mut BTreeMap<String, V>,
        missing: fn() -> ApiError,
    ) -> ApiResult<()> {
        map.remove(self.param(0)).map(|_| ()).ok_or_else(missing)
    }

    /// [`Self::remove_from`] on a map AWS drops from its answers once emptied by a patch
    /// (while one given empty is answered as `{}`).
    pub fn remove_from_opt<V>(
        &self,
        map: &mut Option<BTreeMap<String, V>>,
        missing: fn() -> ApiError,
    ) -> ApiResult<()> {
        self.remove_from(map.as_mut().ok_or_else(missing)?, missing)?;
        if map.as_ref().is_some_and(BTreeMap::is_empty) {
            *map = None;
        }
        Ok(())
    }
}

/// A setter: applies one matched operation to the target.
pub type Setter<T, C> = fn(&mut T, &Change<'_, C>) -> ApiResult<()>;

/// One row: the ops it applies to, a path pattern, and its setter.
pub struct PatchRule<T: 'static, C: 'static> {
    pub ops: &'static [&'static str],
    /// `/name`; `*` matches one segment (`/variables/*`); a trailing `/**` matches any
    /// rest (`/apiStages/` too), which the setter reads from [`Change::path`].
    pub path: &'static str,
    pub apply: Setter<T, C>,
}

/// What a patch operation no rule matches answers; AWS words it differently per resource.
pub enum NoMatch {
    /// `Invalid patch path {path}`
    InvalidPath,
    /// `Invalid patch path  '{path}' specified for op '{op}'. Must be one of: [...]`
    InvalidPathForOp(&'static [&'static str]),
    /// Only `replace` is supported: for it, as [`NoMatch::InvalidPathForOp`]; for any other
    /// op, `... Please choose supported operations`.
    ReplaceOnly(&'static [&'static str]),
    /// A path of the list with an op the table does not take: `... Please choose supported
    /// operations`; any other path, as [`NoMatch::InvalidPathForOp`].
    OpsOfPaths(&'static [&'static str]),
    /// A resource's own wording: `(path, op)` to the error.
    Custom(fn(&str, &str) -> ApiError),
}

impl NoMatch {
    fn error(&self, path: &str, op: &str) -> ApiError {
        match self {
            NoMatch::InvalidPath => invalid_path(path),
            NoMatch::InvalidPathForOp(allowed) => invalid_path_for_op(path, op, allowed),
            NoMatch::ReplaceOnly(allowed) if op == "replace" => {
                invalid_path_for_op(path, op, allowed)
            }
            NoMatch::ReplaceOnly(_) => unsupported_op(path, op),
            NoMatch::OpsOfPaths(paths) if paths.contains(&path) => unsupported_op(path, op),
            NoMatch::OpsOfPaths(paths) => invalid_path_for_op(path, op, paths),
            NoMatch::Custom(error) => error(path, op),
        }
    }
}

/// An Update* operation's patch paths.
pub struct PatchTable<T: 'static, C: 'static> {
    pub rules: &'static [PatchRule<T, C>],
    /// Top-level members (`name` for `/name`) that only `replace` applies to: another op on
    /// one that no rule takes is AWS's `Must be one of: [replace]`, not [`Self::no_match`].
    pub replace_only: &'static [&'static str],
    pub no_match: NoMatch,
}

impl<T, C> PatchTable<T, C> {
    /// Applies `ops` in order; the first error stops (the caller's transaction then
    /// changes nothing).
    pub fn apply(&self, target: &mut T, ctx: &C, ops: &[PatchOp]) -> ApiResult<()> {
        ops.iter()
            .try_for_each(|op| self.apply_one(target, ctx, op))
    }

    fn apply_one(&self, target: &mut T, ctx: &C, op: &PatchOp) -> ApiResult<()> {
        let path = op.path()?;
        let matched = self.rules.iter().find_map(|rule| {
            if !rule.ops.contains(&op.op.as_str()) {
                return None;
            }
            matches(rule.path, path).map(|params| (rule, params))
        });
        let Some((rule, params)) = matched else {
            let member = path.strip_prefix('/').map(unescape).unwrap_or_default();
            if op.op != "replace" && self.replace_only.contains(&member.as_str()) {
                return Err(replace_only());
            }
            return Err(self.no_match.error(path, &op.op));
        };
        let change = Change {
            op: &op.op,
            path,
            value: op.value(),
            from: op.from.as_deref(),
            params,
            ctx,
        };
        (rule.apply)(target, &change)
    }
}

/// The `*` segments of `path` if it fits `pattern`.
fn matches(pattern: &str, path: &str) -> Option<Vec<String>> {
    if let Some(prefix) = pattern.strip_suffix("/**") {
        path.strip_prefix(prefix)?.strip_prefix('/')?;
        return Some(Vec::new());
    }
    let want = pattern.strip_prefix('/')?.split('/');
    let got: Vec<&str> = path.strip_prefix('/')?.split('/').collect();
    if want.clone().count() != got.len() {
        return None;
    }
    let mut params = Vec::new();
    for (w, g) in want.zip(got) {
        let g = unescape(g);
        if w == "*" {
            params.push(g);
        } else if w != g {
            return None;
        }
    }
    Some(params)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[derive(Default)]
    struct Target {
        name: String,
        vars: Vec<(String, String)>,
    }

    static TABLE: PatchTable<Target, ()> = PatchTable {
        rules: &[
            PatchRule {
                ops: &["replace"],
                path: "/name",
                apply: |t, c| {
                    t.name = c.value.unwrap_or_default().to_string();
                    Ok(())
                },
            },
            PatchRule {
                ops: &["add"],
                path: "/variables/*",
                apply: |t, c| {
                    t.vars
                        .push((c.param(0).to_string(), c.value.unwrap_or_default().into()));
                    Ok(())
                },
            },
        ],
        replace_only: &["title"],
        no_match: NoMatch::ReplaceOnly(&["/name"]),
    };

    fn op(op: &str, path: &str, value: &str) -> PatchOp {
        PatchOp {
            op: op.into(),
            path: Some(path.into()),
            value: Some(value.into()),
            from: None,
        }
    }

    #[test]
    fn rules_match_by_op_and_path() {
        let mut t = Target::default();
        TABLE
            .apply(
                &mut t,
                &(),
                &[
                    op("replace", "/name", "n"),
                    op("add", "/variables/a~1b", "v"),
                ],
            )
            .unwrap();
        assert_eq!(t.name, "n");
        assert_eq!(t.vars, vec![("a/b".to_string(), "v".to_string())]);
    }

    #[test]
    fn unknown_paths_get_the_tables_error() {
        let mut t = Target::default();
        let e = TABLE
            .apply(&mut t, &(), &[op("replace", "/nope", "")])
            .unwrap_err();
        assert_eq!(
            e.message,
            "Invalid patch path  '/nope' specified for op 'replace'. Must be one of: [/name]"
        );
        let e = TABLE
            .apply(&mut t, &(), &[op("add", "/name", "")])
            .unwrap_err();
        assert_eq!(
            e.message,
            "Invalid patch path  '/name' specified for op 'add'. Please choose supported operations"
        );
        assert!(TABLE
            .apply(&mut t, &(), &[op("add", "/variables/a/b", "")])
            .is_err());
        let e = TABLE
            .apply(&mut t, &(), &[op("remove", "/title", "")])
            .unwrap_err();
        assert_eq!(
            e.message,
            "Invalid patch operation specified. Must be one of: [replace]"
        );
    }

    #[test]
    fn rest_patterns_match_any_tail() {
        assert_eq!(matches("/apiStages/**", "/apiStages/a:b/x"), Some(vec![]));
        assert_eq!(matches("/apiStages/**", "/apiStages/"), Some(vec![]));
        assert_eq!(matches("/apiStages/**", "/apiStages"), None);
        assert_eq!(matches("/name", "name"), None);
    }
}
