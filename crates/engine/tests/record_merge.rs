//! UpdateItems with no condition and no ReturnValues decode only the attributes they
//! reference and merge the result into the stored record (`stored::pick`,
//! `Update::apply`, `stored::merge`) on tables without indexes or a stream. The same
//! requests on a table with a stream (which takes the whole-item path) answer the
//! same, fail the same, consume the same capacity and leave the same items.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::sync::Arc;

use serde_json::{json, Value};
use stator_engine::{Engine, EngineConfig, RequestContext};
use stator_protocol::{DynamoError, Operation};
use stator_storage::local::{LocalStore, SyncPolicy};
use stator_storage::mem::MemEngine;

fn ctx() -> RequestContext {
    RequestContext { account: "000000000000".into(), region: "us-east-1".into(), endpoint: "localhost".into() }
}

fn engine(stream: bool) -> Engine {
    let store = Arc::new(LocalStore::new(MemEngine::new(), SyncPolicy::Never));
    let e = Engine::open(store, EngineConfig::default()).unwrap();
    let mut create = json!({
        "TableName": "tbl", "BillingMode": "PAY_PER_REQUEST",
        "AttributeDefinitions": [{"AttributeName": "pk", "AttributeType": "S"}],
        "KeySchema": [{"AttributeName": "pk", "KeyType": "HASH"}]
    });
    if stream {
        create["StreamSpecification"] = json!({"StreamEnabled": true, "StreamViewType": "KEYS_ONLY"});
    }
    e.execute(&ctx(), Operation::CreateTable, create.as_object().unwrap()).unwrap();
    e
}

fn run(e: &Engine, op: Operation, body: &Value) -> Result<Value, DynamoError> {
    e.execute(&ctx(), op, body.as_object().unwrap())
}

