//! Scale check (issue: reading many items): loads PARTITIONS × PER_PARTITION items with
//! BatchWriteItem, then pages through one partition with Query and through the whole
//! table with Scan (unless SCALE_SCAN=0), and measures GetItem latency of random items,
//! printing load rate, latencies and the server's RSS.
//!
//! Usage: `cargo run --release -p stator-server --example scale -- ENDPOINT SERVER_PID [ITEMS]`
//! (`scripts/scale.sh` starts the server and runs this.)

#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::collections::HashMap;
use std::time::{Duration, Instant};

use aws_sdk_dynamodb::config::{BehaviorVersion, Credentials, Region};
use aws_sdk_dynamodb::types::{
    AttributeDefinition, AttributeValue, BillingMode, KeySchemaElement, KeyType, PutRequest, ScalarAttributeType,
    WriteRequest,
};
use aws_sdk_dynamodb::Client;

const PER_PARTITION: usize = 10_000;
const CONCURRENCY: usize = 16;

fn rss_kib(pid: &str, field: &str) -> u64 {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).unwrap_or_default();
    status
        .lines()
        .find(|l| l.starts_with(field))
        .and_then(|l| l.split_whitespace().nth(1))
        .and_then(|v| v.parse().ok())
        .unwrap_or(0)
}

fn pct(v: &mut [Duration], p: f64) -> f64 {
    v.sort();
    let i = ((v.len() as f64 - 1.0) * p).round() as usize;
    v[i].as_secs_f64() * 1000.0
}

#[tokio::main(flavor = "multi_thread", worker_threads = 2)]
async fn main() {
    let args: Vec<String> = std::env::args().collect();
    let endpoint = args.get(1).cloned().unwrap_or_else(|| "http://127.0.0.1:8000".into());
    let pid = args.get(2).cloned().unwrap_or_default();
    let items: usize = args.get(3).and_then(|v| v.parse().ok()).unwrap_or(1_000_000);
    let partitions = items.div_ceil(PER_PARTITION);
    let conf = aws_sdk_dynamodb::Config::builder()
        .behavior_version(BehaviorVersion::latest())
        .endpoint_url(&endpoint)
        .region(Region::new("us-east-1"))
        .credentials_provider(Credentials::new("AKIDSCALE", "scale", None, None, "scale"))
        .http_client(aws_smithy_http_client::Builder::new().build_http())
        .build();
    let c = Client::from_conf(conf);
    // SCALE_LOAD=0: measure a store loaded by an earlier run (scripts/scale.sh with
    // SCALE_DATA_DIR), after its background compaction has settled.
    if std::env::var("SCALE_LOAD").is_ok_and(|v| v == "0") {
        println!("idle RSS of the loaded store: {} MiB", rss_kib(&pid, "VmRSS:") / 1024);
    } else {
        load(&c, &pid, items, partitions).await;
    }
    read_back(&c, &pid, items).await;
}

/// Creates the table afresh and loads `items` items with BatchWriteItem.
async fn load(c: &Client, pid: &str, items: usize, partitions: usize) {
    let _ = c.delete_table().table_name("scale").send().await;
    c.create_table()
        .table_name("scale")
        .billing_mode(BillingMode::PayPerRequest)
        .attribute_definitions(
            AttributeDefinition::builder().attribute_name("pk").attribute_type(ScalarAttributeType::S).build().unwrap(),
        )
        .attribute_definitions(
            AttributeDefinition::builder().attribute_name("sk").attribute_type(ScalarAttributeType::N).build().unwrap(),
        )
        .key_schema(KeySchemaElement::builder().attribute_name("pk").key_type(KeyType::Hash).build().unwrap())
        .key_schema(KeySchemaElement::builder().attribute_name("sk").key_type(KeyType::Range).build().unwrap())
        .send()
        .await
        .unwrap();
    println!("idle RSS before load: {} MiB", rss_kib(pid, "VmRSS:") / 1024);

    // Load: CONCURRENCY tasks, each taking every CONCURRENCY-th batch of 25.
    let t0 = Instant::now();
    let batches = items.div_ceil(25);
    let mut tasks = Vec::new();
    for t in 0..CONCURRENCY {
        let c = c.clone();
        tasks.push(tokio::spawn(async move {
            let mut b = t;
            while b < batches {
                let writes: Vec<WriteRequest> = (b * 25..((b + 1) * 25).min(items))
                    .map(|i| {
                        let item: HashMap<String, AttributeValue> = [
                            ("pk".to_string(), AttributeValue::S(format!("p{:04}", i / PER_PARTITION))),
                            ("sk".to_string(), AttributeValue::N((i % PER_PARTITION).to_string())),
                            ("v".to_string(), AttributeValue::S(format!("{i:0>80}"))),
                        ]
                        .into();
                        WriteRequest::builder()
                            .put_request(PutRequest::builder().set_item(Some(item)).build().unwrap())
                            .build()
                    })
                    .collect();
                let mut pending = Some(HashMap::from([("scale".to_string(), writes)]));
                while let Some(req) = pending.take() {
                    let out = c.batch_write_item().set_request_items(Some(req)).send().await.unwrap();
                    pending = out.unprocessed_items.filter(|u| !u.is_empty());
                }
                b += CONCURRENCY;
            }
        }));
    }
    for t in tasks {
        t.await.unwrap();
    }
    let load_s = t0.elapsed().as_secs_f64();
    println!(
        "loaded {items} items ({partitions} partitions × {PER_PARTITION}) in {load_s:.1} s: {:.0} items/s",
        items as f64 / load_s
    );
    println!("RSS after load: {} MiB (peak {} MiB)", rss_kib(pid, "VmRSS:") / 1024, rss_kib(pid, "VmHWM:") / 1024);
}

