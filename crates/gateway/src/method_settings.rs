//! A stage's `methodSettings` resolved per deployed method once, when the stage's runtime
//! is built: what metrics and execution logs read per request with one lookup by resource
//! path and method, never by parsing settings keys.

use std::collections::HashMap;

use tollgate_model::vocabulary::LoggingLevel;
use tollgate_model::{RestApiDefinition, Stage};

use crate::router::{method_slot, ANY_SLOT};

/// The settings one method runs with: its own entry when it has one, else `*/*`'s (a
/// logging level the own entry leaves unset is `*/*`'s).
#[derive(Clone, Copy, Debug, Default)]
pub struct Effective {
    pub metrics_enabled: bool,
    pub logging_level: Option<LoggingLevel>,
    pub data_trace_enabled: bool,
}

/// Per resource path and method slot, what `make` derived from the method's settings.
#[derive(Debug)]
pub struct MethodTable<T> {
    by_path: HashMap<Box<str>, [Option<T>; 8]>,
}

impl<T> MethodTable<T> {
    /// Resolves every method of `definitions` (a stage serves its deployment's and its
    /// canary's); `make` gets the resource path, the method and its settings.
    pub fn build(
        stage: &Stage,
        definitions: &[&RestApiDefinition],
        mut make: impl FnMut(&str, &str, Effective) -> Option<T>,
    ) -> MethodTable<T> {
        let mut all = Effective::default();
        let mut own: HashMap<(String, String), Effective> = HashMap::new();
        for (key, s) in &stage.method_settings {
            let e = Effective {
                metrics_enabled: s.metrics_enabled,
                logging_level: s.logging_level,
                data_trace_enabled: s.data_trace_enabled,
            };
            match tollgate_model::stage::split_method_setting_key(key) {
                Some((p, m)) if p == "*" && m == "*" => all = e,
                Some(k) => {
                    own.insert(k, e);
                }
                None => {}
            }
        }
        let mut by_path: HashMap<Box<str>, [Option<T>; 8]> = HashMap::new();
        for def in definitions {
            for r in def.resources.values() {
                for verb in r.resource_methods.keys() {
                    let Some(slot) = method_slot(verb) else {
                        continue;
                    };
                    let effective = match own.get(&(r.path.clone(), verb.clone())) {
                        Some(o) => Effective {
                            logging_level: o.logging_level.or(all.logging_level),
                            ..*o
                        },
                        None => all,
                    };
                    let entry = by_path.entry(r.path.as_str().into()).or_default();
                    if entry[slot].is_none() {
                        entry[slot] = make(r.path.as_str(), verb.as_str(), effective);
                    }
                }
            }
        }
        by_path.retain(|_, slots| slots.iter().any(Option::is_some));
        MethodTable { by_path }
    }

    /// The value of the method a request was routed to: the exact verb, else `ANY`, as
    /// the router matches.
    pub fn get(&self, resource_path: Option<&str>, verb: &str) -> Option<&T> {
        if self.by_path.is_empty() {
            return None;
        }
        let slots = self.by_path.get(resource_path?)?;
        method_slot(verb)
            .and_then(|s| slots[s].as_ref())
            .or(slots[ANY_SLOT].as_ref())
    }
}
