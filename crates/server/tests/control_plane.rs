//! CreateTable, DescribeTable, ListTables, UpdateTable, DeleteTable,
//! DescribeEndpoints and DescribeLimits through the AWS SDK for Rust.

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use aws_sdk_dynamodb::types::{
    AttributeDefinition, BillingMode, KeySchemaElement, KeyType, ProvisionedThroughput, ScalarAttributeType,
    TableStatus,
};
use common::{create_table, err_of, s, Server};

fn def(name: &str, t: ScalarAttributeType) -> AttributeDefinition {
    AttributeDefinition::builder().attribute_name(name).attribute_type(t).build().unwrap()
}

fn key(name: &str, t: KeyType) -> KeySchemaElement {
    KeySchemaElement::builder().attribute_name(name).key_type(t).build().unwrap()
}

fn pt(r: i64, w: i64) -> ProvisionedThroughput {
    ProvisionedThroughput::builder().read_capacity_units(r).write_capacity_units(w).build().unwrap()
}

#[tokio::test]
async fn create_describe_list_delete() {
    let srv = Server::start();
    let c = srv.client();
    let out = c
        .create_table()
        .table_name("orders")
        .attribute_definitions(def("pk", ScalarAttributeType::S))
        .attribute_definitions(def("sk", ScalarAttributeType::N))
        .key_schema(key("pk", KeyType::Hash))
        .key_schema(key("sk", KeyType::Range))
        .provisioned_throughput(pt(5, 7))
        .send()
        .await
        .unwrap();
    let d = out.table_description.unwrap();
    // DynamoDB answers CreateTable with CREATING; the table is ACTIVE afterwards.
    assert_eq!(d.table_status, Some(TableStatus::Creating));
    assert_eq!(d.table_arn.as_deref(), Some("arn:aws:dynamodb:us-east-1:000000000000:table/orders"));
    assert_eq!(d.provisioned_throughput.as_ref().unwrap().read_capacity_units, Some(5));
    assert_eq!(d.provisioned_throughput.as_ref().unwrap().write_capacity_units, Some(7));
    assert!(d.table_id.is_some());
    assert!(d.billing_mode_summary.is_none(), "no BillingModeSummary unless BillingMode was given");

    let t = c.describe_table().table_name("orders").send().await.unwrap().table.unwrap();
    assert_eq!(t.table_status, Some(TableStatus::Active));
    assert_eq!(t.item_count, Some(0));
    assert_eq!(t.table_size_bytes, Some(0));
    assert_eq!(t.key_schema.unwrap().len(), 2);
    assert_eq!(t.deletion_protection_enabled, Some(false));

    // Describe by ARN.
    let t = c.describe_table().table_name("arn:aws:dynamodb:us-east-1:000000000000:table/orders").send().await.unwrap();
    assert_eq!(t.table.unwrap().table_name.as_deref(), Some("orders"));

    let e = err_of(
        c.create_table()
            .table_name("orders")
            .attribute_definitions(def("pk", ScalarAttributeType::S))
            .key_schema(key("pk", KeyType::Hash))
            .provisioned_throughput(pt(1, 1))
            .send()
            .await
            .unwrap_err(),
    );
    assert_eq!(e, ("ResourceInUseException".into(), "Table already exists: orders".into()));

    let names = c.list_tables().send().await.unwrap().table_names.unwrap();
    assert_eq!(names, vec!["orders".to_string()]);

    let d = c.delete_table().table_name("orders").send().await.unwrap().table_description.unwrap();
    assert_eq!(d.table_status, Some(TableStatus::Deleting));
    let e = err_of(c.describe_table().table_name("orders").send().await.unwrap_err());
    assert_eq!(e, ("ResourceNotFoundException".into(), "Requested resource not found: Table: orders not found".into()));
    let e = err_of(c.delete_table().table_name("orders").send().await.unwrap_err());
    assert_eq!(e.0, "ResourceNotFoundException");
}

