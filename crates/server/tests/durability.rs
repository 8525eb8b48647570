//! An acknowledged write survives `kill -9` and a restart; a clean SIGTERM exits 0.

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use common::{create_table, n, s, Server};

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn acknowledged_writes_survive_kill_9() {
    let dir = tempfile::tempdir().unwrap();
    let srv = Server::start_durable(dir.path());
    let c = srv.client();
    create_table(&c, "durable", false).await;
    // Concurrent writers, so that group commit is exercised.
    let mut tasks = Vec::new();
    for t in 0..8 {
        let c = srv.client();
        tasks.push(tokio::spawn(async move {
            for i in 0..125 {
                c.put_item()
                    .table_name("durable")
                    .item("pk", s(&format!("{t}-{i}")))
                    .item("v", n(&i.to_string()))
                    .send()
                    .await
                    .unwrap();
            }
        }));
    }
    for t in tasks {
        t.await.unwrap();
    }
    c.update_item()
        .table_name("durable")
        .key("pk", s("0-0"))
        .update_expression("SET v = :v")
        .expression_attribute_values(":v", n("42"))
        .send()
        .await
        .unwrap();
    c.delete_item().table_name("durable").key("pk", s("0-1")).send().await.unwrap();
    srv.kill9();

    let srv = Server::start_durable(dir.path());
    let c = srv.client();
    let d = c.describe_table().table_name("durable").send().await.unwrap().table.unwrap();
    assert_eq!(d.item_count, Some(999));
    for t in 0..8 {
        for i in 0..125 {
            let got = c
                .get_item()
                .table_name("durable")
                .key("pk", s(&format!("{t}-{i}")))
                .consistent_read(true)
                .send()
                .await
                .unwrap();
            match (t, i) {
                (0, 0) => assert_eq!(got.item.unwrap()["v"], n("42")),
                (0, 1) => assert!(got.item.is_none()),
                _ => assert_eq!(got.item.unwrap()["v"], n(&i.to_string()), "item {t}-{i}"),
            }
        }
    }
}

#[tokio::test]
async fn sigterm_shuts_down_cleanly_and_data_stays() {
    let dir = tempfile::tempdir().unwrap();
    let srv = Server::start_durable(dir.path());
    let c = srv.client();
    create_table(&c, "clean", false).await;
    c.put_item().table_name("clean").item("pk", s("a")).send().await.unwrap();
    let status = srv.terminate();
    assert!(status.success(), "exit status {status:?}");
    let srv = Server::start_durable(dir.path());
    let got = srv.client().get_item().table_name("clean").key("pk", s("a")).send().await.unwrap();
    assert!(got.item.is_some());
}
