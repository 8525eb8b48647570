//! Soak check (reliability issue): a steady mixed workload — puts, gets, conditional
//! updates, queries, deletes over a bounded keyspace of 10,000 items — from 16 clients
//! for SECONDS (default 120), printing every 10 s the throughput, the server's RSS and
//! its storage engine's memory counters (`GET /stator/stats`).
//! A steady workload over a bounded keyspace must reach a plateau: the last samples
//! should not keep growing.
//!
//! Usage: `cargo run --release -p stator-server --example soak -- ENDPOINT SERVER_PID [SECONDS]`
//! (`scripts/soak.sh` starts the server and runs this.)

#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use aws_sdk_dynamodb::config::{BehaviorVersion, Credentials, Region};
use aws_sdk_dynamodb::types::{
    AttributeDefinition, AttributeValue, BillingMode, KeySchemaElement, KeyType, ScalarAttributeType,
};
use aws_sdk_dynamodb::Client;

const KEYS: u64 = 10_000;
const CLIENTS: u64 = 16;

fn rss_kib(pid: &str) -> u64 {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).unwrap_or_default();
    status
        .lines()
        .find(|l| l.starts_with("VmRSS:"))
        .and_then(|l| l.split_whitespace().nth(1))
        .and_then(|v| v.parse().ok())
        .unwrap_or(0)
}

/// The server's diagnostics counters (`GET /stator/stats`), empty if unavailable.
fn server_stats(endpoint: &str) -> serde_json::Value {
    use std::io::{Read, Write};
    let addr = endpoint.trim_start_matches("http://").trim_end_matches('/');
    let fetch = || -> std::io::Result<Vec<u8>> {
        let mut s = std::net::TcpStream::connect(addr)?;
        s.set_read_timeout(Some(Duration::from_secs(5)))?;
        s.write_all(format!("GET /stator/stats HTTP/1.1\r\nHost: {addr}\r\nConnection: close\r\n\r\n").as_bytes())?;
        let mut buf = Vec::new();
        s.read_to_end(&mut buf)?;
        Ok(buf)
    };
    let buf = fetch().unwrap_or_default();
    let body = buf.windows(4).position(|w| w == b"\r\n\r\n").map(|i| &buf[i + 4..]).unwrap_or_default();
    serde_json::from_slice(body).unwrap_or_default()
}

fn mib(stats: &serde_json::Value, name: &str) -> String {
    stats[name].as_u64().map(|b| format!("{:.1}", b as f64 / 1048576.0)).unwrap_or_else(|| "-".into())
}

fn s(v: &str) -> AttributeValue {
    AttributeValue::S(v.into())
}

fn n(v: u64) -> AttributeValue {
    AttributeValue::N(v.to_string())
}

