//! The body and `$context` are read in place and copied only when a template changes
//! them; these tests pin down that the copies keep Java's reference semantics: aliases of
//! one object share changes, separate `$input.path()` calls do not, and the body text
//! itself never changes.

use serde_json::{json, Map, Value};
use tollgate_vtl::{Input, Limits, Template};

const BODY: &str = r#"{"x": {"a": 1}, "arr": [1, 2, 3], "c": {"d": {"e": "f"}}}"#;

fn rb(tpl: &str) -> String {
    Template::parse(tpl)
        .unwrap_or_else(|e| panic!("{tpl:?}: {e}"))
        .render_simple(&Input {
            body: BODY,
            ..Input::default()
        })
        .unwrap_or_else(|e| panic!("{tpl:?}: {e}"))
}

#[test]
fn aliases_share_changes() {
    assert_eq!(
        rb("#set($a = $input.path('$.x'))#set($b = $a)$b.put('k', 2)$a"),
        "{a=1, k=2}"
    );
    // A child read before its parent's change is still the same object afterwards.
    assert_eq!(
        rb("#set($r = $input.path('$'))#set($d = $r.c.d)$r.c.d.put('g', 'h')$d"),
        "{e=f, g=h}"
    );
    // …and a change through the child shows through the parent.
    assert_eq!(
        rb("#set($r = $input.path('$'))#set($d = $r.c.d)#set($d.e = 'z')$r.c"),
        "{d={e=z}}"
    );
    assert_eq!(
        rb("#set($l = $input.path('$.arr'))#set($m = $l)$m.add(4)$l $l.size()"),
        "true[1,2,3,4] 4"
    );
}

#[test]
fn separate_path_calls_are_separate_objects() {
    assert_eq!(
        rb("#set($a = $input.path('$.x'))$a.put('k', 2)#set($b = $input.path('$.x'))$b $a"),
        "{a=1} {a=1, k=2}"
    );
    // `$input.json` and `$input.body` always read the request as sent.
    assert_eq!(
        rb("#set($l = $input.path('$.arr'))$l.add(4)$input.json('$.arr') $l"),
        "true[1,2,3] [1,2,3,4]"
    );
    assert_eq!(
        rb("#set($x = $input.path('$.x'))#set($x.a = 5)$input.body"),
        BODY
    );
}

#[test]
fn loop_over_a_changing_json_list_sees_the_original_items() {
    assert_eq!(
        rb("#set($l = $input.path('$.arr'))#foreach($i in $l)$i#if($foreach.hasNext),#end$l.add(9)#end $l.size()"),
        "1,true2,true3true 6"
    );
}

#[test]
fn json_values_compare_like_the_copies_they_stand_for() {
    assert_eq!(
        rb("#set($a = $input.path('$.x'))#set($b = $util.parseJson('{\"a\": 1}'))$a.equals($b) #if($a == $b)eq#end"),
        "true eq"
    );
    assert_eq!(
        rb("$input.path('$.arr').equals($util.parseJson('[1, 2, 3]')) $input.path('$.arr').contains(2)"),
        "true true"
    );
    assert_eq!(
        rb("#set($m = {})$m.putAll($input.path('$.x'))$m #set($l = [0])$l.addAll($input.path('$.arr'))$l"),
        "{a=1} true[0, 1, 2, 3]"
    );
}

fn context() -> Map<String, Value> {
    json!({"stage": "dev", "requestOverride": {"header": {}}, "n": 18446744073709551615u64})
        .as_object()
        .cloned()
        .unwrap_or_default()
}

fn render_ctx(tpl: &str, ctx: &mut Map<String, Value>) -> String {
    Template::parse(tpl)
        .unwrap()
        .render(&Input::default(), ctx, &Limits::default())
        .unwrap()
}

#[test]
fn an_unchanged_context_is_left_as_it_was() {
    let mut ctx = context();
    let out = render_ctx(
        "$context.stage $context.requestOverride.header.keySet() $context.keySet() $context.values().size()",
        &mut ctx,
    );
    assert_eq!(out, "dev [] [stage, requestOverride, n] 3");
    // Untouched, so even a number the engine reads as a double keeps its exact form.
    assert_eq!(ctx, context());
}

#[test]
fn a_changed_context_is_written_back() {
    let mut ctx = context();
    render_ctx(
        "#set($context.requestOverride.header.X = 'v')$context.responseOverride.header.put('a', 'b')#set($context.responseOverride = {'status': 201})",
        &mut ctx,
    );
    assert_eq!(ctx["requestOverride"], json!({"header": {"X": "v"}}));
    assert_eq!(ctx["responseOverride"], json!({"status": 201}));
    assert_eq!(ctx["stage"], "dev");
}
