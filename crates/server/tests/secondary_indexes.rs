//! Local and global secondary indexes through the AWS SDK: projections, sparse
//! indexes, key changes, index queries and their rules, capacity, online creation with
//! backfill under concurrent writes, and a randomized check that every index always
//! equals its recomputation from the table.

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use std::collections::{BTreeMap, HashMap};

use aws_sdk_dynamodb::types::{
    AttributeDefinition, AttributeValue, BillingMode, GlobalSecondaryIndex, GlobalSecondaryIndexUpdate,
    KeySchemaElement, KeyType, LocalSecondaryIndex, Projection, ProjectionType, ReturnConsumedCapacity,
    ScalarAttributeType, Select,
};
use aws_sdk_dynamodb::Client;
use common::{err_of, n, s, Server};

type Item = HashMap<String, AttributeValue>;

fn def(name: &str, t: ScalarAttributeType) -> AttributeDefinition {
    AttributeDefinition::builder().attribute_name(name).attribute_type(t).build().unwrap()
}

fn key(name: &str, t: KeyType) -> KeySchemaElement {
    KeySchemaElement::builder().attribute_name(name).key_type(t).build().unwrap()
}

fn proj(t: ProjectionType, non_key: &[&str]) -> Projection {
    let mut b = Projection::builder().projection_type(t);
    for a in non_key {
        b = b.non_key_attributes(*a);
    }
    b.build()
}

/// Table `pk`(S) + `sk`(N); LSI `by_rank` on `rank`(N) KEYS_ONLY; LSI `by_tag` on `tag`(S)
/// INCLUDE [note]; GSI `by_owner` on `owner`(S) + `sk` ALL.
async fn create(c: &Client, name: &str) {
    c.create_table()
        .table_name(name)
        .billing_mode(BillingMode::PayPerRequest)
        .attribute_definitions(def("pk", ScalarAttributeType::S))
        .attribute_definitions(def("sk", ScalarAttributeType::N))
        .attribute_definitions(def("rank", ScalarAttributeType::N))
        .attribute_definitions(def("tag", ScalarAttributeType::S))
        .attribute_definitions(def("owner", ScalarAttributeType::S))
        .key_schema(key("pk", KeyType::Hash))
        .key_schema(key("sk", KeyType::Range))
        .local_secondary_indexes(
            LocalSecondaryIndex::builder()
                .index_name("by_rank")
                .key_schema(key("pk", KeyType::Hash))
                .key_schema(key("rank", KeyType::Range))
                .projection(proj(ProjectionType::KeysOnly, &[]))
                .build()
                .unwrap(),
        )
        .local_secondary_indexes(
            LocalSecondaryIndex::builder()
                .index_name("by_tag")
                .key_schema(key("pk", KeyType::Hash))
                .key_schema(key("tag", KeyType::Range))
                .projection(proj(ProjectionType::Include, &["note"]))
                .build()
                .unwrap(),
        )
        .global_secondary_indexes(
            GlobalSecondaryIndex::builder()
                .index_name("by_owner")
                .key_schema(key("owner", KeyType::Hash))
                .key_schema(key("sk", KeyType::Range))
                .projection(proj(ProjectionType::All, &[]))
                .build()
                .unwrap(),
        )
        .send()
        .await
        .unwrap();
}

async fn put(c: &Client, table: &str, pk: &str, sk: i64, extra: &[(&str, AttributeValue)]) {
    let mut b = c.put_item().table_name(table).item("pk", s(pk)).item("sk", n(&sk.to_string()));
    for (k, v) in extra {
        b = b.item(*k, v.clone());
    }
    b.send().await.unwrap();
}

async fn scan_all(c: &Client, table: &str, index: Option<&str>) -> Vec<Item> {
    let mut out = Vec::new();
    let mut start = None;
    loop {
        let r = c
            .scan()
            .table_name(table)
            .set_index_name(index.map(str::to_string))
            .set_exclusive_start_key(start.take())
            .send()
            .await
            .unwrap();
        out.extend(r.items.unwrap());
        match r.last_evaluated_key {
            Some(k) => start = Some(k),
            None => return out,
        }
    }
}

fn canon(items: Vec<Item>) -> Vec<BTreeMap<String, String>> {
    let mut v: Vec<BTreeMap<String, String>> =
        items.into_iter().map(|i| i.into_iter().map(|(k, v)| (k, format!("{v:?}"))).collect()).collect();
    v.sort();
    v
}

