//! The crash-safety harness: a durable server under a mixed workload (puts,
//! conditional updates, deletes, batch writes, transactions) on a table with a global
//! index and a stream, killed with SIGKILL at a random moment, restarted and verified,
//! cycle after cycle (CRASH_CYCLES, default 20):
//! - every acknowledged write is there, and an unacknowledged one is all there or not
//!   at all (each transaction all or nothing);
//! - the index equals its recomputation from the table;
//! - the stream agrees with the table: each item's last record is its current state;
//! - the server starts cleanly every time.
//!
//! Each client owns its keys and runs one operation at a time, so after a kill every
//! item is either in its last acknowledged state or in the state the one operation
//! in flight would have left.

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::path::Path;

use aws_sdk_dynamodb::types::{AttributeValue, Put, PutRequest, TransactWriteItem, WriteRequest};
use aws_sdk_dynamodb::Client;
use aws_sdk_dynamodbstreams::types::ShardIteratorType;
use common::{n, s, Rng, Server};

const CLIENTS: usize = 4;
const KEYS: usize = 12;

/// The state of one item: its value, or absent.
type State = Option<i64>;

/// One item's change: (key, state before, state after).
type Change = (String, State, State);

/// An operation whose outcome is unknown (the server died during it).
struct InFlight {
    changes: Vec<Change>,
    /// Whether all changes happen together (a transaction) or each on its own (a batch).
    atomic: bool,
}

fn key(client: usize, k: usize) -> String {
    format!("c{client}-k{k}")
}

fn group(v: i64) -> String {
    format!("g{}", v.rem_euclid(3))
}

fn item(pk: &str, v: i64) -> HashMap<String, AttributeValue> {
    [("pk".to_string(), s(pk)), ("v".to_string(), n(&v.to_string())), ("g".to_string(), s(&group(v)))]
        .into_iter()
        .collect()
}

/// One client's run until the server dies (or `max_ops`): returns its acknowledged
/// states and the operation in flight, if any.
async fn client_run(
    db: Client,
    client: usize,
    mut states: BTreeMap<String, State>,
    seed: u64,
    max_ops: usize,
) -> (BTreeMap<String, State>, Option<InFlight>, usize) {
    let mut rng = Rng(seed | 1);
    for done in 0..max_ops {
        let k = key(client, rng.below(KEYS as u64) as usize);
        let before = states[&k];
        let v = rng.below(1000) as i64;
        let op = rng.below(10);
        let (changes, atomic, result): (Vec<Change>, bool, Result<(), String>) = match (op, before) {
            // Conditional update of an existing item.
            (0..=2, Some(old)) => {
                let r = db
                    .update_item()
                    .table_name("crash")
                    .key("pk", s(&k))
                    .update_expression("SET v = :v, g = :g")
                    .condition_expression("v = :old")
                    .expression_attribute_values(":v", n(&(old + 1).to_string()))
                    .expression_attribute_values(":g", s(&group(old + 1)))
                    .expression_attribute_values(":old", n(&old.to_string()))
                    .send()
                    .await;
                (vec![(k.clone(), before, Some(old + 1))], true, r.map(|_| ()).map_err(|e| format!("{e:?}")))
            }
            (3, Some(_)) => {
                let r = db.delete_item().table_name("crash").key("pk", s(&k)).send().await;
                (vec![(k.clone(), before, None)], true, r.map(|_| ()).map_err(|e| format!("{e:?}")))
            }
            (4 | 5, _) => {
                let mut ks: BTreeSet<String> = BTreeSet::new();
                while ks.len() < 3 {
                    ks.insert(key(client, rng.below(KEYS as u64) as usize));
                }
                let reqs: Vec<WriteRequest> = ks
                    .iter()
                    .map(|kk| {
                        let mut p = PutRequest::builder();
                        for (a, val) in item(kk, v) {
                            p = p.item(a, val);
                        }
                        WriteRequest::builder().put_request(p.build().unwrap()).build()
                    })
                    .collect();
                let r = db.batch_write_item().request_items("crash", reqs).send().await;
                let r = match r {
                    Ok(out) if out.unprocessed_items().is_none_or(|u| u.is_empty()) => Ok(()),
                    Ok(_) => Err("unprocessed items".to_string()),
                    Err(e) => Err(format!("{e:?}")),
                };
                (ks.iter().map(|kk| (kk.clone(), states[kk], Some(v))).collect(), false, r)
            }
            (6 | 7, _) => {
                let mut k2 = key(client, rng.below(KEYS as u64) as usize);
                while k2 == k {
                    k2 = key(client, rng.below(KEYS as u64) as usize);
                }
                let mut b = db.transact_write_items();
                for kk in [&k, &k2] {
                    let mut p = Put::builder().table_name("crash");
                    for (a, val) in item(kk, v) {
                        p = p.item(a, val);
                    }
                    b = b.transact_items(TransactWriteItem::builder().put(p.build().unwrap()).build());
                }
                let r = b.send().await;
                (
                    vec![(k.clone(), before, Some(v)), (k2.clone(), states[&k2], Some(v))],
                    true,
                    r.map(|_| ()).map_err(|e| format!("{e:?}")),
                )
            }
            _ => {
                let mut p = db.put_item().table_name("crash");
                for (a, val) in item(&k, v) {
                    p = p.item(a, val);
                }
                let r = p.send().await;
                (vec![(k.clone(), before, Some(v))], true, r.map(|_| ()).map_err(|e| format!("{e:?}")))
            }
        };
        match result {
            Ok(()) => {
                for (kk, _, after) in changes {
                    states.insert(kk, after);
                }
            }
            Err(e) if e.contains("ConditionalCheckFailed") => panic!("client {client}: its own item changed: {e}"),
            Err(_) => return (states, Some(InFlight { changes, atomic }), done),
        }
    }
    (states, None, max_ops)
}

