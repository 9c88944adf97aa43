//! SAM's CORS settings in the generated OpenAPI document. A REST API's `Cors` becomes a
//! MOCK `OPTIONS` method on every path answering the preflight with the
//! `Access-Control-Allow-*` headers (the values are quoted literals, `"'*'"`, as in SAM);
//! an HTTP API's `CorsConfiguration` becomes `x-amazon-apigateway-cors`, which the gateway
//! answers itself.

use serde_json::{json, Map, Value};

/// Every method a REST path may have, for `any`.
const ALL_METHODS: &str = "DELETE,GET,HEAD,OPTIONS,PATCH,POST,PUT";

/// A REST API's `Cors`: a string is the allowed origin; an object names each header.
pub struct RestCors {
    origin: String,
    methods: Option<String>,
    headers: Option<String>,
    max_age: Option<String>,
    credentials: bool,
}

impl RestCors {
    pub fn parse(v: &Value) -> Result<RestCors, String> {
        let text = |k: &str| v.get(k).and_then(Value::as_str).map(str::to_string);
        match v {
            Value::String(origin) => Ok(RestCors {
                origin: origin.clone(),
                methods: None,
                headers: None,
                max_age: None,
                credentials: false,
            }),
            Value::Object(_) => Ok(RestCors {
                origin: text("AllowOrigin").ok_or("Cors: AllowOrigin is required")?,
                methods: text("AllowMethods"),
                headers: text("AllowHeaders"),
                max_age: match v.get("MaxAge") {
                    Some(Value::Number(n)) => Some(format!("'{n}'")),
                    Some(Value::String(s)) => Some(s.clone()),
                    _ => None,
                },
                credentials: v
                    .get("AllowCredentials")
                    .and_then(Value::as_bool)
                    .unwrap_or(false),
            }),
            _ => Err("Cors must be a string or an object".into()),
        }
    }

    /// The `options` operation of a path whose other operations are `methods` (lower case).
    pub fn preflight(&self, methods: &[&str], security: Option<Value>) -> Value {
        let allowed = self.methods.clone().unwrap_or_else(|| {
            if methods.contains(&"x-amazon-apigateway-any-method") {
                return format!("'{ALL_METHODS}'");
            }
            let mut list: Vec<String> = methods.iter().map(|m| m.to_ascii_uppercase()).collect();
            list.push("OPTIONS".into());
            list.sort();
            list.dedup();
            format!("'{}'", list.join(","))
        });
        let mut params = Map::new();
        let mut headers = Map::new();
        let mut add = |name: &str, value: String| {
            params.insert(format!("method.response.header.{name}"), json!(value));
            headers.insert(name.to_string(), json!({"type": "string"}));
        };
        add("Access-Control-Allow-Methods", allowed);
        add("Access-Control-Allow-Origin", self.origin.clone());
        if let Some(h) = &self.headers {
            add("Access-Control-Allow-Headers", h.clone());
        }
        if let Some(m) = &self.max_age {
            add("Access-Control-Max-Age", m.clone());
        }
        if self.credentials {
            add("Access-Control-Allow-Credentials", "'true'".into());
        }
        let mut op = json!({
            "consumes": ["application/json"],
            "produces": ["application/json"],
            "summary": "CORS support",
            "responses": {"200": {"description": "Default response for CORS method",
                                  "headers": headers}},
            "x-amazon-apigateway-integration": {
                "type": "mock",
                "requestTemplates": {"application/json": "{\n  \"statusCode\" : 200\n}\n"},
                "responses": {"default": {"statusCode": "200",
                                          "responseParameters": params,
                                          "responseTemplates": {"application/json": "{}\n"}}},
                "passthroughBehavior": "when_no_match",
            },
        });
        if let Some(s) = security {
            op["security"] = s;
        }
        op
    }
}

/// An HTTP API's `CorsConfiguration` (`true` allows everything) as
/// `x-amazon-apigateway-cors`.
pub fn http_cors(v: &Value) -> Result<Value, String> {
    if v == &Value::Bool(true) {
        return Ok(json!({"allowOrigins": ["*"], "allowHeaders": ["*"], "allowMethods": ["*"]}));
    }
    let Value::Object(m) = v else {
        return Err("CorsConfiguration must be true or an object".into());
    };
    let mut out = Map::new();
    for (from, to) in [
        ("AllowOrigins", "allowOrigins"),
        ("AllowHeaders", "allowHeaders"),
        ("AllowMethods", "allowMethods"),
        ("ExposeHeaders", "exposeHeaders"),
        ("MaxAge", "maxAge"),
        ("AllowCredentials", "allowCredentials"),
    ] {
        if let Some(x) = m.get(from) {
            out.insert(to.into(), x.clone());
        }
    }
    Ok(Value::Object(out))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rest_preflight_lists_the_paths_methods_and_the_headers_asked_for() {
        let c = RestCors::parse(&json!({"AllowOrigin": "'https://app.example'",
                                       "AllowHeaders": "'Content-Type,Authorization'",
                                       "MaxAge": 600}))
        .unwrap();
        let op = c.preflight(&["post", "get"], None);
        let p =
            &op["x-amazon-apigateway-integration"]["responses"]["default"]["responseParameters"];
        assert_eq!(
            p["method.response.header.Access-Control-Allow-Methods"],
            "'GET,OPTIONS,POST'"
        );
        assert_eq!(
            p["method.response.header.Access-Control-Allow-Origin"],
            "'https://app.example'"
        );
        assert_eq!(p["method.response.header.Access-Control-Max-Age"], "'600'");
        assert!(op.get("security").is_none());
        let any = RestCors::parse(&json!("'*'"))
            .unwrap()
            .preflight(&["x-amazon-apigateway-any-method"], None);
        assert_eq!(
            any["x-amazon-apigateway-integration"]["responses"]["default"]["responseParameters"]
                ["method.response.header.Access-Control-Allow-Methods"],
            format!("'{ALL_METHODS}'")
        );
        assert!(RestCors::parse(&json!({"AllowMethods": "'GET'"})).is_err());
    }

    #[test]
    fn http_cors_configuration() {
        assert_eq!(
            http_cors(&json!(true)).unwrap()["allowOrigins"],
            json!(["*"])
        );
        let c = http_cors(&json!({"AllowOrigins": ["https://a"], "MaxAge": 60})).unwrap();
        assert_eq!(c, json!({"allowOrigins": ["https://a"], "maxAge": 60}));
        assert!(http_cors(&json!("x")).is_err());
    }
}