/// What an index must contain, recomputed from the table's items.
fn expected_index(table_items: &[Item], keys: &[&str], projected: Option<&[&str]>) -> Vec<BTreeMap<String, String>> {
    let rows: Vec<Item> = table_items
        .iter()
        .filter(|i| keys.iter().all(|k| i.contains_key(*k)))
        .map(|i| match projected {
            None => i.clone(),
            Some(p) => i.iter().filter(|(k, _)| p.contains(&k.as_str())).map(|(k, v)| (k.clone(), v.clone())).collect(),
        })
        .collect();
    canon(rows)
}

#[tokio::test]
async fn projections_sparse_indexes_and_key_changes() {
    let srv = Server::start();
    let c = srv.client();
    create(&c, "idx").await;
    let d = c.describe_table().table_name("idx").send().await.unwrap().table.unwrap();
    assert_eq!(d.local_secondary_indexes().len(), 2);
    let g = &d.global_secondary_indexes()[0];
    assert_eq!(g.index_status().map(|s| s.as_str()), Some("ACTIVE"));
    assert_eq!(g.index_arn(), Some("arn:aws:dynamodb:us-east-1:000000000000:table/idx/index/by_owner"));

    put(
        &c,
        "idx",
        "a",
        1,
        &[("rank", n("30")), ("tag", s("x")), ("note", s("n1")), ("owner", s("ann")), ("big", s("b"))],
    )
    .await;
    put(&c, "idx", "a", 2, &[("rank", n("10")), ("owner", s("bob"))]).await;
    put(&c, "idx", "a", 3, &[("tag", s("y")), ("other", s("o"))]).await;
    put(&c, "idx", "b", 1, &[("owner", s("ann"))]).await;

    // LSI KEYS_ONLY, in rank order, strongly consistent allowed; item 3 has no rank.
    let r = c
        .query()
        .table_name("idx")
        .index_name("by_rank")
        .key_condition_expression("pk = :p")
        .expression_attribute_values(":p", s("a"))
        .consistent_read(true)
        .send()
        .await
        .unwrap();
    let items = r.items.unwrap();
    assert_eq!(items.len(), 2);
    assert_eq!(items[0]["sk"], n("2"));
    assert_eq!(items[0].len(), 3, "keys only: pk, sk, rank");
    // Select ALL_ATTRIBUTES on a local index reads the rest from the table.
    let r = c
        .query()
        .table_name("idx")
        .index_name("by_rank")
        .key_condition_expression("pk = :p AND #r > :r")
        .expression_attribute_names("#r", "rank")
        .expression_attribute_values(":p", s("a"))
        .expression_attribute_values(":r", n("20"))
        .select(Select::AllAttributes)
        .send()
        .await
        .unwrap();
    assert_eq!(r.items.unwrap()[0]["big"], s("b"));
    // INCLUDE keeps the listed attribute only.
    let r = c
        .query()
        .table_name("idx")
        .index_name("by_tag")
        .key_condition_expression("pk = :p")
        .expression_attribute_values(":p", s("a"))
        .send()
        .await
        .unwrap();
    let items = r.items.unwrap();
    assert_eq!(items.len(), 2);
    assert_eq!(items[0]["note"], s("n1"));
    assert!(!items[0].contains_key("big") && !items[1].contains_key("other"));

    // GSI: sparse, ALL projection, across partitions.
    let r = c
        .query()
        .table_name("idx")
        .index_name("by_owner")
        .key_condition_expression("#o = :o")
        .expression_attribute_names("#o", "owner")
        .expression_attribute_values(":o", s("ann"))
        .send()
        .await
        .unwrap();
    assert_eq!(r.count, 2);
    let lek_test = c
        .query()
        .table_name("idx")
        .index_name("by_owner")
        .key_condition_expression("#o = :o")
        .expression_attribute_names("#o", "owner")
        .expression_attribute_values(":o", s("ann"))
        .limit(1)
        .send()
        .await
        .unwrap();
    let lek = lek_test.last_evaluated_key.unwrap();
    assert_eq!(lek.len(), 3, "table key and index key: pk, sk, owner");
    let next = c
        .query()
        .table_name("idx")
        .index_name("by_owner")
        .key_condition_expression("#o = :o")
        .expression_attribute_names("#o", "owner")
        .expression_attribute_values(":o", s("ann"))
        .set_exclusive_start_key(Some(lek))
        .send()
        .await
        .unwrap();
    assert_eq!(next.count, 1);

    // Changing and removing an index key moves and removes entries.
    c.update_item()
        .table_name("idx")
        .key("pk", s("a"))
        .key("sk", n("1"))
        .update_expression("SET #o = :b")
        .expression_attribute_names("#o", "owner")
        .expression_attribute_values(":b", s("bob"))
        .send()
        .await
        .unwrap();
    c.update_item()
        .table_name("idx")
        .key("pk", s("b"))
        .key("sk", n("1"))
        .update_expression("REMOVE #o")
        .expression_attribute_names("#o", "owner")
        .send()
        .await
        .unwrap();
    let ann = c
        .query()
        .table_name("idx")
        .index_name("by_owner")
        .key_condition_expression("#o = :o")
        .expression_attribute_names("#o", "owner")
        .expression_attribute_values(":o", s("ann"))
        .send()
        .await
        .unwrap();
    assert_eq!(ann.count, 0);
    let bob = c
        .query()
        .table_name("idx")
        .index_name("by_owner")
        .key_condition_expression("#o = :o")
        .expression_attribute_names("#o", "owner")
        .expression_attribute_values(":o", s("bob"))
        .send()
        .await
        .unwrap();
    assert_eq!(bob.count, 2);
    c.delete_item().table_name("idx").key("pk", s("a")).key("sk", n("2")).send().await.unwrap();
    let bob = c
        .query()
        .table_name("idx")
        .index_name("by_owner")
        .key_condition_expression("#o = :o")
        .expression_attribute_names("#o", "owner")
        .expression_attribute_values(":o", s("bob"))
        .send()
        .await
        .unwrap();
    assert_eq!(bob.count, 1);
    let d = c.describe_table().table_name("idx").send().await.unwrap().table.unwrap();
    assert_eq!(d.global_secondary_indexes()[0].item_count(), Some(1));
}