#[tokio::test]
async fn tables_are_scoped_by_region() {
    let srv = Server::start();
    create_table(&srv.client_in("eu-west-1"), "regional", false).await;
    let here = srv.client_in("eu-west-1").list_tables().send().await.unwrap().table_names.unwrap();
    let there = srv.client_in("us-west-2").list_tables().send().await.unwrap().table_names.unwrap();
    assert_eq!(here, vec!["regional".to_string()]);
    assert!(there.is_empty());
    let d = srv.client_in("eu-west-1").describe_table().table_name("regional").send().await.unwrap();
    assert_eq!(d.table.unwrap().table_arn.as_deref(), Some("arn:aws:dynamodb:eu-west-1:000000000000:table/regional"));
}

#[tokio::test]
async fn list_tables_pages() {
    let srv = Server::start();
    let c = srv.client();
    for name in ["t-c", "t-a", "t-e", "t-b", "t-d"] {
        create_table(&c, name, false).await;
    }
    let p1 = c.list_tables().limit(2).send().await.unwrap();
    assert_eq!(p1.table_names.unwrap(), vec!["t-a", "t-b"]);
    assert_eq!(p1.last_evaluated_table_name.as_deref(), Some("t-b"));
    let p2 = c.list_tables().limit(2).exclusive_start_table_name("t-b").send().await.unwrap();
    assert_eq!(p2.table_names.unwrap(), vec!["t-c", "t-d"]);
    let p3 = c.list_tables().limit(2).exclusive_start_table_name("t-d").send().await.unwrap();
    assert_eq!(p3.table_names.unwrap(), vec!["t-e"]);
    assert_eq!(p3.last_evaluated_table_name, None);
    // The SDK paginator walks all pages.
    let all: Vec<String> =
        c.list_tables().limit(2).into_paginator().items().send().collect::<Result<Vec<_>, _>>().await.unwrap();
    assert_eq!(all.len(), 5);
    let e = err_of(c.list_tables().limit(0).send().await.unwrap_err());
    assert_eq!(e.1, "1 validation error detected: Value '0' at 'limit' failed to satisfy constraint: Member must have value greater than or equal to 1");
}

#[tokio::test]
async fn create_table_validation() {
    let srv = Server::start();
    let c = srv.client();
    let cases: Vec<(aws_sdk_dynamodb::operation::create_table::builders::CreateTableFluentBuilder, &str)> = vec![
        (
            c.create_table().table_name("ab").attribute_definitions(def("pk", ScalarAttributeType::S)).key_schema(key("pk", KeyType::Hash)).billing_mode(BillingMode::PayPerRequest),
            "1 validation error detected: Value 'ab' at 'tableName' failed to satisfy constraint: Member must have length greater than or equal to 3",
        ),
        (
            c.create_table().table_name("good").attribute_definitions(def("pk", ScalarAttributeType::S)).key_schema(key("pk", KeyType::Hash)),
            "One or more parameter values were invalid: ReadCapacityUnits and WriteCapacityUnits must both be specified when BillingMode is PROVISIONED",
        ),
        (
            c.create_table().table_name("good").attribute_definitions(def("pk", ScalarAttributeType::S)).key_schema(key("pk", KeyType::Hash)).billing_mode(BillingMode::PayPerRequest).provisioned_throughput(pt(1, 1)),
            "One or more parameter values were invalid: Neither ReadCapacityUnits nor WriteCapacityUnits can be specified when BillingMode is PAY_PER_REQUEST",
        ),
        (
            c.create_table().table_name("good").attribute_definitions(def("pk", ScalarAttributeType::S)).key_schema(key("pk", KeyType::Range)).billing_mode(BillingMode::PayPerRequest),
            "Invalid KeySchema: The first KeySchemaElement is not a HASH key type",
        ),
        (
            c.create_table().table_name("good").attribute_definitions(def("x", ScalarAttributeType::S)).key_schema(key("pk", KeyType::Hash)).billing_mode(BillingMode::PayPerRequest),
            "One or more parameter values were invalid: Some index key attributes are not defined in AttributeDefinitions. Keys: [pk], AttributeDefinitions: [x]",
        ),
        (
            c.create_table().table_name("good").attribute_definitions(def("pk", ScalarAttributeType::S)).attribute_definitions(def("extra", ScalarAttributeType::S)).key_schema(key("pk", KeyType::Hash)).billing_mode(BillingMode::PayPerRequest),
            "One or more parameter values were invalid: Number of attributes in KeySchema does not exactly match number of attributes defined in AttributeDefinitions",
        ),
        (
            c.create_table().table_name("good").attribute_definitions(def("pk", ScalarAttributeType::S)).key_schema(key("pk", KeyType::Hash)).key_schema(key("pk", KeyType::Range)).billing_mode(BillingMode::PayPerRequest),
            "Invalid KeySchema: Both the Hash Key and the Range Key element in the KeySchema have the same name",
        ),
        (
            c.create_table().table_name("good").attribute_definitions(def("pk", ScalarAttributeType::S)).key_schema(key("pk", KeyType::Hash)).provisioned_throughput(pt(0, 1)),
            "1 validation error detected: Value '0' at 'provisionedThroughput.readCapacityUnits' failed to satisfy constraint: Member must have value greater than or equal to 1",
        ),
    ];
    for (req, msg) in cases {
        let e = err_of(req.send().await.unwrap_err());
        assert_eq!(e, ("ValidationException".to_string(), msg.to_string()));
    }
    assert!(c.list_tables().send().await.unwrap().table_names.unwrap().is_empty());
}