async fn read_table(db: &Client, index: Option<&str>) -> BTreeMap<String, (i64, String)> {
    let mut out = BTreeMap::new();
    let mut start = None;
    loop {
        let page = db
            .scan()
            .table_name("crash")
            .set_index_name(index.map(str::to_string))
            .set_exclusive_start_key(start.take())
            .send()
            .await
            .unwrap();
        for i in page.items() {
            let v: i64 = i["v"].as_n().unwrap().parse().unwrap();
            out.insert(i["pk"].as_s().unwrap().clone(), (v, i["g"].as_s().unwrap().clone()));
        }
        match page.last_evaluated_key() {
            Some(k) => start = Some(k.clone()),
            None => return out,
        }
    }
}

/// The state each item's stream records end in.
async fn read_stream(server: &Server, db: &Client) -> BTreeMap<String, State> {
    let st = server.streams_client();
    let arn = db.describe_table().table_name("crash").send().await.unwrap();
    let arn = arn.table().unwrap().latest_stream_arn().unwrap().to_string();
    let d = st.describe_stream().stream_arn(&arn).send().await.unwrap();
    let mut last = BTreeMap::new();
    for shard in d.stream_description().unwrap().shards() {
        let it = st
            .get_shard_iterator()
            .stream_arn(&arn)
            .shard_id(shard.shard_id().unwrap())
            .shard_iterator_type(ShardIteratorType::TrimHorizon)
            .send()
            .await
            .unwrap();
        let mut it = it.shard_iterator().map(str::to_string);
        while let Some(i) = it.take() {
            let page = st.get_records().shard_iterator(&i).send().await.unwrap();
            for r in page.records() {
                let d = r.dynamodb().unwrap();
                let pk = match &d.keys().unwrap()["pk"] {
                    aws_sdk_dynamodbstreams::types::AttributeValue::S(s) => s.clone(),
                    other => panic!("{other:?}"),
                };
                let state = d.new_image().map(|img| match &img["v"] {
                    aws_sdk_dynamodbstreams::types::AttributeValue::N(v) => v.parse::<i64>().unwrap(),
                    other => panic!("{other:?}"),
                });
                last.insert(pk, state);
            }
            if !page.records().is_empty() {
                it = page.next_shard_iterator().map(str::to_string);
            }
        }
    }
    last
}