#[tokio::test]
async fn index_rules_and_errors() {
    let srv = Server::start();
    let c = srv.client();
    create(&c, "rules").await;
    let e = err_of(
        c.put_item()
            .table_name("rules")
            .item("pk", s("a"))
            .item("sk", n("1"))
            .item("owner", n("5"))
            .send()
            .await
            .unwrap_err(),
    );
    assert_eq!(e.1, "One or more parameter values were invalid: Type mismatch for Index Key owner Expected: S Actual: N IndexName: by_owner");
    let e = err_of(
        c.query()
            .table_name("rules")
            .index_name("by_owner")
            .key_condition_expression("#o = :o")
            .expression_attribute_names("#o", "owner")
            .expression_attribute_values(":o", s("x"))
            .consistent_read(true)
            .send()
            .await
            .unwrap_err(),
    );
    assert_eq!(e.1, "Consistent reads are not supported on global secondary indexes");
    let e = err_of(
        c.query()
            .table_name("rules")
            .index_name("nope")
            .key_condition_expression("pk = :p")
            .expression_attribute_values(":p", s("x"))
            .send()
            .await
            .unwrap_err(),
    );
    assert_eq!(e.1, "The table does not have the specified index: nope");
    let e = err_of(
        c.query()
            .table_name("rules")
            .index_name("by_rank")
            .key_condition_expression("pk = :p AND sk = :s")
            .expression_attribute_values(":p", s("x"))
            .expression_attribute_values(":s", n("1"))
            .send()
            .await
            .unwrap_err(),
    );
    assert_eq!(e.1, "Query condition missed key schema element: rank");
    let r = c
        .put_item()
        .table_name("rules")
        .item("pk", s("a"))
        .item("sk", n("1"))
        .item("owner", s("o"))
        .return_consumed_capacity(ReturnConsumedCapacity::Indexes)
        .send()
        .await
        .unwrap();
    let cc = r.consumed_capacity.unwrap();
    assert_eq!(cc.capacity_units, Some(2.0), "one unit for the table, one for the GSI entry");
    assert_eq!(cc.global_secondary_indexes.unwrap()["by_owner"].capacity_units, Some(1.0));
    // A table with local indexes reports its item collection when asked.
    let r = c
        .put_item()
        .table_name("rules")
        .item("pk", s("a"))
        .item("sk", n("2"))
        .return_item_collection_metrics(aws_sdk_dynamodb::types::ReturnItemCollectionMetrics::Size)
        .send()
        .await
        .unwrap();
    let m = r.item_collection_metrics.unwrap();
    assert_eq!(m.item_collection_key.unwrap()["pk"], s("a"));
    assert_eq!(m.size_estimate_range_gb.unwrap(), vec![0.0, 1.0]);

    // CreateTable validation with indexes.
    let base = || {
        c.create_table()
            .table_name("bad")
            .billing_mode(BillingMode::PayPerRequest)
            .attribute_definitions(def("pk", ScalarAttributeType::S))
            .key_schema(key("pk", KeyType::Hash))
    };
    let lsi = LocalSecondaryIndex::builder()
        .index_name("lsi1")
        .key_schema(key("pk", KeyType::Hash))
        .key_schema(key("x", KeyType::Range))
        .projection(proj(ProjectionType::All, &[]))
        .build()
        .unwrap();
    let e = err_of(
        base()
            .attribute_definitions(def("x", ScalarAttributeType::S))
            .local_secondary_indexes(lsi)
            .send()
            .await
            .unwrap_err(),
    );
    assert_eq!(e.1, "One or more parameter values were invalid: Table KeySchema does not have a range key, which is required when specifying a LocalSecondaryIndex");
    let gsi = |name: &str, attr: &str| {
        GlobalSecondaryIndex::builder()
            .index_name(name)
            .key_schema(key(attr, KeyType::Hash))
            .projection(proj(ProjectionType::KeysOnly, &[]))
            .build()
            .unwrap()
    };
    let e = err_of(base().global_secondary_indexes(gsi("gsi1", "y")).send().await.unwrap_err());
    assert_eq!(e.1, "One or more parameter values were invalid: Some index key attributes are not defined in AttributeDefinitions. Keys: [y], AttributeDefinitions: [pk]");
    let e = err_of(
        base()
            .attribute_definitions(def("y", ScalarAttributeType::S))
            .global_secondary_indexes(gsi("gsi1", "y"))
            .global_secondary_indexes(gsi("gsi1", "y"))
            .send()
            .await
            .unwrap_err(),
    );
    assert_eq!(e.1, "One or more parameter values were invalid: Duplicate index name: gsi1");
    let e = err_of(
        base()
            .attribute_definitions(def("y", ScalarAttributeType::S))
            .global_secondary_indexes(
                GlobalSecondaryIndex::builder()
                    .index_name("gsi2")
                    .key_schema(key("y", KeyType::Hash))
                    .projection(proj(ProjectionType::Include, &[]))
                    .build()
                    .unwrap(),
            )
            .send()
            .await
            .unwrap_err(),
    );
    assert_eq!(e.0, "ValidationException");
}

