//! DynamoDB Streams through the AWS SDK's DynamoDB Streams client: every view type,
//! every iterator type, records from every write operation, disabling and re-enabling,
//! shard rollover with lineage, trimming and iterator expiry under the manual clock,
//! and a consumer following the stream while writers run.

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use std::collections::HashMap;

use aws_sdk_dynamodb::types::{
    ConditionCheck, Delete, DeleteRequest, Put, PutRequest, ReturnValue, StreamSpecification, StreamViewType,
    TransactWriteItem, Update, WriteRequest,
};
use aws_sdk_dynamodb::Client;
use aws_sdk_dynamodbstreams::types::{AttributeValue as SAv, Record, ShardFilter, ShardFilterType, ShardIteratorType};
use aws_sdk_dynamodbstreams::Client as Streams;
use common::{create_table, err_of, n, s, Server};

const HOUR_MS: u64 = 3600 * 1000;

async fn enable_stream(db: &Client, table: &str, view: StreamViewType) -> String {
    let out = db
        .update_table()
        .table_name(table)
        .stream_specification(
            StreamSpecification::builder().stream_enabled(true).stream_view_type(view).build().unwrap(),
        )
        .send()
        .await
        .expect("enable stream");
    let t = out.table_description().unwrap();
    assert_eq!(t.table_status().unwrap().as_str(), "UPDATING");
    t.latest_stream_arn().unwrap().to_string()
}

async fn table_with_stream(db: &Client, table: &str, view: StreamViewType) -> String {
    create_table(db, table, false).await;
    enable_stream(db, table, view).await
}

async fn shard_ids(st: &Streams, arn: &str) -> Vec<String> {
    let d = st.describe_stream().stream_arn(arn).send().await.unwrap();
    d.stream_description().unwrap().shards().iter().map(|s| s.shard_id().unwrap().to_string()).collect()
}

async fn iterator(st: &Streams, arn: &str, shard: &str, ty: ShardIteratorType, seq: Option<&str>) -> String {
    let mut r = st.get_shard_iterator().stream_arn(arn).shard_id(shard).shard_iterator_type(ty);
    if let Some(seq) = seq {
        r = r.sequence_number(seq);
    }
    r.send().await.expect("get shard iterator").shard_iterator().unwrap().to_string()
}

/// Reads a shard from `it` until it ends (closed) or a read returns nothing (open).
async fn drain(st: &Streams, mut it: String) -> (Vec<Record>, Option<String>) {
    let mut out = Vec::new();
    for _ in 0..10_000 {
        let page = st.get_records().shard_iterator(&it).send().await.expect("get records");
        let got = page.records().len();
        out.extend(page.records().iter().cloned());
        match page.next_shard_iterator() {
            None => return (out, None),
            Some(next) if got == 0 => return (out, Some(next.to_string())),
            Some(next) => it = next.to_string(),
        }
    }
    panic!("shard never drained");
}

/// Every record of a stream, following the shard lineage from the oldest shard.
async fn read_all(st: &Streams, arn: &str) -> Vec<Record> {
    let mut out = Vec::new();
    for shard in shard_ids(st, arn).await {
        let it = iterator(st, arn, &shard, ShardIteratorType::TrimHorizon, None).await;
        out.extend(drain(st, it).await.0);
    }
    out
}

fn text(v: &SAv) -> String {
    match v {
        SAv::S(s) => s.clone(),
        SAv::N(n) => n.clone(),
        other => format!("{other:?}"),
    }
}

fn event(r: &Record) -> &str {
    r.event_name().unwrap().as_str()
}

fn image_attr(img: Option<&HashMap<String, SAv>>, attr: &str) -> Option<String> {
    img.and_then(|m| m.get(attr)).map(text)
}

fn seq(r: &Record) -> String {
    r.dynamodb().unwrap().sequence_number().unwrap().to_string()
}

