//! One test per Velocity construct, on small templates.

use tollgate_vtl::{Input, Limits, RenderError, Template};

fn r(tpl: &str) -> String {
    rb(tpl, "")
}

fn rb(tpl: &str, body: &str) -> String {
    Template::parse(tpl)
        .unwrap_or_else(|e| panic!("{tpl:?}: {e}"))
        .render_simple(&Input {
            body,
            ..Input::default()
        })
        .unwrap_or_else(|e| panic!("{tpl:?}: {e}"))
}

#[test]
fn text_and_comments() {
    assert_eq!(r("plain text"), "plain text");
    assert_eq!(r("a## comment\nb"), "ab");
    assert_eq!(r("a#* block\ncomment *#b"), "ab");
    assert_eq!(r("a#[[ $raw #if ]]#b"), "a $raw #if b");
    assert_eq!(r("100# and $ 5 and $1"), "100# and $ 5 and $1");
}

#[test]
fn references() {
    assert_eq!(r("#set($x = 'v')$x ${x} $!x $!{x} ${x}y"), "v v v v vy");
    assert_eq!(r("[$undefined][$!undefined][${a.b}]"), "[][][]");
    assert_eq!(
        r("#set($m = {'a': {'b': 1}})$m.a.b $m['a']['b'] $m.get('a').get('b')"),
        "1 1 1"
    );
    assert_eq!(r("#set($l = [10, 20])$l[1] $l.get(0)"), "20 10");
    assert_eq!(r("#set($x = 'v')$x.nope $x."), " v.");
    assert_eq!(r("#set($mud-Slinger = 1)$mud-Slinger"), "1");
}

#[test]
fn escapes() {
    assert_eq!(r("#set($x = 1)\\$x \\\\$x \\#if(true)"), "$x \\1 #if(true)");
    assert_eq!(r("a\\b"), "a\\b");
}

#[test]
fn literals() {
    assert_eq!(r("#set($n = 'w')#set($s = \"a $n ${n}s\")$s"), "a w ws");
    assert_eq!(r("#set($s = 'a $n')$s"), "a $n");
    assert_eq!(r("#set($s = \"say \"\"hi\"\"\")$s"), "say \"hi\"");
    assert_eq!(r("#set($s = 'it''s')$s"), "it's");
    assert_eq!(r("#set($x = [1, 'a', true, 2.5])$x"), "[1, a, true, 2.5]");
    assert_eq!(r("#set($x = {'k': 1, 'j': [1]})$x"), "{k=1, j=[1]}");
    assert_eq!(
        r("#set($x = [1..3])$x #set($y = [3..1])$y"),
        "[1, 2, 3] [3, 2, 1]"
    );
    assert_eq!(r("#set($x = -5)$x"), "-5");
}

#[test]
fn operators() {
    assert_eq!(
        r("#set($x = 7 / 2)$x #set($y = 7 % 3)$y #set($z = 1 + 2 * 3)$z"),
        "3 1 7"
    );
    assert_eq!(r("#set($x = 7.0 / 2)$x #set($y = 'a' + 1)$y"), "3.5 a1");
    assert_eq!(r("#set($x = (1 + 2) * 3)$x"), "9");
    assert_eq!(r("#if(1 < 2 && 2 >= 2 and !false)y#end"), "y");
    assert_eq!(r("#if(1 gt 2 or not true)y#else n#end"), " n");
    assert_eq!(r("#if(1 == 1.0)y#end#if('1' == 1)z#end"), "yz");
    assert_eq!(
        r("#if($nothing == $null)y#end#if($nothing == '')z#end"),
        "yz"
    );
    assert_eq!(r("#if($nothing)y#else n#end"), " n");
    assert_eq!(r("#set($x = 1 / 0)[$x]"), "[]");
    assert_eq!(
        r("#set($x = 9223372036854775807 + 1)$x"),
        "9.223372036854776E18"
    );
}

