//! Hot-path benchmark: the per-request work that dominates the server's CPU profile,
//! each run in a tight loop, without HTTP. Two ways to run it (`scripts/hotpaths.sh`):
//!
//! - `cargo bench -p stator-engine --bench hotpaths` prints ns per operation (median
//!   of 5 timed rounds) — quick, but noisy on a shared machine;
//! - `scripts/hotpaths.sh --callgrind` runs each path alone under valgrind and prints
//!   instructions per operation, which are stable run to run: compare those across
//!   commits to see a regression.
//!
//! Arguments: `[PATH] [ITERATIONS]` runs one path (for callgrind); none runs all.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::collections::HashMap;
use std::hint::black_box;
use std::sync::Arc;
use std::time::Instant;

use serde_json::{json, Value};
use stator_engine::{Engine, EngineConfig, RequestContext};
use stator_expr::{parse_condition, parse_update, ExprKind, Resolver};
use stator_protocol::{Body, Obj, Operation};
use stator_storage::local::{LocalStore, SyncPolicy};
use stator_storage::mem::MemEngine;
use stator_types::itemcodec::{decode_item, encode_item};
use stator_types::{item_from_json, stored, AttributeValue, Item, Number};

/// The W1/W2 item of the shared bench: `pk`, `n` and ten 100-character fields.
fn bench_item(i: usize) -> Value {
    let mut m = serde_json::Map::new();
    m.insert("pk".into(), json!({"S": format!("k{i:08}")}));
    m.insert("n".into(), json!({"N": (i % 100).to_string()}));
    for f in 0..10 {
        let s: String = (0..100).map(|j| (b'a' + ((i * 7 + f * 13 + j) % 26) as u8) as char).collect();
        m.insert(format!("field{f}"), json!({ "S": s }));
    }
    Value::Object(m)
}

fn ctx() -> RequestContext {
    RequestContext { account: "000000000000".into(), region: "us-east-1".into(), endpoint: "localhost".into() }
}

struct Fixture {
    engine: Engine,
    put_body: Vec<u8>,
    get_body: serde_json::Map<String, Value>,
    item: Item,
    stored: Vec<u8>,
}

fn fixture() -> Fixture {
    let store = Arc::new(LocalStore::new(MemEngine::new(), SyncPolicy::Never));
    let engine = Engine::open(store, EngineConfig::default()).unwrap();
    let create = json!({"TableName": "bench_kv", "BillingMode": "PAY_PER_REQUEST",
        "AttributeDefinitions": [{"AttributeName": "pk", "AttributeType": "S"}],
        "KeySchema": [{"AttributeName": "pk", "KeyType": "HASH"}]});
    engine.execute(&ctx(), Operation::CreateTable, create.as_object().unwrap()).unwrap();
    for i in 0..1000 {
        let put = json!({"TableName": "bench_kv", "Item": bench_item(i)});
        engine.execute(&ctx(), Operation::PutItem, put.as_object().unwrap()).unwrap();
    }
    let put_body = serde_json::to_vec(&json!({"TableName": "bench_kv", "Item": bench_item(5)})).unwrap();
    let get_body = json!({"TableName": "bench_kv", "Key": {"pk": {"S": "k00000500"}}}).as_object().unwrap().clone();
    let item = item_from_json(&bench_item(7)).unwrap();
    let stored = encode_item(&item);
    Fixture { engine, put_body, get_body, item, stored }
}

type Path = (&'static str, fn(&Fixture));

const PATHS: &[Path] = &[
    ("decode_put_request", |f| {
        let m = Obj::parse_body(&f.put_body).unwrap();
        black_box(item_from_json(m.get("Item").unwrap()).unwrap());
    }),
    ("decode_put_request_direct", |f| {
        black_box(Body::parse_with_item(&f.put_body, "Item").unwrap());
    }),
    ("decode_put_request_to_record", |f| {
        black_box(Engine::parse_member(Operation::PutItem, &f.put_body).unwrap());
    }),
    ("encode_item", |f| {
        black_box(encode_item(&f.item));
    }),
    ("decode_item", |f| {
        black_box(decode_item(&f.stored).unwrap());
    }),
    ("stored_item_to_json", |f| {
        let mut out = Vec::with_capacity(1500);
        stored::write_json(&f.stored, &mut out).unwrap();
        black_box(out);
    }),
    ("encode_key", |f| {
        let mut out = Vec::with_capacity(32);
        stator_types::keycodec::encode_key_value(f.item.get("pk").unwrap(), &mut out);
        black_box(out);
    }),
    ("condition_parse_eval", |f| {
        let values: HashMap<String, AttributeValue> = HashMap::from([
            (":lo".to_string(), AttributeValue::N(Number::from_i64(10))),
            (":p".to_string(), AttributeValue::S("abc".into())),
        ]);
        let mut r = Resolver::new(None, Some(&values));
        let c = parse_condition(
            "n > :lo AND attribute_exists(field3) AND NOT begins_with(field1, :p)",
            ExprKind::Condition,
            &mut r,
        )
        .unwrap();
        black_box(c.eval(&f.item).unwrap());
    }),
    ("update_parse_apply", |f| {
        let values: HashMap<String, AttributeValue> = HashMap::from([
            (":one".to_string(), AttributeValue::N(Number::from_i64(1))),
            (":v".to_string(), AttributeValue::S("x".repeat(100))),
        ]);
        let mut r = Resolver::new(None, Some(&values));
        let u = parse_update("SET field0 = :v ADD c :one", &mut r).unwrap();
        let mut item = f.item.clone();
        u.apply(&mut item).unwrap();
        black_box(item);
    }),
    ("engine_get_item", |f| {
        black_box(f.engine.reply(&ctx(), Operation::GetItem, &f.get_body).unwrap().into_bytes());
    }),
    ("engine_put_item", |f| {
        let m = Obj::parse_body(&f.put_body).unwrap();
        black_box(f.engine.reply(&ctx(), Operation::PutItem, &m).unwrap().into_bytes());
    }),
    ("engine_put_item_direct", |f| {
        let (m, member) = Engine::parse_member(Operation::PutItem, &f.put_body).unwrap();
        black_box(f.engine.answer_parsed(&ctx(), Operation::PutItem, &m, member).unwrap().wait().unwrap().into_bytes());
    }),
];

fn main() {
    let args: Vec<String> = std::env::args().skip(1).filter(|a| !a.starts_with("--")).collect();
    let f = fixture();
    if let Some(name) = args.first() {
        // One path, a fixed number of times (for instruction counting).
        let iterations: usize = args.get(1).and_then(|n| n.parse().ok()).unwrap_or(10_000);
        let (_, run) = PATHS.iter().find(|(n, _)| n == name).expect("unknown path");
        for _ in 0..iterations {
            run(&f);
        }
        return;
    }
    println!("{:<22} {:>10}", "path", "ns/op");
    for (name, run) in PATHS {
        let mut rounds = Vec::new();
        for _ in 0..5 {
            let n = 20_000;
            let t = Instant::now();
            for _ in 0..n {
                run(&f);
            }
            rounds.push(t.elapsed().as_nanos() as f64 / n as f64);
        }
        rounds.sort_by(f64::total_cmp);
        println!("{name:<22} {:>10.0}", rounds[2]);
    }
}