#[tokio::test]
async fn update_table_settings() {
    let srv = Server::start();
    let c = srv.client();
    c.create_table()
        .table_name("prov")
        .attribute_definitions(def("pk", ScalarAttributeType::S))
        .key_schema(key("pk", KeyType::Hash))
        .provisioned_throughput(pt(5, 5))
        .send()
        .await
        .unwrap();
    let e = err_of(c.update_table().table_name("prov").send().await.unwrap_err());
    assert_eq!(e.0, "ValidationException");
    let e = err_of(c.update_table().table_name("prov").provisioned_throughput(pt(5, 5)).send().await.unwrap_err());
    assert!(e.1.starts_with("The provisioned throughput for the table will not change."), "{}", e.1);

    let d = c
        .update_table()
        .table_name("prov")
        .provisioned_throughput(pt(10, 3))
        .send()
        .await
        .unwrap()
        .table_description
        .unwrap();
    assert_eq!(d.table_status, Some(TableStatus::Updating));
    let p = d.provisioned_throughput.unwrap();
    assert_eq!(
        (p.read_capacity_units, p.write_capacity_units, p.number_of_decreases_today),
        (Some(10), Some(3), Some(1))
    );
    assert!(p.last_increase_date_time.is_some() && p.last_decrease_date_time.is_some());

    let d = c
        .update_table()
        .table_name("prov")
        .billing_mode(BillingMode::PayPerRequest)
        .send()
        .await
        .unwrap()
        .table_description
        .unwrap();
    assert_eq!(d.billing_mode_summary.unwrap().billing_mode, Some(BillingMode::PayPerRequest));

    // Deletion protection blocks DeleteTable until it is turned off.
    c.update_table().table_name("prov").deletion_protection_enabled(true).send().await.unwrap();
    let e = err_of(c.delete_table().table_name("prov").send().await.unwrap_err());
    assert_eq!(e.0, "ValidationException");
    assert!(e.1.starts_with("Resource cannot be deleted as it is currently protected against deletion."));
    c.update_table().table_name("prov").deletion_protection_enabled(false).send().await.unwrap();
    c.delete_table().table_name("prov").send().await.unwrap();
}

#[tokio::test]
async fn deleted_table_data_does_not_come_back() {
    let srv = Server::start();
    let c = srv.client();
    create_table(&c, "reborn", false).await;
    c.put_item().table_name("reborn").item("pk", s("a")).send().await.unwrap();
    c.delete_table().table_name("reborn").send().await.unwrap();
    create_table(&c, "reborn", false).await;
    let got = c.get_item().table_name("reborn").key("pk", s("a")).consistent_read(true).send().await.unwrap();
    assert!(got.item.is_none());
    let t = c.describe_table().table_name("reborn").send().await.unwrap().table.unwrap();
    assert_eq!(t.item_count, Some(0));
}

#[tokio::test]
async fn endpoints_and_limits() {
    let srv = Server::start();
    let c = srv.client();
    let l = c.describe_limits().send().await.unwrap();
    assert_eq!(l.table_max_read_capacity_units, Some(40000));
    assert_eq!(l.account_max_write_capacity_units, Some(80000));
    let e = c.describe_endpoints().send().await.unwrap();
    assert_eq!(e.endpoints.len(), 1);
    assert_eq!(e.endpoints[0].cache_period_in_minutes, 1440);
}
