//! Time to Live through the AWS SDK, with the manual clock: the settings and their
//! validation, the sweep deleting exactly the expired items (index entries with them),
//! expired-but-unswept items staying readable, and the service-identity REMOVE
//! records in the table's stream.

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use aws_sdk_dynamodb::types::{AttributeValue, TimeToLiveSpecification};
use aws_sdk_dynamodb::Client;
use aws_sdk_dynamodbstreams::types::ShardIteratorType;
use common::{err_of, n, s, Server};

fn manual_server() -> Server {
    // Housekeeping only when the test advances the clock.
    Server::start_with(&["--clock", "manual", "--housekeeping-interval-ms", "3600000"])
}

fn spec(attr: &str, enabled: bool) -> TimeToLiveSpecification {
    TimeToLiveSpecification::builder().attribute_name(attr).enabled(enabled).build().unwrap()
}

async fn put(db: &Client, pk: &str, exp: Option<AttributeValue>) {
    let mut b = db.put_item().table_name("sessions").item("pk", s(pk)).item("owner", s("o"));
    if let Some(e) = exp {
        b = b.item("exp", e);
    }
    b.send().await.unwrap();
}

async fn keys(db: &Client, index: Option<&str>) -> Vec<String> {
    let out = db.scan().table_name("sessions").set_index_name(index.map(str::to_string)).send().await.unwrap();
    let mut v: Vec<String> = out.items().iter().map(|i| i["pk"].as_s().unwrap().clone()).collect();
    v.sort();
    v
}

