//! The `render` bench's case, shared with `examples/render_count.rs`.

use tollgate_vtl::{Input, Limits, Template};

pub const TEMPLATE: &str = r#"#set($inputRoot = $input.path('$'))
#set($customer = $inputRoot.customer)
{
  "orderId": "$input.params('orderId')",
  "requestId": "$context.requestId",
  "stage": "$context.stage",
  "source": "$context.identity.sourceIp",
  "env": "$stageVariables.env",
  "customer": {
    "id": "$customer.id",
    "name": "$util.escapeJavaScript($customer.name)",
    "email": "$customer.email.toLowerCase()",
    "vip": #if($customer.tier == "gold" || $customer.tier == "platinum")true#{else}false#end
  },
  "items": [
#foreach($item in $inputRoot.items)
    {
      "sku": "$item.sku",
      "quantity": $item.qty,
      "price": $item.price,
      "subtotal": #set($sub = $item.qty * $item.price)$sub,
      "title": "$util.escapeJavaScript($item.title)"
    }#if($foreach.hasNext),#end
#end
  ],
  "itemCount": $inputRoot.items.size(),
  "note": "$util.escapeJavaScript($inputRoot.note)",
  "trace": "$input.params().header.get('X-Trace')",
  "raw": $input.json('$.meta')
}"#;

pub fn body() -> String {
    let items: Vec<String> = (0..20)
        .map(|i| {
            format!(
                r#"{{"sku": "SKU-{i:04}", "qty": {q}, "price": {p}, "title": "Item number {i} with a \"quoted\" word"}}"#,
                q = i % 5 + 1,
                p = 3 * i + 7
            )
        })
        .collect();
    format!(
        r#"{{"customer": {{"id": "c-123", "name": "Ada Lovelace", "email": "Ada@Example.COM", "tier": "gold"}}, "items": [{}], "note": "Leave at the door.\nRing twice.", "meta": {{"channel": "web", "campaign": "spring", "ab": [1, 2, 3]}}}}"#,
        items.join(", ")
    )
}

/// The template parsed once, and the request data of every render.
pub struct Case {
    pub template: Template,
    pub body: String,
    path: Vec<(String, String)>,
    header: Vec<(String, String)>,
    stage: Vec<(String, String)>,
    pub context: serde_json::Map<String, serde_json::Value>,
    limits: Limits,
}

impl Case {
    pub fn new() -> Case {
        let context = serde_json::from_str(
            r#"{"requestId": "5b4f8a7e-1d1e-4b55-9f52-1c2d3e4f5a6b", "stage": "prod", "identity": {"sourceIp": "203.0.113.7"}, "requestOverride": {"path": {}, "header": {}, "querystring": {}}, "responseOverride": {"header": {}}}"#,
        )
        .expect("context");
        Case {
            template: Template::parse(TEMPLATE).expect("template parses"),
            body: body(),
            path: vec![("orderId".to_string(), "o-42".to_string())],
            header: vec![
                ("X-Trace".to_string(), "abc".to_string()),
                ("Content-Type".to_string(), "application/json".to_string()),
            ],
            stage: vec![("env".to_string(), "prod".to_string())],
            context,
            limits: Limits::default(),
        }
    }

    /// One render, with a fresh copy of `$context` as a request would have.
    pub fn render(&self) -> String {
        let input = Input {
            body: &self.body,
            path: &self.path,
            querystring: &[],
            header: &self.header,
            stage_variables: &self.stage,
        };
        let mut ctx = self.context.clone();
        self.template
            .render(&input, &mut ctx, &self.limits)
            .expect("renders")
    }
}