#[tokio::test]
async fn every_view_type_shapes_its_records() {
    let server = Server::start();
    let db = server.client();
    let st = server.streams_client();
    for (table, view) in [
        ("keys", StreamViewType::KeysOnly),
        ("new", StreamViewType::NewImage),
        ("old", StreamViewType::OldImage),
        ("both", StreamViewType::NewAndOldImages),
    ] {
        let arn = table_with_stream(&db, table, view.clone()).await;
        assert!(arn.starts_with(&format!("arn:aws:dynamodb:us-east-1:000000000000:table/{table}/stream/")));
        db.put_item().table_name(table).item("pk", s("a")).item("v", n("1")).send().await.unwrap();
        db.update_item()
            .table_name(table)
            .key("pk", s("a"))
            .update_expression("SET v = :v")
            .expression_attribute_values(":v", n("2"))
            .send()
            .await
            .unwrap();
        // Changes nothing: no record.
        db.put_item().table_name(table).item("pk", s("a")).item("v", n("2")).send().await.unwrap();
        db.delete_item().table_name(table).key("pk", s("a")).send().await.unwrap();
        // Deletes nothing: no record.
        db.delete_item().table_name(table).key("pk", s("a")).send().await.unwrap();

        let records = read_all(&st, &arn).await;
        let names: Vec<&str> = records.iter().map(event).collect();
        assert_eq!(names, ["INSERT", "MODIFY", "REMOVE"], "{table}");
        let shows_new = matches!(view, StreamViewType::NewImage | StreamViewType::NewAndOldImages);
        let shows_old = matches!(view, StreamViewType::OldImage | StreamViewType::NewAndOldImages);
        let expect_new = [Some("1"), Some("2"), None];
        let expect_old = [None, Some("1"), Some("2")];
        for (i, r) in records.iter().enumerate() {
            let d = r.dynamodb().unwrap();
            assert_eq!(r.event_source(), Some("aws:dynamodb"));
            assert_eq!(r.event_version(), Some("1.1"));
            assert_eq!(r.aws_region(), Some("us-east-1"));
            assert_eq!(r.event_id().unwrap().len(), 32);
            assert!(r.user_identity().is_none());
            assert_eq!(d.stream_view_type().unwrap().as_str(), view.as_str());
            assert_eq!(d.keys().unwrap().len(), 1);
            assert_eq!(text(&d.keys().unwrap()["pk"]), "a");
            assert!(d.approximate_creation_date_time().is_some());
            let new_v = image_attr(d.new_image(), "v");
            let old_v = image_attr(d.old_image(), "v");
            assert_eq!(new_v.as_deref(), if shows_new { expect_new[i] } else { None }, "{table} #{i}");
            assert_eq!(old_v.as_deref(), if shows_old { expect_old[i] } else { None }, "{table} #{i}");
            // SizeBytes: item sizes of Keys + the images carried ("pk"+"a" = 3,
            // "v" + a one-digit number = 1 + 2).
            let img = |m: Option<&HashMap<String, SAv>>| if m.is_some() { 6 } else { 0 };
            assert_eq!(d.size_bytes(), Some(3 + img(d.new_image()) + img(d.old_image())), "{table} #{i}");
        }
        let seqs: Vec<String> = records.iter().map(seq).collect();
        assert!(seqs.windows(2).all(|w| w[0] < w[1] && w[0].len() == w[1].len()), "{seqs:?}");
        assert!(seqs.iter().all(|s| s.len() >= 21 && s.bytes().all(|b| b.is_ascii_digit())));
    }
}

