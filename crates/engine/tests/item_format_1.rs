//! Items stored in item format 1 (by releases before format 2 put the billed size in
//! the record's header) answer exactly like the same items in format 2: reads, their
//! capacity, page sizes, and writes over them (whose old size is then computed from
//! the record), including the table's size counter.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::sync::Arc;

use serde_json::{json, Value};
use stator_engine::{Engine, EngineConfig, RequestContext};
use stator_protocol::Operation;
use stator_storage::local::{LocalStore, SyncPolicy};
use stator_storage::mem::MemEngine;
use stator_storage::{Direction, KeyRange, KvStore};

fn ctx() -> RequestContext {
    RequestContext { account: "000000000000".into(), region: "us-east-1".into(), endpoint: "localhost".into() }
}

fn call(e: &Engine, op: Operation, body: Value) -> Value {
    e.execute(&ctx(), op, body.as_object().unwrap()).unwrap()
}

/// An engine with a table of three items, and its store.
fn engine() -> (Engine, Arc<LocalStore<MemEngine>>) {
    let store = Arc::new(LocalStore::new(MemEngine::new(), SyncPolicy::Never));
    let e = Engine::open(store.clone(), EngineConfig::default()).unwrap();
    call(
        &e,
        Operation::CreateTable,
        json!({
            "TableName": "tbl", "BillingMode": "PAY_PER_REQUEST",
            "AttributeDefinitions": [{"AttributeName": "pk", "AttributeType": "S"}, {"AttributeName": "sk", "AttributeType": "N"}],
            "KeySchema": [{"AttributeName": "pk", "KeyType": "HASH"}, {"AttributeName": "sk", "KeyType": "RANGE"}]
        }),
    );
    let items = [
        json!({"pk": {"S": "a"}, "sk": {"N": "1"}, "n": {"N": "12.50"}, "s": {"S": "ünï\"x"}}),
        json!({"pk": {"S": "a"}, "sk": {"N": "2"}, "m": {"M": {"l": {"L": [{"BOOL": true}, {"NULL": true}, {"B": "AAE="}]}}}, "ss": {"SS": ["x", "y"]}}),
        json!({"pk": {"S": "a"}, "sk": {"N": "3"}, "ns": {"NS": ["1", "1e10"]}, "s": {"S": "plain"}}),
    ];
    for item in items {
        call(&e, Operation::PutItem, json!({"TableName": "tbl", "Item": item}));
    }
    (e, store)
}

/// Every item record rewritten in format 1 (the version byte 1 and no size header).
fn rewrite_as_format_1(store: &LocalStore<MemEngine>) -> usize {
    let records: Vec<_> =
        store.snapshot().scan(KeyRange::prefix(&[0x02]), Direction::Forward).map(|r| r.unwrap()).collect();
    let mut txn = store.begin();
    for (k, v) in &records {
        assert_eq!(v[0], 2, "written in format 2");
        txn.put(k.clone(), [&[1u8][..], &v[5..]].concat());
    }
    txn.commit().unwrap();
    records.len()
}

fn reads(e: &Engine) -> Vec<Value> {
    let mut out = Vec::new();
    for sk in ["1", "2", "3"] {
        out.push(call(
            e,
            Operation::GetItem,
            json!({"TableName": "tbl", "Key": {"pk": {"S": "a"}, "sk": {"N": sk}}, "ReturnConsumedCapacity": "TOTAL"}),
        ));
    }
    out.push(call(
        e,
        Operation::Query,
        json!({"TableName": "tbl", "KeyConditionExpression": "pk = :p", "ExpressionAttributeValues": {":p": {"S": "a"}}, "ReturnConsumedCapacity": "TOTAL"}),
    ));
    out.push(call(
        e,
        Operation::Scan,
        json!({"TableName": "tbl", "FilterExpression": "attribute_exists(s)", "ReturnConsumedCapacity": "TOTAL"}),
    ));
    out
}

fn writes(e: &Engine) -> Vec<Value> {
    let key = |sk: &str| json!({"pk": {"S": "a"}, "sk": {"N": sk}});
    let size = |e: &Engine| {
        let d = call(e, Operation::DescribeTable, json!({"TableName": "tbl"}));
        (d["Table"]["ItemCount"].clone(), d["Table"]["TableSizeBytes"].clone())
    };
    let mut out = vec![json!(size(e))];
    out.push(call(
        e,
        Operation::UpdateItem,
        json!({"TableName": "tbl", "Key": key("1"), "UpdateExpression": "ADD n :one", "ExpressionAttributeValues": {":one": {"N": "1"}}, "ReturnValues": "ALL_OLD", "ReturnConsumedCapacity": "TOTAL"}),
    ));
    out.push(call(
        e,
        Operation::PutItem,
        json!({"TableName": "tbl", "Item": {"pk": {"S": "a"}, "sk": {"N": "2"}}, "ReturnConsumedCapacity": "TOTAL"}),
    ));
    out.push(call(
        e,
        Operation::DeleteItem,
        json!({"TableName": "tbl", "Key": key("3"), "ReturnValues": "ALL_OLD", "ReturnConsumedCapacity": "TOTAL"}),
    ));
    out.push(json!(size(e)));
    out.extend(reads(e));
    out
}

#[test]
fn format_1_records_answer_like_format_2() {
    let (current, _) = engine();
    let (old, store) = engine();
    assert_eq!(rewrite_as_format_1(&store), 3);
    assert_eq!(reads(&old), reads(&current));
    assert_eq!(writes(&old), writes(&current));
}
