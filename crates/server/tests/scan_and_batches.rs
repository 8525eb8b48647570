//! Scan (paging, filters, parallel segments), BatchGetItem and BatchWriteItem through
//! the AWS SDK.

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use std::collections::{HashMap, HashSet};

use aws_sdk_dynamodb::types::{
    AttributeValue, DeleteRequest, KeysAndAttributes, PutRequest, ReturnConsumedCapacity, Select, WriteRequest,
};
use aws_sdk_dynamodb::Client;
use common::{create_table, err_of, n, s, Server};

fn put(pk: &str, v: i64) -> WriteRequest {
    WriteRequest::builder()
        .put_request(PutRequest::builder().item("pk", s(pk)).item("v", n(&v.to_string())).build().unwrap())
        .build()
}

async fn load(c: &Client, table: &str, count: i64) {
    for chunk in (0..count).collect::<Vec<_>>().chunks(25) {
        let w: Vec<WriteRequest> = chunk.iter().map(|i| put(&format!("k{i:05}"), *i)).collect();
        c.batch_write_item().request_items(table, w).send().await.unwrap();
    }
}

fn keys_of(items: &[HashMap<String, AttributeValue>]) -> Vec<String> {
    items.iter().map(|i| i["pk"].as_s().unwrap().clone()).collect()
}

#[tokio::test]
async fn scan_pages_cover_the_table_once() {
    let srv = Server::start();
    let c = srv.client();
    create_table(&c, "scanned", false).await;
    load(&c, "scanned", 1000).await;
    let mut seen = Vec::new();
    let mut start = None;
    loop {
        let r = c.scan().table_name("scanned").limit(77).set_exclusive_start_key(start.take()).send().await.unwrap();
        seen.extend(keys_of(&r.items.unwrap()));
        match r.last_evaluated_key {
            Some(k) => start = Some(k),
            None => break,
        }
    }
    assert_eq!(seen.len(), 1000);
    assert_eq!(seen.iter().collect::<HashSet<_>>().len(), 1000);

    let f = c
        .scan()
        .table_name("scanned")
        .filter_expression("v < :x")
        .expression_attribute_values(":x", n("10"))
        .select(Select::Count)
        .return_consumed_capacity(ReturnConsumedCapacity::Total)
        .send()
        .await
        .unwrap();
    assert_eq!((f.count, f.scanned_count), (10, 1000));
    assert!(f.consumed_capacity.unwrap().capacity_units.unwrap() > 0.0);
}

/// A parallel scan with 4 segments: segments are disjoint and their union is exactly
/// the table, with each segment paged.
#[tokio::test]
async fn parallel_scan_segments() {
    let srv = Server::start();
    let c = srv.client();
    create_table(&c, "parallel", false).await;
    load(&c, "parallel", 2000).await;
    let mut all = Vec::new();
    for seg in 0..4 {
        let mut start = None;
        let mut mine = 0;
        loop {
            let r = c
                .scan()
                .table_name("parallel")
                .segment(seg)
                .total_segments(4)
                .limit(100)
                .set_exclusive_start_key(start.take())
                .send()
                .await
                .unwrap();
            let k = keys_of(&r.items.unwrap());
            mine += k.len();
            all.extend(k);
            match r.last_evaluated_key {
                Some(k) => start = Some(k),
                None => break,
            }
        }
        assert!(mine > 300 && mine < 700, "segment {seg} holds {mine} of 2000: the hash spreads keys");
    }
    assert_eq!(all.len(), 2000);
    assert_eq!(all.iter().collect::<HashSet<_>>().len(), 2000);
    let e = err_of(c.scan().table_name("parallel").segment(4).total_segments(4).send().await.unwrap_err());
    assert_eq!(e.1, "The Segment parameter is zero-based and must be less than parameter TotalSegments: Segment: 4 is not less than TotalSegments: 4");
    let e = err_of(c.scan().table_name("parallel").segment(1).send().await.unwrap_err());
    assert_eq!(
        e.1,
        "The TotalSegments parameter is required but was not present in the request when Segment parameter is present"
    );
}

#[tokio::test]
async fn batch_get_and_write() {
    let srv = Server::start();
    let c = srv.client();
    create_table(&c, "batch-a", false).await;
    create_table(&c, "batch-b", false).await;
    let w = c
        .batch_write_item()
        .request_items("batch-a", vec![put("a1", 1), put("a2", 2), put("a3", 3)])
        .request_items("batch-b", vec![put("b1", 10)])
        .return_consumed_capacity(ReturnConsumedCapacity::Total)
        .send()
        .await
        .unwrap();
    assert!(w.unprocessed_items.unwrap().is_empty());
    let caps = w.consumed_capacity.unwrap();
    assert_eq!(caps.len(), 2);
    let del =
        WriteRequest::builder().delete_request(DeleteRequest::builder().key("pk", s("a3")).build().unwrap()).build();
    c.batch_write_item().request_items("batch-a", vec![del]).send().await.unwrap();

    let keys = |ks: &[&str]| {
        let mut b = KeysAndAttributes::builder();
        for k in ks {
            b = b.keys([("pk".to_string(), s(k))].into());
        }
        b
    };
    let g = c
        .batch_get_item()
        .request_items("batch-a", keys(&["a1", "a2", "a3"]).projection_expression("v").build().unwrap())
        .request_items("batch-b", keys(&["b1", "nope"]).consistent_read(true).build().unwrap())
        .return_consumed_capacity(ReturnConsumedCapacity::Total)
        .send()
        .await
        .unwrap();
    let resp = g.responses.unwrap();
    let mut a: Vec<String> = resp["batch-a"].iter().map(|i| i["v"].as_n().unwrap().clone()).collect();
    a.sort();
    assert_eq!(a, vec!["1", "2"]);
    assert!(resp["batch-a"].iter().all(|i| i.len() == 1), "projection applied");
    assert_eq!(resp["batch-b"].len(), 1);
    assert!(g.unprocessed_keys.unwrap().is_empty());
    let caps: HashMap<String, f64> =
        g.consumed_capacity.unwrap().into_iter().map(|c| (c.table_name.unwrap(), c.capacity_units.unwrap())).collect();
    assert_eq!(caps["batch-a"], 1.5, "three eventually consistent reads");
    assert_eq!(caps["batch-b"], 2.0, "two consistent reads");

    let e =
        err_of(c.batch_write_item().request_items("batch-a", vec![put("x", 1), put("x", 2)]).send().await.unwrap_err());
    assert_eq!(e.1, "Provided list of item keys contains duplicates");
    let e = err_of(
        c.batch_get_item().request_items("batch-a", keys(&["a1", "a1"]).build().unwrap()).send().await.unwrap_err(),
    );
    assert_eq!(e.1, "Provided list of item keys contains duplicates");
    let many: Vec<WriteRequest> = (0..26).map(|i| put(&format!("m{i}"), i)).collect();
    let e = err_of(c.batch_write_item().request_items("batch-a", many).send().await.unwrap_err());
    assert_eq!(e.0, "ValidationException");
    let e = err_of(c.batch_write_item().request_items("missing-table", vec![put("x", 1)]).send().await.unwrap_err());
    assert_eq!(e.0, "ResourceNotFoundException");
    let mut b = KeysAndAttributes::builder();
    for i in 0..101 {
        b = b.keys([("pk".to_string(), s(&format!("k{i}")))].into());
    }
    let e = err_of(c.batch_get_item().request_items("batch-a", b.build().unwrap()).send().await.unwrap_err());
    assert_eq!(e.0, "ValidationException");
}