#[tokio::test]
async fn every_write_operation_writes_its_records() {
    let server = Server::start();
    let db = server.client();
    let st = server.streams_client();
    let arn = table_with_stream(&db, "ops", StreamViewType::NewAndOldImages).await;
    let put = |pk: &str, v: &str| {
        WriteRequest::builder()
            .put_request(PutRequest::builder().item("pk", s(pk)).item("v", n(v)).build().unwrap())
            .build()
    };
    db.batch_write_item().request_items("ops", vec![put("b1", "1"), put("b2", "1")]).send().await.unwrap();
    db.batch_write_item()
        .request_items(
            "ops",
            vec![
                put("b1", "2"),
                WriteRequest::builder()
                    .delete_request(DeleteRequest::builder().key("pk", s("b2")).build().unwrap())
                    .build(),
            ],
        )
        .send()
        .await
        .unwrap();
    db.transact_write_items()
        .transact_items(
            TransactWriteItem::builder()
                .put(Put::builder().table_name("ops").item("pk", s("t1")).item("v", n("1")).build().unwrap())
                .build(),
        )
        .transact_items(
            TransactWriteItem::builder()
                .update(
                    Update::builder()
                        .table_name("ops")
                        .key("pk", s("b1"))
                        .update_expression("SET v = v + :one")
                        .expression_attribute_values(":one", n("1"))
                        .build()
                        .unwrap(),
                )
                .build(),
        )
        .transact_items(
            TransactWriteItem::builder()
                .condition_check(
                    ConditionCheck::builder()
                        .table_name("ops")
                        .key("pk", s("b2"))
                        .condition_expression("attribute_not_exists(pk)")
                        .build()
                        .unwrap(),
                )
                .build(),
        )
        .send()
        .await
        .unwrap();
    db.transact_write_items()
        .transact_items(
            TransactWriteItem::builder()
                .delete(Delete::builder().table_name("ops").key("pk", s("t1")).build().unwrap())
                .build(),
        )
        .send()
        .await
        .unwrap();
    // An update that sets what is there changes nothing: no record.
    let out = db
        .update_item()
        .table_name("ops")
        .key("pk", s("b1"))
        .update_expression("SET v = :v")
        .expression_attribute_values(":v", n("3"))
        .return_values(ReturnValue::AllNew)
        .send()
        .await
        .unwrap();
    assert_eq!(out.attributes().unwrap()["v"], n("3"));

    let got: Vec<(String, String, Option<String>)> = read_all(&st, &arn)
        .await
        .iter()
        .map(|r| {
            let d = r.dynamodb().unwrap();
            (event(r).to_string(), text(&d.keys().unwrap()["pk"]), image_attr(d.new_image(), "v"))
        })
        .collect();
    let want = [
        ("INSERT", "b1", Some("1")),
        ("INSERT", "b2", Some("1")),
        ("MODIFY", "b1", Some("2")),
        ("REMOVE", "b2", None),
        ("INSERT", "t1", Some("1")),
        ("MODIFY", "b1", Some("3")),
        ("REMOVE", "t1", None),
    ];
    let want: Vec<(String, String, Option<String>)> =
        want.iter().map(|(e, k, v)| (e.to_string(), k.to_string(), v.map(str::to_string))).collect();
    assert_eq!(got, want);
}

#[tokio::test]
async fn iterator_types_and_their_errors() {
    let server = Server::start();
    let db = server.client();
    let st = server.streams_client();
    let arn = table_with_stream(&db, "iters", StreamViewType::KeysOnly).await;
    for k in ["a", "b", "c"] {
        db.put_item().table_name("iters").item("pk", s(k)).send().await.unwrap();
    }
    let shard = shard_ids(&st, &arn).await.remove(0);
    let all = drain(&st, iterator(&st, &arn, &shard, ShardIteratorType::TrimHorizon, None).await).await.0;
    assert_eq!(all.len(), 3);
    let second = seq(&all[1]);

    let at = drain(&st, iterator(&st, &arn, &shard, ShardIteratorType::AtSequenceNumber, Some(&second)).await).await;
    assert_eq!(at.0.iter().map(seq).collect::<Vec<_>>(), [seq(&all[1]), seq(&all[2])]);
    let after =
        drain(&st, iterator(&st, &arn, &shard, ShardIteratorType::AfterSequenceNumber, Some(&second)).await).await;
    assert_eq!(after.0.iter().map(seq).collect::<Vec<_>>(), [seq(&all[2])]);

    // LATEST: only what is written afterwards; an open shard always has a next iterator.
    let latest = iterator(&st, &arn, &shard, ShardIteratorType::Latest, None).await;
    let (none, next) = drain(&st, latest).await;
    assert!(none.is_empty());
    db.put_item().table_name("iters").item("pk", s("d")).send().await.unwrap();
    let (fresh, next) = drain(&st, next.expect("open shard")).await;
    assert_eq!(fresh.len(), 1);
    assert_eq!(text(&fresh[0].dynamodb().unwrap().keys().unwrap()["pk"]), "d");
    assert!(next.is_some());

    // Limit pages.
    let it = iterator(&st, &arn, &shard, ShardIteratorType::TrimHorizon, None).await;
    let page = st.get_records().shard_iterator(&it).limit(2).send().await.unwrap();
    assert_eq!(page.records().len(), 2);
    let rest = st.get_records().shard_iterator(page.next_shard_iterator().unwrap()).send().await.unwrap();
    assert_eq!(rest.records().len(), 2);

    // Errors.
    let e = st
        .get_shard_iterator()
        .stream_arn(&arn)
        .shard_id("shardId-00000000000000000000-00000000")
        .shard_iterator_type(ShardIteratorType::TrimHorizon)
        .send()
        .await
        .unwrap_err();
    assert_eq!(
        err_of(e),
        ("ResourceNotFoundException".into(), "Requested resource not found: Shard does not exist".into())
    );
    let missing = format!("{arn}x");
    let e = st.describe_stream().stream_arn(&missing).send().await.unwrap_err();
    assert_eq!(
        err_of(e),
        ("ResourceNotFoundException".into(), format!("Requested resource not found: Stream: {missing} not found"))
    );
    let e = st
        .get_shard_iterator()
        .stream_arn(&arn)
        .shard_id(&shard)
        .shard_iterator_type(ShardIteratorType::AtSequenceNumber)
        .sequence_number("999999999999999999999")
        .send()
        .await
        .unwrap_err();
    assert_eq!(err_of(e).0, "ValidationException");
    let e = st
        .get_shard_iterator()
        .stream_arn(&arn)
        .shard_id(&shard)
        .shard_iterator_type(ShardIteratorType::AfterSequenceNumber)
        .send()
        .await
        .unwrap_err();
    assert_eq!(err_of(e).0, "ValidationException");
    let e = st.list_streams().table_name("no-such-table").send().await.unwrap_err();
    assert_eq!(
        err_of(e),
        ("ResourceNotFoundException".into(), "Requested resource not found: Table: no-such-table not found".into())
    );
    let e = st.get_records().shard_iterator("not-an-iterator").send().await.unwrap_err();
    assert_eq!(err_of(e).0, "ValidationException");
    let e = st.get_records().shard_iterator(&it).limit(1001).send().await.unwrap_err();
    assert_eq!(err_of(e).0, "ValidationException");
}