/// Online GSI creation: 4 clients keep writing while the index backfills; once ACTIVE,
/// the index equals its recomputation from the table.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn online_gsi_backfill_under_writes() {
    let srv = Server::start();
    let c = srv.client();
    common::create_table(&c, "online", false).await;
    // STATOR_BACKFILL_ITEMS=100000 for the full-size run (docs/testing.md).
    let total: usize = std::env::var("STATOR_BACKFILL_ITEMS").ok().and_then(|v| v.parse().ok()).unwrap_or(3000);
    for chunk in (0..total).collect::<Vec<_>>().chunks(25) {
        let writes: Vec<aws_sdk_dynamodb::types::WriteRequest> = chunk
            .iter()
            .map(|i| {
                let mut p = aws_sdk_dynamodb::types::PutRequest::builder().item("pk", s(&format!("k{i}")));
                if i % 3 != 0 {
                    p = p.item("g", s(&format!("g{}", i % 17)));
                }
                aws_sdk_dynamodb::types::WriteRequest::builder().put_request(p.build().unwrap()).build()
            })
            .collect();
        c.batch_write_item().request_items("online", writes).send().await.unwrap();
    }
    let key_space = (total + total / 6) as u64;
    let stop = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(false));
    let mut writers = Vec::new();
    for w in 0..4 {
        let c = srv.client();
        let stop = stop.clone();
        writers.push(tokio::spawn(async move {
            let mut i = 0u64;
            while !stop.load(std::sync::atomic::Ordering::Relaxed) && i < 5000 {
                let k = format!("k{}", (i * 7 + w * 13) % key_space);
                c.update_item()
                    .table_name("online")
                    .key("pk", s(&k))
                    .update_expression("SET g = :g")
                    .expression_attribute_values(":g", s(&format!("w{w}-{}", i % 5)))
                    .send()
                    .await
                    .unwrap();
                i += 1;
            }
        }));
    }
    tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    let r = c
        .update_table()
        .table_name("online")
        .attribute_definitions(def("g", ScalarAttributeType::S))
        .global_secondary_index_updates(
            GlobalSecondaryIndexUpdate::builder()
                .create(
                    aws_sdk_dynamodb::types::CreateGlobalSecondaryIndexAction::builder()
                        .index_name("by_g")
                        .key_schema(key("g", KeyType::Hash))
                        .projection(proj(ProjectionType::All, &[]))
                        .build()
                        .unwrap(),
                )
                .build(),
        )
        .send()
        .await
        .unwrap();
    let g = &r.table_description.unwrap().global_secondary_indexes()[0].clone();
    assert_eq!(g.index_status().map(|s| s.as_str()), Some("CREATING"));
    assert_eq!(g.backfilling(), Some(true));
    let mut active = false;
    for _ in 0..6000 {
        let d = c.describe_table().table_name("online").send().await.unwrap().table.unwrap();
        if d.global_secondary_indexes()[0].index_status().map(|s| s.as_str()) == Some("ACTIVE") {
            active = true;
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
    assert!(active, "index became ACTIVE");
    stop.store(true, std::sync::atomic::Ordering::Relaxed);
    for w in writers {
        w.await.unwrap();
    }
    let table = scan_all(&c, "online", None).await;
    let index = scan_all(&c, "online", Some("by_g")).await;
    assert_eq!(canon(index), expected_index(&table, &["g"], None));
    let d = c.describe_table().table_name("online").send().await.unwrap().table.unwrap();
    assert_eq!(
        d.global_secondary_indexes()[0].item_count(),
        Some(table.iter().filter(|i| i.contains_key("g")).count() as i64)
    );

    // Delete the index: the response still shows it, DELETING.
    let r = c
        .update_table()
        .table_name("online")
        .global_secondary_index_updates(
            GlobalSecondaryIndexUpdate::builder()
                .delete(
                    aws_sdk_dynamodb::types::DeleteGlobalSecondaryIndexAction::builder()
                        .index_name("by_g")
                        .build()
                        .unwrap(),
                )
                .build(),
        )
        .send()
        .await
        .unwrap();
    let shown = r.table_description.unwrap().global_secondary_indexes()[0].clone();
    assert_eq!((shown.index_name(), shown.index_status().map(|s| s.as_str())), (Some("by_g"), Some("DELETING")));
    let e = err_of(
        c.query()
            .table_name("online")
            .index_name("by_g")
            .key_condition_expression("g = :g")
            .expression_attribute_values(":g", s("x"))
            .send()
            .await
            .unwrap_err(),
    );
    assert_eq!(e.1, "The table does not have the specified index: by_g");
}

/// Thousands of random puts, updates and deletes; after each batch every index equals
/// its recomputation from the table.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn randomized_index_consistency() {
    let srv = Server::start();
    let c = srv.client();
    create(&c, "rnd").await;
    let mut seed: u64 = 0x9e37_79b9_7f4a_7c15;
    let mut next = move |m: u64| {
        seed ^= seed << 13;
        seed ^= seed >> 7;
        seed ^= seed << 17;
        seed % m
    };
    for _batch in 0..6 {
        for _ in 0..400 {
            let pk = format!("p{}", next(4));
            let sk = next(40) as i64;
            match next(4) {
                0 => c
                    .delete_item()
                    .table_name("rnd")
                    .key("pk", s(&pk))
                    .key("sk", n(&sk.to_string()))
                    .send()
                    .await
                    .map(|_| ())
                    .unwrap(),
                1 => {
                    let expr = match next(3) {
                        0 => "SET #o = :o, #r = :r",
                        1 => "REMOVE #o SET #r = :r",
                        _ => "REMOVE #r SET #o = :o",
                    };
                    let mut b = c
                        .update_item()
                        .table_name("rnd")
                        .key("pk", s(&pk))
                        .key("sk", n(&sk.to_string()))
                        .update_expression(expr);
                    if expr.contains("#o") {
                        b = b.expression_attribute_names("#o", "owner");
                    }
                    if expr.contains("#r") {
                        b = b.expression_attribute_names("#r", "rank");
                    }
                    if expr.contains(":o") {
                        b = b.expression_attribute_values(":o", s(&format!("o{}", next(5))));
                    }
                    if expr.contains(":r") {
                        b = b.expression_attribute_values(":r", n(&next(9).to_string()));
                    }
                    b.send().await.unwrap();
                }
                _ => {
                    let mut extra: Vec<(&str, AttributeValue)> = vec![("note", s(&format!("n{}", next(3))))];
                    if next(2) == 0 {
                        extra.push(("owner", s(&format!("o{}", next(5)))));
                    }
                    if next(2) == 0 {
                        extra.push(("tag", s(&format!("t{}", next(6)))));
                    }
                    if next(2) == 0 {
                        extra.push(("rank", n(&next(9).to_string())));
                    }
                    put(&c, "rnd", &pk, sk, &extra).await;
                }
            }
        }
        let table = scan_all(&c, "rnd", None).await;
        assert_eq!(canon(scan_all(&c, "rnd", Some("by_owner")).await), expected_index(&table, &["owner"], None));
        assert_eq!(
            canon(scan_all(&c, "rnd", Some("by_rank")).await),
            expected_index(&table, &["rank"], Some(&["pk", "sk", "rank"]))
        );
        assert_eq!(
            canon(scan_all(&c, "rnd", Some("by_tag")).await),
            expected_index(&table, &["tag"], Some(&["pk", "sk", "tag", "note"]))
        );
    }
}

