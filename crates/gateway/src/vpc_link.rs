//! VPC links on the data plane. Locally there is no VPC: a link's traffic goes to the
//! `host:port` targets named by `--vpc-link-target ID_OR_ARN=...` or, else, by the link's
//! `tollgate:target` tag. Targets take requests in turn (each worker thread turns on its
//! own counter); a target that refused a connection is skipped for [`DOWN_FOR`].
//! The registry is rebuilt when the store's links change, keeping the health of targets
//! that stay.

use std::cell::Cell;
use std::collections::HashMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use tollgate_model::vpc_link::{parse_targets, VpcLink, VpcLinkV2, TARGET_TAG};
use tollgate_store::DomainsState;

/// How long a target that refused a connection is left out.
pub const DOWN_FOR: Duration = Duration::from_secs(10);

/// One `host:port` behind a link.
#[derive(Debug)]
pub struct LinkTarget {
    pub authority: http::uri::Authority,
    /// Epoch milliseconds until which the target is skipped (0: up). Written only when a
    /// connection fails.
    down_until: AtomicU64,
}

/// A link's targets.
#[derive(Debug)]
pub struct Pool {
    pub targets: Vec<LinkTarget>,
}

fn now_ms() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_millis() as u64)
}

thread_local! {
    /// This worker's turn; threads turn independently, so no counter is shared.
    static TURN: Cell<usize> = const { Cell::new(0) };
}

impl Pool {
    /// The targets in the order to try them: this request's turn first, those marked down
    /// last (a link whose targets are all down still tries them).
    pub fn order(&self) -> impl Iterator<Item = &LinkTarget> {
        let n = self.targets.len();
        let start = TURN.with(|t| {
            let v = t.get();
            t.set(v.wrapping_add(1));
            v
        });
        let now = now_ms();
        // First pass: the targets up; second pass: those down.
        (0..2 * n).filter_map(move |k| {
            let t = &self.targets[(start + k) % n];
            let down = t.down_until.load(Ordering::Relaxed) > now;
            (down == (k >= n)).then_some(t)
        })
    }
}

impl LinkTarget {
    /// A connection to it failed: skip it for [`DOWN_FOR`].
    pub fn mark_down(&self) {
        tracing::warn!(target = %self.authority, "VPC link target unreachable; skipped for 10 s");
        self.down_until
            .store(now_ms() + DOWN_FOR.as_millis() as u64, Ordering::Relaxed);
    }
}

/// An integration's `connectionId`: a link id, or `${stageVariables.x}` naming one.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum LinkRef {
    Id(String),
    StageVariable(String),
}

impl LinkRef {
    pub fn parse(connection_id: &str) -> LinkRef {
        match connection_id
            .strip_prefix("${stageVariables.")
            .and_then(|r| r.strip_suffix('}'))
        {
            Some(name) => LinkRef::StageVariable(name.to_string()),
            None => LinkRef::Id(connection_id.to_string()),
        }
    }

    /// The link id for a stage.
    pub fn resolve<'a>(
        &'a self,
        stage_variables: &'a std::collections::BTreeMap<String, String>,
    ) -> &'a str {
        match self {
            LinkRef::Id(id) => id,
            LinkRef::StageVariable(n) => stage_variables.get(n).map_or("", String::as_str),
        }
    }
}

/// Every link's pool, by link id (v1 and v2).
#[derive(Debug, Default)]
pub struct VpcLinks {
    pools: HashMap<String, Arc<Pool>>,
    /// Links that exist without targets, for the log line naming what to set.
    unresolved: Vec<String>,
}

/// `--vpc-link-target` entries: a link id or ARN (the link's, or one of a v1 link's target
/// ARNs) and its targets.
pub type ConfiguredTargets = Vec<(String, Vec<String>)>;