#[tokio::test]
async fn disabling_closes_the_stream_and_reenabling_opens_a_new_one() {
    let server = Server::start();
    let db = server.client();
    let st = server.streams_client();
    let first = table_with_stream(&db, "toggle", StreamViewType::NewImage).await;
    db.put_item().table_name("toggle").item("pk", s("a")).send().await.unwrap();

    let e = db
        .update_table()
        .table_name("toggle")
        .stream_specification(
            StreamSpecification::builder()
                .stream_enabled(true)
                .stream_view_type(StreamViewType::KeysOnly)
                .build()
                .unwrap(),
        )
        .send()
        .await
        .unwrap_err();
    assert_eq!(
        err_of(e),
        ("ValidationException".into(), "Table already has an enabled stream: TableName: toggle".into())
    );

    db.update_table()
        .table_name("toggle")
        .stream_specification(StreamSpecification::builder().stream_enabled(false).build().unwrap())
        .send()
        .await
        .unwrap();
    let e = db
        .update_table()
        .table_name("toggle")
        .stream_specification(StreamSpecification::builder().stream_enabled(false).build().unwrap())
        .send()
        .await
        .unwrap_err();
    assert_eq!(err_of(e), ("ValidationException".into(), "Table has no stream to disable: TableName: toggle".into()));
    let t = db.describe_table().table_name("toggle").send().await.unwrap();
    let t = t.table().unwrap();
    assert!(t.stream_specification().is_none());
    assert_eq!(t.latest_stream_arn(), Some(first.as_str()));

    // Not in the stream: written after it was disabled.
    db.put_item().table_name("toggle").item("pk", s("b")).send().await.unwrap();
    let d = st.describe_stream().stream_arn(&first).send().await.unwrap();
    let d = d.stream_description().unwrap();
    assert_eq!(d.stream_status().unwrap().as_str(), "DISABLED");
    let shard = &d.shards()[0];
    assert!(shard.sequence_number_range().unwrap().ending_sequence_number().is_some());
    let it = iterator(&st, &first, shard.shard_id().unwrap(), ShardIteratorType::TrimHorizon, None).await;
    let (records, next) = drain(&st, it).await;
    assert_eq!(records.len(), 1);
    assert!(next.is_none(), "a closed shard read to its end has no next iterator");

    let second = enable_stream(&db, "toggle", StreamViewType::KeysOnly).await;
    assert_ne!(first, second);
    db.put_item().table_name("toggle").item("pk", s("c")).send().await.unwrap();
    let listed = st.list_streams().table_name("toggle").send().await.unwrap();
    let arns: Vec<&str> = listed.streams().iter().map(|s| s.stream_arn().unwrap()).collect();
    assert_eq!(arns, [first.as_str(), second.as_str()]);
    let page = st.list_streams().limit(1).send().await.unwrap();
    assert_eq!(page.streams().len(), 1);
    assert_eq!(page.last_evaluated_stream_arn(), Some(first.as_str()));
    let rest = st.list_streams().exclusive_start_stream_arn(&first).send().await.unwrap();
    assert_eq!(rest.streams().len(), 1);
    assert!(rest.last_evaluated_stream_arn().is_none());
    let records = read_all(&st, &second).await;
    assert_eq!(records.len(), 1);
    assert_eq!(text(&records[0].dynamodb().unwrap().keys().unwrap()["pk"]), "c");

    // A deleted table's stream stays readable, closed.
    db.delete_table().table_name("toggle").send().await.unwrap();
    let d = st.describe_stream().stream_arn(&second).send().await.unwrap();
    assert_eq!(d.stream_description().unwrap().stream_status().unwrap().as_str(), "DISABLED");
    assert_eq!(read_all(&st, &second).await.len(), 1);
}

