//! REST API route matching, compiled once per deployment.
//!
//! The resource tree becomes a tree of nodes; a request path is matched segment by segment
//! with AWS's priority (static segment, then `{param}`, then `{proxy+}`). AWS routes on the
//! resource and method together: the most specific resource that has the request's method
//! (or ANY) wins, so matching backtracks past a resource that lacks it (`GET /users/me`
//! reaches `/users/{id}` when `/users/me` has only PATCH; a method-less or OPTIONS-only
//! resource falls through to a `{proxy+}`), as measured on AWS. Matching borrows from the
//! request path and does not allocate beyond the list of path parameter positions.

use std::sync::Arc;

/// Index of an HTTP method in a resource's method table; `ANY` is the last slot.
pub fn method_slot(m: &str) -> Option<usize> {
    Some(match m {
        "GET" => 0,
        "PUT" => 1,
        "POST" => 2,
        "DELETE" => 3,
        "PATCH" => 4,
        "OPTIONS" => 5,
        "HEAD" => 6,
        "ANY" => 7,
        _ => return None,
    })
}
pub const ANY_SLOT: usize = 7;

/// One resource with its methods, of any payload type `M`.
#[derive(Debug)]
pub struct Route<M> {
    pub resource_id: Arc<str>,
    pub resource_path: Arc<str>,
    pub methods: [Option<Arc<M>>; 8],
}

impl<M> Route<M> {
    /// The exact method, else `ANY` (which does not cover unknown verbs).
    pub fn method(&self, m: &str) -> Option<&Arc<M>> {
        let slot = method_slot(m)?;
        self.methods[slot].as_ref().or(if slot == ANY_SLOT {
            None
        } else {
            self.methods[ANY_SLOT].as_ref()
        })
    }
}

#[derive(Debug)]
struct Node<M> {
    statics: crate::table::Table<Box<str>, Node<M>>,
    param: Option<(Arc<str>, Box<Node<M>>)>,
    greedy: Option<(Arc<str>, Arc<Route<M>>)>,
    route: Option<Arc<Route<M>>>,
}

impl<M> Default for Node<M> {
    fn default() -> Self {
        Node {
            statics: Default::default(),
            param: None,
            greedy: None,
            route: None,
        }
    }
}

#[derive(Debug)]
pub struct Router<M> {
    root: Node<M>,
}

/// A matched route and method. Parameter values are byte ranges of the routing path,
/// still percent-encoded (AWS does not decode them).
#[derive(Debug)]
pub struct Match<'r, M> {
    pub route: &'r Arc<Route<M>>,
    pub method: &'r Arc<M>,
    pub params: Vec<(Arc<str>, std::ops::Range<usize>)>,
}

impl<M> Default for Router<M> {
    fn default() -> Self {
        Router {
            root: Node::default(),
        }
    }
}

impl<M> Router<M> {
    /// Adds a resource by its path (`/pets/{petId}`, `/{proxy+}`, `/`).
    pub fn insert(&mut self, path: &str, route: Route<M>) {
        let route = Arc::new(route);
        let mut node = &mut self.root;
        let parts: Vec<&str> = path.split('/').filter(|s| !s.is_empty()).collect();
        for (i, part) in parts.iter().enumerate() {
            if let Some(inner) = part.strip_prefix('{').and_then(|p| p.strip_suffix('}')) {
                if let Some(name) = inner.strip_suffix('+') {
                    if i + 1 == parts.len() {
                        node.greedy = Some((name.into(), route));
                        return;
                    }
                }
                let (_, child) = node
                    .param
                    .get_or_insert_with(|| (inner.into(), Box::default()));
                node = child;
            } else {
                node = node.statics.entry((*part).into()).or_default();
            }
        }
        node.route = Some(route);
    }

