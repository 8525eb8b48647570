//! TransactWriteItems and TransactGetItems through the AWS SDK: every action type,
//! cancellation reasons, idempotency tokens, snapshot reads, and a bank invariant
//! under contention.

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use aws_sdk_dynamodb::operation::transact_write_items::TransactWriteItemsError;
use aws_sdk_dynamodb::types::{
    ConditionCheck, Delete, Get, Put, ReturnConsumedCapacity, ReturnValuesOnConditionCheckFailure, TransactGetItem,
    TransactWriteItem, Update,
};
use aws_sdk_dynamodb::Client;
use common::{create_table, err_of, n, s, Server};

fn put(table: &str, pk: &str, v: i64) -> TransactWriteItem {
    TransactWriteItem::builder()
        .put(Put::builder().table_name(table).item("pk", s(pk)).item("v", n(&v.to_string())).build().unwrap())
        .build()
}

fn add(table: &str, pk: &str, delta: i64, min: Option<i64>) -> TransactWriteItem {
    let mut u = Update::builder()
        .table_name(table)
        .key("pk", s(pk))
        .update_expression("SET v = v + :d")
        .expression_attribute_values(":d", n(&delta.to_string()));
    if let Some(m) = min {
        u = u.condition_expression("v >= :m").expression_attribute_values(":m", n(&m.to_string()));
    }
    TransactWriteItem::builder().update(u.build().unwrap()).build()
}

async fn value(c: &Client, table: &str, pk: &str) -> Option<String> {
    let r = c.get_item().table_name(table).key("pk", s(pk)).consistent_read(true).send().await.unwrap();
    r.item.map(|i| i["v"].as_n().unwrap().clone())
}

#[tokio::test]
async fn all_action_types_commit_together() {
    let srv = Server::start();
    let c = srv.client();
    create_table(&c, "tx-a", false).await;
    create_table(&c, "tx-b", false).await;
    c.put_item().table_name("tx-a").item("pk", s("stock")).item("v", n("5")).send().await.unwrap();
    c.put_item().table_name("tx-b").item("pk", s("old")).item("v", n("1")).send().await.unwrap();
    let r = c
        .transact_write_items()
        .transact_items(add("tx-a", "stock", -1, Some(1)))
        .transact_items(put("tx-b", "order-1", 1))
        .transact_items(
            TransactWriteItem::builder()
                .delete(Delete::builder().table_name("tx-b").key("pk", s("old")).build().unwrap())
                .build(),
        )
        .transact_items(
            TransactWriteItem::builder()
                .condition_check(
                    ConditionCheck::builder()
                        .table_name("tx-a")
                        .key("pk", s("stock"))
                        .condition_expression("attribute_exists(pk)")
                        .build()
                        .unwrap(),
                )
                .build(),
        )
        .return_consumed_capacity(ReturnConsumedCapacity::Total)
        .send()
        .await;
    // ConditionCheck and Update on the same item are two operations on one item.
    let e = err_of(r.unwrap_err());
    assert_eq!(
        e,
        ("ValidationException".into(), "Transaction request cannot include multiple operations on one item".into())
    );
    let r = c
        .transact_write_items()
        .transact_items(add("tx-a", "stock", -1, Some(1)))
        .transact_items(put("tx-b", "order-1", 1))
        .transact_items(
            TransactWriteItem::builder()
                .delete(Delete::builder().table_name("tx-b").key("pk", s("old")).build().unwrap())
                .build(),
        )
        .transact_items(
            TransactWriteItem::builder()
                .condition_check(
                    ConditionCheck::builder()
                        .table_name("tx-a")
                        .key("pk", s("other"))
                        .condition_expression("attribute_not_exists(pk)")
                        .build()
                        .unwrap(),
                )
                .build(),
        )
        .return_consumed_capacity(ReturnConsumedCapacity::Total)
        .send()
        .await
        .unwrap();
    let caps = r.consumed_capacity.unwrap();
    let total: f64 = caps.iter().map(|c| c.capacity_units.unwrap()).sum();
    assert_eq!(total, 8.0, "transactional writes cost twice: 4 actions × 2 units");
    assert_eq!(value(&c, "tx-a", "stock").await.as_deref(), Some("4"));
    assert_eq!(value(&c, "tx-b", "order-1").await.as_deref(), Some("1"));
    assert_eq!(value(&c, "tx-b", "old").await, None);
}

