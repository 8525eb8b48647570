//! Disk full: on a small tmpfs (needs root to mount; skipped with a note otherwise),
//! writes past the space fail with InternalServerError, reads go on, nothing
//! acknowledged is lost, and once space is back writes resume in the running server
//! (the store reopens itself), and everything is still there after a restart.

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use aws_sdk_dynamodb::primitives::Blob;
use aws_sdk_dynamodb::types::AttributeValue;
use common::{s, Rng, Server};

fn mount(dir: &std::path::Path, size: &str, remount: bool) -> bool {
    let opts = if remount { format!("remount,size={size}") } else { format!("size={size}") };
    std::process::Command::new("mount")
        .args(["-t", "tmpfs", "-o", &opts, "tmpfs", dir.to_str().unwrap()])
        .status()
        .is_ok_and(|s| s.success())
}

#[tokio::test]
async fn a_full_disk_fails_writes_loses_nothing_and_writes_resume_when_space_is_back() {
    let mnt = tempfile::tempdir().unwrap();
    if !mount(mnt.path(), "24m", false) {
        eprintln!("disk_full: cannot mount a tmpfs here (not root?); skipped");
        return;
    }
    let data = mnt.path().join("data");
    let mut acked = Vec::new();
    let mut rng = Rng(7);
    {
        let server = Server::start_durable(&data);
        let db = server.client_without_retries();
        common::create_table(&db, "full", false).await;
        let mut failure = None;
        for i in 0..2000 {
            let payload: Vec<u8> = (0..60_000).map(|_| rng.next() as u8).collect();
            let r = db
                .put_item()
                .table_name("full")
                .item("pk", s(&format!("k{i}")))
                .item("v", AttributeValue::B(Blob::new(payload)))
                .send()
                .await;
            match r {
                Ok(_) => acked.push(format!("k{i}")),
                Err(e) => {
                    failure = Some(e);
                    break;
                }
            }
        }
        let failure = failure.expect("the disk never filled");
        let code = failure.as_service_error().and_then(|e| e.meta().code()).map(str::to_string);
        assert_eq!(code.as_deref(), Some("InternalServerError"), "{failure:?}");
        // Reads go on, and so do further writes fail (not hang) while the disk is full.
        let got = db.get_item().table_name("full").key("pk", s(&acked[0])).send().await.unwrap();
        assert!(got.item().is_some());
        let again = db.put_item().table_name("full").item("pk", s("still-full")).send().await;
        let code = again.as_ref().err().and_then(|e| e.as_service_error()).and_then(|e| e.meta().code());
        assert_eq!(code, Some("InternalServerError"), "{again:?}");

        // Space comes back: writes resume in the same process.
        assert!(mount(mnt.path(), "256m", true), "remount with more space");
        let started = std::time::Instant::now();
        loop {
            let r = db.put_item().table_name("full").item("pk", s("after")).send().await;
            if r.is_ok() {
                break;
            }
            assert!(started.elapsed() < std::time::Duration::from_secs(20), "writes did not resume: {r:?}");
            tokio::time::sleep(std::time::Duration::from_millis(100)).await;
        }
        eprintln!("disk_full: writes resumed {} ms after space came back", started.elapsed().as_millis());
        for k in &acked {
            let got = db.get_item().table_name("full").key("pk", s(k)).send().await.unwrap();
            assert!(got.item().is_some(), "acknowledged item {k} lost after the store reopened");
        }
        for i in 0..50 {
            db.put_item().table_name("full").item("pk", s(&format!("resumed{i}"))).send().await.unwrap();
        }
        server.kill9();
    }
    {
        let server = Server::start_durable(&data);
        let db = server.client();
        for k in acked.iter().map(String::as_str).chain(["after"]) {
            let got = db.get_item().table_name("full").key("pk", s(k)).send().await.unwrap();
            assert!(got.item().is_some(), "acknowledged item {k} lost");
        }
        for i in 0..50 {
            let got = db.get_item().table_name("full").key("pk", s(&format!("resumed{i}"))).send().await.unwrap();
            assert!(got.item().is_some(), "write resumed{i} acknowledged after recovery lost");
        }
        eprintln!(
            "disk_full: {} writes acknowledged before the disk filled, all present after kill -9 and restart",
            acked.len()
        );
        server.terminate();
    }
    let _ = std::process::Command::new("umount").arg(mnt.path()).status();
}