/// The opt-in eventually consistent mode: a GSI shows a write only after the
/// configured delay; local indexes stay synchronous.
#[tokio::test]
async fn delayed_gsi_propagation() {
    let srv = Server::start_with(&["--gsi-propagation-delay-ms", "400"]);
    let c = srv.client();
    create(&c, "lazy").await;
    put(&c, "lazy", "a", 1, &[("owner", s("ann")), ("rank", n("1"))]).await;
    let by_owner = || {
        c.query()
            .table_name("lazy")
            .index_name("by_owner")
            .key_condition_expression("#o = :o")
            .expression_attribute_names("#o", "owner")
            .expression_attribute_values(":o", s("ann"))
            .send()
    };
    assert_eq!(by_owner().await.unwrap().count, 0, "not yet propagated");
    let lsi = c
        .query()
        .table_name("lazy")
        .index_name("by_rank")
        .key_condition_expression("pk = :p")
        .expression_attribute_values(":p", s("a"))
        .send()
        .await
        .unwrap();
    assert_eq!(lsi.count, 1, "local indexes are synchronous");
    let mut seen = 0;
    for _ in 0..100 {
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
        seen = by_owner().await.unwrap().count;
        if seen == 1 {
            break;
        }
    }
    assert_eq!(seen, 1, "propagated after the delay");
    // A change and a delete propagate in order.
    c.update_item()
        .table_name("lazy")
        .key("pk", s("a"))
        .key("sk", n("1"))
        .update_expression("SET #o = :b")
        .expression_attribute_names("#o", "owner")
        .expression_attribute_values(":b", s("bob"))
        .send()
        .await
        .unwrap();
    c.delete_item().table_name("lazy").key("pk", s("a")).key("sk", n("1")).send().await.unwrap();
    tokio::time::sleep(std::time::Duration::from_millis(1200)).await;
    let table = scan_all(&c, "lazy", None).await;
    assert!(table.is_empty());
    assert!(scan_all(&c, "lazy", Some("by_owner")).await.is_empty());
    let d = c.describe_table().table_name("lazy").send().await.unwrap().table.unwrap();
    assert_eq!(d.global_secondary_indexes()[0].item_count(), Some(0));
}