#[test]
fn set_semantics() {
    assert_eq!(r("#set($x = 'a')#set($x = $missing)$x"), "a");
    assert_eq!(
        r("#set($m = {})#set($m.k = 1)#set($m['j'] = 2)$m"),
        "{k=1, j=2}"
    );
    assert_eq!(r("#set($l = [1, 2])#set($l[0] = 9)$l"), "[9, 2]");
    assert_eq!(r("#set($a = {})#set($b = $a)$b.put('k', 1)$a"), "{k=1}");
}

#[test]
fn conditionals() {
    let t = "#foreach($i in [1..4])#if($i == 1)one#elseif($i == 2)two#elseif($i == 3)three#{else}other#end,#end";
    assert_eq!(r(t), "one,two,three,other,");
    assert_eq!(r("#if('')empty-string-is-true#end"), "empty-string-is-true");
}

#[test]
fn foreach_loop_vars() {
    assert_eq!(
        r("#foreach($x in ['a', 'b', 'c'])$foreach.index$foreach.count$velocityCount$x#if($foreach.hasNext),#end#end"),
        "011a,122b,233c"
    );
    assert_eq!(r("#foreach($v in {'a': 1, 'b': 2})$v#end"), "12");
    assert_eq!(
        r("#set($m = {'a': 1, 'b': 2})#foreach($k in $m.keySet())$k=$m.get($k);#end"),
        "a=1;b=2;"
    );
    assert_eq!(
        r("#set($m = {'a': 1})#foreach($e in $m.entrySet())$e.key:$e.value $e#end"),
        "a:1 a=1"
    );
    assert_eq!(r("#foreach($x in $nothing)x#end."), ".");
    assert_eq!(r("#set($x = 'keep')#foreach($x in [1])$x#end$x"), "1keep");
    assert_eq!(
        r("#foreach($a in [1, 2])#foreach($b in [1, 2])$foreach.parent.count$b #end#end"),
        "11 12 21 22 "
    );
}

#[test]
fn break_and_stop() {
    assert_eq!(
        r("#foreach($i in [1..5])$i#if($i == 2)#break#end#end."),
        "12."
    );
    assert_eq!(r("a#stop b"), "a");
    assert_eq!(
        r("#foreach($i in [1..5])$i#if($i == 2)#stop#end#end."),
        "12"
    );
}

#[test]
fn define_and_macro() {
    assert_eq!(
        r("#define($blk)hello $name#end#set($name = 'w')$blk $blk"),
        "hello w hello w"
    );
    assert_eq!(
        r("#macro(greet $who)hi $who#end#greet('a') #greet(\"b\")"),
        "hi a hi b"
    );
    assert_eq!(r("#macro(pair $a, $b)$a-$b#end#pair(1, 2)"), "1-2");
    assert_eq!(r("#notamacro(1)"), "#notamacro(1)");
}

#[test]
fn whitespace_rules() {
    assert_eq!(r("a\n#set($x = 1)\nb"), "a\nb");
    assert_eq!(r("a\n    #set($x = 1)\nb"), "a\nb");
    assert_eq!(r("#if(true)\nyes\n#end\nafter"), "yes\nafter");
    assert_eq!(r("#foreach($i in [1, 2])\n  $i\n#end\n"), "  1\n  2\n");
    assert_eq!(r("x #if(true) y #end z"), "x  y  z");
    assert_eq!(r("  leading and trailing  \n"), "leading and trailing");
}

