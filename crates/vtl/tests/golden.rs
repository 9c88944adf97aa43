//! Every recorded example of spec/vtl.md §8, rendered byte for byte.

use serde_json::{json, Map, Value};
use tollgate_vtl::{Input, Limits, Template};

fn pairs(p: &[(&str, &str)]) -> Vec<(String, String)> {
    p.iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect()
}

fn render(tpl: &str, body: &str) -> String {
    Template::parse(tpl)
        .unwrap()
        .render_simple(&Input {
            body,
            ..Input::default()
        })
        .unwrap()
}

const PATH_TPL: &str = "#set($r = $input.path(\"$.json\"))";

#[test]
fn ex01_to_09_input_path_formatting() {
    let cases = [
        (r#"{"json":{"foo":"bar"}}"#, "$r", "{foo=bar}"),
        (r#"{"json":[{"foo":"bar"}]}"#, "$r", r#"[{"foo":"bar"}]"#),
        (
            r#"{"json":{"nested":{"foo":"bar"}}}"#,
            "$r.nested",
            "{foo=bar}",
        ),
        (
            r#"{"json":{"nested":[{"foo":"bar"}]}}"#,
            "$r.nested",
            r#"[{"foo":"bar"}]"#,
        ),
        (r#"{"json":[{"foo":"bar"}]}"#, "$r[0]", "{foo=bar}"),
        (
            r#"{"json":[[{"foo":"bar"}]]}"#,
            "$r[0]",
            r#"[{"foo":"bar"}]"#,
        ),
        (
            r#"{"json":{"foo":[{"nested":"bar"}]}}"#,
            "$r",
            r#"{foo=[{"nested":"bar"}]}"#,
        ),
        (
            r#"{"json":{"bigger":"dict","to":"test","with":"separators"}}"#,
            "$r",
            "{bigger=dict, to=test, with=separators}",
        ),
        (
            r#"{"json":{"list":[{"foo":"bar"}]}}"#,
            "$r.toString()",
            r#"{list=[{"foo":"bar"}]}"#,
        ),
    ];
    for (body, tail, want) in cases {
        assert_eq!(
            render(&format!("{PATH_TPL}{tail}"), body),
            want,
            "{body} {tail}"
        );
    }
}

fn null_shape(path: &str) -> String {
    format!(
        "#set($r = $input.path(\"{path}\")){{\"body\": $r, \"nested\": $r.nested, \"isNull\": #if($r == $null)\"true\"#else\"false\"#end, \"isEmptyString\": #if($r == \"\")\"true\"#else\"false\"#end}}"
    )
}

#[test]
fn ex10_missing_path() {
    assert_eq!(
        render(&null_shape("$.nonExisting"), r#"{"json":{"foo":"bar"}}"#),
        r#"{"body": , "nested": , "isNull": "true", "isEmptyString": "true"}"#
    );
}

#[test]
fn ex11_empty_list() {
    assert_eq!(
        render(
            &null_shape("$.json.listValue"),
            r#"{"json":{"listValue":[]}}"#
        ),
        r#"{"body": [], "nested": , "isNull": "false", "isEmptyString": "false"}"#
    );
}

#[test]
fn ex12_null_value() {
    assert_eq!(
        render(
            &null_shape("$.json.listValue"),
            r#"{"json":{"listValue":null}}"#
        ),
        r#"{"body": , "nested": , "isNull": "true", "isEmptyString": "true"}"#
    );
}

#[test]
fn ex13_to_16_input_body() {
    let t = "#set($result = $input.body)$result";
    assert_eq!(render(t, ""), "{}");
    assert_eq!(render(t, "some raw data"), "some raw data");
    assert_eq!(
        render(
            "Action=SendMessage&MessageBody=$input.body",
            r#"{"some": "value"}"#
        ),
        r#"Action=SendMessage&MessageBody={"some": "value"}"#
    );
    for body in ["", "raw", r#"{"testAccess": 1}"#] {
        assert_eq!(
            render("#set($result = $input.body.testAccess)$result", body),
            ""
        );
    }
}

#[test]
fn ex17_18_url_encode_body() {
    let t = "EncodedBody=$util.urlEncode($input.body)&EncodedBodyAccess=$util.urlEncode($input.body.testAccess)";
    assert_eq!(
        render(t, r#"{"some": "value"}"#),
        "EncodedBody=%7B%22some%22%3A+%22value%22%7D&EncodedBodyAccess="
    );
    assert_eq!(
        render(t, "some raw data"),
        "EncodedBody=some+raw+data&EncodedBodyAccess="
    );
    assert_eq!(render(t, ""), "EncodedBody=%7B%7D&EncodedBodyAccess=");
}

#[test]
fn ex19_params_path() {
    let path = pairs(&[("id", "42")]);
    let out = Template::parse(r#"{"statusCode": 200, "id": $input.params().path.id}"#)
        .unwrap()
        .render_simple(&Input {
            path: &path,
            ..Input::default()
        })
        .unwrap();
    let v: Value = serde_json::from_str(&out).unwrap();
    assert_eq!(v, json!({"id": 42, "statusCode": 200}));
}

fn base_context() -> Map<String, Value> {
    let v = json!({
        "requestOverride": {"path": {}, "header": {}, "querystring": {}},
        "responseOverride": {"header": {}},
        "stage": "dev"
    });
    v.as_object().unwrap().clone()
}

#[test]
fn ex20_response_override_from_request_template() {
    let mut ctx = base_context();
    let req = Template::parse(r#"#set($context.responseOverride.status = 444)#set($context.responseOverride.header.foo = "bar")#set($context.responseOverride.custom = "is also passed around"){"statusCode": 200}"#).unwrap();
    let out = req
        .render(&Input::default(), &mut ctx, &Limits::default())
        .unwrap();
    assert_eq!(out, r#"{"statusCode": 200}"#);
    assert_eq!(ctx["responseOverride"]["status"], json!(444));
    assert_eq!(ctx["responseOverride"]["header"]["foo"], json!("bar"));
    let resp = Template::parse(r#"{"statusOverride":"$context.responseOverride.status","fooHeader":"$context.responseOverride.header.foo","custom":"$context.responseOverride.custom"}"#).unwrap();
    let out = resp
        .render(&Input::default(), &mut ctx, &Limits::default())
        .unwrap();
    assert_eq!(
        out,
        r#"{"statusOverride":"444","fooHeader":"bar","custom":"is also passed around"}"#
    );
}

#[test]
fn ex21_map_assignation_forms() {
    let mut ctx = base_context();
    let req = Template::parse(
        r#"#set($paramName = "foo")
#set($paramPutName = "putfoo")
#set($context.requestOverride.querystring[$paramName] = "bar")
$context.requestOverride.querystring.put($paramPutName, "putBar")
#set($context["requestOverride"].querystring["nestedfoo"] = "nestedFoo")
{"statusCode": 200}"#,
    )
    .unwrap();
    req.render(&Input::default(), &mut ctx, &Limits::default())
        .unwrap();
    let resp = Template::parse(r#"{"value":"$context.requestOverride.querystring.foo","value2":"$context.requestOverride.querystring.putfoo","value3":"$context.requestOverride.querystring.nestedfoo"}"#).unwrap();
    let out = resp
        .render(&Input::default(), &mut ctx, &Limits::default())
        .unwrap();
    assert_eq!(
        out,
        r#"{"value":"bar","value2":"putBar","value3":"nestedFoo"}"#
    );
}

#[test]
fn ex22_request_overrides_in_response_template() {
    let req = Template::parse(r#"#set($body = $util.base64Decode($input.params('testPath')))#set($context.requestOverride.path.body = $body){"statusCode": 200}"#).unwrap();
    let resp = Template::parse(
        r#"#set($b = $util.parseJson($context.requestOverride.path.body))
#if($b.message == "path1")
{"response": "path was path one"}
#elseif($b.message == "path2")
{"response": "path was path two"}
#else
{"response": "this is the else clause"}
#end"#,
    )
    .unwrap();
    for (msg, want) in [
        ("path1", r#"{"response": "path was path one"}"#),
        ("path2", r#"{"response": "path was path two"}"#),
        ("other", r#"{"response": "this is the else clause"}"#),
    ] {
        let encoded = tollgate_b64(&format!(r#"{{"message":"{msg}"}}"#));
        let path = pairs(&[("testPath", &encoded)]);
        let input = Input {
            path: &path,
            ..Input::default()
        };
        let mut ctx = base_context();
        req.render(&input, &mut ctx, &Limits::default()).unwrap();
        let out = resp.render(&input, &mut ctx, &Limits::default()).unwrap();
        assert_eq!(out.trim(), want);
    }
}

fn tollgate_b64(s: &str) -> String {
    // Encode through the engine itself, with $s taken from a JSON body.
    Template::parse("#set($s = $input.path('$.s'))$util.base64Encode($s)")
        .unwrap()
        .render_simple(&Input {
            body: &format!("{{\"s\":{}}}", serde_json::to_string(s).unwrap()),
            ..Input::default()
        })
        .unwrap()
}

#[test]
fn ex23_lambda_response_status_override() {
    let t = Template::parse(
        r#"$input.json("$")
#if($input.path('$').toString().contains("customerror"))
#set($context.responseOverride.status = 400)
#else
#set($context.responseOverride.status = 202)
#end"#,
    )
    .unwrap();
    for (body, status) in [
        (r#"{"statusCode":200,"body":"customerror"}"#, 400),
        (r#"{"statusCode":200,"body":"fine"}"#, 202),
    ] {
        let mut ctx = base_context();
        let out = t
            .render(
                &Input {
                    body,
                    ..Input::default()
                },
                &mut ctx,
                &Limits::default(),
            )
            .unwrap();
        assert_eq!(out.trim(), body);
        assert_eq!(ctx["responseOverride"]["status"], json!(status));
    }
}

#[test]
fn ex24_kinesis_put_records() {
    let t = Template::parse(
        r##"{
    "StreamName": "stream",
    "Records": [
        #set($i = 0)
        #foreach($record in $input.path('$.records'))
            #set($maxIndex = $input.path('$.records').size() - 1)
        #end
        #foreach($idx in [0..$maxIndex])
        #set($elem = $input.path("$.records[${idx}]"))
        #set($elemJsonB64 = $util.base64Encode($elem.data))
        {
            "Data": "$elemJsonB64",
            "PartitionKey": #if($foo.bar.stuff != '')"$elem.partitionKey"#else"$elemJsonB64.length()"#end
        }#if($foreach.hasNext),#end
        #end
    ]
}"##,
    )
    .unwrap();
    let body = r#"{"records":[{"data":"{\"foo\": \"bar1\"}"},{"data":"{\"foo\": \"bar2\"}"}]}"#;
    let out = t
        .render_simple(&Input {
            body,
            ..Input::default()
        })
        .unwrap();
    let v: Value = serde_json::from_str(&out).unwrap_or_else(|e| panic!("{e}: {out}"));
    assert_eq!(v["Records"][0]["Data"], json!("eyJmb28iOiAiYmFyMSJ9"));
    assert_eq!(v["Records"][0]["PartitionKey"], json!("20"));
    assert_eq!(v["Records"][1]["Data"], json!("eyJmb28iOiAiYmFyMiJ9"));
    assert_eq!(v["Records"].as_array().unwrap().len(), 2);
}

#[test]
fn ex25_stage_variables_and_canary() {
    let t = Template::parse(r#"{"variable": "$stageVariables.testVar", "nonExistingDefault": "$stageVariables.noStageVar", "isCanary": "$context.isCanaryRequest"}"#).unwrap();
    let base = pairs(&[("testVar", "default")]);
    let mut ctx = Map::new();
    ctx.insert("isCanaryRequest".into(), json!(false));
    let out = t
        .render(
            &Input {
                stage_variables: &base,
                ..Input::default()
            },
            &mut ctx,
            &Limits::default(),
        )
        .unwrap();
    let v: Value = serde_json::from_str(&out).unwrap();
    assert_eq!(
        v,
        json!({"variable":"default","nonExistingDefault":"","isCanary":"false"})
    );
    let canary = pairs(&[("testVar", "canary"), ("noStageVar", "canary")]);
    let mut ctx = Map::new();
    ctx.insert("isCanaryRequest".into(), json!(true));
    let out = t
        .render(
            &Input {
                stage_variables: &canary,
                ..Input::default()
            },
            &mut ctx,
            &Limits::default(),
        )
        .unwrap();
    let v: Value = serde_json::from_str(&out).unwrap();
    assert_eq!(
        v,
        json!({"variable":"canary","nonExistingDefault":"canary","isCanary":"true"})
    );
}

#[test]
fn recorded_params_echo_template() {
    // The "all params" template from the recorded API definitions (api/extended snapshots).
    let t = Template::parse("#set($allParams = $input.params())\n{\n  \"params\" : {\n    #foreach($type in $allParams.keySet())\n      #set($params = $allParams.get($type))\n      \"$type\" : {\n        #foreach($paramName in $params.keySet())\n          \"$paramName\" : \"$util.escapeJavaScript($params.get($paramName))\"\n          #if($foreach.hasNext),#end\n        #end\n      }\n      #if($foreach.hasNext),#end\n    #end\n  }\n}\n").unwrap();
    let path = pairs(&[("id", "7")]);
    let qs = pairs(&[("q", "a'b")]);
    let hdr = pairs(&[("Accept", "*/*")]);
    let out = t
        .render_simple(&Input {
            path: &path,
            querystring: &qs,
            header: &hdr,
            ..Input::default()
        })
        .unwrap();
    // escapeJavaScript's `\'` is not valid JSON; AWS sends it anyway.
    assert!(out.contains(r#""q" : "a\'b""#), "{out}");
    let v: Value =
        serde_json::from_str(&out.replace("\\'", "'")).unwrap_or_else(|e| panic!("{e}: {out}"));
    assert_eq!(
        v,
        json!({"params": {"path": {"id": "7"}, "querystring": {"q": "a'b"}, "header": {"Accept": "*/*"}}})
    );
}

#[test]
fn recorded_echo_json_template() {
    let t = Template::parse(r#"{"echo": $input.json('$'), "response": "mocked"}"#).unwrap();
    assert_eq!(
        t.render_simple(&Input {
            body: r#"{"a": [1, 2.5, "x"]}"#,
            ..Input::default()
        })
        .unwrap(),
        r#"{"echo": {"a":[1,2.5,"x"]}, "response": "mocked"}"#
    );
}
