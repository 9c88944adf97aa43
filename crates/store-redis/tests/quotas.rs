//! Quota counters against the shared test Redis, under a prefix of the test's own: nodes
//! (each its own link and counters, as separate processes have) taking units ahead never
//! admit more than the limit, and admit all of it when their requests go on until refused.

use std::sync::Arc;
use std::time::Duration;

use tollgate_model::QuotaPeriodType;
use tollgate_store::limit::Verdict;
use tollgate_store::usage::{KeyCounter, LocalUsage, Quota, UsageCounters};
use tollgate_store_redis::testing::TempPrefix;
use tollgate_store_redis::{FailureMode, Link, RedisUsage, RESERVE_LIFE, RESERVE_MAX};

const DAY: i64 = 20_000;

fn quota(limit: i64) -> Quota {
    Quota {
        limit,
        offset: 0,
        period: QuotaPeriodType::Day,
        first_day: 0,
    }
}

async fn node(prefix: &TempPrefix) -> RedisUsage {
    let link = Link::open(&prefix.url, &prefix.prefix, FailureMode::Closed)
        .await
        .expect("the test Redis");
    RedisUsage::new(Arc::new(LocalUsage::default()), link)
}

/// The period counter's count.
async fn counter(prefix: &TempPrefix) -> i64 {
    let client = redis::Client::open(prefix.url.as_str()).unwrap();
    let mut conn = client.get_multiplexed_async_connection().await.unwrap();
    let key = format!("{}quota-count:plan:key:{DAY}", prefix.prefix);
    let n: Option<i64> = redis::cmd("HGET")
        .arg(key)
        .arg("n")
        .query_async(&mut conn)
        .await
        .unwrap();
    n.unwrap_or(0)
}

async fn take(c: &Arc<dyn KeyCounter>, q: &Quota) -> Verdict {
    c.consume(DAY, Some(q)).verdict().await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn nodes_taking_ahead_admit_exactly_the_limit() {
    let prefix = TempPrefix::new();
    let q = quota(500);
    let mut tasks = vec![];
    for _ in 0..3 {
        let counter = node(&prefix).await.counter("plan", "key");
        for _ in 0..2 {
            let (counter, q) = (counter.clone(), q.clone());
            tasks.push(tokio::spawn(async move {
                let mut admitted = 0;
                loop {
                    match take(&counter, &q).await {
                        Verdict::Admit => admitted += 1,
                        Verdict::Refuse => return admitted,
                        Verdict::Unavailable => panic!("the test Redis is unreachable"),
                    }
                }
            }));
        }
    }
    let mut admitted = 0;
    for t in tasks {
        admitted += t.await.unwrap();
    }
    assert_eq!(admitted, 500);
    assert_eq!(counter(&prefix).await, 500);
}

#[tokio::test]
async fn units_taken_ahead_are_spent_without_a_call_and_the_rest_given_back() {
    let prefix = TempPrefix::new();
    let q = quota(10_000);
    let usage = node(&prefix).await;
    let c = usage.counter("plan", "key");
    assert_eq!(take(&c, &q).await, Verdict::Admit);
    assert_eq!(counter(&prefix).await, 1 + RESERVE_MAX);
    for _ in 0..10 {
        assert_eq!(take(&c, &q).await, Verdict::Admit);
    }
    assert_eq!(counter(&prefix).await, 1 + RESERVE_MAX, "spent ahead");
    tokio::time::sleep(RESERVE_LIFE + Duration::from_millis(300)).await;
    assert_eq!(counter(&prefix).await, 11, "the unspent units went back");
    assert_eq!(
        usage.daily("plan", "key", DAY, DAY, Some(&q)),
        vec![[11, 9_989]]
    );
}

#[tokio::test]
async fn update_usage_waits_out_the_units_taken_ahead_then_admits_exactly_what_it_set() {
    let prefix = TempPrefix::new();
    let q = quota(10_000);
    let (a, b) = (node(&prefix).await, node(&prefix).await);
    let (ca, cb) = (a.counter("plan", "key"), b.counter("plan", "key"));
    for _ in 0..6 {
        assert_eq!(take(&ca, &q).await, Verdict::Admit);
    }
    assert_eq!(
        counter(&prefix).await,
        1 + RESERVE_MAX,
        "node a holds units"
    );
    // Through node b: 40 remaining. It answers once a's units are given back, with the
    // count it was given.
    b.set_remaining("plan", "key", DAY, &q, 40)
        .expect("a shared write")
        .await;
    assert_eq!(counter(&prefix).await, 10_000 - 40);
    let mut admitted = 0;
    for i in 0..100 {
        let c = if i % 2 == 0 { &ca } else { &cb };
        if take(c, &q).await == Verdict::Admit {
            admitted += 1;
        }
    }
    assert_eq!(
        admitted, 40,
        "both nodes took units ahead again, and spent them"
    );
    tokio::time::sleep(RESERVE_LIFE + Duration::from_millis(300)).await;
    assert_eq!(counter(&prefix).await, 10_000);
}

#[tokio::test]
async fn units_taken_ahead_from_a_counter_redis_lost_are_not_given_back_to_its_successor() {
    let prefix = TempPrefix::new();
    let q = quota(10_000);
    let usage = node(&prefix).await;
    let c = usage.counter("plan", "key");
    assert_eq!(take(&c, &q).await, Verdict::Admit);
    assert_eq!(counter(&prefix).await, 1 + RESERVE_MAX, "units taken ahead");
    // Redis loses the counter (a restart that kept nothing), and another node counts 3
    // requests in a new one while this node still holds its units.
    let client = redis::Client::open(prefix.url.as_str()).unwrap();
    let mut conn = client.get_multiplexed_async_connection().await.unwrap();
    let key = format!("{}quota-count:plan:key:{DAY}", prefix.prefix);
    let _: i64 = redis::cmd("DEL")
        .arg(&key)
        .query_async(&mut conn)
        .await
        .unwrap();
    tokio::time::sleep(Duration::from_millis(5)).await;
    let other = node(&prefix).await.counter("plan", "key");
    for _ in 0..3 {
        assert_eq!(take(&other, &q).await, Verdict::Admit);
    }
    let rebuilt = counter(&prefix).await;
    assert!(
        rebuilt >= 3,
        "the new counter counts what it admitted: {rebuilt}"
    );
    tokio::time::sleep(RESERVE_LIFE + Duration::from_millis(300)).await;
    let after = counter(&prefix).await;
    assert!(
        after >= 3,
        "the lost counter's units are not taken off the new one: {rebuilt} then {after}"
    );
    // And a give-back to a counter that expired makes no key of its own.
    let _: i64 = redis::cmd("DEL")
        .arg(&key)
        .query_async(&mut conn)
        .await
        .unwrap();
    assert_eq!(take(&c, &q).await, Verdict::Admit);
    let _: i64 = redis::cmd("DEL")
        .arg(&key)
        .query_async(&mut conn)
        .await
        .unwrap();
    tokio::time::sleep(RESERVE_LIFE + Duration::from_millis(300)).await;
    let exists: i64 = redis::cmd("EXISTS")
        .arg(&key)
        .query_async(&mut conn)
        .await
        .unwrap();
    assert_eq!(exists, 0, "no counter made by a give-back");
}
