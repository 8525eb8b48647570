//! Query through the AWS SDK: key conditions, sort order, filters, Select, Limit,
//! pagination over a 10,000-item partition both ways, the 1 MB page limit and
//! ConsumedCapacity.

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use aws_sdk_dynamodb::types::{AttributeValue, PutRequest, ReturnConsumedCapacity, Select, WriteRequest};
use aws_sdk_dynamodb::Client;
use common::{create_table, err_of, n, s, Server};

/// Loads `count` items `pk = p`, `sk = 0..count`, `v = sk mod 3`, 25 per BatchWriteItem.
async fn load(c: &Client, table: &str, p: &str, count: usize, pad: usize) {
    let pad = "x".repeat(pad);
    for chunk in (0..count).collect::<Vec<_>>().chunks(25) {
        let writes: Vec<WriteRequest> = chunk
            .iter()
            .map(|i| {
                let put = PutRequest::builder()
                    .item("pk", s(p))
                    .item("sk", n(&i.to_string()))
                    .item("v", n(&(i % 3).to_string()))
                    .item("pad", s(&pad))
                    .build()
                    .unwrap();
                WriteRequest::builder().put_request(put).build()
            })
            .collect();
        let out = c.batch_write_item().request_items(table, writes).send().await.unwrap();
        assert!(out.unprocessed_items.unwrap_or_default().is_empty());
    }
}

fn sk_of(item: &std::collections::HashMap<String, AttributeValue>) -> i64 {
    item["sk"].as_n().unwrap().parse().unwrap()
}

#[tokio::test]
async fn key_conditions_select_ranges() {
    let srv = Server::start();
    let c = srv.client();
    create_table(&c, "qtab", true).await;
    load(&c, "qtab", "a", 50, 0).await;
    load(&c, "qtab", "b", 5, 0).await;
    let q = |expr: &str, vals: Vec<(&str, AttributeValue)>| {
        let mut b = c.query().table_name("qtab").key_condition_expression(expr);
        for (k, v) in vals {
            b = b.expression_attribute_values(k, v);
        }
        b
    };
    let count =
        |r: aws_sdk_dynamodb::operation::query::QueryOutput| r.items.unwrap().iter().map(sk_of).collect::<Vec<_>>();
    let all = count(q("pk = :p", vec![(":p", s("a"))]).send().await.unwrap());
    assert_eq!(all, (0..50).collect::<Vec<_>>(), "sorted by the numeric sort key");
    assert_eq!(
        count(q("pk = :p AND sk < :x", vec![(":p", s("a")), (":x", n("3"))]).send().await.unwrap()),
        vec![0, 1, 2]
    );
    assert_eq!(
        count(q("pk = :p AND sk <= :x", vec![(":p", s("a")), (":x", n("2"))]).send().await.unwrap()),
        vec![0, 1, 2]
    );
    assert_eq!(
        count(q("pk = :p AND sk > :x", vec![(":p", s("a")), (":x", n("47"))]).send().await.unwrap()),
        vec![48, 49]
    );
    assert_eq!(
        count(q("pk = :p AND sk >= :x", vec![(":p", s("a")), (":x", n("48"))]).send().await.unwrap()),
        vec![48, 49]
    );
    assert_eq!(count(q("pk = :p AND sk = :x", vec![(":p", s("a")), (":x", n("7"))]).send().await.unwrap()), vec![7]);
    assert_eq!(
        count(
            q("pk = :p AND sk BETWEEN :lo AND :hi", vec![(":p", s("a")), (":lo", n("10")), (":hi", n("12"))])
                .send()
                .await
                .unwrap()
        ),
        vec![10, 11, 12]
    );
    assert_eq!(count(q("pk = :p", vec![(":p", s("zzz"))]).send().await.unwrap()), Vec::<i64>::new());
    let rev = q("pk = :p", vec![(":p", s("b"))]).scan_index_forward(false).send().await.unwrap();
    assert_eq!(count(rev), vec![4, 3, 2, 1, 0]);

    let f = q("pk = :p", vec![(":p", s("a")), (":zero", n("0"))])
        .filter_expression("v = :zero")
        .limit(10)
        .send()
        .await
        .unwrap();
    assert_eq!(f.count, 4, "0, 3, 6, 9 pass the filter among the 10 read");
    assert_eq!(f.scanned_count, 10);
    assert_eq!(f.last_evaluated_key.unwrap()["sk"], n("9"));

    let cnt = q("pk = :p", vec![(":p", s("a"))]).select(Select::Count).send().await.unwrap();
    assert_eq!((cnt.count, cnt.items.is_none()), (50, true));

    let p = q("pk = :p", vec![(":p", s("b"))]).projection_expression("sk").send().await.unwrap();
    assert!(p.items.unwrap().iter().all(|i| i.len() == 1));

    let e = err_of(q("sk = :x", vec![(":x", n("1"))]).send().await.unwrap_err());
    assert_eq!(e.1, "Query condition missed key schema element: pk");
    let e = err_of(q("pk = :p", vec![(":p", n("1"))]).send().await.unwrap_err());
    assert_eq!(e.1, "One or more parameter values were invalid: Condition parameter type does not match schema type");
    let e =
        err_of(q("pk = :p AND begins_with(sk, :x)", vec![(":p", s("a")), (":x", n("1"))]).send().await.unwrap_err());
    assert!(e.1.contains("begins_with"), "{}", e.1);
    let e = err_of(
        q("pk = :p", vec![(":p", s("a")), (":x", n("1"))]).filter_expression("sk = :x").send().await.unwrap_err(),
    );
    assert_eq!(e.1, "Filter Expression can only contain non-primary key attributes: Primary key attribute: sk");
    let e = err_of(c.query().table_name("qtab").send().await.unwrap_err());
    assert_eq!(e.1, "Either the KeyConditions or KeyConditionExpression parameter must be specified in the request.");
}