/// Checks the restarted server against the clients' knowledge; returns the states
/// the unknown outcomes resolved to.
async fn verify(
    server: &Server,
    cycle: usize,
    known: &[(BTreeMap<String, State>, Option<InFlight>, usize)],
) -> Vec<BTreeMap<String, State>> {
    let db = server.client();
    let table = read_table(&db, None).await;
    let actual = |k: &str| table.get(k).map(|(v, _)| *v);
    let mut resolved = Vec::new();
    for (client, (states, in_flight, _)) in known.iter().enumerate() {
        let mut now = states.clone();
        let pending: HashMap<&str, (State, State)> =
            in_flight.iter().flat_map(|f| f.changes.iter().map(|(k, b, a)| (k.as_str(), (*b, *a)))).collect();
        for (k, acked) in states {
            let got = actual(k);
            match pending.get(k.as_str()) {
                Some((before, after)) => {
                    assert!(
                        got == *before || got == *after,
                        "cycle {cycle} client {client} {k}: {got:?} is neither {before:?} nor {after:?}"
                    );
                }
                None => assert_eq!(got, *acked, "cycle {cycle} client {client} {k}: acknowledged state lost"),
            }
            now.insert(k.clone(), got);
        }
        if let Some(f) = in_flight.as_ref().filter(|f| f.atomic) {
            let all_after = f.changes.iter().all(|(k, _, after)| actual(k) == *after);
            let all_before = f.changes.iter().all(|(k, before, _)| actual(k) == *before);
            assert!(all_after || all_before, "cycle {cycle} client {client}: a transaction was applied in part");
        }
        resolved.push(now);
    }
    // The index equals its recomputation from the table.
    let index = read_table(&db, Some("by_g")).await;
    assert_eq!(index, table, "cycle {cycle}: the index differs from the table");
    for (k, (v, g)) in &table {
        assert_eq!(*g, group(*v), "cycle {cycle} {k}");
    }
    // The stream agrees with the table.
    let stream = read_stream(server, &db).await;
    for (k, state) in &stream {
        assert_eq!(*state, actual(k), "cycle {cycle} {k}: the stream's last record is not the item");
    }
    for k in table.keys() {
        assert!(stream.contains_key(k), "cycle {cycle} {k}: an item without a stream record");
    }
    resolved
}

async fn run_cycles(dir: &Path, cycles: usize) {
    let mut states: Vec<BTreeMap<String, State>> =
        (0..CLIENTS).map(|c| (0..KEYS).map(|k| (key(c, k), None)).collect()).collect();
    let mut rng = Rng(0x1234_5678_9abc_def1);
    let (mut acknowledged, mut unknown) = (0usize, 0usize);
    let mut server = Server::start_durable(dir);
    common::create_table_with_index_and_stream(&server.client(), "crash", "by_g", "g").await;
    for cycle in 0..cycles {
        let mut tasks = Vec::new();
        for (c, st) in states.iter().enumerate() {
            tasks.push(tokio::spawn(client_run(server.client_without_retries(), c, st.clone(), rng.next(), 100_000)));
        }
        tokio::time::sleep(std::time::Duration::from_millis(150 + rng.below(500))).await;
        server.kill9();
        let mut known = Vec::new();
        for t in tasks {
            known.push(t.await.unwrap());
        }
        acknowledged += known.iter().map(|k| k.2).sum::<usize>();
        unknown += known.iter().filter(|k| k.1.is_some()).count();
        // It starts cleanly every time, and holds what was acknowledged.
        server = Server::start_durable(dir);
        states = verify(&server, cycle, &known).await;
    }
    assert_eq!(server.terminate().code(), Some(0));
    eprintln!("crash harness: {cycles} kill cycles, {acknowledged} acknowledged operations, {unknown} in flight at a kill, all verified");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn every_acknowledged_write_survives_repeated_kill_9() {
    let cycles = std::env::var("CRASH_CYCLES").ok().and_then(|v| v.parse().ok()).unwrap_or(20);
    let dir = tempfile::tempdir().unwrap();
    run_cycles(dir.path(), cycles).await;
}
