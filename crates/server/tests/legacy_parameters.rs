//! The legacy (pre-expression) parameters through the AWS SDK: Expected,
//! AttributeUpdates, KeyConditions, QueryFilter, ScanFilter, ConditionalOperator and
//! AttributesToGet, and the refusal to mix them with expressions.

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use aws_sdk_dynamodb::types::{
    AttributeAction, AttributeValue, AttributeValueUpdate, ComparisonOperator, Condition, ConditionalOperator,
    ExpectedAttributeValue, ReturnValue,
};
use common::{create_table, err_of, n, s, Server};

fn cond(op: ComparisonOperator, vals: Vec<AttributeValue>) -> Condition {
    Condition::builder().comparison_operator(op).set_attribute_value_list(Some(vals)).build().unwrap()
}

#[tokio::test]
async fn expected_and_attribute_updates() {
    let srv = Server::start();
    let c = srv.client();
    create_table(&c, "legacy-w", false).await;
    let not_there = ExpectedAttributeValue::builder().exists(false).build();
    c.put_item()
        .table_name("legacy-w")
        .item("pk", s("a"))
        .item("n", n("1"))
        .expected("pk", not_there.clone())
        .send()
        .await
        .unwrap();
    let e = c.put_item().table_name("legacy-w").item("pk", s("a")).expected("pk", not_there).send().await.unwrap_err();
    assert!(e.into_service_error().is_conditional_check_failed_exception());

    let r = c
        .update_item()
        .table_name("legacy-w")
        .key("pk", s("a"))
        .attribute_updates("n", AttributeValueUpdate::builder().action(AttributeAction::Add).value(n("5")).build())
        .attribute_updates(
            "tags",
            AttributeValueUpdate::builder()
                .action(AttributeAction::Add)
                .value(AttributeValue::Ss(vec!["x".into(), "y".into()]))
                .build(),
        )
        .attribute_updates("name", AttributeValueUpdate::builder().action(AttributeAction::Put).value(s("Ann")).build())
        .expected("n", ExpectedAttributeValue::builder().value(n("1")).build())
        .return_values(ReturnValue::AllNew)
        .send()
        .await
        .unwrap();
    let a = r.attributes.unwrap();
    assert_eq!(a["n"], n("6"));
    assert_eq!(a["name"], s("Ann"));
    let r = c
        .update_item()
        .table_name("legacy-w")
        .key("pk", s("a"))
        .attribute_updates(
            "tags",
            AttributeValueUpdate::builder()
                .action(AttributeAction::Delete)
                .value(AttributeValue::Ss(vec!["x".into()]))
                .build(),
        )
        .attribute_updates("name", AttributeValueUpdate::builder().action(AttributeAction::Delete).build())
        .expected(
            "n",
            ExpectedAttributeValue::builder()
                .comparison_operator(ComparisonOperator::Gt)
                .attribute_value_list(n("5"))
                .build(),
        )
        .expected("zzz", ExpectedAttributeValue::builder().comparison_operator(ComparisonOperator::Null).build())
        .conditional_operator(ConditionalOperator::And)
        .return_values(ReturnValue::AllNew)
        .send()
        .await
        .unwrap();
    let a = r.attributes.unwrap();
    assert_eq!(a["tags"], AttributeValue::Ss(vec!["y".into()]));
    assert!(!a.contains_key("name"));

    let e = err_of(
        c.put_item()
            .table_name("legacy-w")
            .item("pk", s("b"))
            .expected("pk", ExpectedAttributeValue::builder().exists(false).build())
            .condition_expression("attribute_not_exists(pk)")
            .send()
            .await
            .unwrap_err(),
    );
    assert_eq!(e.1, "Can not use both expression and non-expression parameters in the same request: Non-expression parameters: {Expected} Expression parameters: {ConditionExpression}");
    let e = err_of(
        c.put_item()
            .table_name("legacy-w")
            .item("pk", s("b"))
            .expected(
                "n",
                ExpectedAttributeValue::builder()
                    .comparison_operator(ComparisonOperator::Between)
                    .attribute_value_list(n("1"))
                    .build(),
            )
            .send()
            .await
            .unwrap_err(),
    );
    assert_eq!(
        e.1,
        "One or more parameter values were invalid: Invalid number of argument(s) for the BETWEEN ComparisonOperator"
    );
    let e = err_of(
        c.update_item()
            .table_name("legacy-w")
            .key("pk", s("a"))
            .attribute_updates("pk", AttributeValueUpdate::builder().action(AttributeAction::Put).value(s("z")).build())
            .send()
            .await
            .unwrap_err(),
    );
    assert_eq!(
        e.1,
        "One or more parameter values were invalid: Cannot update attribute pk. This attribute is part of the key"
    );
}