#[test]
fn string_methods() {
    assert_eq!(
        r("#set($s = ' Hello ')$s.trim().length() $s.toUpperCase() $s.toLowerCase()"),
        "5  HELLO   hello "
    );
    assert_eq!(r("#set($s = 'abcdef')$s.substring(2) $s.substring(1, 3) $s.indexOf('c') $s.lastIndexOf('z')"), "cdef bc 2 -1");
    assert_eq!(r("#set($s = 'abc')$s.contains('b') $s.startsWith('a') $s.endsWith('x') $s.equals('abc') $s.isEmpty()"), "true true false true false");
    assert_eq!(r("#set($s = 'a-b-c')$s.replace('-', '+') $s.replaceAll('[a-z]', 'X') $s.replaceFirst('-', '')"), "a+b+c X-X-X ab-c");
    assert_eq!(
        r("#set($s = 'a,b,,c,,')$s.split(',') $s.split(',').size()"),
        "[a, b, , c] 4"
    );
    assert_eq!(r("#set($s = 'abc')$s.matches('a.c') $s.charAt(1) $s.concat('d') $s.equalsIgnoreCase('ABC')"), "true b abcd true");
    assert_eq!(
        r("#set($s = 'x(1)')$s.replaceAll('x\\((\\d)\\)', '$1!')"),
        "1!"
    );
    assert_eq!(r(r#"#set($s = "it\'s")$s.replaceAll("\\'", "'")"#), "it's");
    assert_eq!(r("#set($s = 'abc')$s.empty"), "false");
}

#[test]
fn list_and_map_methods() {
    assert_eq!(r("#set($l = [])$l.add('a')$l.add('b') $l $l.size() $l.isEmpty() $l.contains('b') $l.indexOf('b')"), "truetrue [a, b] 2 false true 1");
    assert_eq!(r("#set($m = {})$m.put('a', 1)$m.put('a', 2) $m.size() $m.containsKey('a') $m.get('a') $m.keySet() $m.values()"), "1 1 true 2 [a] [2]");
    assert_eq!(
        r("#set($m = {'a': 1, 'b': 2})#set($x = $m.remove('a'))$x $m $m.isEmpty()"),
        "1 {b=2} false"
    );
    assert_eq!(
        r("#set($m = {'a': 1})#set($n = {'b': 2})$m.putAll($n)$m"),
        "{a=1, b=2}"
    );
}

#[test]
fn input_methods() {
    let body = r#"{"a": {"b": [1, 2, {"c": "d"}]}, "s": "str", "f": 1.50, "t": true}"#;
    assert_eq!(rb("$input.json('$.a.b')", body), r#"[1,2,{"c":"d"}]"#);
    assert_eq!(
        rb(
            "$input.json('$.s') $input.json('$.t') $input.json('$.f')",
            body
        ),
        r#""str" true 1.5"#
    );
    assert_eq!(rb("$input.json('$.missing')", body), r#""""#);
    assert_eq!(
        rb(
            "$input.path('$.a.b[2].c') $input.path('$.a.b').size()",
            body
        ),
        "d 3"
    );
    assert_eq!(rb("$input.path('$..c')", body), r#"["d"]"#);
    assert_eq!(rb("$input.json('$')", ""), "{}");
    assert_eq!(rb("$input.json('$')", "a=b"), r#""a=b""#);
    assert_eq!(rb("$input.path('$')|$input.path('$.x')|", "a=b"), "a=b||");
    let err = Template::parse("$input.path('$.x')")
        .unwrap()
        .render_simple(&Input {
            body: "{bad",
            ..Input::default()
        });
    assert!(matches!(err, Err(RenderError::InvalidBody(_))));
}

#[test]
fn input_params() {
    let p = |v: &[(&str, &str)]| -> Vec<(String, String)> {
        v.iter()
            .map(|(a, b)| (a.to_string(), b.to_string()))
            .collect()
    };
    let (path, qs, hdr) = (
        p(&[("id", "1")]),
        p(&[("q", "2"), ("id", "x")]),
        p(&[("X-Trace", "3")]),
    );
    let input = Input {
        path: &path,
        querystring: &qs,
        header: &hdr,
        ..Input::default()
    };
    let t = Template::parse("$input.params('id') $input.params('q') $input.params('x-trace') [$input.params('none')] $input.params()").unwrap();
    assert_eq!(
        t.render_simple(&input).unwrap(),
        "1 2 3 [] {path={id=1}, querystring={q=2, id=x}, header={X-Trace=3}}"
    );
    // A group read straight off the call (made alone) and through a variable (read from
    // the map of all three) are the same map, and other names are null.
    let t = Template::parse(
        "#set($all = $input.params())#foreach($g in ['path', 'querystring', 'header', 'other'])\
         [$input.params().get($g)|$all.get($g)]#end \
         $input.params().path.id $input.params().querystring.size() \
         $input.params().header.get('X-Trace') [$input.params().other] $all.header.X-Trace",
    )
    .unwrap();
    assert_eq!(
        t.render_simple(&input).unwrap(),
        "[{id=1}|{id=1}][{q=2, id=x}|{q=2, id=x}][{X-Trace=3}|{X-Trace=3}][|] 1 2 3 [] 3"
    );
    // The steps of the call and the property read are counted as before: the node, the
    // call's segment, the call, the property's segment.
    let short = Template::parse("$input.params().header").unwrap();
    for max_steps in 1..8 {
        let limits = Limits {
            max_steps,
            ..Limits::default()
        };
        let ok = short
            .render(&input, &mut Default::default(), &limits)
            .is_ok();
        assert_eq!(ok, max_steps >= 4, "{max_steps}");
    }
}

#[test]
fn util_functions() {
    assert_eq!(r("$util.escapeJavaScript(\"a'b\")"), "a\\'b");
    assert_eq!(
        r("$util.urlDecode('a+b%21') $util.urlEncode('a b!')"),
        "a b! a+b%21"
    );
    assert_eq!(
        r("$util.base64Encode('hi') $util.base64Decode('aGk=')"),
        "aGk= hi"
    );
    assert_eq!(
        r("#set($o = $util.parseJson('{\"key2\": {\"arr\": [5]}}'))$o.key2.arr[0] $o"),
        "5 {key2={arr=[5]}}"
    );
    assert_eq!(r("[$util.toJson('x')][$util.qr(1)]"), "[][]");
    assert!(Template::parse("$util.parseJson('{nope')")
        .unwrap()
        .render_simple(&Input::default())
        .is_err());
}

#[test]
fn numbers_render_like_java() {
    let body = r#"{"a": 249.99, "b": 1.0, "c": 10000000000.0, "d": 42}"#;
    assert_eq!(
        rb(
            "$input.path('$.a') $input.path('$.b') $input.path('$.c') $input.path('$.d')",
            body
        ),
        "249.99 1.0 1.0E10 42"
    );
}

#[test]
fn parse_errors_have_positions() {
    let e = Template::parse("line1\n  #if($x").unwrap_err();
    assert_eq!(e.line, 2);
    assert!(Template::parse("#end").is_err());
    assert!(Template::parse("#if(true)x").is_err());
    assert!(Template::parse("#foreach($x [1])#end").is_err());
    assert!(Template::parse("#* open").is_err());
    assert!(Template::parse("#set($x = 'open)").is_err());
}

#[test]
fn limits_are_enforced() {
    let lim = Limits {
        max_steps: 10_000,
        ..Limits::default()
    };
    let t = Template::parse("#foreach($a in [1..1000])#foreach($b in [1..1000])x#end#end").unwrap();
    let e = t.render(&Input::default(), &mut Default::default(), &lim);
    assert_eq!(e, Err(RenderError::LimitExceeded("evaluation steps")));
    let t = Template::parse("#foreach($a in [1..2000])x#end").unwrap();
    assert_eq!(t.render_simple(&Input::default()).unwrap().len(), 1000);
    let strict = Limits {
        foreach_overflow_is_error: true,
        ..Limits::default()
    };
    assert!(t
        .render(&Input::default(), &mut Default::default(), &strict)
        .is_err());
    let t = Template::parse("#macro(m)#m()#end#m()").unwrap();
    assert_eq!(
        t.render_simple(&Input::default()),
        Err(RenderError::LimitExceeded("recursion depth"))
    );
    let t =
        Template::parse("#set($s = 'xxxxxxxxxx')#foreach($i in [1..40])#set($s = \"$s$s\")#end$s")
            .unwrap();
    assert!(t.render_simple(&Input::default()).is_err());
    let t = Template::parse("#set($m = {})$m.put('self', $m)$m").unwrap();
    assert!(t.render_simple(&Input::default()).is_err());
    let big = "x".repeat(300 * 1024 + 1);
    assert!(Template::parse(&big).is_err());
    assert!(Template::parse(&format!("#if({}", "(".repeat(10_000))).is_err());
    assert_eq!(r(&"(".repeat(10_000)), "(".repeat(10_000));
    assert!(Template::parse(&format!("#set($x = {})", "[".repeat(10_000))).is_err());
}
