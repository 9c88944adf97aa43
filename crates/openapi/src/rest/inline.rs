//! Inline (non-`$ref`) schemas of request bodies and responses, made into models.
//!
//! API Gateway keeps a method's body shape only as a model name (`requestModels`,
//! `responseModels`), so an import turns an inline schema into a model of its own and
//! points the method at it; an export then shows it in `definitions` /
//! `components.schemas` behind a `$ref`. AWS names such models `MODEL` followed by six
//! hexadecimal digits (`MODELd2a00d`, aws/aws-sdk#468); how it derives the digits is not
//! published, so they are ours: the low 24 bits of the FNV-1a hash of the schema's JSON
//! text. The same schema used twice is one model, and the name is stable across imports,
//! so an export → import → export round trip keeps it.

use serde_json::Value;

use crate::refs;

/// A model from `definitions` / `components.schemas` (or made here from an inline
/// schema), its `$ref`s still the document's.
#[derive(Debug, Clone, PartialEq)]
pub struct ImportedModel {
    pub name: String,
    pub description: Option<String>,
    pub schema: Value,
}

/// The models made from inline schemas while one document is read.
#[derive(Debug, Default)]
pub struct InlineModels {
    made: Vec<ImportedModel>,
    /// The document's own model names, which a generated name must not take.
    taken: Vec<String>,
}

impl InlineModels {
    pub fn new(document_models: &[ImportedModel]) -> Self {
        InlineModels {
            made: Vec::new(),
            taken: document_models.iter().map(|m| m.name.clone()).collect(),
        }
    }

    /// The model a body or response schema stands for: the one it references, or one
    /// made from it when it is inline. An empty schema (`{}`) describes nothing: no model.
    pub fn model_for(&mut self, schema: &Value) -> Option<String> {
        if let Some(name) = refs::model_name(schema) {
            return Some(name.to_string());
        }
        if schema.as_object().is_none_or(|o| o.is_empty()) {
            return None;
        }
        if let Some(m) = self.made.iter().find(|m| &m.schema == schema) {
            return Some(m.name.clone());
        }
        let text = schema.to_string();
        // A clash with another schema's name (24 bits) moves on to the next salt.
        let name = (0u32..)
            .map(|salt| generated_name(&text, salt))
            .find(|n| !self.taken.contains(n) && !self.made.iter().any(|m| &m.name == n))?;
        self.made.push(ImportedModel {
            name: name.clone(),
            description: None,
            schema: schema.clone(),
        });
        Some(name)
    }

    /// The models made, in the order the document first used them.
    pub fn into_models(self) -> Vec<ImportedModel> {
        self.made
    }
}

fn generated_name(text: &str, salt: u32) -> String {
    const OFFSET: u64 = 0xcbf2_9ce4_8422_2325;
    const PRIME: u64 = 0x0000_0100_0000_01b3;
    let mut h = OFFSET;
    let salted = if salt > 0 {
        salt.to_string()
    } else {
        String::new()
    };
    for b in text.bytes().chain(salted.bytes()) {
        h ^= u64::from(b);
        h = h.wrapping_mul(PRIME);
    }
    format!("MODEL{:06x}", h & 0x00ff_ffff)
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn references_keep_their_model_and_inline_schemas_get_one() {
        let mut inline = InlineModels::new(&[]);
        assert_eq!(
            inline.model_for(&json!({"$ref": "#/definitions/Pet"})),
            Some("Pet".into())
        );
        assert_eq!(inline.model_for(&json!({})), None);
        let schema = json!({"type": "object", "properties": {"a": {"type": "string"}}});
        let name = inline.model_for(&schema).unwrap();
        assert!(name.starts_with("MODEL") && name.len() == 11, "{name}");
        assert!(name[5..].bytes().all(|b| b.is_ascii_hexdigit()));
        // The same schema again is the same model; another schema is another.
        assert_eq!(inline.model_for(&schema), Some(name.clone()));
        let other = inline.model_for(&json!({"type": "string"})).unwrap();
        assert_ne!(other, name);
        let models = inline.into_models();
        assert_eq!(models.len(), 2);
        assert_eq!(models[0].schema, schema);
    }

    #[test]
    fn names_are_stable_and_avoid_the_document_models() {
        let schema = json!({"type": "array", "items": {"type": "integer"}});
        let first = InlineModels::new(&[]).model_for(&schema).unwrap();
        assert_eq!(
            InlineModels::new(&[]).model_for(&schema),
            Some(first.clone())
        );
        let taken = ImportedModel {
            name: first.clone(),
            description: None,
            schema: json!({"type": "object"}),
        };
        let moved = InlineModels::new(&[taken]).model_for(&schema).unwrap();
        assert_ne!(moved, first);
        assert!(moved.starts_with("MODEL"));
    }
}