#[tokio::test]
async fn key_conditions_and_filters() {
    let srv = Server::start();
    let c = srv.client();
    create_table(&c, "legacy-r", true).await;
    for i in 0..20 {
        c.put_item()
            .table_name("legacy-r")
            .item("pk", s("p"))
            .item("sk", n(&i.to_string()))
            .item("kind", s(if i % 2 == 0 { "even" } else { "odd" }))
            .item("tags", AttributeValue::Ss(vec![format!("t{}", i % 5)]))
            .send()
            .await
            .unwrap();
    }
    let r = c
        .query()
        .table_name("legacy-r")
        .key_conditions("pk", cond(ComparisonOperator::Eq, vec![s("p")]))
        .key_conditions("sk", cond(ComparisonOperator::Between, vec![n("5"), n("14")]))
        .query_filter("kind", cond(ComparisonOperator::Eq, vec![s("even")]))
        .attributes_to_get("sk")
        .send()
        .await
        .unwrap();
    assert_eq!((r.count, r.scanned_count), (5, 10));
    let sks: Vec<String> = r.items.unwrap().iter().map(|i| i["sk"].as_n().unwrap().clone()).collect();
    assert_eq!(sks, vec!["6", "8", "10", "12", "14"]);

    // Each scan filter operator on the same data.
    let cases: Vec<(&str, Condition, i32)> = vec![
        ("kind", cond(ComparisonOperator::Ne, vec![s("even")]), 10),
        ("sk", cond(ComparisonOperator::Le, vec![n("3")]), 4),
        ("sk", cond(ComparisonOperator::Lt, vec![n("3")]), 3),
        ("sk", cond(ComparisonOperator::Ge, vec![n("18")]), 2),
        ("sk", cond(ComparisonOperator::Gt, vec![n("18")]), 1),
        ("kind", cond(ComparisonOperator::BeginsWith, vec![s("ev")]), 10),
        ("tags", cond(ComparisonOperator::Contains, vec![s("t1")]), 4),
        ("tags", cond(ComparisonOperator::NotContains, vec![s("t1")]), 16),
        ("sk", cond(ComparisonOperator::In, vec![n("1"), n("2"), n("99")]), 2),
        ("sk", cond(ComparisonOperator::Between, vec![n("1"), n("2")]), 2),
        ("missing", cond(ComparisonOperator::Null, vec![]), 20),
        ("missing", cond(ComparisonOperator::NotNull, vec![]), 0),
    ];
    for (attr, cnd, expected) in cases {
        let r = c.scan().table_name("legacy-r").scan_filter(attr, cnd.clone()).send().await.unwrap();
        assert_eq!(r.count, expected, "{attr} {:?}", cnd.comparison_operator);
    }
    let r = c
        .scan()
        .table_name("legacy-r")
        .scan_filter("sk", cond(ComparisonOperator::Lt, vec![n("2")]))
        .scan_filter("kind", cond(ComparisonOperator::Eq, vec![s("odd")]))
        .conditional_operator(ConditionalOperator::Or)
        .send()
        .await
        .unwrap();
    assert_eq!(r.count, 11);
    let e = err_of(
        c.scan()
            .table_name("legacy-r")
            .scan_filter("sk", cond(ComparisonOperator::Lt, vec![n("2")]))
            .filter_expression("sk < :x")
            .expression_attribute_values(":x", n("1"))
            .send()
            .await
            .unwrap_err(),
    );
    assert_eq!(e.1, "Can not use both expression and non-expression parameters in the same request: Non-expression parameters: {ScanFilter} Expression parameters: {FilterExpression}");
    let g = c
        .get_item()
        .table_name("legacy-r")
        .key("pk", s("p"))
        .key("sk", n("1"))
        .attributes_to_get("kind")
        .send()
        .await
        .unwrap();
    assert_eq!(g.item.unwrap(), [("kind".to_string(), s("odd"))].into());
}
