//! A stage's response-cache settings (auth-throttle-cache.md §4), resolved when the stage
//! is built: which methods cache, for how long, and who may invalidate an entry. A method
//! caches when the stage cache is on and its `caching/enabled` says so: its own method
//! setting, else `*/*`, which (AWS's default scope) covers `GET` requests only (to a `GET`
//! method, or an `ANY` method called with `GET`).

use std::collections::HashMap;
use std::sync::Arc;
use std::time::Duration;

use tollgate_model::{MethodSetting, Stage, UnauthorizedCacheControlHeaderStrategy};

use crate::response_cache::ResponseCache;
use crate::router::method_slot;

/// How one method caches.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct MethodCaching {
    pub ttl: Duration,
    /// `requireAuthorizationForCacheControl`: `Cache-Control: max-age=0` needs
    /// `execute-api:InvalidateCache`.
    pub require_authorization: bool,
    pub unauthorized: UnauthorizedCacheControlHeaderStrategy,
}

impl MethodCaching {
    /// `None` when the setting does not cache (disabled, or a TTL of 0).
    fn of(ms: &MethodSetting) -> Option<MethodCaching> {
        let ttl = u64::try_from(ms.cache_ttl_in_seconds)
            .ok()
            .filter(|t| *t > 0)?;
        ms.caching_enabled.then_some(MethodCaching {
            ttl: Duration::from_secs(ttl),
            require_authorization: ms.require_authorization_for_cache_control,
            unauthorized: ms.unauthorized_cache_control_header_strategy,
        })
    }
}

/// The stage's cache and what each method does with it.
#[derive(Debug)]
pub struct StageCache {
    pub store: Arc<dyn ResponseCache>,
    /// Methods with a setting of their own, by resource path and method slot (`None`: the
    /// setting turns caching off).
    methods: HashMap<Box<str>, [Option<Option<MethodCaching>>; 8]>,
    /// `*/*`, for `GET` methods without a setting of their own.
    all_get: Option<MethodCaching>,
}

impl StageCache {
    pub fn new(st: &Stage, store: Arc<dyn ResponseCache>) -> StageCache {
        let mut methods: HashMap<Box<str>, [Option<Option<MethodCaching>>; 8]> = HashMap::new();
        let mut all_get = None;
        for (k, ms) in &st.method_settings {
            if k == "*/*" {
                all_get = MethodCaching::of(ms);
                continue;
            }
            let Some((path, verb)) = tollgate_model::stage::split_method_setting_key(k) else {
                continue;
            };
            if let Some(slot) = method_slot(&verb) {
                methods.entry(path.into()).or_default()[slot] = Some(MethodCaching::of(ms));
            }
        }
        StageCache {
            store,
            methods,
            all_get,
        }
    }

    /// How a `request_verb` request to the method `verb` of `resource_path` caches;
    /// `None` when it does not.
    pub fn method(
        &self,
        resource_path: &str,
        verb: &str,
        request_verb: &http::Method,
    ) -> Option<MethodCaching> {
        let slot = method_slot(verb)?;
        match self.methods.get(resource_path).and_then(|m| m[slot]) {
            Some(own) => own,
            None if request_verb == http::Method::GET => self.all_get,
            None => None,
        }
    }
}

/// The cache one request may use: the stage's, with a key prefix for a canary that serves
/// another deployment (its entries are kept apart from production's).
#[derive(Debug, Clone, Copy)]
pub struct CacheScope<'a> {
    pub cache: &'a StageCache,
    pub prefix: Option<&'a str>,
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::response_cache::LocalResponseCache;

    fn setting(enabled: bool, ttl: i64) -> MethodSetting {
        MethodSetting {
            caching_enabled: enabled,
            cache_ttl_in_seconds: ttl,
            ..MethodSetting::default()
        }
    }

    #[test]
    fn star_covers_get_only_and_own_settings_win() {
        let mut st = Stage::new("dev".into(), "d".into(), 0);
        st.method_settings.insert("*/*".into(), setting(true, 60));
        st.method_settings
            .insert("~1pets/POST".into(), setting(true, 10));
        st.method_settings
            .insert("pets/{id}/GET".into(), setting(false, 10));
        st.method_settings
            .insert("~1zero/GET".into(), setting(true, 0));
        let c = StageCache::new(&st, Arc::new(LocalResponseCache::new(1024)));
        let (get, post, put) = (&http::Method::GET, &http::Method::POST, &http::Method::PUT);
        assert_eq!(
            c.method("/pets", "GET", get).unwrap().ttl,
            Duration::from_secs(60)
        );
        assert_eq!(
            c.method("/pets", "POST", post).unwrap().ttl,
            Duration::from_secs(10)
        );
        assert!(c.method("/other", "PUT", put).is_none());
        assert!(c.method("/pets/{id}", "GET", get).is_none());
        assert!(c.method("/zero", "GET", get).is_none());
        assert!(
            c.method("/web", "ANY", get).is_some(),
            "a GET to an ANY method"
        );
        assert!(c.method("/web", "ANY", post).is_none());
    }
}