fn configured<'c>(
    flags: &'c ConfiguredTargets,
    id: &str,
    arns: &[String],
) -> Option<&'c Vec<String>> {
    flags
        .iter()
        .find(|(key, _)| {
            key == id || key.ends_with(&format!("/vpclinks/{id}")) || arns.iter().any(|a| a == key)
        })
        .map(|(_, t)| t)
}

impl VpcLinks {
    /// The pools of `domains`' links, reusing `old`'s where the targets are unchanged.
    pub fn build(domains: &DomainsState, flags: &ConfiguredTargets, old: &VpcLinks) -> VpcLinks {
        let mut out = VpcLinks::default();
        let v1 = domains
            .vpc_links
            .values()
            .map(|l: &Arc<VpcLink>| (&l.id, &l.tags, l.target_arns.as_slice()));
        let v2 = domains
            .vpc_links_v2
            .values()
            .map(|l: &Arc<VpcLinkV2>| (&l.vpc_link_id, &l.tags, &[][..]));
        for (id, tags, arns) in v1.chain(v2) {
            let targets = configured(flags, id, arns)
                .cloned()
                .or_else(|| tags.get(TARGET_TAG).and_then(|v| parse_targets(v)));
            let Some(targets) = targets else {
                out.unresolved.push(id.clone());
                continue;
            };
            let authorities: Vec<http::uri::Authority> =
                targets.iter().filter_map(|t| t.parse().ok()).collect();
            let same = old.pools.get(id).filter(|p| {
                p.targets.len() == authorities.len()
                    && p.targets
                        .iter()
                        .zip(&authorities)
                        .all(|(t, a)| t.authority == *a)
            });
            let pool = same.cloned().unwrap_or_else(|| {
                Arc::new(Pool {
                    targets: authorities
                        .into_iter()
                        .map(|authority| LinkTarget {
                            authority,
                            down_until: AtomicU64::new(0),
                        })
                        .collect(),
                })
            });
            out.pools.insert(id.clone(), pool);
        }
        out
    }

    /// The pool of link `id`; `None` (logged with the tag to set) when it has no targets.
    pub fn pool(&self, id: &str, api: &str) -> Option<&Arc<Pool>> {
        let pool = self.pools.get(id).filter(|p| !p.targets.is_empty());
        if pool.is_none() {
            let known = self.unresolved.iter().any(|u| u == id);
            tracing::warn!(
                api,
                vpc_link = id,
                known,
                "VPC link has no targets: tag it {TARGET_TAG}=host:port[,host:port...] or start with --vpc-link-target {id}=host:port"
            );
        }
        pool
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn pool(targets: &[&str]) -> Pool {
        Pool {
            targets: targets
                .iter()
                .map(|t| LinkTarget {
                    authority: t.parse().unwrap(),
                    down_until: AtomicU64::new(0),
                })
                .collect(),
        }
    }

    #[test]
    fn turns_and_skips_targets_marked_down() {
        let p = pool(&["a:1", "b:2"]);
        let first = p.order().next().unwrap().authority.to_string();
        let second = p.order().next().unwrap().authority.to_string();
        assert_ne!(first, second);
        p.targets[0].mark_down();
        for _ in 0..4 {
            let order: Vec<_> = p.order().collect();
            assert_eq!(order.len(), 2);
            assert_eq!(order[0].authority.as_str(), "b:2");
            assert_eq!(order[1].authority.as_str(), "a:1");
        }
    }

    #[test]
    fn flags_name_links_by_id_or_arn() {
        let flags = vec![
            ("abc123".to_string(), vec!["h:1".to_string()]),
            (
                "arn:aws:elasticloadbalancing:r:1:loadbalancer/net/x/y".to_string(),
                vec!["h:2".to_string()],
            ),
        ];
        assert!(configured(&flags, "abc123", &[]).is_some());
        assert!(configured(
            &flags,
            "zzz",
            &["arn:aws:elasticloadbalancing:r:1:loadbalancer/net/x/y".into()]
        )
        .is_some());
        assert!(configured(&flags, "other", &[]).is_none());
    }
}