/// Pages a partition (and the table unless SCALE_SCAN=0) and times GetItem of random
/// items.
async fn read_back(c: &Client, pid: &str, items: usize) {
    // Query one 10,000-item partition, 1,000 items per page.
    let mut lat = Vec::new();
    let mut start = None;
    let mut got = 0;
    loop {
        let t = Instant::now();
        let r = c
            .query()
            .table_name("scale")
            .key_condition_expression("pk = :p")
            .expression_attribute_values(":p", AttributeValue::S("p0001".into()))
            .limit(1000)
            .set_exclusive_start_key(start.take())
            .send()
            .await
            .unwrap();
        lat.push(t.elapsed());
        got += r.count as usize;
        match r.last_evaluated_key {
            Some(k) => start = Some(k),
            None => break,
        }
    }
    assert_eq!(got, PER_PARTITION.min(items));
    println!(
        "query of one {got}-item partition: {} pages of ≤1000, page p50 {:.2} ms, max {:.2} ms",
        lat.len(),
        pct(&mut lat, 0.5),
        pct(&mut lat, 1.0)
    );

    // GetItem of uniformly random items: 16 clients for 10 s (bounded by count too).
    let t0 = Instant::now();
    let mut tasks = Vec::new();
    for t in 0..CONCURRENCY {
        let c = c.clone();
        tasks.push(tokio::spawn(async move {
            let mut lat = Vec::new();
            let mut x = 0x9E37_79B9_7F4A_7C15u64 ^ (t as u64 + 1);
            while t0.elapsed() < Duration::from_secs(10) && lat.len() < 1_000_000 {
                x ^= x << 13;
                x ^= x >> 7;
                x ^= x << 17;
                let i = (x % items as u64) as usize;
                let t = Instant::now();
                let r = c
                    .get_item()
                    .table_name("scale")
                    .key("pk", AttributeValue::S(format!("p{:04}", i / PER_PARTITION)))
                    .key("sk", AttributeValue::N((i % PER_PARTITION).to_string()))
                    .send()
                    .await
                    .unwrap();
                lat.push(t.elapsed());
                assert!(r.item.is_some(), "item {i} missing");
            }
            lat
        }));
    }
    let mut lat = Vec::new();
    for t in tasks {
        lat.extend(t.await.unwrap());
    }
    println!(
        "GetItem of random items, {CONCURRENCY} clients: {} gets in {:.1} s ({:.0}/s), p50 {:.3} ms, p99 {:.3} ms",
        lat.len(),
        t0.elapsed().as_secs_f64(),
        lat.len() as f64 / t0.elapsed().as_secs_f64(),
        pct(&mut lat, 0.5),
        pct(&mut lat, 0.99)
    );
    println!("RSS after gets: {} MiB (peak {} MiB)", rss_kib(pid, "VmRSS:") / 1024, rss_kib(pid, "VmHWM:") / 1024);
    if std::env::var("SCALE_SCAN").is_ok_and(|v| v == "0") {
        return;
    }

    // Scan everything in 1 MB pages.
    let mut lat = Vec::new();
    let mut start = None;
    let mut scanned = 0usize;
    let t0 = Instant::now();
    loop {
        let t = Instant::now();
        let r = c.scan().table_name("scale").set_exclusive_start_key(start.take()).send().await.unwrap();
        lat.push(t.elapsed());
        scanned += r.count as usize;
        match r.last_evaluated_key {
            Some(k) => start = Some(k),
            None => break,
        }
    }
    assert_eq!(scanned, items);
    println!(
        "scan of {scanned} items: {} pages (1 MB each) in {:.1} s, page p50 {:.1} ms, p99 {:.1} ms",
        lat.len(),
        t0.elapsed().as_secs_f64(),
        pct(&mut lat, 0.5),
        pct(&mut lat, 0.99)
    );
    println!("RSS at end: {} MiB (peak {} MiB)", rss_kib(pid, "VmRSS:") / 1024, rss_kib(pid, "VmHWM:") / 1024);
}
