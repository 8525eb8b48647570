//! PutItem, GetItem, UpdateItem and DeleteItem through the AWS SDK for Rust: happy
//! paths, every ReturnValues mode, ConsumedCapacity figures and validation errors.

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use std::collections::HashMap;

use aws_sdk_dynamodb::types::{
    AttributeValue, ReturnConsumedCapacity, ReturnValue, ReturnValuesOnConditionCheckFailure,
};
use common::{create_table, err_of, n, s, Server};

#[tokio::test]
async fn put_get_delete_round_trip() {
    let srv = Server::start();
    let c = srv.client();
    create_table(&c, "items", true).await;
    let item: HashMap<String, AttributeValue> = [
        ("pk", s("p1")),
        ("sk", n("1")),
        ("str", s("")),
        ("num", n("-0012.500")),
        ("bin", AttributeValue::B(vec![0, 1, 2].into())),
        ("bool", AttributeValue::Bool(true)),
        ("null", AttributeValue::Null(true)),
        ("list", AttributeValue::L(vec![s("x"), n("2")])),
        ("map", AttributeValue::M([("deep".to_string(), s("v"))].into())),
        ("ss", AttributeValue::Ss(vec!["a".into(), "b".into()])),
        ("ns", AttributeValue::Ns(vec!["1".into(), "2.0".into()])),
        ("bs", AttributeValue::Bs(vec![vec![1u8].into()])),
    ]
    .into_iter()
    .map(|(k, v)| (k.to_string(), v))
    .collect();
    c.put_item().table_name("items").set_item(Some(item)).send().await.unwrap();
    let got = c.get_item().table_name("items").key("pk", s("p1")).key("sk", n("1")).send().await.unwrap().item.unwrap();
    assert_eq!(got["num"], n("-12.5"), "numbers come back normalized");
    assert_eq!(got["str"], s(""));
    assert_eq!(got["null"], AttributeValue::Null(true));
    assert_eq!(got["ns"], AttributeValue::Ns(vec!["1".into(), "2".into()]));
    assert_eq!(got.len(), 12);

    let p = c
        .get_item()
        .table_name("items")
        .key("pk", s("p1"))
        .key("sk", n("1"))
        .projection_expression("#m.deep, #l[1], #n")
        .expression_attribute_names("#m", "map")
        .expression_attribute_names("#l", "list")
        .expression_attribute_names("#n", "num")
        .send()
        .await
        .unwrap()
        .item
        .unwrap();
    assert_eq!(p.len(), 3);
    assert_eq!(p["map"], AttributeValue::M([("deep".to_string(), s("v"))].into()));
    assert_eq!(p["list"], AttributeValue::L(vec![n("2")]));

    let old = c
        .delete_item()
        .table_name("items")
        .key("pk", s("p1"))
        .key("sk", n("1"))
        .return_values(ReturnValue::AllOld)
        .send()
        .await
        .unwrap()
        .attributes
        .unwrap();
    assert_eq!(old["pk"], s("p1"));
    let gone = c.get_item().table_name("items").key("pk", s("p1")).key("sk", n("1")).send().await.unwrap();
    assert!(gone.item.is_none());
    // Deleting a missing item succeeds and returns nothing.
    let again = c
        .delete_item()
        .table_name("items")
        .key("pk", s("p1"))
        .key("sk", n("1"))
        .return_values(ReturnValue::AllOld)
        .send()
        .await
        .unwrap();
    assert!(again.attributes.is_none());
}