#[tokio::test]
async fn failed_conditions_cancel_everything() {
    let srv = Server::start();
    let c = srv.client();
    create_table(&c, "tx-c", false).await;
    c.put_item().table_name("tx-c").item("pk", s("acct")).item("v", n("3")).send().await.unwrap();
    let failing = TransactWriteItem::builder()
        .update(
            Update::builder()
                .table_name("tx-c")
                .key("pk", s("acct"))
                .update_expression("SET v = v - :d")
                .condition_expression("v >= :d")
                .expression_attribute_values(":d", n("10"))
                .return_values_on_condition_check_failure(ReturnValuesOnConditionCheckFailure::AllOld)
                .build()
                .unwrap(),
        )
        .build();
    let e = c
        .transact_write_items()
        .transact_items(put("tx-c", "new", 1))
        .transact_items(failing)
        .send()
        .await
        .unwrap_err();
    match e.into_service_error() {
        TransactWriteItemsError::TransactionCanceledException(x) => {
            assert_eq!(
                x.message(),
                Some("Transaction cancelled, please refer cancellation reasons for specific reasons [None, ConditionalCheckFailed]")
            );
            let reasons = x.cancellation_reasons();
            assert_eq!(reasons.len(), 2);
            assert_eq!(reasons[0].code(), Some("None"));
            assert_eq!(reasons[1].code(), Some("ConditionalCheckFailed"));
            assert_eq!(reasons[1].item().unwrap()["v"], n("3"));
        }
        other => panic!("{other:?}"),
    }
    assert_eq!(value(&c, "tx-c", "new").await, None, "nothing of a cancelled transaction is applied");
    assert_eq!(value(&c, "tx-c", "acct").await.as_deref(), Some("3"));
    let e = err_of(c.transact_write_items().send().await.unwrap_err());
    assert_eq!(e.0, "ValidationException");
}

#[tokio::test]
async fn client_request_tokens_are_idempotent() {
    let srv = Server::start();
    let c = srv.client();
    create_table(&c, "tx-i", false).await;
    c.put_item().table_name("tx-i").item("pk", s("ctr")).item("v", n("0")).send().await.unwrap();
    for _ in 0..3 {
        c.transact_write_items()
            .transact_items(add("tx-i", "ctr", 1, None))
            .client_request_token("token-1")
            .send()
            .await
            .unwrap();
    }
    assert_eq!(value(&c, "tx-i", "ctr").await.as_deref(), Some("1"), "a repeated token does not apply again");
    let e = err_of(
        c.transact_write_items()
            .transact_items(add("tx-i", "ctr", 2, None))
            .client_request_token("token-1")
            .send()
            .await
            .unwrap_err(),
    );
    assert_eq!(e.0, "IdempotentParameterMismatchException");
}

#[tokio::test]
async fn transact_get_reads_one_snapshot() {
    let srv = Server::start();
    let c = srv.client();
    create_table(&c, "tx-g", false).await;
    c.put_item().table_name("tx-g").item("pk", s("a")).item("v", n("1")).item("w", s("x")).send().await.unwrap();
    let r = c
        .transact_get_items()
        .transact_items(
            TransactGetItem::builder()
                .get(Get::builder().table_name("tx-g").key("pk", s("a")).projection_expression("v").build().unwrap())
                .build(),
        )
        .transact_items(
            TransactGetItem::builder()
                .get(Get::builder().table_name("tx-g").key("pk", s("missing")).build().unwrap())
                .build(),
        )
        .return_consumed_capacity(ReturnConsumedCapacity::Total)
        .send()
        .await
        .unwrap();
    let resp = r.responses.unwrap();
    assert_eq!(resp[0].item.as_ref().unwrap().len(), 1);
    assert!(resp[1].item.is_none());
    assert_eq!(r.consumed_capacity.unwrap()[0].capacity_units, Some(4.0), "2 reads × 2 units");
}