#[tokio::test]
async fn shards_roll_over_with_lineage() {
    let server = Server::start_with(&["--clock", "manual", "--stream-shard-rollover-secs", "3600"]);
    let db = server.client();
    let st = server.streams_client();
    let arn = table_with_stream(&db, "roll", StreamViewType::KeysOnly).await;
    let mut written = Vec::new();
    for round in 0..3 {
        for i in 0..3 {
            let k = format!("r{round}-{i}");
            db.put_item().table_name("roll").item("pk", s(&k)).send().await.unwrap();
            written.push(k);
        }
        server.advance_clock(HOUR_MS + 1);
    }
    db.put_item().table_name("roll").item("pk", s("last")).send().await.unwrap();
    written.push("last".into());

    let d = st.describe_stream().stream_arn(&arn).send().await.unwrap();
    let shards = d.stream_description().unwrap().shards().to_vec();
    assert_eq!(shards.len(), 4);
    assert!(shards[0].parent_shard_id().is_none());
    for w in shards.windows(2) {
        assert_eq!(w[1].parent_shard_id(), w[0].shard_id());
        let (a, b) = (w[0].sequence_number_range().unwrap(), w[1].sequence_number_range().unwrap());
        assert!(a.ending_sequence_number().unwrap() < b.starting_sequence_number().unwrap());
    }
    assert!(shards[3].sequence_number_range().unwrap().ending_sequence_number().is_none());

    // Children of a shard, by filter.
    let children = st
        .describe_stream()
        .stream_arn(&arn)
        .shard_filter(
            ShardFilter::builder().r#type(ShardFilterType::ChildShards).shard_id(shards[1].shard_id().unwrap()).build(),
        )
        .send()
        .await
        .unwrap();
    let ids: Vec<&str> =
        children.stream_description().unwrap().shards().iter().map(|s| s.shard_id().unwrap()).collect();
    assert_eq!(ids, [shards[2].shard_id().unwrap()]);
    // Paging shards.
    let page = st.describe_stream().stream_arn(&arn).limit(2).send().await.unwrap();
    let page = page.stream_description().unwrap();
    assert_eq!(page.shards().len(), 2);
    assert_eq!(page.last_evaluated_shard_id(), shards[1].shard_id());

    // A consumer following the lineage sees every change once, in order; every
    // closed shard ends with no next iterator.
    let mut seen = Vec::new();
    for (i, sh) in shards.iter().enumerate() {
        let it = iterator(&st, &arn, sh.shard_id().unwrap(), ShardIteratorType::TrimHorizon, None).await;
        let (records, next) = drain(&st, it).await;
        assert_eq!(next.is_none(), i < 3);
        seen.extend(records.iter().map(|r| text(&r.dynamodb().unwrap().keys().unwrap()["pk"])));
    }
    assert_eq!(seen, written);
}