#[tokio::test]
async fn put_return_values_and_conditions() {
    let srv = Server::start();
    let c = srv.client();
    create_table(&c, "cond", false).await;
    let r = c
        .put_item()
        .table_name("cond")
        .item("pk", s("k"))
        .item("v", n("1"))
        .return_values(ReturnValue::AllOld)
        .send()
        .await
        .unwrap();
    assert!(r.attributes.is_none(), "no old item, no Attributes");
    let r = c
        .put_item()
        .table_name("cond")
        .item("pk", s("k"))
        .item("v", n("2"))
        .return_values(ReturnValue::AllOld)
        .send()
        .await
        .unwrap();
    assert_eq!(r.attributes.unwrap()["v"], n("1"));

    let e = c
        .put_item()
        .table_name("cond")
        .item("pk", s("k"))
        .condition_expression("attribute_not_exists(pk)")
        .return_values_on_condition_check_failure(ReturnValuesOnConditionCheckFailure::AllOld)
        .send()
        .await
        .unwrap_err();
    let se = e.into_service_error();
    match &se {
        aws_sdk_dynamodb::operation::put_item::PutItemError::ConditionalCheckFailedException(x) => {
            assert_eq!(x.message(), Some("The conditional request failed"));
            assert_eq!(x.item().unwrap()["v"], n("2"), "ALL_OLD on failure returns the item");
        }
        other => panic!("{other:?}"),
    }
    c.put_item()
        .table_name("cond")
        .item("pk", s("k"))
        .item("v", n("3"))
        .condition_expression("v = :two AND attribute_exists(pk)")
        .expression_attribute_values(":two", n("2"))
        .send()
        .await
        .unwrap();

    let e = err_of(
        c.put_item().table_name("cond").item("pk", s("k")).return_values(ReturnValue::AllNew).send().await.unwrap_err(),
    );
    assert_eq!(e, ("ValidationException".into(), "ReturnValues can only be ALL_OLD or NONE".into()));
}

#[tokio::test]
async fn update_expressions_and_return_values() {
    let srv = Server::start();
    let c = srv.client();
    create_table(&c, "upd", false).await;
    // UpdateItem creates the item when it is missing.
    let r = c
        .update_item()
        .table_name("upd")
        .key("pk", s("u"))
        .update_expression("SET a = :a, #l = :l, m = :m ADD cnt :one, tags :t")
        .expression_attribute_names("#l", "list")
        .expression_attribute_values(":a", s("x"))
        .expression_attribute_values(":l", AttributeValue::L(vec![n("1")]))
        .expression_attribute_values(":m", AttributeValue::M([("deep".to_string(), n("5"))].into()))
        .expression_attribute_values(":one", n("1"))
        .expression_attribute_values(":t", AttributeValue::Ss(vec!["red".into()]))
        .return_values(ReturnValue::AllNew)
        .send()
        .await
        .unwrap();
    let a = r.attributes.unwrap();
    assert_eq!(a["pk"], s("u"));
    assert_eq!(a["cnt"], n("1"));
    assert_eq!(a.len(), 6);

    let r = c
        .update_item()
        .table_name("upd")
        .key("pk", s("u"))
        .update_expression(
            "SET #l = list_append(#l, :more), m.deep = m.deep + :one, b = if_not_exists(b, :a) REMOVE a DELETE tags :t",
        )
        .expression_attribute_names("#l", "list")
        .expression_attribute_values(":more", AttributeValue::L(vec![n("2")]))
        .expression_attribute_values(":one", n("1"))
        .expression_attribute_values(":a", s("x"))
        .expression_attribute_values(":t", AttributeValue::Ss(vec!["red".into()]))
        .return_values(ReturnValue::UpdatedNew)
        .send()
        .await
        .unwrap();
    let a = r.attributes.unwrap();
    assert_eq!(a["list"], AttributeValue::L(vec![n("1"), n("2")]));
    assert_eq!(a["m"], AttributeValue::M([("deep".to_string(), n("6"))].into()));
    assert_eq!(a["b"], s("x"));
    assert!(!a.contains_key("a") && !a.contains_key("tags"), "removed attributes are not in UPDATED_NEW");

    let r = c
        .update_item()
        .table_name("upd")
        .key("pk", s("u"))
        .update_expression("SET b = :b")
        .expression_attribute_values(":b", s("y"))
        .return_values(ReturnValue::UpdatedOld)
        .send()
        .await
        .unwrap();
    assert_eq!(r.attributes.unwrap(), [("b".to_string(), s("x"))].into());
    let r = c
        .update_item()
        .table_name("upd")
        .key("pk", s("u"))
        .update_expression("SET b = :b")
        .expression_attribute_values(":b", s("z"))
        .return_values(ReturnValue::AllOld)
        .send()
        .await
        .unwrap();
    assert_eq!(r.attributes.unwrap()["b"], s("y"));

    let e = err_of(
        c.update_item()
            .table_name("upd")
            .key("pk", s("u"))
            .update_expression("SET pk = :b")
            .expression_attribute_values(":b", s("z"))
            .send()
            .await
            .unwrap_err(),
    );
    assert_eq!(
        e.1,
        "One or more parameter values were invalid: Cannot update attribute pk. This attribute is part of the key"
    );
    let e = err_of(
        c.update_item()
            .table_name("upd")
            .key("pk", s("u"))
            .update_expression("SET b = :b")
            .expression_attribute_values(":b", s("z"))
            .expression_attribute_values(":unused", s("z"))
            .send()
            .await
            .unwrap_err(),
    );
    assert_eq!(e.1, "Value provided in ExpressionAttributeValues unused in expressions: keys: {:unused}");
    let e = err_of(
        c.update_item()
            .table_name("upd")
            .key("pk", s("u"))
            .update_expression("SET b = b + :one")
            .expression_attribute_values(":one", n("1"))
            .send()
            .await
            .unwrap_err(),
    );
    assert_eq!(
        e,
        ("ValidationException".into(), "An operand in the update expression has an incorrect data type".into())
    );
    let e = err_of(
        c.update_item()
            .table_name("upd")
            .key("pk", s("u"))
            .update_expression("SET status = :one")
            .expression_attribute_values(":one", n("1"))
            .send()
            .await
            .unwrap_err(),
    );
    assert_eq!(e.1, "Invalid UpdateExpression: Attribute name is a reserved keyword; reserved keyword: status");
}