#[tokio::test]
async fn settings_and_their_validation() {
    let server = manual_server();
    let db = server.client();
    common::create_table_with_index_and_stream(&db, "sessions", "by_owner", "owner").await;
    let d = db.describe_time_to_live().table_name("sessions").send().await.unwrap();
    assert_eq!(d.time_to_live_description().unwrap().time_to_live_status().unwrap().as_str(), "DISABLED");
    assert!(d.time_to_live_description().unwrap().attribute_name().is_none());

    let e = db.update_time_to_live().table_name("sessions").time_to_live_specification(spec("exp", false));
    assert_eq!(
        err_of(e.send().await.unwrap_err()),
        ("ValidationException".into(), "TimeToLive is already disabled".into())
    );

    let out = db.update_time_to_live().table_name("sessions").time_to_live_specification(spec("exp", true));
    let out = out.send().await.unwrap();
    let echoed = out.time_to_live_specification().unwrap();
    assert_eq!((echoed.attribute_name(), echoed.enabled()), ("exp", true));
    let d = db.describe_time_to_live().table_name("sessions").send().await.unwrap();
    let d = d.time_to_live_description().unwrap();
    assert_eq!(d.time_to_live_status().unwrap().as_str(), "ENABLED");
    assert_eq!(d.attribute_name(), Some("exp"));

    let cases = [
        (spec("exp", true), "TimeToLive is already enabled"),
        (spec("other", true), "TimeToLive is active on a different AttributeName: current AttributeName is exp"),
        (spec("other", false), "TimeToLive is active on a different AttributeName: current AttributeName is exp"),
        (spec("exp", false), "Time to live has been modified multiple times within a fixed interval"),
    ];
    for (sp, msg) in cases {
        let e = db.update_time_to_live().table_name("sessions").time_to_live_specification(sp).send().await;
        assert_eq!(err_of(e.unwrap_err()), ("ValidationException".into(), msg.into()));
    }
    // After the cool-down, it can be turned off.
    server.advance_clock(3600 * 1000);
    db.update_time_to_live()
        .table_name("sessions")
        .time_to_live_specification(spec("exp", false))
        .send()
        .await
        .unwrap();
    let d = db.describe_time_to_live().table_name("sessions").send().await.unwrap();
    assert_eq!(d.time_to_live_description().unwrap().time_to_live_status().unwrap().as_str(), "DISABLED");

    let (status, body) = server.call(
        "UpdateTimeToLive",
        r#"{"TableName":"sessions","TimeToLiveSpecification":{"Enabled":true,"AttributeName":""}}"#,
    );
    assert_eq!(status, 400);
    assert_eq!(
        body["message"],
        "1 validation error detected: Value '' at 'timeToLiveSpecification.attributeName' failed to satisfy constraint: Member must have length greater than or equal to 1"
    );
    let (status, body) = server.call("DescribeTimeToLive", r#"{"TableName":"nope"}"#);
    assert_eq!(status, 400);
    assert_eq!(body["__type"], "com.amazonaws.dynamodb.v20120810#ResourceNotFoundException");
}

#[tokio::test]
async fn the_sweep_deletes_exactly_the_expired_items() {
    let server = manual_server();
    let db = server.client();
    let st = server.streams_client();
    let arn = common::create_table_with_index_and_stream(&db, "sessions", "by_owner", "owner").await;
    db.update_time_to_live().table_name("sessions").time_to_live_specification(spec("exp", true)).send().await.unwrap();
    let now = server.clock_now_ms() / 1000;
    put(&db, "past", Some(n(&(now - 1).to_string()))).await;
    put(&db, "future", Some(n(&(now + 100).to_string()))).await;
    put(&db, "string", Some(s(&(now - 1).to_string()))).await;
    put(&db, "missing", None).await;
    put(&db, "ancient", Some(n(&(now - 6 * 365 * 86_400).to_string()))).await;
    put(&db, "renewed", Some(n(&(now - 1).to_string()))).await;

    // Expired but not yet swept: still readable.
    let got = db.get_item().table_name("sessions").key("pk", s("past")).send().await.unwrap();
    assert!(got.item().is_some());
    assert_eq!(keys(&db, None).await.len(), 6);
    // An update to an expired item before the sweep is honoured.
    db.update_item()
        .table_name("sessions")
        .key("pk", s("renewed"))
        .update_expression("SET exp = :e")
        .expression_attribute_values(":e", n(&(now + 1000).to_string()))
        .send()
        .await
        .unwrap();

    server.advance_clock(1);
    let left = ["ancient", "future", "missing", "renewed", "string"];
    assert_eq!(keys(&db, None).await, left);
    assert_eq!(keys(&db, Some("by_owner")).await, left, "the index entry goes with the item");

    server.advance_clock(101 * 1000);
    let left = ["ancient", "missing", "renewed", "string"];
    assert_eq!(keys(&db, None).await, left);
    assert_eq!(keys(&db, Some("by_owner")).await, left);
    let t = db.describe_table().table_name("sessions").send().await.unwrap();
    assert_eq!(t.table().unwrap().item_count(), Some(4));

    // The stream: user INSERTs and MODIFY, then the service's REMOVEs.
    let shard = st.describe_stream().stream_arn(&arn).send().await.unwrap();
    let shard = shard.stream_description().unwrap().shards()[0].shard_id().unwrap().to_string();
    let it = st
        .get_shard_iterator()
        .stream_arn(&arn)
        .shard_id(&shard)
        .shard_iterator_type(ShardIteratorType::TrimHorizon)
        .send()
        .await
        .unwrap();
    let page = st.get_records().shard_iterator(it.shard_iterator().unwrap()).send().await.unwrap();
    let summary: Vec<(String, String, bool)> = page
        .records()
        .iter()
        .map(|r| {
            let d = r.dynamodb().unwrap();
            let pk = match &d.keys().unwrap()["pk"] {
                aws_sdk_dynamodbstreams::types::AttributeValue::S(s) => s.clone(),
                other => panic!("{other:?}"),
            };
            (r.event_name().unwrap().as_str().to_string(), pk, r.user_identity().is_some())
        })
        .collect();
    let want: Vec<(String, String, bool)> = [
        ("INSERT", "past", false),
        ("INSERT", "future", false),
        ("INSERT", "string", false),
        ("INSERT", "missing", false),
        ("INSERT", "ancient", false),
        ("INSERT", "renewed", false),
        ("MODIFY", "renewed", false),
        ("REMOVE", "past", true),
        ("REMOVE", "future", true),
    ]
    .iter()
    .map(|(e, k, u)| (e.to_string(), k.to_string(), *u))
    .collect();
    assert_eq!(summary, want);
    for r in page.records().iter().filter(|r| r.user_identity().is_some()) {
        let id = r.user_identity().unwrap();
        assert_eq!(id.principal_id(), Some("dynamodb.amazonaws.com"));
        assert_eq!(id.r#type(), Some("Service"));
        assert!(r.dynamodb().unwrap().old_image().is_some());
        assert!(r.dynamodb().unwrap().new_image().is_none());
    }
}

#[tokio::test]
async fn the_clock_endpoint_exists_only_with_the_manual_clock() {
    let server = Server::start();
    // Without it, the path is answered like any other unsigned request.
    let (status, _, body) = server.raw_at("POST", "/stator/clock", &[], br#"{"advance_ms":1000}"#);
    let (status_root, _, body_root) = server.raw_at("POST", "/", &[], br#"{"advance_ms":1000}"#);
    assert_eq!(status, 400);
    let v: serde_json::Value = serde_json::from_slice(&body).unwrap();
    let v_root: serde_json::Value = serde_json::from_slice(&body_root).unwrap();
    assert_eq!((status, &v), (status_root, &v_root));
    assert_eq!(v["__type"], "com.amazon.coral.service#MissingAuthenticationTokenException");
    let (status, _, body) = server.raw_at("GET", "/stator/clock", &[], b"");
    assert_eq!((status, body.as_slice()), (200, b"healthy: stator".as_slice()));

    let manual = manual_server();
    let t0 = manual.clock_now_ms();
    assert_eq!(manual.advance_clock(1500), t0 + 1500);
    assert_eq!(manual.clock_now_ms(), t0 + 1500);
    let (status, _, _) = manual.raw_at("POST", "/stator/clock", &[], b"{\"advance_ms\":-1}");
    assert_eq!(status, 400);
    assert_eq!(manual.clock_now_ms(), t0 + 1500);
}

#[tokio::test]
async fn a_large_table_is_swept_completely_in_bounded_passes() {
    use aws_sdk_dynamodb::types::{PutRequest, WriteRequest};
    let server = manual_server();
    let db = server.client();
    common::create_table(&db, "big", false).await;
    db.update_time_to_live().table_name("big").time_to_live_specification(spec("exp", true)).send().await.unwrap();
    let now = server.clock_now_ms() / 1000;
    // More items than one pass examines, more expired ones than one pass deletes.
    let total = 10_500;
    let mut batch = Vec::new();
    for i in 0..total {
        let exp = if i % 2 == 0 { now - 10 } else { now + 3600 };
        batch.push(
            WriteRequest::builder()
                .put_request(
                    PutRequest::builder()
                        .item("pk", s(&format!("k{i}")))
                        .item("exp", n(&exp.to_string()))
                        .build()
                        .unwrap(),
                )
                .build(),
        );
        if batch.len() == 25 {
            let out = db.batch_write_item().request_items("big", std::mem::take(&mut batch)).send().await.unwrap();
            assert!(out.unprocessed_items().is_none_or(|u| u.is_empty()));
        }
    }
    server.advance_clock(1);
    let t = db.describe_table().table_name("big").send().await.unwrap();
    assert_eq!(t.table().unwrap().item_count(), Some(total / 2));
    let mut start = None;
    let mut seen = 0;
    loop {
        let page = db.scan().table_name("big").set_exclusive_start_key(start.take()).send().await.unwrap();
        for item in page.items() {
            let exp: u64 = item["exp"].as_n().unwrap().parse().unwrap();
            assert!(exp > now, "an expired item survived the sweep");
            seen += 1;
        }
        match page.last_evaluated_key() {
            Some(k) => start = Some(k.clone()),
            None => break,
        }
    }
    assert_eq!(seen, total / 2);
}