#[tokio::test]
async fn records_are_trimmed_after_a_day_and_iterators_expire() {
    // One shard throughout (a shard whose records are all trimmed disappears).
    let server = Server::start_with(&[
        "--clock",
        "manual",
        "--housekeeping-interval-ms",
        "3600000",
        "--stream-shard-rollover-secs",
        "1000000",
    ]);
    let db = server.client();
    let st = server.streams_client();
    let arn = table_with_stream(&db, "trim", StreamViewType::KeysOnly).await;
    db.put_item().table_name("trim").item("pk", s("old")).send().await.unwrap();
    let shard = shard_ids(&st, &arn).await.remove(0);
    let it = iterator(&st, &arn, &shard, ShardIteratorType::TrimHorizon, None).await;
    let old_seq = seq(&drain(&st, it.clone()).await.0[0]);

    // 15 minutes: still valid. Past that: expired.
    server.advance_clock(15 * 60 * 1000);
    st.get_records().shard_iterator(&it).send().await.unwrap();
    server.advance_clock(1);
    let e = st.get_records().shard_iterator(&it).send().await.unwrap_err();
    assert_eq!(err_of(e).0, "ExpiredIteratorException");

    // To ten minutes before the first record turns 24 hours old.
    server.advance_clock(24 * HOUR_MS - 25 * 60 * 1000 - 1);
    db.put_item().table_name("trim").item("pk", s("new")).send().await.unwrap();
    let at_old = iterator(&st, &arn, &shard, ShardIteratorType::AtSequenceNumber, Some(&old_seq)).await;
    server.advance_clock(10 * 60 * 1000 + 2);
    // The first record is now older than 24 hours and trimmed; the second is not, and
    // the iterator is younger than 15 minutes.
    let e = st.get_records().shard_iterator(&at_old).send().await.unwrap_err();
    assert_eq!(
        err_of(e),
        ("TrimmedDataAccessException".into(), "The data you are trying to access has been trimmed".into())
    );
    let e = st
        .get_shard_iterator()
        .stream_arn(&arn)
        .shard_id(&shard)
        .shard_iterator_type(ShardIteratorType::AtSequenceNumber)
        .sequence_number(&old_seq)
        .send()
        .await
        .unwrap_err();
    assert_eq!(err_of(e).0, "TrimmedDataAccessException");
    let left = read_all(&st, &arn).await;
    assert_eq!(left.len(), 1);
    assert_eq!(text(&left[0].dynamodb().unwrap().keys().unwrap()["pk"]), "new");

    // A disabled stream is listed for 24 hours, then forgotten.
    db.update_table()
        .table_name("trim")
        .stream_specification(StreamSpecification::builder().stream_enabled(false).build().unwrap())
        .send()
        .await
        .unwrap();
    assert_eq!(st.list_streams().send().await.unwrap().streams().len(), 1);
    server.advance_clock(25 * HOUR_MS);
    assert_eq!(st.list_streams().send().await.unwrap().streams().len(), 0);
    let e = st.describe_stream().stream_arn(&arn).send().await.unwrap_err();
    assert_eq!(err_of(e).0, "ResourceNotFoundException");
}