    /// Matches a routing path (the part after the stage, starting with `/`) and method.
    pub fn find<'r>(&'r self, path: &str, verb: &str) -> Option<Match<'r, M>> {
        // Leading duplicate slashes and one trailing slash are ignored for matching; any
        // other empty segment must be matched like a segment (only a greedy part does).
        let start = path.len() - path.trim_start_matches('/').len();
        let end = if path.len() > start && path.ends_with('/') {
            path.len() - 1
        } else {
            path.len()
        };
        let first = (start < end).then_some(start);
        let mut params = Vec::new();
        let (route, method) = find_in(&self.root, path, first, end, verb, &mut params)?;
        Some(Match {
            route,
            method,
            params,
        })
    }
}

impl<M> Router<M> {
    /// The route of a resource, by id (TestInvokeMethod; a walk of the tree).
    pub fn route_of(&self, resource_id: &str) -> Option<&Arc<Route<M>>> {
        fn walk<'r, M>(n: &'r Node<M>, id: &str) -> Option<&'r Arc<Route<M>>> {
            let here = n.route.iter().chain(n.greedy.iter().map(|(_, r)| r));
            if let Some(r) = here.into_iter().find(|r| &*r.resource_id == id) {
                return Some(r);
            }
            n.statics
                .values()
                .chain(n.param.iter().map(|(_, c)| &**c))
                .find_map(|c| walk(c, id))
        }
        walk(&self.root, resource_id)
    }
}

/// The path parameters `path` gives a resource path template (`/pets/{petId}`), or none
/// when the path does not fit it (TestInvokeMethod accepts any path for the resource).
pub fn template_params(template: &str, path: &str) -> Vec<(Arc<str>, String)> {
    let t: Vec<&str> = template.split('/').filter(|s| !s.is_empty()).collect();
    let p: Vec<&str> = path.split('/').filter(|s| !s.is_empty()).collect();
    let mut out = Vec::new();
    for (i, seg) in t.iter().enumerate() {
        let Some(name) = seg.strip_prefix('{').and_then(|s| s.strip_suffix('}')) else {
            if p.get(i) != Some(seg) {
                return Vec::new();
            }
            continue;
        };
        if let Some(greedy) = name.strip_suffix('+') {
            if i >= p.len() {
                return Vec::new();
            }
            out.push((greedy.into(), p[i..].join("/")));
            return out;
        }
        match p.get(i) {
            Some(v) => out.push((name.into(), (*v).to_string())),
            None => return Vec::new(),
        }
    }
    if p.len() != t.len() {
        return Vec::new();
    }
    out
}

/// The route and its method for `verb`, if the route has it.
fn with_method<'r, M>(
    route: Option<&'r Arc<Route<M>>>,
    verb: &str,
) -> Option<(&'r Arc<Route<M>>, &'r Arc<M>)> {
    let route = route?;
    Some((route, route.method(verb)?))
}