/// Bank invariant: 1,000 accounts of 100 in 10 groups of 100; 16 clients run random
/// conditional transfers (a TransactWriteItems of two updates) inside a group, for a
/// bounded time, while an auditor reads whole groups with TransactGetItems (one
/// snapshot of 100 items) and single-item writes touch the same accounts without
/// changing balances. Every audit sees each group at exactly 10,000; at the end every
/// group still sums to 10,000 and the balances equal the initial ones plus exactly the
/// acknowledged transfers. Prints the conflict rate.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn bank_transfers_keep_the_total() {
    const GROUPS: u64 = 10;
    const PER_GROUP: u64 = 100;
    let srv = Server::start();
    let c = srv.client();
    create_table(&c, "bank", false).await;
    for g in 0..GROUPS {
        let mut writes = Vec::new();
        for i in 0..PER_GROUP {
            writes.push(
                aws_sdk_dynamodb::types::WriteRequest::builder()
                    .put_request(
                        aws_sdk_dynamodb::types::PutRequest::builder()
                            .item("pk", s(&format!("g{g}-a{i}")))
                            .item("v", n("100"))
                            .build()
                            .unwrap(),
                    )
                    .build(),
            );
        }
        for chunk in writes.chunks(25) {
            c.batch_write_item().request_items("bank", chunk.to_vec()).send().await.unwrap();
        }
    }
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(4);
    let mut workers = Vec::new();
    for w in 0..16u64 {
        let c = srv.client();
        workers.push(tokio::spawn(async move {
            let mut applied: Vec<(String, i64)> = Vec::new();
            let (mut ok, mut cancelled) = (0u32, 0u32);
            let mut seed = w * 7919 + 1;
            while std::time::Instant::now() < deadline && ok + cancelled < 2000 {
                seed = seed.wrapping_mul(6364136223846793005).wrapping_add(1442695040888963407);
                let g = (seed >> 50) % GROUPS;
                let from = (seed >> 33) % PER_GROUP;
                let to = (from + 1 + (seed >> 20) % (PER_GROUP - 1)) % PER_GROUP;
                let amount = 1 + ((seed >> 40) % 30) as i64;
                let (fa, ta) = (format!("g{g}-a{from}"), format!("g{g}-a{to}"));
                let r = c
                    .transact_write_items()
                    .transact_items(add("bank", &fa, -amount, Some(amount)))
                    .transact_items(add("bank", &ta, amount, None))
                    .send()
                    .await;
                match r {
                    Ok(_) => {
                        ok += 1;
                        applied.push((fa, -amount));
                        applied.push((ta, amount));
                    }
                    Err(e) => match e.into_service_error() {
                        TransactWriteItemsError::TransactionCanceledException(_) => cancelled += 1,
                        other => panic!("{other:?}"),
                    },
                }
            }
            (ok, cancelled, applied)
        }));
    }
    let audit = |c: Client, g: u64| async move {
        let mut b = c.transact_get_items();
        for i in 0..PER_GROUP {
            b = b.transact_items(
                TransactGetItem::builder()
                    .get(Get::builder().table_name("bank").key("pk", s(&format!("g{g}-a{i}"))).build().unwrap())
                    .build(),
            );
        }
        b.send().await.map(|r| {
            r.responses
                .unwrap()
                .iter()
                .map(|x| x.item.as_ref().unwrap()["v"].as_n().unwrap().parse::<i64>().unwrap())
                .sum::<i64>()
        })
    };
    let auditor = {
        let c = srv.client();
        tokio::spawn(async move {
            let (mut audits, mut cancelled, mut g) = (0u32, 0u32, 0u64);
            while std::time::Instant::now() < deadline && audits + cancelled < 5000 {
                // An audit that meets a transfer in progress is cancelled (TransactionConflict).
                match audit(c.clone(), g % GROUPS).await {
                    Ok(total) => {
                        assert_eq!(total, (PER_GROUP * 100) as i64, "audit of group {}", g % GROUPS);
                        audits += 1;
                    }
                    Err(e) => {
                        let se = e.into_service_error();
                        assert!(se.is_transaction_canceled_exception(), "{se:?}");
                        cancelled += 1;
                    }
                }
                g += 1;
            }
            (audits, cancelled)
        })
    };
    // Single-item writes on the same accounts that leave balances alone: they either
    // succeed or meet a transfer in progress (TransactionConflictException).
    let toucher = {
        let c = srv.client();
        tokio::spawn(async move {
            let (mut ok, mut conflicts) = (0u32, 0u32);
            let mut i = 0u64;
            while std::time::Instant::now() < deadline && i < 20_000 {
                let r = c
                    .update_item()
                    .table_name("bank")
                    .key("pk", s(&format!("g{}-a{}", i % GROUPS, (i / GROUPS) % PER_GROUP)))
                    .update_expression("SET touched = :t")
                    .expression_attribute_values(":t", n(&i.to_string()))
                    .send()
                    .await;
                match r {
                    Ok(_) => ok += 1,
                    Err(e) => {
                        let se = e.into_service_error();
                        assert!(se.is_transaction_conflict_exception(), "{se:?}");
                        conflicts += 1;
                    }
                }
                i += 1;
            }
            (ok, conflicts)
        })
    };
    let mut expected: std::collections::HashMap<String, i64> = std::collections::HashMap::new();
    let (mut ok, mut cancelled) = (0u32, 0u32);
    for w in workers {
        let (o, x, applied) = w.await.unwrap();
        ok += o;
        cancelled += x;
        for (k, d) in applied {
            *expected.entry(k).or_insert(100) += d;
        }
    }
    let (audits, audit_cancels) = auditor.await.unwrap();
    let (touch_ok, touch_conflicts) = toucher.await.unwrap();
    for g in 0..GROUPS {
        assert_eq!(audit(c.clone(), g).await.unwrap(), (PER_GROUP * 100) as i64, "final audit of group {g}");
    }
    for (k, v) in &expected {
        assert_eq!(
            value(&c, "bank", k).await.unwrap().parse::<i64>().unwrap(),
            *v,
            "{k}: every acknowledged transfer exactly once"
        );
    }
    assert!(ok > 0 && audits > 0);
    eprintln!(
        "bank: {ok} transfers committed, {cancelled} cancelled ({:.1}%); {audits} audits, {audit_cancels} cancelled; {touch_ok} single writes, {touch_conflicts} TransactionConflict",
        100.0 * cancelled as f64 / (ok + cancelled).max(1) as f64
    );
}

