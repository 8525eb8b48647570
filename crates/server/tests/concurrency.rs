//! Concurrent clients get correct, isolated results: no lost update under
//! contention, exactly one winner of a conditional-put race, and writes to
//! different items proceed in parallel.

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use aws_sdk_dynamodb::types::ReturnValue;
use common::{create_table, n, s, Server};

/// `clients` clients each send `per_client` `ADD c :1` to one item; returns the final `c`.
async fn hammer_add(srv: &Server, clients: usize, per_client: usize) -> aws_sdk_dynamodb::types::AttributeValue {
    let c = srv.client();
    create_table(&c, "counter", false).await;
    let mut tasks = Vec::new();
    for _ in 0..clients {
        let c = srv.client();
        tasks.push(tokio::spawn(async move {
            for _ in 0..per_client {
                c.update_item()
                    .table_name("counter")
                    .key("pk", s("hot"))
                    .update_expression("ADD c :one")
                    .expression_attribute_values(":one", n("1"))
                    .send()
                    .await
                    .unwrap();
            }
        }));
    }
    for t in tasks {
        t.await.unwrap();
    }
    let item = c
        .get_item()
        .table_name("counter")
        .key("pk", s("hot"))
        .consistent_read(true)
        .send()
        .await
        .unwrap()
        .item
        .unwrap();
    item["c"].clone()
}

/// 16 clients × 500 `ADD c :1` on one item end exactly at 8000.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn concurrent_add_loses_no_increment() {
    let srv = Server::start();
    assert_eq!(hammer_add(&srv, 16, 500).await, n("8000"));
}

/// The same on the durable store, where each acknowledgement waits for a (shared) sync.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn concurrent_add_on_disk() {
    let dir = tempfile::tempdir().unwrap();
    let srv = Server::start_durable(dir.path());
    assert_eq!(hammer_add(&srv, 16, 100).await, n("1600"));
}

/// 16 clients race `attribute_not_exists(pk)` puts on one key, 20 rounds: each round
/// has exactly one winner, and the stored item is the winner's.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn conditional_put_race_has_one_winner() {
    let srv = Server::start();
    let c = srv.client();
    create_table(&c, "race", false).await;
    for round in 0..20 {
        let key = format!("k{round}");
        let mut tasks = Vec::new();
        for client_no in 0..16 {
            let c = srv.client();
            let key = key.clone();
            tasks.push(tokio::spawn(async move {
                let r = c
                    .put_item()
                    .table_name("race")
                    .item("pk", s(&key))
                    .item("owner", n(&client_no.to_string()))
                    .condition_expression("attribute_not_exists(pk)")
                    .send()
                    .await;
                match r {
                    Ok(_) => Some(client_no),
                    Err(e) => {
                        let se = e.into_service_error();
                        assert!(se.is_conditional_check_failed_exception(), "{se:?}");
                        None
                    }
                }
            }));
        }
        let mut winners = Vec::new();
        for t in tasks {
            if let Some(w) = t.await.unwrap() {
                winners.push(w);
            }
        }
        assert_eq!(winners.len(), 1, "round {round}: winners {winners:?}");
        let item = c
            .get_item()
            .table_name("race")
            .key("pk", s(&key))
            .consistent_read(true)
            .send()
            .await
            .unwrap()
            .item
            .unwrap();
        assert_eq!(item["owner"], n(&winners[0].to_string()));
    }
}

/// Many clients writing different items all succeed, and every item reads back;
/// ItemCount reflects every insert.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn parallel_writes_to_different_items() {
    let srv = Server::start();
    let c = srv.client();
    create_table(&c, "spread", false).await;
    let mut tasks = Vec::new();
    for t in 0..16 {
        let c = srv.client();
        tasks.push(tokio::spawn(async move {
            for i in 0..100 {
                let r = c
                    .update_item()
                    .table_name("spread")
                    .key("pk", s(&format!("{t}-{i}")))
                    .update_expression("SET v = :v")
                    .expression_attribute_values(":v", n(&i.to_string()))
                    .return_values(ReturnValue::AllNew)
                    .send()
                    .await
                    .unwrap();
                assert_eq!(r.attributes.unwrap()["v"], n(&i.to_string()));
            }
        }));
    }
    for t in tasks {
        t.await.unwrap();
    }
    let d = c.describe_table().table_name("spread").send().await.unwrap().table.unwrap();
    assert_eq!(d.item_count, Some(1600));
    for t in 0..16 {
        let got = c
            .get_item()
            .table_name("spread")
            .key("pk", s(&format!("{t}-99")))
            .consistent_read(true)
            .send()
            .await
            .unwrap();
        assert_eq!(got.item.unwrap()["v"], n("99"));
    }
}