/// `pos` is where the next segment starts, or `None` when the path is used up.
fn find_in<'r, M>(
    node: &'r Node<M>,
    path: &str,
    pos: Option<usize>,
    end: usize,
    verb: &str,
    params: &mut Vec<(Arc<str>, std::ops::Range<usize>)>,
) -> Option<(&'r Arc<Route<M>>, &'r Arc<M>)> {
    let Some(pos) = pos else {
        if let Some(found) = with_method(node.route.as_ref(), verb) {
            return Some(found);
        }
        // The path ends here; only a greedy child (which needs a segment) is left, and it
        // cannot match an empty rest.
        return None;
    };
    let seg_end = memchr::memchr(b'/', &path.as_bytes()[pos..end]).map_or(end, |i| pos + i);
    let seg = &path[pos..seg_end];
    let next = (seg_end < end).then_some(seg_end + 1);
    if let Some(child) = node.statics.get(seg) {
        if let Some(r) = find_in(child, path, next, end, verb, params) {
            return Some(r);
        }
    }
    if !seg.is_empty() {
        if let Some((name, child)) = &node.param {
            params.push((name.clone(), pos..seg_end));
            if let Some(r) = find_in(child, path, next, end, verb, params) {
                return Some(r);
            }
            params.pop();
        }
    }
    if let Some((name, route)) = &node.greedy {
        let found = with_method(Some(route), verb)?;
        params.push((name.clone(), pos..end));
        return Some(found);
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    fn route(path: &str, methods: &[&str]) -> Route<String> {
        let mut table: [Option<Arc<String>>; 8] = Default::default();
        for m in methods {
            table[method_slot(m).unwrap()] = Some(Arc::new(format!("{m} {path}")));
        }
        Route {
            resource_id: path.into(),
            resource_path: path.into(),
            methods: table,
        }
    }

    fn router() -> Router<String> {
        let mut r = Router::default();
        for (p, m) in [
            ("/", &["GET"][..]),
            ("/pets", &["GET", "POST"]),
            ("/pets/{petId}", &["GET"]),
            ("/pets/mine", &["ANY"]),
            ("/pets/{petId}/toys", &["GET"]),
            ("/files/{proxy+}", &["GET"]),
            ("/a/b/c", &["GET"]),
            ("/a/{x}/d", &["GET"]),
            ("/{proxy+}", &["ANY"]),
        ] {
            r.insert(p, route(p, m));
        }
        r
    }

    fn hit(r: &Router<String>, path: &str) -> (String, Vec<(String, String)>) {
        let m = r.find(path, "GET").unwrap();
        let params = m
            .params
            .iter()
            .map(|(n, rg)| (n.to_string(), path[rg.clone()].to_string()))
            .collect();
        (m.route.resource_path.to_string(), params)
    }

    #[test]
    fn priority_static_param_greedy() {
        let r = router();
        assert_eq!(hit(&r, "/pets/mine").0, "/pets/mine");
        assert_eq!(
            hit(&r, "/pets/7"),
            ("/pets/{petId}".into(), vec![("petId".into(), "7".into())])
        );
        assert_eq!(hit(&r, "/pets/7/toys").0, "/pets/{petId}/toys");
        assert_eq!(
            hit(&r, "/pets/7/food"),
            (
                "/{proxy+}".into(),
                vec![("proxy".into(), "pets/7/food".into())]
            )
        );
        assert_eq!(hit(&r, "/").0, "/");
        assert_eq!(hit(&r, "/files/a/b/c.txt").1[0].1, "a/b/c.txt");
    }

    #[test]
    fn resources_by_id_and_template_params() {
        let r = router();
        assert_eq!(
            r.route_of("/pets/{petId}").map(|r| &*r.resource_path),
            Some("/pets/{petId}")
        );
        assert_eq!(
            r.route_of("/{proxy+}").map(|r| &*r.resource_path),
            Some("/{proxy+}")
        );
        assert!(r.route_of("nope").is_none());
        let p = |t: &str, path: &str| {
            template_params(t, path)
                .into_iter()
                .map(|(n, v)| format!("{n}={v}"))
                .collect::<Vec<_>>()
        };
        assert_eq!(p("/pets/{petId}", "/pets/123"), ["petId=123"]);
        assert_eq!(p("/pets/{petId}", "/pets/{petId}"), ["petId={petId}"]);
        assert!(p("/pets/{petId}", "/random/test").is_empty());
        assert!(p("/pets/{petId}", "/pets/1/2").is_empty());
        assert_eq!(p("/files/{proxy+}", "/files/a/b"), ["proxy=a/b"]);
        assert!(p("/pets", "/pets/1").is_empty());
    }

    /// The cases measured on AWS (REST): the most specific resource that has the method.
    #[test]
    fn routes_on_resource_and_method_together() {
        let mut r = Router::default();
        for (p, m) in [
            ("/users/me", &["PATCH"][..]),
            ("/users/{userId}", &["GET"]),
            ("/roles/provision", &["POST"]),
            ("/roles/{roleId}", &["GET"]),
            ("/things/real", &["GET"]),
            ("/things/{proxy+}", &["ANY"]),
            ("/jobs", &[]),
            ("/jobs/{op}", &["GET"]),
            ("/cors_only", &["OPTIONS"]),
            ("/{proxy+}", &["ANY"]),
        ] {
            r.insert(p, route(p, m));
        }
        let served = |path: &str, verb: &str| {
            r.find(path, verb)
                .map(|m| m.route.resource_path.to_string())
        };
        assert_eq!(
            served("/users/me", "GET").as_deref(),
            Some("/users/{userId}")
        );
        assert_eq!(served("/users/me", "PATCH").as_deref(), Some("/users/me"));
        assert_eq!(served("/users/me", "POST").as_deref(), Some("/{proxy+}"));
        assert_eq!(
            served("/roles/provision", "POST").as_deref(),
            Some("/roles/provision")
        );
        assert_eq!(
            served("/roles/provision", "GET").as_deref(),
            Some("/roles/{roleId}")
        );
        assert_eq!(
            served("/things/real", "POST").as_deref(),
            Some("/things/{proxy+}")
        );
        assert_eq!(served("/jobs", "GET").as_deref(), Some("/{proxy+}"));
        assert_eq!(served("/jobs/reboot", "GET").as_deref(), Some("/jobs/{op}"));
        assert_eq!(served("/jobs/reboot", "POST").as_deref(), Some("/{proxy+}"));
        assert_eq!(served("/cors_only", "GET").as_deref(), Some("/{proxy+}"));
        assert_eq!(served("/anything", "BREW"), None);
        let mut only: Router<String> = Router::default();
        only.insert("/users/me", route("/users/me", &["PATCH"]));
        only.insert("/users/{id}", route("/users/{id}", &["GET"]));
        assert!(only.find("/users/me", "POST").is_none(), "nothing has POST");
    }

    #[test]
    fn backtracks_from_dead_static_branch() {
        let r = router();
        assert_eq!(
            hit(&r, "/a/b/d"),
            ("/a/{x}/d".into(), vec![("x".into(), "b".into())])
        );
        assert_eq!(hit(&r, "/a/b/c").0, "/a/b/c");
    }

    #[test]
    fn slashes() {
        let r = router();
        assert_eq!(hit(&r, "/pets/").0, "/pets");
        assert_eq!(hit(&r, "//pets").0, "/pets");
        // Inner double slashes do not match a `{param}`; the greedy keeps them verbatim.
        assert_eq!(
            hit(&r, "/pets//7"),
            ("/{proxy+}".into(), vec![("proxy".into(), "pets//7".into())])
        );
        assert_eq!(hit(&r, "/proxy-value/").1[0].1, "proxy-value");
    }

    #[test]
    fn greedy_does_not_match_its_parent_and_no_route_is_none() {
        let mut r: Router<String> = Router::default();
        r.insert("/files/{proxy+}", route("/files/{proxy+}", &["GET"]));
        assert!(r.find("/files", "GET").is_none());
        assert!(r.find("/other", "GET").is_none());
        assert!(r.find("/", "GET").is_none());
    }

    #[test]
    fn encoded_values_stay_encoded_and_case_matters() {
        let r = router();
        assert_eq!(
            hit(&r, "/pets/test%2Balias@gmail.com").1[0].1,
            "test%2Balias@gmail.com"
        );
        assert_eq!(hit(&r, "/PETS").0, "/{proxy+}");
    }

    #[test]
    fn method_lookup_prefers_exact_over_any() {
        let mut t: [Option<Arc<String>>; 8] = Default::default();
        t[0] = Some(Arc::new("get".into()));
        t[ANY_SLOT] = Some(Arc::new("any".into()));
        let r = Route {
            resource_id: "x".into(),
            resource_path: "/x".into(),
            methods: t,
        };
        assert_eq!(r.method("GET").unwrap().as_str(), "get");
        assert_eq!(r.method("POST").unwrap().as_str(), "any");
        assert_eq!(r.method("HEAD").unwrap().as_str(), "any");
        assert!(r.method("TRACE").is_none());
    }
}

#[cfg(test)]
mod properties {
    use proptest::prelude::*;

    use super::*;

    /// Priority of a template segment: static beats `{param}` beats `{proxy+}`.
    fn rank(seg: &str) -> u8 {
        if seg.ends_with("+}") {
            0
        } else if seg.starts_with('{') {
            1
        } else {
            2
        }
    }

    /// Brute force: every template that matches, best by segment ranks from the left.
    fn reference<'a>(templates: &'a [String], path: &str) -> Option<&'a str> {
        let trimmed = path.trim_start_matches('/');
        let trimmed = trimmed.strip_suffix('/').unwrap_or(trimmed);
        let segs: Vec<&str> = if trimmed.is_empty() {
            vec![]
        } else {
            trimmed.split('/').collect()
        };
        let mut best: Option<(Vec<u8>, &str)> = None;
        for t in templates {
            let parts: Vec<&str> = t.split('/').filter(|s| !s.is_empty()).collect();
            let ok = match parts.last() {
                Some(last) if last.ends_with("+}") => {
                    let n = parts.len() - 1;
                    segs.len() > n
                        && parts[..n].iter().zip(&segs).all(|(p, s)| {
                            if p.starts_with('{') {
                                !s.is_empty()
                            } else {
                                p == s
                            }
                        })
                }
                _ => {
                    parts.len() == segs.len()
                        && parts.iter().zip(&segs).all(|(p, s)| {
                            if p.starts_with('{') {
                                !s.is_empty()
                            } else {
                                p == s
                            }
                        })
                }
            };
            if ok {
                let ranks: Vec<u8> = parts.iter().map(|p| rank(p)).collect();
                if best.as_ref().is_none_or(|(b, _)| ranks > *b) {
                    best = Some((ranks, t.as_str()));
                }
            }
        }
        best.map(|(_, t)| t)
    }

    /// A resource tree obeying AWS's rules: at most one variable child per node, nothing
    /// under a greedy part.
    fn tree() -> impl Strategy<Value = Vec<String>> {
        proptest::collection::vec(proptest::collection::vec(0u8..6, 0..4), 1..12).prop_map(
            |paths| {
                let mut out: Vec<String> = vec!["/".into()];
                let mut var_child: std::collections::HashMap<String, String> = Default::default();
                for p in paths {
                    let mut cur = String::new();
                    for code in p {
                        if cur.ends_with("+}") {
                            break;
                        }
                        let part = match code {
                            0 => "a",
                            1 => "b",
                            2 => "c",
                            3 => "{x}",
                            4 => "{y}",
                            _ => "{p+}",
                        };
                        let part = if part.starts_with('{') {
                            // Reuse the node's one variable child, whatever was drawn.
                            var_child
                                .entry(cur.clone())
                                .or_insert_with(|| part.to_string())
                                .clone()
                        } else {
                            part.to_string()
                        };
                        cur = format!("{cur}/{part}");
                        if !out.contains(&cur) {
                            out.push(cur.clone());
                        }
                    }
                }
                out
            },
        )
    }

    fn request_path() -> impl Strategy<Value = String> {
        (
            proptest::collection::vec(prop_oneof!["a", "b", "c", "d", ""], 0..5),
            any::<bool>(),
            any::<bool>(),
        )
            .prop_map(|(segs, lead, trail)| {
                let mut p = format!("/{}", segs.join("/"));
                if lead {
                    p.insert(0, '/');
                }
                if trail && !p.ends_with('/') {
                    p.push('/');
                }
                p
            })
    }

    proptest! {
        #[test]
        fn router_matches_the_brute_force_reference(templates in tree(), paths in proptest::collection::vec(request_path(), 1..20)) {
            let mut router: Router<()> = Router::default();
            for t in &templates {
                let mut methods: [Option<Arc<()>>; 8] = Default::default();
                methods[ANY_SLOT] = Some(Arc::new(()));
                router.insert(t, Route { resource_id: t.as_str().into(), resource_path: t.as_str().into(), methods });
            }
            for path in &paths {
                let got = router.find(path, "GET").map(|m| m.route.resource_path.to_string());
                let want = reference(&templates, path).map(str::to_string);
                prop_assert_eq!(got, want, "path {:?} in {:?}", path, templates);
            }
        }
    }
}
