//! The direct-parse entry (`Engine::answer_parsed`: the item member read straight from
//! the body text) answers exactly what the Value path (`Engine::answer`) answers, for
//! every operation that has one: two engines given the same requests stay identical.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::sync::Arc;

use serde_json::{json, Value};
use stator_engine::{Engine, EngineConfig, RequestContext};
use stator_protocol::{DynamoError, Obj, Operation};
use stator_storage::local::{LocalStore, SyncPolicy};
use stator_storage::mem::MemEngine;

fn ctx() -> RequestContext {
    RequestContext { account: "000000000000".into(), region: "us-east-1".into(), endpoint: "localhost".into() }
}

fn engine() -> Engine {
    let store = Arc::new(LocalStore::new(MemEngine::new(), SyncPolicy::Never));
    let e = Engine::open(store, EngineConfig::default()).unwrap();
    let create = json!({
        "TableName": "tbl", "BillingMode": "PAY_PER_REQUEST",
        "AttributeDefinitions": [{"AttributeName": "pk", "AttributeType": "S"}, {"AttributeName": "sk", "AttributeType": "N"}],
        "KeySchema": [{"AttributeName": "pk", "KeyType": "HASH"}, {"AttributeName": "sk", "KeyType": "RANGE"}]
    });
    e.execute(&ctx(), Operation::CreateTable, create.as_object().unwrap()).unwrap();
    e
}

fn outcome(r: Result<stator_engine::Answer, DynamoError>) -> Result<String, DynamoError> {
    r.and_then(|a| a.wait()).map(|reply| String::from_utf8(reply.into_bytes()).unwrap())
}

#[test]
fn the_direct_parse_answers_like_the_value_path() {
    let (by_value, direct) = (engine(), engine());
    let requests: Vec<(Operation, Value)> = vec![
        (
            Operation::PutItem,
            json!({"TableName": "tbl", "Item": {"pk": {"S": "a"}, "sk": {"N": "1"}, "n": {"N": "5"}, "s": {"S": "x\"y"}}}),
        ),
        (
            Operation::PutItem,
            json!({"TableName": "tbl", "Item": {"pk": {"S": "a"}, "sk": {"N": "2"}, "m": {"M": {"k": {"L": [{"BOOL": true}, {"NULL": true}]}}}}, "ReturnValues": "ALL_OLD"}),
        ),
        (
            Operation::GetItem,
            json!({"TableName": "tbl", "Key": {"pk": {"S": "a"}, "sk": {"N": "1"}}, "ReturnConsumedCapacity": "TOTAL"}),
        ),
        (
            Operation::GetItem,
            json!({"TableName": "tbl", "Key": {"pk": {"S": "a"}, "sk": {"N": "1.0"}}, "ProjectionExpression": "n"}),
        ),
        (Operation::GetItem, json!({"TableName": "tbl", "Key": {"pk": {"S": "a"}}})),
        (Operation::GetItem, json!({"TableName": "tbl", "Key": {"pk": {"N": "1"}, "sk": {"N": "1"}}})),
        (Operation::GetItem, json!({"TableName": "tbl", "Key": {"pk": {"S": "a"}, "sk": {"N": "1"}, "x": {"S": "y"}}})),
        (Operation::GetItem, json!({"TableName": "tbl", "Key": {}})),
        (Operation::GetItem, json!({"TableName": "missing", "Key": {"pk": {"S": "a"}, "sk": {"N": "1"}}})),
        (
            Operation::UpdateItem,
            json!({"TableName": "tbl", "Key": {"pk": {"S": "a"}, "sk": {"N": "1"}}, "UpdateExpression": "ADD n :one", "ExpressionAttributeValues": {":one": {"N": "1"}}, "ReturnValues": "UPDATED_OLD"}),
        ),
        (
            Operation::UpdateItem,
            json!({"TableName": "tbl", "Key": {"pk": {"S": "b"}, "sk": {"N": "9"}}, "UpdateExpression": "SET s = :s", "ConditionExpression": "attribute_exists(pk)", "ExpressionAttributeValues": {":s": {"S": "v"}}, "ReturnValuesOnConditionCheckFailure": "ALL_OLD"}),
        ),
        (
            Operation::UpdateItem,
            json!({"TableName": "tbl", "Key": {"pk": {"S": "b"}, "sk": {"N": "9"}}, "UpdateExpression": "SET s = :s", "ExpressionAttributeValues": {":s": {"S": "v"}}, "ReturnValues": "ALL_NEW", "ReturnConsumedCapacity": "TOTAL"}),
        ),
        (
            Operation::UpdateItem,
            json!({"TableName": "tbl", "Key": {"pk": {"S": "a"}, "sk": {"N": "1"}}, "UpdateExpression": "SET pk = :s", "ExpressionAttributeValues": {":s": {"S": "v"}}}),
        ),
        (
            Operation::UpdateItem,
            json!({"TableName": "tbl", "Key": {"pk": {"S": "a"}, "sk": {"N": "1"}}, "UpdateExpression": "SET n = :unused + :s", "ExpressionAttributeValues": {":s": {"S": "v"}}}),
        ),
        (
            Operation::DeleteItem,
            json!({"TableName": "tbl", "Key": {"pk": {"S": "a"}, "sk": {"N": "2"}}, "ConditionExpression": "attribute_not_exists(m)", "ReturnValuesOnConditionCheckFailure": "ALL_OLD"}),
        ),
        (
            Operation::DeleteItem,
            json!({"TableName": "tbl", "Key": {"pk": {"S": "a"}, "sk": {"N": "2"}}, "ReturnValues": "ALL_OLD"}),
        ),
        (
            Operation::DeleteItem,
            json!({"TableName": "tbl", "Key": {"pk": {"S": "a"}, "sk": {"N": "2"}}, "ReturnValues": "ALL_NEW"}),
        ),
        (
            Operation::GetItem,
            json!({"TableName": "tbl", "Key": {"pk": {"S": "b"}, "sk": {"N": "9"}}, "ConsistentRead": true}),
        ),
    ];
    let mut direct_used = 0;
    for (op, body) in requests {
        let text = serde_json::to_vec(&body).unwrap();
        let member = Engine::parsed_member(op).unwrap();
        let expected = outcome(by_value.answer(&ctx(), op, &Obj::parse_body(&text).unwrap()));
        let got = match Obj::parse_body_with_item(&text, member) {
            Some((rest, item)) => {
                direct_used += 1;
                outcome(direct.answer_parsed(&ctx(), op, &rest, item))
            }
            None => outcome(direct.answer(&ctx(), op, &Obj::parse_body(&text).unwrap())),
        };
        assert_eq!(got, expected, "{op:?} {body}");
    }
    assert_eq!(direct_used, 18, "every request here is regular and takes the direct path");
}
