//! One conformance suite for every implementation of the storage interface: each
//! test runs against the in-memory engine and against fjall.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::sync::Arc;

use stator_storage::fjall_engine::FjallEngine;
use stator_storage::local::{LocalStore, SyncPolicy};
use stator_storage::mem::MemEngine;
use stator_storage::{decode_counter, Direction, KeyRange, KvStore, StorageError};

fn each_store(test: impl Fn(&dyn KvStore)) {
    test(&LocalStore::new(MemEngine::new(), SyncPolicy::Always));
    let dir = tempfile::tempdir().unwrap();
    test(&LocalStore::new(FjallEngine::open(dir.path()).unwrap(), SyncPolicy::Always));
}

fn put(s: &dyn KvStore, k: &[u8], v: &[u8]) {
    let mut t = s.begin();
    t.put(k.to_vec(), v.to_vec());
    t.commit().unwrap().wait_durable().unwrap();
}

#[test]
fn read_your_writes_and_snapshots() {
    each_store(|s| {
        put(s, b"a", b"1");
        let snap = s.snapshot();
        let mut t = s.begin();
        t.put(b"b".to_vec(), b"2".to_vec());
        assert_eq!(t.get(b"b").unwrap(), Some(b"2".to_vec()));
        assert_eq!(s.snapshot().get(b"b").unwrap(), None, "uncommitted writes are invisible");
        t.commit().unwrap();
        assert_eq!(s.snapshot().get(b"b").unwrap(), Some(b"2".to_vec()));
        assert_eq!(snap.get(b"b").unwrap(), None, "an older snapshot does not change");
    });
}

#[test]
fn ordered_scans_both_ways() {
    each_store(|s| {
        let mut t = s.begin();
        for k in [b"p1".to_vec(), b"p2".to_vec(), b"p3".to_vec(), b"q1".to_vec(), vec![b'p', 0xFF]] {
            t.put(k, b"v".to_vec());
        }
        t.commit().unwrap();
        let snap = s.snapshot();
        let fwd: Vec<Vec<u8>> = snap.scan(KeyRange::prefix(b"p"), Direction::Forward).map(|r| r.unwrap().0).collect();
        assert_eq!(fwd, vec![b"p1".to_vec(), b"p2".to_vec(), b"p3".to_vec(), vec![b'p', 0xFF]]);
        let rev: Vec<Vec<u8>> = snap.scan(KeyRange::prefix(b"p"), Direction::Reverse).map(|r| r.unwrap().0).collect();
        assert_eq!(rev, fwd.iter().rev().cloned().collect::<Vec<_>>());
    });
}

#[test]
fn conflicting_transactions_fail() {
    each_store(|s| {
        put(s, b"k", b"0");
        let mut t1 = s.begin();
        let mut t2 = s.begin();
        assert_eq!(t1.get(b"k").unwrap(), Some(b"0".to_vec()));
        assert_eq!(t2.get(b"k").unwrap(), Some(b"0".to_vec()));
        t1.put(b"k".to_vec(), b"1".to_vec());
        t2.put(b"k".to_vec(), b"2".to_vec());
        t1.commit().unwrap();
        assert!(matches!(t2.commit(), Err(StorageError::Conflict)));
        assert_eq!(s.snapshot().get(b"k").unwrap(), Some(b"1".to_vec()));
    });
}

#[test]
fn counters_commute() {
    each_store(|s| {
        let mut t1 = s.begin();
        let mut t2 = s.begin();
        t1.add_counter(b"c".to_vec(), 5);
        t2.add_counter(b"c".to_vec(), -2);
        t1.commit().unwrap();
        t2.commit().unwrap();
        assert_eq!(decode_counter(s.snapshot().get(b"c").unwrap().as_deref()), 3);
        let mut t = s.begin();
        t.add_counter(b"c".to_vec(), -3);
        t.commit().unwrap();
        assert_eq!(s.snapshot().get(b"c").unwrap(), None, "a counter at zero is removed");
    });
}

/// 8 threads increment one key through read-modify-write transactions with retry:
/// no increment is lost.
#[test]
fn concurrent_read_modify_write_loses_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let stores: Vec<Arc<dyn KvStore>> = vec![
        Arc::new(LocalStore::new(MemEngine::new(), SyncPolicy::Always)),
        Arc::new(LocalStore::new(FjallEngine::open(dir.path()).unwrap(), SyncPolicy::Always)),
    ];
    for s in stores {
        let threads: Vec<_> = (0..8)
            .map(|_| {
                let s = s.clone();
                std::thread::spawn(move || {
                    for _ in 0..200 {
                        loop {
                            let mut t = s.begin();
                            let n = decode_counter(t.get(b"n").unwrap().as_deref());
                            t.put(b"n".to_vec(), (n + 1).to_be_bytes().to_vec());
                            match t.commit() {
                                Ok(c) => {
                                    c.wait_durable().unwrap();
                                    break;
                                }
                                Err(StorageError::Conflict) => continue,
                                Err(e) => panic!("{e}"),
                            }
                        }
                    }
                })
            })
            .collect();
        for t in threads {
            t.join().unwrap();
        }
        assert_eq!(decode_counter(s.snapshot().get(b"n").unwrap().as_deref()), 1600);
    }
}

#[test]
fn fjall_survives_reopen() {
    let dir = tempfile::tempdir().unwrap();
    {
        let s = LocalStore::new(FjallEngine::open(dir.path()).unwrap(), SyncPolicy::Always);
        put(&s, b"x", b"y");
    }
    let s = LocalStore::new(FjallEngine::open(dir.path()).unwrap(), SyncPolicy::Always);
    assert_eq!(s.snapshot().get(b"x").unwrap(), Some(b"y".to_vec()));
}
