//! IAM's string matching, shared by every element and operator that takes wildcards
//! (`Action`, `Resource`, `StringLike`, `ArnLike`).

/// IAM wildcard matching (`StringLike`, `ArnLike`, `Resource` and `Action` elements): `*`
/// matches any run of characters, `/` and `:` included, and `?` matches one character.
/// Case-sensitive unless `ignore_case` (actions compare without case).
pub fn wildcard_match(pattern: &str, value: &str, ignore_case: bool) -> bool {
    let (p, v) = (pattern.as_bytes(), value.as_bytes());
    let eq = |a: u8, b: u8| {
        if ignore_case {
            a.eq_ignore_ascii_case(&b)
        } else {
            a == b
        }
    };
    // Greedy two-pointer match with backtracking to the last `*`: linear in practice,
    // O(p·v) at worst, never exponential.
    let (mut pi, mut vi) = (0, 0);
    let mut star: Option<(usize, usize)> = None;
    while vi < v.len() {
        if pi < p.len() && p[pi] == b'*' {
            star = Some((pi, vi));
            pi += 1;
        } else if pi < p.len() && (p[pi] == b'?' || eq(p[pi], v[vi])) {
            pi += 1;
            vi += 1;
        } else if let Some((sp, sv)) = star {
            pi = sp + 1;
            vi = sv + 1;
            star = Some((sp, sv + 1));
        } else {
            return false;
        }
    }
    p[pi..].iter().all(|&b| b == b'*')
}

/// A pattern of a compiled policy, its shape found once: `*`, a literal, or a literal with
/// one trailing `*` (most `Resource` and `Action` values) match without the general loop.
#[derive(Debug, Clone, PartialEq)]
pub struct Wildcard {
    text: String,
    shape: Shape,
}

#[derive(Debug, Clone, Copy, PartialEq)]
enum Shape {
    Any,
    Exact,
    /// The first `n` bytes are literal, then one `*` ends the pattern.
    Prefix(usize),
    General,
}

impl Wildcard {
    pub fn new(text: String) -> Wildcard {
        let wild = |b: &u8| *b == b'*' || *b == b'?';
        let bytes = text.as_bytes();
        let shape = match bytes.iter().position(wild) {
            None => Shape::Exact,
            Some(_) if text == "*" => Shape::Any,
            Some(i) if i + 1 == bytes.len() && bytes[i] == b'*' => Shape::Prefix(i),
            Some(_) => Shape::General,
        };
        Wildcard { text, shape }
    }

    pub fn as_str(&self) -> &str {
        &self.text
    }

    /// [`wildcard_match`] of this pattern.
    pub fn matches(&self, value: &str, ignore_case: bool) -> bool {
        let eq = |a: &[u8], b: &[u8]| {
            if ignore_case {
                a.eq_ignore_ascii_case(b)
            } else {
                a == b
            }
        };
        let (p, v) = (self.text.as_bytes(), value.as_bytes());
        match self.shape {
            Shape::Any => true,
            Shape::Exact => eq(p, v),
            Shape::Prefix(n) => v.len() >= n && eq(&p[..n], &v[..n]),
            Shape::General => wildcard_match(&self.text, value, ignore_case),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::wildcard_match as m;

    #[test]
    fn stars_cross_slashes_and_colons() {
        let arn = "arn:aws:execute-api:us-east-1:000000000000:abc123/dev/GET/pets/{id}";
        assert!(m(
            "arn:aws:execute-api:us-east-1:000000000000:abc123/*",
            arn,
            false
        ));
        assert!(m("arn:aws:execute-api:*:*:abc123/*/GET/*", arn, false));
        assert!(m(
            "arn:aws:execute-api:us-east-1:000000000000:abc123/*/*/pets/*",
            arn,
            false
        ));
        assert!(m("*", arn, false));
        assert!(m(arn, arn, false));
        assert!(!m(
            "arn:aws:execute-api:us-east-1:000000000000:abc123/*/POST/*",
            arn,
            false
        ));
        assert!(!m(
            "arn:aws:execute-api:us-east-1:000000000000:other/*",
            arn,
            false
        ));
        assert!(!m(
            "arn:aws:execute-api:us-east-1:000000000000:abc123/dev",
            arn,
            false
        ));
    }

    #[test]
    fn question_marks_and_case() {
        assert!(m("lambda:Invoke?unction", "lambda:InvokeFunction", false));
        assert!(!m("lambda:invokefunction", "lambda:InvokeFunction", false));
        assert!(m("lambda:invokefunction", "lambda:InvokeFunction", true));
        assert!(m("lambda:*", "lambda:InvokeFunction", true));
        assert!(!m("a?", "a", false));
        assert!(m("", "", false));
        assert!(!m("", "a", false));
    }

    #[test]
    fn many_stars_stay_fast() {
        let pattern = "*a".repeat(200);
        let value = "a".repeat(199);
        assert!(!m(&pattern, &value, false));
    }

    proptest::proptest! {
        /// A compiled pattern's fast shapes agree with the general matcher.
        #[test]
        fn compiled_patterns_match_like_the_general_loop(
            p in "[ab*?A]{0,6}", v in "[abAB]{0,6}", ignore_case in proptest::bool::ANY
        ) {
            let compiled = super::Wildcard::new(p.clone());
            proptest::prop_assert_eq!(compiled.matches(&v, ignore_case), m(&p, &v, ignore_case));
        }
    }
}
