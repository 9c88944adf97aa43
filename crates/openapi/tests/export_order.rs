//! GetExport's member order against AWS's recorded exports (test_apigateway_extended:
//! `pets.json` and `petstore-swagger.json`, Swagger and OpenAPI 3, with and without
//! `extensions=apigateway`), compared key by key. Where AWS's order is its creation order
//! (models, a response's headers, parameter maps), Tollgate's definition keeps names
//! sorted, so those members are compared as sets; everything else must match in order,
//! and the `pets.json` exports byte for byte in AWS's JSON layout.

mod common;

use serde_json::{Map, Value};
use tollgate_model::RestApiDefinition;
use tollgate_openapi::document::Flavor;
use tollgate_openapi::rest::{self, ExportOptions, Extensions, ImportOptions, Mode};
use tollgate_openapi::to_aws_json;

const REGION: &str = "eu-west-1";

fn fixture(name: &str) -> String {
    let path = format!("{}/tests/fixtures/{name}", env!("CARGO_MANIFEST_DIR"));
    std::fs::read_to_string(path).unwrap()
}

/// One recorded export body, its placeholders filled with this test's values.
fn recorded(case: &str) -> Value {
    let all: Value = serde_json::from_str(
        &fixture("recorded-exports.json")
            .replace("<api-id:1>", "apiid")
            .replace("<region>", REGION),
    )
    .unwrap();
    all[case].clone()
}

fn import(name: &str) -> RestApiDefinition {
    let i = rest::read(fixture(name).as_bytes(), ImportOptions::default()).unwrap();
    assert!(i.warnings.is_empty(), "{:?}", i.warnings);
    let mut def = common::rest_definition("apiid");
    rest::apply(&mut def, &i, Mode::Overwrite).unwrap();
    def
}

fn export(def: &RestApiDefinition, flavor: Flavor, apigateway: bool, version: &str) -> Value {
    let extensions = Extensions {
        apigateway,
        ..Extensions::default()
    };
    rest::export(
        def,
        &ExportOptions {
            flavor,
            api_id: "apiid",
            region: REGION,
            stage: "local",
            version,
            extensions,
        },
    )
}

fn cases() -> [(&'static str, Flavor, bool); 4] {
    [
        ("swagger", Flavor::Swagger2, false),
        ("swagger", Flavor::Swagger2, true),
        ("oas30", Flavor::Oas3, false),
        ("oas30", Flavor::Oas3, true),
    ]
}

fn case_name(flavor: &str, api: &str, apigateway: bool) -> String {
    let ext = if apigateway { " apigateway" } else { "" };
    format!("{flavor} {api}{ext}")
}

#[test]
fn pets_exports_are_aws_byte_for_byte() {
    let mut def = import("pets.json");
    // The recorded import answered these binary media types (upstream's test sends them).
    def.api.binary_media_types = vec!["image/png".into(), "image/jpg".into()];
    for (flavor_name, flavor, apigateway) in cases() {
        let case = case_name(flavor_name, "pets", apigateway);
        let doc = export(&def, flavor, apigateway, "1.0.0");
        let aws = to_aws_json(&recorded(&case));
        assert_eq!(to_aws_json(&doc), aws, "{case}");
        // The YAML export writes the same members in the same order.
        let yaml = tollgate_openapi::parse(tollgate_openapi::to_yaml(&doc).as_bytes()).unwrap();
        assert_eq!(
            to_aws_json(&Value::Object(yaml.root)),
            aws,
            "{case} as YAML"
        );
    }
}

/// Objects whose members AWS writes in the order they were created.
const CREATION_ORDERED: [&str; 5] = [
    "definitions",
    "schemas",
    "headers",
    "responseParameters",
    "requestParameters",
];

/// Where `ours` and `aws` differ in member order, as JSON pointers.
fn order_differences(ours: &Value, aws: &Value, at: &str, out: &mut Vec<String>) {
    match (ours, aws) {
        (Value::Object(a), Value::Object(b)) => {
            let (ka, kb) = (keys(a), keys(b));
            let last = at.rsplit('/').next().unwrap_or("");
            let same = if CREATION_ORDERED.contains(&last) {
                sorted(&ka) == sorted(&kb)
            } else {
                ka == kb
            };
            if !same {
                out.push(format!("{at}: ours {ka:?}, AWS {kb:?}"));
            }
            for (k, v) in a {
                if let Some(w) = b.get(k) {
                    order_differences(v, w, &format!("{at}/{}", k.replace('/', "~1")), out);
                }
            }
        }
        (Value::Array(a), Value::Array(b)) => {
            for (i, (v, w)) in a.iter().zip(by_name(a, b)).enumerate() {
                order_differences(v, w, &format!("{at}/{i}"), out);
            }
        }
        _ => {}
    }
}

fn keys(m: &Map<String, Value>) -> Vec<&str> {
    m.keys().map(String::as_str).collect()
}

fn sorted<'a>(k: &[&'a str]) -> Vec<&'a str> {
    let mut k = k.to_vec();
    k.sort_unstable();
    k
}

