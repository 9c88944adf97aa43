//! Distributed buckets against the shared test Redis, under a prefix of the test's own:
//! several "nodes" (each its own link and bucket registry, as separate processes have)
//! taking from one bucket never admit more than `burst + rate × t + overshoot(rate)`.

use std::time::{Duration, Instant};

use tollgate_store::limit::Verdict;
use tollgate_store::throttle::{now_ns, Buckets};
use tollgate_store_redis::testing::TempPrefix;
use tollgate_store_redis::{overshoot, FailureMode, Link, RedisBuckets};

async fn admitted_by_nodes(nodes: usize, rate: f64, burst: i64, run: Duration) -> (usize, f64) {
    let prefix = TempPrefix::new();
    let mut tasks = vec![];
    let start = Instant::now();
    for _ in 0..nodes {
        let link = Link::open(&prefix.url, &prefix.prefix, FailureMode::Closed)
            .await
            .expect("the test Redis");
        let buckets = RedisBuckets::new(link);
        let bucket = buckets.bucket("plan\u{0}p\u{0}k".into(), rate, burst);
        // Two concurrent requests per node.
        for _ in 0..2 {
            let bucket = bucket.clone();
            tasks.push(tokio::spawn(async move {
                let mut admitted = 0;
                while start.elapsed() < run {
                    match bucket.take(now_ns()).verdict().await {
                        Verdict::Admit => admitted += 1,
                        Verdict::Refuse => tokio::time::sleep(Duration::from_millis(1)).await,
                        Verdict::Unavailable => panic!("the test Redis is unreachable"),
                    }
                }
                admitted
            }));
        }
    }
    let mut admitted = 0;
    for t in tasks {
        admitted += t.await.expect("task");
    }
    (admitted, start.elapsed().as_secs_f64())
}