#[tokio::test]
async fn a_consumer_sees_every_acknowledged_change_once_in_item_order() {
    // Shards roll over every second, so the consumer crosses several.
    let server = Server::start_with(&["--stream-shard-rollover-secs", "1"]);
    let db = server.client();
    let st = server.streams_client();
    let arn = table_with_stream(&db, "feed", StreamViewType::NewImage).await;
    const KEYS: usize = 8;
    let deadline = std::time::Instant::now() + std::time::Duration::from_millis(2500);
    let mut writers = Vec::new();
    for w in 0..4 {
        let db = db.clone();
        writers.push(tokio::spawn(async move {
            let mut acked: Vec<(String, u64)> = Vec::new();
            let mut i = 0usize;
            while std::time::Instant::now() < deadline && i < 2000 {
                let key = format!("k{}", (i * 7 + w) % KEYS);
                let out = db
                    .update_item()
                    .table_name("feed")
                    .key("pk", s(&key))
                    .update_expression("ADD v :one")
                    .expression_attribute_values(":one", n("1"))
                    .return_values(ReturnValue::UpdatedNew)
                    .send()
                    .await
                    .unwrap();
                let v = match &out.attributes().unwrap()["v"] {
                    aws_sdk_dynamodb::types::AttributeValue::N(v) => v.parse().unwrap(),
                    other => panic!("{other:?}"),
                };
                acked.push((key, v));
                i += 1;
            }
            acked
        }));
    }
    // The consumer follows the lineage while the writers run: it reads the shards it
    // knows, asks for children of the last, and stops when writers are done and a
    // full pass finds nothing new.
    let consumer = {
        let st = st.clone();
        let arn = arn.clone();
        tokio::spawn(async move {
            let mut seen: Vec<(String, u64)> = Vec::new();
            let mut done_shards: Vec<String> = Vec::new();
            let mut open: HashMap<String, String> = HashMap::new();
            let stop_after = deadline + std::time::Duration::from_secs(3);
            while std::time::Instant::now() < stop_after {
                for shard in shard_ids(&st, &arn).await {
                    if done_shards.contains(&shard) {
                        continue;
                    }
                    let it = match open.remove(&shard) {
                        Some(it) => it,
                        None => iterator(&st, &arn, &shard, ShardIteratorType::TrimHorizon, None).await,
                    };
                    let (records, next) = drain(&st, it).await;
                    for r in &records {
                        let d = r.dynamodb().unwrap();
                        let k = text(&d.keys().unwrap()["pk"]);
                        let v: u64 = image_attr(d.new_image(), "v").unwrap().parse().unwrap();
                        seen.push((k, v));
                    }
                    match next {
                        None => done_shards.push(shard),
                        Some(n) => {
                            // A child is read only after its parent is done.
                            open.insert(shard, n);
                            break;
                        }
                    }
                }
                tokio::time::sleep(std::time::Duration::from_millis(50)).await;
            }
            seen
        })
    };
    let mut acked = Vec::new();
    for w in writers {
        acked.extend(w.await.unwrap());
    }
    let seen = consumer.await.unwrap();
    assert!(acked.len() > 100, "only {} writes", acked.len());
    assert!(shard_ids(&st, &arn).await.len() >= 2, "no rollover happened");
    // Per item: exactly 1, 2, 3, … up to the last acknowledged value.
    let mut per_key: HashMap<String, Vec<u64>> = HashMap::new();
    for (k, v) in &seen {
        per_key.entry(k.clone()).or_default().push(*v);
    }
    let mut last_acked: HashMap<String, u64> = HashMap::new();
    for (k, v) in &acked {
        let e = last_acked.entry(k.clone()).or_default();
        *e = (*e).max(*v);
    }
    for (k, max) in &last_acked {
        let got = per_key.get(k).cloned().unwrap_or_default();
        assert_eq!(got, (1..=*max).collect::<Vec<_>>(), "key {k}");
    }
    assert_eq!(seen.len(), acked.len());
}

#[tokio::test]
async fn table_and_stream_agree_after_kill_9() {
    let dir = tempfile::tempdir().unwrap();
    let server = Server::start_durable(dir.path());
    let db = server.client();
    let arn = table_with_stream(&db, "crash", StreamViewType::NewImage).await;
    const KEYS: usize = 8;
    let mut writers = Vec::new();
    for w in 0..4 {
        let db = db.clone();
        writers.push(tokio::spawn(async move {
            let mut acked: HashMap<String, u64> = HashMap::new();
            for i in 0..100_000usize {
                let key = format!("k{}", (i * 3 + w) % KEYS);
                let out = db
                    .update_item()
                    .table_name("crash")
                    .key("pk", s(&key))
                    .update_expression("ADD v :one")
                    .expression_attribute_values(":one", n("1"))
                    .return_values(ReturnValue::UpdatedNew)
                    .send()
                    .await;
                let Ok(out) = out else { break }; // the server is gone
                let v: u64 = match &out.attributes().unwrap()["v"] {
                    aws_sdk_dynamodb::types::AttributeValue::N(v) => v.parse().unwrap(),
                    other => panic!("{other:?}"),
                };
                let e = acked.entry(key).or_default();
                *e = (*e).max(v);
            }
            acked
        }));
    }
    tokio::time::sleep(std::time::Duration::from_millis(800)).await;
    server.kill9();
    let mut acked: HashMap<String, u64> = HashMap::new();
    for w in writers {
        for (k, v) in w.await.unwrap() {
            let e = acked.entry(k).or_default();
            *e = (*e).max(v);
        }
    }
    assert!(acked.values().sum::<u64>() > 20, "too few writes before the kill: {acked:?}");

    let server = Server::start_durable(dir.path());
    let db = server.client();
    let st = server.streams_client();
    let mut table: HashMap<String, u64> = HashMap::new();
    for item in db.scan().table_name("crash").send().await.unwrap().items() {
        let v = item["v"].as_n().unwrap().parse().unwrap();
        table.insert(item["pk"].as_s().unwrap().clone(), v);
    }
    let mut stream: HashMap<String, Vec<u64>> = HashMap::new();
    for r in read_all(&st, &arn).await {
        let d = r.dynamodb().unwrap();
        let v = image_attr(d.new_image(), "v").unwrap().parse().unwrap();
        stream.entry(text(&d.keys().unwrap()["pk"])).or_default().push(v);
    }
    for (k, v) in &table {
        // Every change the table holds is in the stream, once, in order; nothing else is.
        assert_eq!(stream.get(k).cloned().unwrap_or_default(), (1..=*v).collect::<Vec<_>>(), "key {k}");
        // Every acknowledged change is in the table.
        assert!(*v >= acked.get(k).copied().unwrap_or(0), "key {k}: table {v} < acknowledged");
    }
    assert_eq!(stream.len(), table.len());

    // The stream goes on after the restart, with larger sequence numbers.
    let before = read_all(&st, &arn).await.last().map(seq).unwrap();
    db.put_item().table_name("crash").item("pk", s("after")).send().await.unwrap();
    let after = read_all(&st, &arn).await.last().map(seq).unwrap();
    assert!(after > before);
}