/// An action whose update fails at run time cancels the transaction with a
/// ValidationError reason; malformed requests get DynamoDB's validation errors.
#[tokio::test]
async fn validation_errors_and_reasons() {
    let srv = Server::start();
    let c = srv.client();
    create_table(&c, "tx-v", false).await;
    c.put_item().table_name("tx-v").item("pk", s("str")).item("v", s("text")).send().await.unwrap();
    let e = c
        .transact_write_items()
        .transact_items(put("tx-v", "fine", 1))
        .transact_items(add("tx-v", "str", 1, None))
        .send()
        .await
        .unwrap_err();
    match e.into_service_error() {
        TransactWriteItemsError::TransactionCanceledException(x) => {
            let r = x.cancellation_reasons();
            assert_eq!((r[0].code(), r[1].code()), (Some("None"), Some("ValidationError")));
            assert_eq!(r[1].message(), Some("An operand in the update expression has an incorrect data type"));
        }
        other => panic!("{other:?}"),
    }
    assert_eq!(value(&c, "tx-v", "fine").await, None);

    let e = err_of(
        c.transact_write_items()
            .transact_items(
                TransactWriteItem::builder()
                    .condition_check(
                        ConditionCheck::builder()
                            .table_name("tx-v")
                            .key("pk", s("x"))
                            .condition_expression("attribute_exists(pk)")
                            .expression_attribute_values(":unused", n("1"))
                            .build()
                            .unwrap(),
                    )
                    .build(),
            )
            .send()
            .await
            .unwrap_err(),
    );
    assert_eq!(e.1, "Value provided in ExpressionAttributeValues unused in expressions: keys: {:unused}");
    let e = err_of(c.transact_write_items().transact_items(put("missing-table", "x", 1)).send().await.unwrap_err());
    assert_eq!(e.0, "ResourceNotFoundException");
    let many: Vec<TransactWriteItem> = (0..101).map(|i| put("tx-v", &format!("k{i}"), 1)).collect();
    let e = err_of(c.transact_write_items().set_transact_items(Some(many)).send().await.unwrap_err());
    assert!(e.1.starts_with("1 validation error detected: Value "), "{}", e.1);
    assert!(
        e.1.ends_with(
            "at 'transactItems' failed to satisfy constraint: Member must have length less than or equal to 100"
        ),
        "{}",
        e.1
    );
    let both = TransactWriteItem::builder()
        .put(Put::builder().table_name("tx-v").item("pk", s("a")).build().unwrap())
        .delete(Delete::builder().table_name("tx-v").key("pk", s("a")).build().unwrap())
        .build();
    let e = err_of(c.transact_write_items().transact_items(both).send().await.unwrap_err());
    assert_eq!(e.0, "ValidationException");
}