#[tokio::main(flavor = "multi_thread", worker_threads = 2)]
async fn main() {
    let args: Vec<String> = std::env::args().collect();
    let endpoint = args.get(1).cloned().unwrap_or_else(|| "http://127.0.0.1:8000".into());
    let pid = args.get(2).cloned().unwrap_or_default();
    let seconds: u64 = args.get(3).and_then(|v| v.parse().ok()).unwrap_or(120);
    let conf = aws_sdk_dynamodb::Config::builder()
        .behavior_version(BehaviorVersion::latest())
        .endpoint_url(&endpoint)
        .region(Region::new("us-east-1"))
        .credentials_provider(Credentials::new("AKIDSOAK", "soak", None, None, "soak"))
        .http_client(aws_smithy_http_client::Builder::new().build_http())
        .build();
    let db = Client::from_conf(conf);
    let def = |a: &str, t| AttributeDefinition::builder().attribute_name(a).attribute_type(t).build().unwrap();
    let key = |a: &str, k| KeySchemaElement::builder().attribute_name(a).key_type(k).build().unwrap();
    db.create_table()
        .table_name("soak")
        .billing_mode(BillingMode::PayPerRequest)
        .attribute_definitions(def("pk", ScalarAttributeType::S))
        .attribute_definitions(def("sk", ScalarAttributeType::N))
        .key_schema(key("pk", KeyType::Hash))
        .key_schema(key("sk", KeyType::Range))
        .send()
        .await
        .unwrap();
    let ops = Arc::new(AtomicU64::new(0));
    let deadline = Instant::now() + Duration::from_secs(seconds);
    let mut tasks = Vec::new();
    for c in 0..CLIENTS {
        let db = db.clone();
        let ops = ops.clone();
        tasks.push(tokio::spawn(async move {
            let mut x: u64 = 0x9e37_79b9_7f4a_7c15 ^ c;
            while Instant::now() < deadline {
                x ^= x << 13;
                x ^= x >> 7;
                x ^= x << 17;
                let k = x % KEYS;
                let (pk, sk) = (format!("p{}", k / 100), n(k % 100));
                let r = match x % 10 {
                    0..=3 => db
                        .put_item()
                        .table_name("soak")
                        .item("pk", s(&pk))
                        .item("sk", sk)
                        .item("payload", s(&"x".repeat((x % 512) as usize)))
                        .item("v", n(0))
                        .send()
                        .await
                        .map(|_| ())
                        .map_err(|e| format!("{e:?}")),
                    4..=6 => db
                        .get_item()
                        .table_name("soak")
                        .key("pk", s(&pk))
                        .key("sk", sk)
                        .send()
                        .await
                        .map(|_| ())
                        .map_err(|e| format!("{e:?}")),
                    7 => db
                        .update_item()
                        .table_name("soak")
                        .key("pk", s(&pk))
                        .key("sk", sk)
                        .update_expression("ADD v :one")
                        .expression_attribute_values(":one", n(1))
                        .send()
                        .await
                        .map(|_| ())
                        .map_err(|e| format!("{e:?}")),
                    8 => db
                        .query()
                        .table_name("soak")
                        .key_condition_expression("pk = :p")
                        .expression_attribute_values(":p", s(&pk))
                        .limit(20)
                        .send()
                        .await
                        .map(|_| ())
                        .map_err(|e| format!("{e:?}")),
                    _ => db
                        .delete_item()
                        .table_name("soak")
                        .key("pk", s(&pk))
                        .key("sk", sk)
                        .send()
                        .await
                        .map(|_| ())
                        .map_err(|e| format!("{e:?}")),
                };
                r.expect("request");
                ops.fetch_add(1, Ordering::Relaxed);
            }
        }));
    }
    println!(
        "| t (s) | ops/s | RSS (MiB) | cache | memtables | journal | disk (MiB) | sealed | LSM tables | tracked keys |\n|---|---|---|---|---|---|---|---|---|---|"
    );
    let start = Instant::now();
    let mut last = 0;
    let mut samples = Vec::new();
    while Instant::now() < deadline {
        tokio::time::sleep(Duration::from_secs(10).min(deadline.saturating_duration_since(Instant::now()))).await;
        let now = ops.load(Ordering::Relaxed);
        let rss = rss_kib(&pid) as f64 / 1024.0;
        samples.push(rss);
        let st = server_stats(&endpoint);
        let count = |name: &str| st[name].as_u64().map(|v| v.to_string()).unwrap_or_else(|| "-".into());
        println!(
            "| {:.0} | {:.0} | {:.1} | {} | {} | {} | {} | {} | {} | {} |",
            start.elapsed().as_secs_f64(),
            (now - last) as f64 / 10.0,
            rss,
            mib(&st, "cache_bytes"),
            mib(&st, "write_buffer_bytes"),
            mib(&st, "journal_bytes"),
            mib(&st, "disk_bytes"),
            count("sealed_memtables"),
            count("lsm_tables"),
            count("conflict_tracker_keys"),
        );
        last = now;
    }
    for t in tasks {
        t.await.unwrap();
    }
    let total = ops.load(Ordering::Relaxed);
    println!("\n{total} requests in {seconds} s ({:.0} ops/s)", total as f64 / seconds as f64);
    if samples.len() >= 4 {
        let half = samples.len() / 2;
        let first = samples[half - 1];
        let peak = samples[half..].iter().cloned().fold(0.0, f64::max);
        println!("RSS at half time {first:.1} MiB, peak after {peak:.1} MiB ({:+.1}%)", (peak / first - 1.0) * 100.0);
    }
}
