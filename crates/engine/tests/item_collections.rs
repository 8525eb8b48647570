//! The item-collection limit of tables with local secondary indexes, with a small
//! limit so that the test does not need 10 GB.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::sync::Arc;

use serde_json::{json, Value};
use stator_engine::{Engine, EngineConfig, RequestContext};
use stator_protocol::{DynamoError, Operation};
use stator_storage::local::{LocalStore, SyncPolicy};
use stator_storage::mem::MemEngine;

fn call(e: &Engine, op: Operation, body: Value) -> Result<Value, DynamoError> {
    let ctx =
        RequestContext { account: "000000000000".into(), region: "us-east-1".into(), endpoint: "localhost".into() };
    e.execute(&ctx, op, body.as_object().unwrap())
}

/// An engine with item collections capped at `limit` bytes and a table `coll` with a
/// local index.
fn engine_with_lsi_table(limit: u64) -> Engine {
    let store = Arc::new(LocalStore::new(MemEngine::new(), SyncPolicy::Never));
    let engine =
        Engine::open(store, EngineConfig { max_item_collection_bytes: limit, ..EngineConfig::default() }).unwrap();
    call(
        &engine,
        Operation::CreateTable,
        json!({
            "TableName": "coll", "BillingMode": "PAY_PER_REQUEST",
            "AttributeDefinitions": [{"AttributeName": "pk", "AttributeType": "S"}, {"AttributeName": "sk", "AttributeType": "N"}, {"AttributeName": "r", "AttributeType": "N"}],
            "KeySchema": [{"AttributeName": "pk", "KeyType": "HASH"}, {"AttributeName": "sk", "KeyType": "RANGE"}],
            "LocalSecondaryIndexes": [{"IndexName": "by_r", "KeySchema": [{"AttributeName": "pk", "KeyType": "HASH"}, {"AttributeName": "r", "KeyType": "RANGE"}], "Projection": {"ProjectionType": "ALL"}}]
        }),
    )
    .unwrap();
    engine
}

#[test]
fn collections_are_capped_and_reported() {
    let engine = engine_with_lsi_table(1000);
    let put = |pk: &str, sk: u32| {
        call(
            &engine,
            Operation::PutItem,
            json!({"TableName": "coll", "Item": {"pk": {"S": pk}, "sk": {"N": sk.to_string()}, "r": {"N": "1"}, "v": {"S": "x".repeat(150)}}, "ReturnItemCollectionMetrics": "SIZE"}),
        )
    };
    // Each item is ~160 bytes, counted twice (table + local index entry).
    let first = put("a", 0).unwrap();
    assert_eq!(
        first["ItemCollectionMetrics"],
        json!({"ItemCollectionKey": {"pk": {"S": "a"}}, "SizeEstimateRangeGB": [0.0, 1.0]})
    );
    put("a", 1).unwrap();
    put("a", 2).unwrap();
    let e = put("a", 3).unwrap_err();
    assert_eq!(e, DynamoError::ItemCollectionSizeLimitExceeded("Collection size exceeded.".into()));
    // Other partitions are separate collections; deleting makes room again.
    put("b", 0).unwrap();
    call(&engine, Operation::DeleteItem, json!({"TableName": "coll", "Key": {"pk": {"S": "a"}, "sk": {"N": "0"}}}))
        .unwrap();
    put("a", 3).unwrap();
}

/// A transaction whose write would take an item collection past the limit is
/// cancelled with an ItemCollectionSizeLimitExceeded reason for that action.
#[test]
fn transactions_report_item_collection_limits() {
    let engine = engine_with_lsi_table(300);
    let put = |pk: &str, sk: u32| json!({"Put": {"TableName": "coll", "Item": {"pk": {"S": pk}, "sk": {"N": sk.to_string()}, "r": {"N": "1"}, "v": {"S": "x".repeat(150)}}}});
    let e = call(&engine, Operation::TransactWriteItems, json!({"TransactItems": [put("b", 0), put("a", 0)]}))
        .map(|_| ())
        .unwrap_err();
    match e {
        DynamoError::TransactionCanceled { reasons, .. } => {
            let codes: Vec<&str> = reasons.iter().map(|r| r.code.as_str()).collect();
            assert_eq!(codes, vec!["ItemCollectionSizeLimitExceeded", "None"]);
        }
        other => panic!("{other:?}"),
    }
    let small = json!({"Put": {"TableName": "coll", "Item": {"pk": {"S": "c"}, "sk": {"N": "0"}, "r": {"N": "1"}}}});
    let ok = call(
        &engine,
        Operation::TransactWriteItems,
        json!({"TransactItems": [small], "ReturnItemCollectionMetrics": "SIZE"}),
    )
    .unwrap();
    assert_eq!(ok["ItemCollectionMetrics"]["coll"][0]["ItemCollectionKey"], json!({"pk": {"S": "c"}}));
}
