//! Laying a [`RestImport`] onto an API's definition: `overwrite` replaces the API's
//! resources, methods, models, validators, authorizers and gateway responses with the
//! document's; `merge` adds the document's and replaces same-named ones, keeping the
//! rest. Resources are found by path, so a merge keeps the ids of existing resources.

use std::collections::{BTreeMap, HashMap, HashSet};

use tollgate_model::{ids, Method, Model, Resource, RestApiDefinition};

use super::import::RestImport;
use crate::problems::ImportError;
use crate::refs;

/// PutRestApi's `mode`; ImportRestApi overwrites the new API it creates.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Mode {
    #[default]
    Merge,
    Overwrite,
}

impl Mode {
    pub fn parse(s: &str) -> Option<Self> {
        match s {
            "merge" => Some(Mode::Merge),
            "overwrite" => Some(Mode::Overwrite),
            _ => None,
        }
    }
}

/// Applies `import` to `def`. On error `def` may be half-changed: the caller applies it
/// to a copy inside a store transaction, which an error discards.
pub fn apply(
    def: &mut RestApiDefinition,
    import: &RestImport,
    mode: Mode,
) -> Result<(), ImportError> {
    if mode == Mode::Overwrite {
        clear(def);
    }
    apply_api(def, import, mode);
    let api_id = def.api.id.clone();
    // Indexes, so a large document costs time in proportion to its size.
    let mut model_ids: HashSet<String> = def.models.values().map(|m| m.id.clone()).collect();
    for m in &import.models {
        let mut schema = m.schema.clone();
        refs::rewrite(&mut schema, &|name| refs::model_url(&api_id, name));
        let id = match def.models.get(&m.name) {
            Some(existing) => existing.id.clone(),
            None => ids::unique(ids::short_id, |id| model_ids.contains(id)),
        };
        model_ids.insert(id.clone());
        def.models.insert(
            m.name.clone(),
            Model {
                id,
                name: m.name.clone(),
                description: m.description.clone(),
                schema: Some(serde_json::to_string(&schema).unwrap_or_default()),
                content_type: "application/json".into(),
            },
        );
    }
    let mut authorizer_ids: BTreeMap<String, String> = def
        .authorizers
        .values()
        .map(|a| (a.name.clone(), a.id.clone()))
        .collect();
    for a in &import.authorizers {
        let id = authorizer_ids
            .get(&a.name)
            .cloned()
            .unwrap_or_else(|| ids::unique(ids::short_id, |id| def.authorizers.contains_key(id)));
        let mut a = a.clone();
        a.id = id.clone();
        def.authorizers.insert(id.clone(), a.clone());
        authorizer_ids.insert(a.name, id);
    }
    let mut validator_ids: BTreeMap<String, String> = def
        .request_validators
        .values()
        .map(|v| (v.name.clone().unwrap_or_default(), v.id.clone()))
        .collect();
    for v in &import.validators {
        let id = validator_ids
            .get(v.name.as_deref().unwrap_or_default())
            .cloned()
            .unwrap_or_else(|| {
                ids::unique(ids::short_id, |id| def.request_validators.contains_key(id))
            });
        let mut v = v.clone();
        v.id = id.clone();
        validator_ids.insert(v.name.clone().unwrap_or_default(), id.clone());
        def.request_validators.insert(id, v);
    }
    for g in &import.gateway_responses {
        def.gateway_responses
            .insert(g.response_type.as_str().into(), g.clone());
    }
    let mut errors = Vec::new();
    let mut tree = Tree::of(def);
    for op in &import.operations {
        let res = match tree.ensure_path(def, &op.path) {
            Ok(id) => id,
            Err(e) => {
                errors.push(e);
                continue;
            }
        };
        let mut method = op.method.clone();
        if let Err(e) = link(&mut method, op, &authorizer_ids, &validator_ids, def) {
            errors.push(format!(
                "Unable to put method '{}' on resource at path '{}': {e}",
                method.http_method, op.path
            ));
            continue;
        }
        if let Some(i) = method.method_integration.as_mut() {
            if i.cache_namespace.is_empty() {
                i.cache_namespace = res.clone();
            }
        }
        if let Some(r) = def.resources.get_mut(&res) {
            r.resource_methods
                .insert(method.http_method.clone(), method);
        }
    }
    if !errors.is_empty() {
        return Err(ImportError::Errors(errors));
    }
    Ok(())
}

fn clear(def: &mut RestApiDefinition) {
    let root = def.api.root_resource_id.clone();
    def.resources.retain(|id, _| *id == root);
    if let Some(r) = def.resources.get_mut(&root) {
        r.resource_methods.clear();
    }
    def.models.clear();
    def.request_validators.clear();
    def.authorizers.clear();
    def.gateway_responses.clear();
}