#[tokio::test]
async fn stream_specification_validation_messages() {
    let server = Server::start();
    let create = |spec: &str| {
        format!(
            r#"{{"TableName":"vvv","AttributeDefinitions":[{{"AttributeName":"pk","AttributeType":"S"}}],"KeySchema":[{{"AttributeName":"pk","KeyType":"HASH"}}],"BillingMode":"PAY_PER_REQUEST","StreamSpecification":{spec}}}"#
        )
    };
    let cases = [
        (r#"{"StreamEnabled":true}"#, "One or more parameter values were invalid: Table is being created with a stream enabled, UpdateViewType is required"),
        (r#"{"StreamEnabled":false,"StreamViewType":"NEW_IMAGE"}"#, "One or more parameter values were invalid: Table is being created with a stream disabled, UpdateViewType should not be specified"),
        (r#"{"StreamViewType":"NEW_IMAGE"}"#, "1 validation error detected: Value null at 'streamSpecification.streamEnabled' failed to satisfy constraint: Member must not be null"),
        (r#"{"StreamEnabled":true,"StreamViewType":"new_image"}"#, "1 validation error detected: Value 'new_image' at 'streamSpecification.streamViewType' failed to satisfy constraint: Member must satisfy enum value set: [OLD_IMAGE, KEYS_ONLY, NEW_AND_OLD_IMAGES, NEW_IMAGE]"),
    ];
    for (spec, msg) in cases {
        let (status, body) = server.call("CreateTable", &create(spec));
        assert_eq!((status, body["message"].as_str()), (400, Some(msg)), "{spec}");
    }
    let (status, _) = server.call("CreateTable", &create(r#"{"StreamEnabled":false}"#));
    assert_eq!(status, 200);
    let (_, d) = server.call("DescribeTable", r#"{"TableName":"vvv"}"#);
    assert!(d["Table"].get("LatestStreamArn").is_none());
    let update = |spec: &str| format!(r#"{{"TableName":"vvv","StreamSpecification":{spec}}}"#);
    let cases = [
        (r#"{"StreamEnabled":true}"#, "One or more parameter values were invalid: If stream is being enabled then UpdateViewType is required"),
        (r#"{"StreamEnabled":false,"StreamViewType":"KEYS_ONLY"}"#, "One or more parameter values were invalid: If stream is being disabled, then UpdateViewType must not be specified"),
    ];
    for (spec, msg) in cases {
        let (status, body) = server.call("UpdateTable", &update(spec));
        assert_eq!((status, body["message"].as_str()), (400, Some(msg)), "{spec}");
    }
    // The Streams API answers on its own target prefix only.
    let (status, _, body) = server.raw(
        "POST",
        &[
            ("Content-Type", "application/x-amz-json-1.0"),
            ("X-Amz-Target", "DynamoDB_20120810.ListStreams"),
            ("Authorization", common::AUTH),
        ],
        b"{}",
    );
    let body: serde_json::Value = serde_json::from_slice(&body).unwrap();
    assert_eq!((status, body["__type"].as_str()), (400, Some("com.amazon.coral.service#UnknownOperationException")));
}
