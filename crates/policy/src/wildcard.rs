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
}