/// Index sort-key conditions at values that several entries share: entries continue
/// past the index key (with the item's table key), and bounds must still be exact.
#[tokio::test]
async fn index_sort_key_bounds_with_shared_values() {
    let srv = Server::start();
    let c = srv.client();
    create(&c, "bounds").await;
    for sk in 0..12 {
        put(&c, "bounds", "p", sk, &[("owner", s("o")), ("rank", n(&(sk % 4).to_string()))]).await;
    }
    let q = |expr: &str, vals: Vec<(&str, AttributeValue)>| {
        let mut b = c
            .query()
            .table_name("bounds")
            .index_name("by_rank")
            .key_condition_expression(expr)
            .expression_attribute_names("#r", "rank");
        b = b.expression_attribute_values(":p", s("p"));
        for (k, v) in vals {
            b = b.expression_attribute_values(k, v);
        }
        b
    };
    let count = |r: aws_sdk_dynamodb::operation::query::QueryOutput| r.count;
    assert_eq!(count(q("pk = :p AND #r = :v", vec![(":v", n("2"))]).send().await.unwrap()), 3);
    assert_eq!(count(q("pk = :p AND #r > :v", vec![(":v", n("2"))]).send().await.unwrap()), 3);
    assert_eq!(count(q("pk = :p AND #r >= :v", vec![(":v", n("2"))]).send().await.unwrap()), 6);
    assert_eq!(count(q("pk = :p AND #r < :v", vec![(":v", n("2"))]).send().await.unwrap()), 6);
    assert_eq!(count(q("pk = :p AND #r <= :v", vec![(":v", n("2"))]).send().await.unwrap()), 9);
    assert_eq!(
        count(q("pk = :p AND #r BETWEEN :a AND :b", vec![(":a", n("1")), (":b", n("2"))]).send().await.unwrap()),
        6
    );
    // Reverse order keeps the index order, then the table key.
    let r = q("pk = :p AND #r = :v", vec![(":v", n("3"))]).scan_index_forward(false).send().await.unwrap();
    let sks: Vec<String> = r.items.unwrap().iter().map(|i| i["sk"].as_n().unwrap().clone()).collect();
    assert_eq!(sks, vec!["11", "7", "3"]);
}