#[tokio::test]
async fn begins_with_on_string_sort_keys() {
    let srv = Server::start();
    let c = srv.client();
    c.create_table()
        .table_name("bwtab")
        .billing_mode(aws_sdk_dynamodb::types::BillingMode::PayPerRequest)
        .attribute_definitions(
            aws_sdk_dynamodb::types::AttributeDefinition::builder()
                .attribute_name("pk")
                .attribute_type(aws_sdk_dynamodb::types::ScalarAttributeType::S)
                .build()
                .unwrap(),
        )
        .attribute_definitions(
            aws_sdk_dynamodb::types::AttributeDefinition::builder()
                .attribute_name("sk")
                .attribute_type(aws_sdk_dynamodb::types::ScalarAttributeType::S)
                .build()
                .unwrap(),
        )
        .key_schema(
            aws_sdk_dynamodb::types::KeySchemaElement::builder()
                .attribute_name("pk")
                .key_type(aws_sdk_dynamodb::types::KeyType::Hash)
                .build()
                .unwrap(),
        )
        .key_schema(
            aws_sdk_dynamodb::types::KeySchemaElement::builder()
                .attribute_name("sk")
                .key_type(aws_sdk_dynamodb::types::KeyType::Range)
                .build()
                .unwrap(),
        )
        .send()
        .await
        .unwrap();
    for sk in ["TASK#1", "TASK#2", "TASK", "TASL", "PROFILE", "TASK#10\u{0}x"] {
        c.put_item().table_name("bwtab").item("pk", s("u")).item("sk", s(sk)).send().await.unwrap();
    }
    let r = c
        .query()
        .table_name("bwtab")
        .key_condition_expression("pk = :p AND begins_with(sk, :t)")
        .expression_attribute_values(":p", s("u"))
        .expression_attribute_values(":t", s("TASK#"))
        .send()
        .await
        .unwrap();
    let sks: Vec<String> = r.items.unwrap().iter().map(|i| i["sk"].as_s().unwrap().clone()).collect();
    assert_eq!(sks, vec!["TASK#1", "TASK#10\u{0}x", "TASK#2"]);
}

#[tokio::test]
async fn paginates_a_large_partition_both_ways() {
    let srv = Server::start();
    let c = srv.client();
    create_table(&c, "big", true).await;
    load(&c, "big", "p", 10_000, 0).await;
    for forward in [true, false] {
        for filtered in [false, true] {
            let mut seen = Vec::new();
            let mut pages = 0;
            let mut start: Option<std::collections::HashMap<String, AttributeValue>> = None;
            loop {
                let mut b = c
                    .query()
                    .table_name("big")
                    .key_condition_expression("pk = :p")
                    .expression_attribute_values(":p", s("p"))
                    .scan_index_forward(forward)
                    .limit(999)
                    .set_exclusive_start_key(start.take());
                if filtered {
                    b = b.filter_expression("v = :one").expression_attribute_values(":one", n("1"));
                }
                let r = b.send().await.unwrap();
                pages += 1;
                seen.extend(r.items.unwrap().iter().map(sk_of));
                match r.last_evaluated_key {
                    Some(k) => start = Some(k),
                    None => break,
                }
            }
            let mut expected: Vec<i64> = (0..10_000).filter(|i| !filtered || i % 3 == 1).collect();
            if !forward {
                expected.reverse();
            }
            assert_eq!(seen, expected, "forward={forward} filtered={filtered}");
            assert_eq!(pages, 11, "10 full pages of 999 and a last one");
        }
    }
    // The SDK paginator agrees.
    let n_items = c
        .query()
        .table_name("big")
        .key_condition_expression("pk = :p")
        .expression_attribute_values(":p", s("p"))
        .into_paginator()
        .items()
        .send()
        .collect::<Vec<_>>()
        .await
        .len();
    assert_eq!(n_items, 10_000);
}

/// Items of ~100 KB: a page stops once 1 MB has been read, and its read units are the
/// total size read, rounded up to 4 KB units (halved for eventual consistency).
#[tokio::test]
async fn one_megabyte_pages() {
    let srv = Server::start();
    let c = srv.client();
    create_table(&c, "mbtab", true).await;
    load(&c, "mbtab", "p", 25, 100_000).await;
    let r = c
        .query()
        .table_name("mbtab")
        .key_condition_expression("pk = :p")
        .expression_attribute_values(":p", s("p"))
        .return_consumed_capacity(ReturnConsumedCapacity::Total)
        .send()
        .await
        .unwrap();
    // Each item: "pk"+1 + "sk"+2 + "v"+2 + "pad"+100000 = 100,011 bytes (sk < 10: 2 bytes).
    // 10 items = 1,000,110 < 1,048,576; the 11th crosses the limit and ends the page.
    assert_eq!(r.count, 11);
    assert_eq!(r.last_evaluated_key.unwrap()["sk"], n("10"));
    let read: f64 = (10 * 100_011 + 100_012) as f64;
    assert_eq!(r.consumed_capacity.unwrap().capacity_units, Some((read / 4096.0).ceil() / 2.0));
}