fn apply_api(def: &mut RestApiDefinition, import: &RestImport, mode: Mode) {
    let api = &mut def.api;
    import
        .info
        .apply(&mut api.name, &mut api.description, &mut api.version);
    let s = &import.settings;
    match (mode, &s.binary_media_types) {
        (Mode::Overwrite, types) => api.binary_media_types = types.clone().unwrap_or_default(),
        (Mode::Merge, Some(types)) => {
            for t in types {
                if !api.binary_media_types.contains(t) {
                    api.binary_media_types.push(t.clone());
                }
            }
        }
        (Mode::Merge, None) => {}
    }
    if s.minimum_compression_size.is_some() {
        api.minimum_compression_size = s.minimum_compression_size;
    }
    if let Some(k) = s.api_key_source {
        api.api_key_source = k;
    }
    if s.policy.is_some() {
        api.policy = s.policy.clone();
    }
    if let Some(t) = &s.endpoint_types {
        api.endpoint_configuration.types = t.clone();
    }
    if s.vpc_endpoint_ids.is_some() {
        api.endpoint_configuration.vpc_endpoint_ids = s.vpc_endpoint_ids.clone();
    }
    if s.ip_address_type.is_some() {
        api.endpoint_configuration.ip_address_type = s.ip_address_type;
    }
    if let Some(d) = s.disable_execute_api_endpoint {
        api.disable_execute_api_endpoint = d;
    }
}

/// Resolves a method's authorizer and validator names, and checks its models exist.
fn link(
    m: &mut Method,
    op: &super::import::Operation,
    authorizers: &BTreeMap<String, String>,
    validators: &BTreeMap<String, String>,
    def: &RestApiDefinition,
) -> Result<(), String> {
    if let Some(name) = &op.authorizer {
        m.authorizer_id = Some(
            authorizers
                .get(name)
                .cloned()
                .ok_or_else(|| format!("Invalid authorizer name specified: {name}"))?,
        );
    }
    if let Some(name) = &op.validator {
        m.request_validator_id = Some(
            validators
                .get(name)
                .cloned()
                .ok_or_else(|| format!("Invalid request validator name specified: {name}"))?,
        );
    }
    let models = m.request_models.values().chain(
        m.method_responses
            .values()
            .flat_map(|r| r.response_models.iter().flatten().map(|(_, v)| v)),
    );
    for name in models {
        if !def.models.contains_key(name) {
            return Err(format!("Invalid model name specified: {name}"));
        }
    }
    Ok(())
}

/// The resource tree by (parent, path part), and each parent's variable child.
struct Tree {
    children: HashMap<(String, String), String>,
    variable_child: HashMap<String, String>,
}

impl Tree {
    fn of(def: &RestApiDefinition) -> Tree {
        let mut t = Tree {
            children: HashMap::new(),
            variable_child: HashMap::new(),
        };
        for r in def.resources.values() {
            if let (Some(parent), Some(part)) = (&r.parent_id, &r.path_part) {
                t.children
                    .insert((parent.clone(), part.clone()), r.id.clone());
                if part.starts_with('{') {
                    t.variable_child.insert(parent.clone(), part.clone());
                }
            }
        }
        t
    }

    /// The id of the resource at `path`, creating the missing resources on the way.
    fn ensure_path(&mut self, def: &mut RestApiDefinition, path: &str) -> Result<String, String> {
        let mut current = def.api.root_resource_id.clone();
        let mut current_path = String::new();
        let segments: Vec<&str> = path.split('/').filter(|s| !s.is_empty()).collect();
        for (i, part) in segments.iter().enumerate() {
            let fail =
                |reason: &str| format!("Unable to create resource at path '{path}': {reason}");
            check_part(part, i + 1 == segments.len()).map_err(|r| fail(&r))?;
            current_path = format!("{current_path}/{part}");
            let key = (current.clone(), part.to_string());
            if let Some(id) = self.children.get(&key) {
                current = id.clone();
                continue;
            }
            if part.starts_with('{') {
                if let Some(sibling) = self.variable_child.get(&current) {
                    return Err(fail(&format!(
                        "A sibling ({sibling}) of this resource already has a variable path part -- only one is allowed"
                    )));
                }
                self.variable_child
                    .insert(current.clone(), part.to_string());
            }
            let id = ids::unique(ids::short_id, |id| def.resources.contains_key(id));
            def.resources.insert(
                id.clone(),
                Resource {
                    id: id.clone(),
                    parent_id: Some(current.clone()),
                    path_part: Some(part.to_string()),
                    path: current_path.clone(),
                    resource_methods: BTreeMap::new(),
                },
            );
            self.children.insert(key, id.clone());
            current = id;
        }
        Ok(current)
    }
}

/// AWS's rules for one path part (CreateResource's): a literal of `a-zA-Z0-9._-:`, a
/// variable `{name}`, or a greedy `{name+}` as the last part.
fn check_part(part: &str, last: bool) -> Result<(), String> {
    match tollgate_model::validate::path_part(part) {
        Ok(tollgate_model::validate::PathPart::Greedy(_)) if !last => {
            Err(tollgate_model::validate::PATH_PART_MESSAGE.into())
        }
        Ok(_) => Ok(()),
        Err(message) => Err(message.into()),
    }
}