/// A GSI whose partition and sort keys have several attributes (DynamoDB, 2025).
#[tokio::test]
async fn multi_attribute_gsi_keys() {
    let srv = Server::start();
    let c = srv.client();
    c.create_table()
        .table_name("matches")
        .billing_mode(BillingMode::PayPerRequest)
        .attribute_definitions(def("id", ScalarAttributeType::S))
        .attribute_definitions(def("tournament", ScalarAttributeType::S))
        .attribute_definitions(def("region", ScalarAttributeType::S))
        .attribute_definitions(def("round", ScalarAttributeType::S))
        .attribute_definitions(def("slot", ScalarAttributeType::N))
        .key_schema(key("id", KeyType::Hash))
        .global_secondary_indexes(
            GlobalSecondaryIndex::builder()
                .index_name("by_bracket")
                .key_schema(key("tournament", KeyType::Hash))
                .key_schema(key("region", KeyType::Hash))
                .key_schema(key("round", KeyType::Range))
                .key_schema(key("slot", KeyType::Range))
                .projection(proj(ProjectionType::KeysOnly, &[]))
                .build()
                .unwrap(),
        )
        .send()
        .await
        .unwrap();
    let d = c.describe_table().table_name("matches").send().await.unwrap().table.unwrap();
    assert_eq!(d.global_secondary_indexes()[0].key_schema().len(), 4);
    let mut n_items = 0;
    for (i, (t, r, round, slot)) in [
        ("W24", "NA", "QF", 1),
        ("W24", "NA", "QF", 2),
        ("W24", "NA", "SF", 1),
        ("W24", "EU", "QF", 1),
        ("S25", "NA", "QF", 1),
    ]
    .iter()
    .enumerate()
    {
        c.put_item()
            .table_name("matches")
            .item("id", s(&format!("m{i}")))
            .item("tournament", s(t))
            .item("region", s(r))
            .item("round", s(round))
            .item("slot", n(&slot.to_string()))
            .send()
            .await
            .unwrap();
        n_items += 1;
    }
    // No slot: not in the index (every key attribute is needed).
    c.put_item()
        .table_name("matches")
        .item("id", s("x"))
        .item("tournament", s("W24"))
        .item("region", s("NA"))
        .item("round", s("QF"))
        .send()
        .await
        .unwrap();
    assert_eq!(n_items, 5);
    let q = |expr: &str| {
        c.query()
            .table_name("matches")
            .index_name("by_bracket")
            .key_condition_expression(expr)
            .expression_attribute_names("#t", "tournament")
            .expression_attribute_names("#g", "region")
            .expression_attribute_values(":t", s("W24"))
            .expression_attribute_values(":g", s("NA"))
    };
    assert_eq!(q("#t = :t AND #g = :g").send().await.unwrap().count, 3);
    let r = q("#t = :t AND #g = :g AND #r = :r")
        .expression_attribute_names("#r", "round")
        .expression_attribute_values(":r", s("QF"))
        .send()
        .await
        .unwrap();
    assert_eq!(r.count, 2);
    let r = q("#t = :t AND #g = :g AND #r = :r AND slot > :s")
        .expression_attribute_names("#r", "round")
        .expression_attribute_values(":r", s("QF"))
        .expression_attribute_values(":s", n("1"))
        .send()
        .await
        .unwrap();
    assert_eq!(r.count, 1);
    let e = err_of(
        c.query()
            .table_name("matches")
            .index_name("by_bracket")
            .key_condition_expression("tournament = :t")
            .expression_attribute_values(":t", s("W24"))
            .send()
            .await
            .unwrap_err(),
    );
    assert_eq!(e.1, "Query condition missed key schema element: region");
    // A sort condition that skips the first sort attribute is refused.
    let e = err_of(
        q("#t = :t AND #g = :g AND slot = :s").expression_attribute_values(":s", n("1")).send().await.unwrap_err(),
    );
    assert_eq!(e.0, "ValidationException");
}

