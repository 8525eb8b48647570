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
        let expected = outcome(by_value.answer(&ctx(), op, &Obj::parse_body(&text).unwrap()));
        let got = match Engine::parse_member(op, &text) {
            Some((rest, member)) => {
                direct_used += 1;
                outcome(direct.answer_parsed(&ctx(), op, &rest, member))
            }
            None => outcome(direct.answer(&ctx(), op, &Obj::parse_body(&text).unwrap())),
        };
        assert_eq!(got, expected, "{op:?} {body}");
    }
    assert_eq!(direct_used, 18, "every request here is regular and takes the direct path");
}

/// A table with a global index (projecting everything) and a stream: a put read
/// straight from the text decodes its whole record for them, so the index and the
/// stream's images hold every attribute, as on the Value path.
#[test]
fn a_put_read_from_the_text_feeds_indexes_and_streams_like_the_value_path() {
    let create = json!({
        "TableName": "idx", "BillingMode": "PAY_PER_REQUEST",
        "AttributeDefinitions": [{"AttributeName": "pk", "AttributeType": "S"}, {"AttributeName": "g", "AttributeType": "S"}],
        "KeySchema": [{"AttributeName": "pk", "KeyType": "HASH"}],
        "GlobalSecondaryIndexes": [{"IndexName": "by_g", "KeySchema": [{"AttributeName": "g", "KeyType": "HASH"}], "Projection": {"ProjectionType": "ALL"}}],
        "StreamSpecification": {"StreamEnabled": true, "StreamViewType": "NEW_AND_OLD_IMAGES"}
    });
    let (by_value, direct) = (engine(), engine());
    for e in [&by_value, &direct] {
        e.execute(&ctx(), Operation::CreateTable, create.as_object().unwrap()).unwrap();
    }
    let puts = [
        json!({"TableName": "idx", "Item": {"pk": {"S": "a"}, "g": {"S": "x"}, "n": {"N": "1"}, "m": {"M": {"z": {"S": "1"}, "a": {"L": []}}}}}),
        json!({"TableName": "idx", "Item": {"g": {"S": "x"}, "pk": {"S": "a"}, "n": {"N": "2"}}, "ReturnValues": "ALL_OLD"}),
        json!({"TableName": "idx", "Item": {"pk": {"S": "b"}, "g": {"S": "x"}, "s": {"S": "t"}}}),
        json!({"TableName": "idx", "Item": {"pk": {"S": "c"}, "g": {"N": "1"}}}),
    ];
    for body in puts {
        let text = serde_json::to_vec(&body).unwrap();
        let expected = outcome(by_value.answer(&ctx(), Operation::PutItem, &Obj::parse_body(&text).unwrap()));
        let (rest, member) = Engine::parse_member(Operation::PutItem, &text).expect("a regular item");
        let got = outcome(direct.answer_parsed(&ctx(), Operation::PutItem, &rest, member));
        assert_eq!(got, expected, "{body}");
    }
    let query = json!({"TableName": "idx", "IndexName": "by_g", "KeyConditionExpression": "g = :g", "ExpressionAttributeValues": {":g": {"S": "x"}}});
    let answers: Vec<Value> = [&by_value, &direct]
        .iter()
        .map(|e| e.execute(&ctx(), Operation::Query, query.as_object().unwrap()).unwrap())
        .collect();
    assert_eq!(answers[0], answers[1]);
    assert_eq!(answers[1]["Count"], 2);
    let a = answers[1]["Items"].as_array().unwrap().iter().find(|i| i["pk"] == json!({"S": "a"})).unwrap();
    assert_eq!(a["n"], json!({"N": "2"}));
    // The stream's images: every attribute, old and new.
    let images: Vec<Vec<Value>> = [&by_value, &direct]
        .iter()
        .map(|e| {
            let streams =
                e.execute(&ctx(), Operation::ListStreams, json!({"TableName": "idx"}).as_object().unwrap()).unwrap();
            let arn = streams["Streams"][0]["StreamArn"].clone();
            let described =
                e.execute(&ctx(), Operation::DescribeStream, json!({ "StreamArn": arn }).as_object().unwrap()).unwrap();
            let shard = described["StreamDescription"]["Shards"][0]["ShardId"].clone();
            let it = e
                .execute(
                    &ctx(),
                    Operation::GetShardIterator,
                    json!({"StreamArn": arn, "ShardId": shard, "ShardIteratorType": "TRIM_HORIZON"})
                        .as_object()
                        .unwrap(),
                )
                .unwrap();
            let records = e
                .execute(
                    &ctx(),
                    Operation::GetRecords,
                    json!({"ShardIterator": it["ShardIterator"]}).as_object().unwrap(),
                )
                .unwrap();
            records["Records"]
                .as_array()
                .unwrap()
                .iter()
                .map(|r| {
                    json!([
                        r["eventName"],
                        r["dynamodb"]["Keys"],
                        r["dynamodb"]["OldImage"],
                        r["dynamodb"]["NewImage"],
                        r["dynamodb"]["SizeBytes"]
                    ])
                })
                .collect()
        })
        .collect();
    assert_eq!(images[0], images[1]);
    assert_eq!(images[1].len(), 3, "three puts succeeded: {:?}", images[1]);
    assert_eq!(images[1][0][3]["m"], json!({"M": {"a": {"L": []}, "z": {"S": "1"}}}));
    assert_eq!(images[1][1][2]["m"], json!({"M": {"a": {"L": []}, "z": {"S": "1"}}}));
}