#[tokio::test]
async fn consumed_capacity_arithmetic() {
    let srv = Server::start();
    let c = srv.client();
    create_table(&c, "cap", false).await;
    // 2,000 bytes of value + name and key: 2 write units; 1 read unit strongly consistent.
    let big = "x".repeat(2000);
    let r = c
        .put_item()
        .table_name("cap")
        .item("pk", s("k"))
        .item("v", s(&big))
        .return_consumed_capacity(ReturnConsumedCapacity::Total)
        .send()
        .await
        .unwrap();
    let cc = r.consumed_capacity.unwrap();
    assert_eq!(cc.table_name.as_deref(), Some("cap"));
    assert_eq!(cc.capacity_units, Some(2.0));
    let r = c
        .get_item()
        .table_name("cap")
        .key("pk", s("k"))
        .return_consumed_capacity(ReturnConsumedCapacity::Total)
        .send()
        .await
        .unwrap();
    assert_eq!(r.consumed_capacity.unwrap().capacity_units, Some(0.5));
    let r = c
        .get_item()
        .table_name("cap")
        .key("pk", s("k"))
        .consistent_read(true)
        .return_consumed_capacity(ReturnConsumedCapacity::Indexes)
        .send()
        .await
        .unwrap();
    let cc = r.consumed_capacity.unwrap();
    assert_eq!(cc.capacity_units, Some(1.0));
    assert_eq!(cc.table.unwrap().capacity_units, Some(1.0));
    // A missing item still costs the minimum.
    let r = c
        .get_item()
        .table_name("cap")
        .key("pk", s("none"))
        .return_consumed_capacity(ReturnConsumedCapacity::Total)
        .send()
        .await
        .unwrap();
    assert_eq!(r.consumed_capacity.unwrap().capacity_units, Some(0.5));
    // An update is billed on the larger of the old and new item.
    let r = c
        .update_item()
        .table_name("cap")
        .key("pk", s("k"))
        .update_expression("REMOVE v")
        .return_consumed_capacity(ReturnConsumedCapacity::Total)
        .send()
        .await
        .unwrap();
    assert_eq!(r.consumed_capacity.unwrap().capacity_units, Some(2.0));
    let r = c
        .delete_item()
        .table_name("cap")
        .key("pk", s("k"))
        .return_consumed_capacity(ReturnConsumedCapacity::Total)
        .send()
        .await
        .unwrap();
    assert_eq!(r.consumed_capacity.unwrap().capacity_units, Some(1.0));
    let r = c.put_item().table_name("cap").item("pk", s("k")).send().await.unwrap();
    assert!(r.consumed_capacity.is_none(), "not returned unless asked");
}