/// `b`'s items in `a`'s order where they are named parameters (AWS lists a method's
/// parameters in creation order too), else as they are.
fn by_name<'a>(a: &[Value], b: &'a [Value]) -> Vec<&'a Value> {
    a.iter()
        .enumerate()
        .map(|(i, v)| {
            b.iter()
                .find(|w| v.get("name").is_some() && w.get("name") == v.get("name"))
                .unwrap_or(&b[i.min(b.len() - 1)])
        })
        .collect()
}

#[test]
fn petstore_exports_follow_aws_member_order() {
    let def = import("petstore-swagger.json");
    for (flavor_name, flavor, apigateway) in cases() {
        let case = case_name(flavor_name, "petstore", apigateway);
        let ours = export(&def, flavor, apigateway, "date");
        let mut aws = recorded(&case);
        if flavor == Flavor::Oas3 {
            // AWS's two OpenAPI 3 recordings disagree on where an integration's `type`
            // goes (first here, last for pets.json and in AWS's documentation); the
            // latter is followed and checked byte for byte above, so not compared here.
            move_integration_type_last(&mut aws);
        }
        assert_eq!(by_parameter_name(&ours), by_parameter_name(&aws), "{case}");
        let mut diffs = Vec::new();
        order_differences(&ours, &aws, "", &mut diffs);
        assert!(diffs.is_empty(), "{case}:\n{}", diffs.join("\n"));
    }
}

fn move_integration_type_last(v: &mut Value) {
    match v {
        Value::Object(m) => {
            if let Some(Value::Object(i)) = m.get_mut("x-amazon-apigateway-integration") {
                if let Some(t) = i.shift_remove("type") {
                    i.insert("type".into(), t);
                }
            }
            m.values_mut().for_each(move_integration_type_last);
        }
        Value::Array(items) => items.iter_mut().for_each(move_integration_type_last),
        _ => {}
    }
}

/// `v` with named parameters sorted by name: their order is AWS's creation order.
fn by_parameter_name(v: &Value) -> Value {
    match v {
        Value::Object(m) => Value::Object(
            m.iter()
                .map(|(k, v)| (k.clone(), by_parameter_name(v)))
                .collect(),
        ),
        Value::Array(items) => {
            let mut items: Vec<Value> = items.iter().map(by_parameter_name).collect();
            items.sort_by_key(|i| i.get("name").and_then(Value::as_str).map(str::to_string));
            Value::Array(items)
        }
        other => other.clone(),
    }
}

/// The test can fail: a member out of place is reported.
#[test]
fn a_member_out_of_place_is_found() {
    let ours: Value = serde_json::from_str(r#"{"info": {"title": "t", "version": "1"}}"#).unwrap();
    let aws: Value = serde_json::from_str(r#"{"info": {"version": "1", "title": "t"}}"#).unwrap();
    let mut diffs = Vec::new();
    order_differences(&ours, &aws, "", &mut diffs);
    assert_eq!(diffs.len(), 1, "{diffs:?}");
}