fn assert_within_bound(admitted: usize, rate: f64, burst: i64, elapsed: f64) {
    let extra = overshoot(rate);
    let bound = burst as f64 + rate * elapsed + extra + 1.0;
    assert!(
        admitted as f64 <= bound,
        "{admitted} admitted in {elapsed:.3} s: more than burst {burst} + rate {rate} × t + \
         {extra} (+1) = {bound:.1}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn three_nodes_stay_within_burst_plus_rate_plus_five() {
    let (rate, burst) = (10.0, 10);
    let (admitted, elapsed) = admitted_by_nodes(3, rate, burst, Duration::from_millis(1500)).await;
    assert_within_bound(admitted, rate, burst, elapsed);
    assert!(admitted >= burst as usize, "only {admitted} admitted");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_fast_bucket_stays_within_the_bound_and_mostly_spends_leases() {
    let (rate, burst) = (2000.0, 100);
    let (admitted, elapsed) = admitted_by_nodes(3, rate, burst, Duration::from_millis(1000)).await;
    assert_within_bound(admitted, rate, burst, elapsed);
    // Leases that expire unspent are lost, never more than that: the cluster still gets
    // most of what the rate allows.
    let allowed = burst as f64 + rate * elapsed;
    assert!(
        admitted as f64 >= allowed * 0.5,
        "only {admitted} of {allowed:.0} admitted"
    );
}

#[tokio::test]
async fn an_unreachable_redis_answers_by_the_failure_mode_within_the_timeout() {
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .expect("a free port")
        .port();
    let url = format!("redis://127.0.0.1:{port}");
    for (mode, expected) in [
        (FailureMode::Open, Verdict::Admit),
        (FailureMode::Closed, Verdict::Unavailable),
    ] {
        let link = Link::open(&url, "x:", mode).await.expect("a valid URL");
        assert!(!link.is_up());
        assert_eq!(link.outages(), 1);
        let bucket = RedisBuckets::new(link).bucket("s".into(), 1.0, 1);
        let start = Instant::now();
        assert_eq!(bucket.take(now_ns()).verdict().await, expected);
        assert!(start.elapsed() < Duration::from_millis(50));
    }
    // TLS (rediss://) is built in: an unreachable TLS server is an outage like any other.
    let tls = format!("rediss://localhost:{port}/2");
    let link = Link::open(&tls, "x:", FailureMode::Open)
        .await
        .expect("a valid TLS URL");
    assert!(!link.is_up());
}

#[tokio::test]
async fn delete_prefix_removes_only_the_prefixs_keys() {
    let (a, b) = (TempPrefix::new(), TempPrefix::new());
    for p in [&a, &b] {
        let link = Link::open(&p.url, &p.prefix, FailureMode::Closed)
            .await
            .expect("the test Redis");
        let bucket = RedisBuckets::new(link).bucket("s".into(), 1.0, 5);
        assert_eq!(bucket.take(now_ns()).verdict().await, Verdict::Admit);
    }
    assert_eq!((a.key_count(), b.key_count()), (1, 1));
    let deleted = tollgate_store_redis::delete_prefix(&a.url, &a.prefix)
        .await
        .expect("SCAN and DEL");
    assert_eq!(deleted, 1);
    assert_eq!((a.key_count(), b.key_count()), (0, 1));
}

#[tokio::test]
async fn the_database_number_in_the_url_is_honoured() {
    let base = TempPrefix::new();
    let url = format!("{}/5", base.url.trim_end_matches('/'));
    let link = Link::open(&url, &base.prefix, FailureMode::Closed)
        .await
        .expect("the test Redis");
    let bucket = RedisBuckets::new(link).bucket("db".into(), 1.0, 5);
    assert_eq!(bucket.take(now_ns()).verdict().await, Verdict::Admit);
    // Nothing under the prefix in database 0; the bucket is in database 5.
    assert_eq!(base.key_count(), 0);
    let deleted = tollgate_store_redis::delete_prefix(&url, &base.prefix)
        .await
        .expect("SCAN and DEL in database 5");
    assert_eq!(deleted, 1);
}

#[tokio::test]
async fn an_empty_bucket_refuses_without_asking_until_a_token_can_exist() {
    use tollgate_store::limit::Decision;
    let prefix = TempPrefix::new();
    let link = Link::open(&prefix.url, &prefix.prefix, FailureMode::Closed)
        .await
        .expect("the test Redis");
    // One token, then one per 10 s.
    let bucket = RedisBuckets::new(link).bucket("flood".into(), 0.1, 1);
    assert_eq!(bucket.take(now_ns()).verdict().await, Verdict::Admit);
    // Redis says it is empty, and for how long...
    assert!(matches!(bucket.take(now_ns()), Decision::Wait(_)));
    assert_eq!(bucket.take(now_ns()).verdict().await, Verdict::Refuse);
    // ...so the flood behind it is refused locally.
    assert!(matches!(
        bucket.take(now_ns()),
        Decision::Ready(Verdict::Refuse)
    ));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn concurrent_requests_sharing_calls_get_the_buckets_tokens_and_no_more() {
    let prefix = TempPrefix::new();
    let link = Link::open(&prefix.url, &prefix.prefix, FailureMode::Closed)
        .await
        .expect("the test Redis");
    // 100 tokens and next to no refill: 150 requests at once, in batches that share calls.
    let bucket = RedisBuckets::new(link).bucket("batch".into(), 0.001, 100);
    let tasks: Vec<_> = (0..150)
        .map(|_| {
            let bucket = bucket.clone();
            tokio::spawn(async move { bucket.take(now_ns()).verdict().await })
        })
        .collect();
    let mut admitted = 0;
    for t in tasks {
        match t.await.expect("task") {
            Verdict::Admit => admitted += 1,
            Verdict::Refuse => {}
            Verdict::Unavailable => panic!("the test Redis is unreachable"),
        }
    }
    // Never more than the bucket's 100. A call may keep one token beyond its batch as the
    // lease (the most a lease holds at this rate), and when Redis runs dry while the other
    // worker thread's call is out, that call's kept token can arrive after this thread's
    // last requests were refused: it stays in the lease for the next request. So at the
    // end each of the two threads' queues may hold back one token, never more.
    assert!(
        (98..=100).contains(&admitted),
        "{admitted} of the bucket's 100 tokens admitted"
    );
}