/// Single-table design: several entity types share one table and one GSI whose
/// generic key attributes (GSI1PK / GSI1SK) are overloaded with different meanings.
#[tokio::test]
async fn single_table_design_with_overloaded_gsi_keys() {
    let srv = Server::start();
    let c = srv.client();
    c.create_table()
        .table_name("app")
        .billing_mode(BillingMode::PayPerRequest)
        .attribute_definitions(def("PK", ScalarAttributeType::S))
        .attribute_definitions(def("SK", ScalarAttributeType::S))
        .attribute_definitions(def("GSI1PK", ScalarAttributeType::S))
        .attribute_definitions(def("GSI1SK", ScalarAttributeType::S))
        .key_schema(key("PK", KeyType::Hash))
        .key_schema(key("SK", KeyType::Range))
        .global_secondary_indexes(
            GlobalSecondaryIndex::builder()
                .index_name("GSI1")
                .key_schema(key("GSI1PK", KeyType::Hash))
                .key_schema(key("GSI1SK", KeyType::Range))
                .projection(proj(ProjectionType::All, &[]))
                .build()
                .unwrap(),
        )
        .send()
        .await
        .unwrap();
    let rows: Vec<Vec<(&str, &str)>> = vec![
        vec![("PK", "USER#1"), ("SK", "PROFILE"), ("GSI1PK", "EMAIL#a@x.io"), ("GSI1SK", "USER#1")],
        vec![("PK", "USER#1"), ("SK", "ORDER#2026-01"), ("GSI1PK", "STATUS#OPEN"), ("GSI1SK", "2026-01#ORDER#1")],
        vec![("PK", "USER#2"), ("SK", "ORDER#2026-02"), ("GSI1PK", "STATUS#OPEN"), ("GSI1SK", "2026-02#ORDER#2")],
        vec![("PK", "USER#2"), ("SK", "ORDER#2026-03"), ("GSI1PK", "STATUS#SHIPPED"), ("GSI1SK", "2026-03#ORDER#3")],
        vec![("PK", "USER#2"), ("SK", "PROFILE")],
    ];
    for row in rows {
        let mut b = c.put_item().table_name("app");
        for (k, v) in row {
            b = b.item(k, s(v));
        }
        b.send().await.unwrap();
    }
    let g = |pk: &str| {
        c.query()
            .table_name("app")
            .index_name("GSI1")
            .key_condition_expression("GSI1PK = :p")
            .expression_attribute_values(":p", s(pk))
    };
    let open = g("STATUS#OPEN").send().await.unwrap().items.unwrap();
    let order_sks: Vec<&str> = open.iter().map(|i| i["SK"].as_s().unwrap().as_str()).collect();
    assert_eq!(order_sks, vec!["ORDER#2026-01", "ORDER#2026-02"], "sorted by GSI1SK");
    let by_email = g("EMAIL#a@x.io").send().await.unwrap().items.unwrap();
    assert_eq!(by_email[0]["PK"], s("USER#1"));
    let shipped = g("STATUS#SHIPPED")
        .key_condition_expression("GSI1PK = :p AND begins_with(GSI1SK, :m)")
        .expression_attribute_values(":m", s("2026-03"))
        .send()
        .await
        .unwrap();
    assert_eq!(shipped.count, 1);
    let all = scan_all(&c, "app", Some("GSI1")).await;
    assert_eq!(all.len(), 4, "the profile without GSI keys is not in the index");
}

/// UpdateTable's index-change errors.
#[tokio::test]
async fn online_index_change_errors() {
    let srv = Server::start();
    let c = srv.client();
    create(&c, "changes").await;
    let create_action = |name: &str| {
        GlobalSecondaryIndexUpdate::builder()
            .create(
                aws_sdk_dynamodb::types::CreateGlobalSecondaryIndexAction::builder()
                    .index_name(name)
                    .key_schema(key("tag", KeyType::Hash))
                    .projection(proj(ProjectionType::KeysOnly, &[]))
                    .build()
                    .unwrap(),
            )
            .build()
    };
    let e = err_of(
        c.update_table()
            .table_name("changes")
            .global_secondary_index_updates(create_action("by_owner"))
            .send()
            .await
            .unwrap_err(),
    );
    assert_eq!(
        e,
        (
            "ValidationException".into(),
            "One or more parameter values were invalid: Index with name: by_owner already exists".into()
        )
    );
    let e = err_of(
        c.update_table()
            .table_name("changes")
            .global_secondary_index_updates(create_action("one"))
            .global_secondary_index_updates(create_action("two"))
            .send()
            .await
            .unwrap_err(),
    );
    assert_eq!(e.0, "LimitExceededException");
    let e = err_of(
        c.update_table()
            .table_name("changes")
            .global_secondary_index_updates(
                GlobalSecondaryIndexUpdate::builder()
                    .delete(
                        aws_sdk_dynamodb::types::DeleteGlobalSecondaryIndexAction::builder()
                            .index_name("nope")
                            .build()
                            .unwrap(),
                    )
                    .build(),
            )
            .send()
            .await
            .unwrap_err(),
    );
    assert_eq!(e.0, "ResourceNotFoundException");
    let e = err_of(
        c.update_table()
            .table_name("changes")
            .global_secondary_index_updates(
                GlobalSecondaryIndexUpdate::builder()
                    .create(
                        aws_sdk_dynamodb::types::CreateGlobalSecondaryIndexAction::builder()
                            .index_name("by_undefined")
                            .key_schema(key("undefined_attr", KeyType::Hash))
                            .projection(proj(ProjectionType::All, &[]))
                            .build()
                            .unwrap(),
                    )
                    .build(),
            )
            .send()
            .await
            .unwrap_err(),
    );
    assert!(e.1.starts_with("One or more parameter values were invalid: Some index key attributes are not defined in AttributeDefinitions."), "{}", e.1);
}