#[test]
fn whole_attribute_updates_rewrite_the_record_as_decoding_would() {
    let (merging, decoding) = (engine(false), engine(true));
    let big = "x".repeat(300_000);
    let requests = vec![
        (
            Operation::PutItem,
            json!({"TableName": "tbl", "Item": {"pk": {"S": "a"}, "b": {"N": "1"}, "d": {"S": "old"}, "z": {"L": [{"N": "1"}]}}}),
        ),
        (
            Operation::UpdateItem,
            json!({"TableName": "tbl", "Key": {"pk": {"S": "a"}}, "UpdateExpression": "SET c = :v, d = :w REMOVE b", "ExpressionAttributeValues": {":v": {"M": {"k": {"S": "v"}}}, ":w": {"S": "new, longer value"}}, "ReturnConsumedCapacity": "TOTAL"}),
        ),
        (
            Operation::UpdateItem,
            json!({"TableName": "tbl", "Key": {"pk": {"S": "a"}}, "UpdateExpression": "REMOVE nothing, z SET #a = :v", "ExpressionAttributeNames": {"#a": "aa"}, "ExpressionAttributeValues": {":v": {"NS": ["3", "1"]}}, "ReturnConsumedCapacity": "INDEXES"}),
        ),
        // A new item: no record to merge into.
        (
            Operation::UpdateItem,
            json!({"TableName": "tbl", "Key": {"pk": {"S": "new"}}, "UpdateExpression": "SET v = :v", "ExpressionAttributeValues": {":v": {"BOOL": true}}, "ReturnConsumedCapacity": "TOTAL"}),
        ),
        (
            Operation::UpdateItem,
            json!({"TableName": "tbl", "Key": {"pk": {"S": "new"}}, "UpdateExpression": "SET big = :v", "ExpressionAttributeValues": {":v": {"S": big.clone()}}, "ReturnConsumedCapacity": "TOTAL"}),
        ),
        // Past the item size limit: refused, the item unchanged.
        (
            Operation::UpdateItem,
            json!({"TableName": "tbl", "Key": {"pk": {"S": "new"}}, "UpdateExpression": "SET big2 = :v", "ExpressionAttributeValues": {":v": {"S": big}}}),
        ),
        (
            Operation::UpdateItem,
            json!({"TableName": "tbl", "Key": {"pk": {"S": "new"}}, "UpdateExpression": "REMOVE big, v", "ReturnConsumedCapacity": "TOTAL"}),
        ),
        (
            Operation::UpdateItem,
            json!({"TableName": "tbl", "Key": {"pk": {"S": "a"}}, "UpdateExpression": "SET pk = :v", "ExpressionAttributeValues": {":v": {"S": "b"}}}),
        ),
        (
            Operation::UpdateItem,
            json!({"TableName": "tbl", "Key": {"pk": {"S": "n"}}, "UpdateExpression": "SET c = :one, s = :s, l = :l, m = :m", "ExpressionAttributeValues": {":one": {"N": "1"}, ":s": {"SS": ["a", "b"]}, ":l": {"L": [{"N": "1"}]}, ":m": {"M": {"k": {"N": "2"}}}}}),
        ),
        (
            Operation::UpdateItem,
            json!({"TableName": "tbl", "Key": {"pk": {"S": "n"}}, "UpdateExpression": "ADD c :one, d :one DELETE s :a", "ExpressionAttributeValues": {":one": {"N": "1"}, ":a": {"SS": ["a"]}}, "ReturnConsumedCapacity": "TOTAL"}),
        ),
        (
            Operation::UpdateItem,
            json!({"TableName": "tbl", "Key": {"pk": {"S": "n"}}, "UpdateExpression": "SET m.k = m.k + c, l[5] = if_not_exists(q, :one), e = list_append(l, :l) REMOVE m.gone", "ExpressionAttributeValues": {":one": {"N": "1"}, ":l": {"L": [{"S": "x"}]}}}),
        ),
        (
            Operation::UpdateItem,
            json!({"TableName": "tbl", "Key": {"pk": {"S": "n"}}, "UpdateExpression": "DELETE s :b", "ExpressionAttributeValues": {":b": {"SS": ["b"]}}}),
        ),
        // Failures leave the item as it was.
        (
            Operation::UpdateItem,
            json!({"TableName": "tbl", "Key": {"pk": {"S": "n"}}, "UpdateExpression": "SET c = :one ADD e :one", "ExpressionAttributeValues": {":one": {"N": "5"}}}),
        ),
        (
            Operation::UpdateItem,
            json!({"TableName": "tbl", "Key": {"pk": {"S": "n"}}, "UpdateExpression": "SET z = :one, m.a.b = :one", "ExpressionAttributeValues": {":one": {"N": "5"}}}),
        ),
        (
            Operation::UpdateItem,
            json!({"TableName": "tbl", "Key": {"pk": {"S": "n"}}, "UpdateExpression": "SET z = missing + :one", "ExpressionAttributeValues": {":one": {"N": "5"}}}),
        ),
        (Operation::GetItem, json!({"TableName": "tbl", "Key": {"pk": {"S": "n"}}})),
        (Operation::GetItem, json!({"TableName": "tbl", "Key": {"pk": {"S": "a"}}, "ReturnConsumedCapacity": "TOTAL"})),
        (Operation::GetItem, json!({"TableName": "tbl", "Key": {"pk": {"S": "new"}}})),
        (Operation::Scan, json!({"TableName": "tbl", "ReturnConsumedCapacity": "TOTAL"})),
    ];
    for (op, body) in &requests {
        let a = run(&merging, *op, body);
        let b = run(&decoding, *op, body);
        assert_eq!(a, b, "{op:?} {body}");
    }
    let item = run(&merging, Operation::GetItem, &json!({"TableName": "tbl", "Key": {"pk": {"S": "a"}}})).unwrap();
    assert_eq!(
        item["Item"],
        json!({"pk": {"S": "a"}, "aa": {"NS": ["3", "1"]}, "c": {"M": {"k": {"S": "v"}}}, "d": {"S": "new, longer value"}})
    );
    let described: Vec<Value> = [&merging, &decoding]
        .iter()
        .map(|e| {
            run(e, Operation::DescribeTable, &json!({"TableName": "tbl"})).unwrap()["Table"]["TableSizeBytes"].clone()
        })
        .collect();
    assert_eq!(described[0], described[1]);
    let n = run(&merging, Operation::GetItem, &json!({"TableName": "tbl", "Key": {"pk": {"S": "n"}}})).unwrap();
    assert_eq!(
        n["Item"],
        json!({"pk": {"S": "n"}, "c": {"N": "2"}, "d": {"N": "1"}, "m": {"M": {"k": {"N": "4"}}},
               "l": {"L": [{"N": "1"}, {"N": "1"}]}, "e": {"L": [{"N": "1"}, {"S": "x"}]}})
    );
}