#[tokio::test]
async fn key_and_item_validation() {
    let srv = Server::start();
    let c = srv.client();
    create_table(&c, "keys", true).await;
    let cases = vec![
        (c.put_item().table_name("keys").item("pk", s("a")), "One or more parameter values were invalid: Missing the key sk in the item"),
        (c.put_item().table_name("keys").item("pk", s("a")).item("sk", s("1")), "One or more parameter values were invalid: Type mismatch for key sk expected: N actual: S"),
        (
            c.put_item().table_name("keys").item("pk", s("")).item("sk", n("1")),
            "One or more parameter values are not valid. The AttributeValue for a key attribute cannot contain an empty string value. Key: pk",
        ),
        (
            c.put_item().table_name("keys").item("pk", s(&"k".repeat(2049))).item("sk", n("1")),
            "One or more parameter values were invalid: Size of hashkey has exceeded the maximum size limit of2048 bytes",
        ),
        (
            c.put_item().table_name("keys").item("pk", s("a")).item("sk", n("1")).item("big", s(&"x".repeat(400 * 1024))),
            "Item size has exceeded the maximum allowed size",
        ),
        (c.put_item().table_name("keys").item("pk", s("a")).item("sk", n("1")).item("e", AttributeValue::Ss(vec![])), "One or more parameter values were invalid: An string set  may not be empty"),
        (c.put_item().table_name("keys").item("pk", s("a")).item("sk", n("1x")), "A value provided cannot be converted into a number"),
        (
            c.put_item().table_name("keys").item("pk", s("a")).item("sk", n("1")).item("d", AttributeValue::Ss(vec!["a".into(), "a".into()])),
            "One or more parameter values were invalid: Input collection [a, a] contains duplicates.",
        ),
    ];
    for (req, msg) in cases {
        assert_eq!(err_of(req.send().await.unwrap_err()), ("ValidationException".to_string(), msg.to_string()));
    }
    let e = err_of(c.get_item().table_name("keys").key("pk", s("a")).send().await.unwrap_err());
    assert_eq!(e.1, "The provided key element does not match the schema");
    let e = err_of(
        c.get_item().table_name("keys").key("pk", s("a")).key("sk", n("1")).key("x", n("1")).send().await.unwrap_err(),
    );
    assert_eq!(e.1, "The provided key element does not match the schema");
    let e = err_of(c.get_item().table_name("missing").key("pk", s("a")).send().await.unwrap_err());
    assert_eq!(e, ("ResourceNotFoundException".into(), "Requested resource not found".into()));
    // An item of exactly 400 KB is accepted (name and key included).
    let fill = 400 * 1024 - "pk".len() - 1 - "sk".len() - 2 - "big".len();
    c.put_item()
        .table_name("keys")
        .item("pk", s("a"))
        .item("sk", n("1"))
        .item("big", s(&"x".repeat(fill)))
        .send()
        .await
        .unwrap();
    let t = c.describe_table().table_name("keys").send().await.unwrap().table.unwrap();
    assert_eq!(t.item_count, Some(1));
    assert_eq!(t.table_size_bytes, Some(400 * 1024));
}

#[tokio::test]
async fn expression_errors() {
    let srv = Server::start();
    let c = srv.client();
    create_table(&c, "exprs", false).await;
    let e = err_of(
        c.put_item().table_name("exprs").item("pk", s("a")).condition_expression("a = ").send().await.unwrap_err(),
    );
    assert!(e.1.starts_with("Invalid ConditionExpression: Syntax error;"), "{}", e.1);
    let e = err_of(
        c.put_item()
            .table_name("exprs")
            .item("pk", s("a"))
            .condition_expression("a = :missing")
            .send()
            .await
            .unwrap_err(),
    );
    assert_eq!(e.1, "Invalid ConditionExpression: An expression attribute value used in expression is not defined; attribute value: :missing");
    let e = err_of(
        c.put_item()
            .table_name("exprs")
            .item("pk", s("a"))
            .expression_attribute_values(":v", s("x"))
            .send()
            .await
            .unwrap_err(),
    );
    assert_eq!(e.1, "ExpressionAttributeValues can only be specified when using expressions");
    let e = err_of(
        c.get_item().table_name("exprs").key("pk", s("a")).projection_expression("a, a").send().await.unwrap_err(),
    );
    assert!(e.1.starts_with("Invalid ProjectionExpression: Two document paths overlap with each other"), "{}", e.1);
}
