//! The default durable engine: fjall, a pure-Rust LSM tree (see
//! docs/adr/0002-storage-engine.md). One keyspace holds everything; batches are
//! atomic across keys; snapshots are MVCC sequence numbers.

use std::path::Path;

use fjall::{Database, Keyspace, KeyspaceCreateOptions, PersistMode, Readable};

use crate::local::{LocalEngine, Write};
use crate::{Direction, EngineLimits, KeyRange, ReadView, Result, ScanIter, StorageError};

/// The fjall engine.
pub struct FjallEngine {
    db: Database,
    ks: Keyspace,
}

fn err(e: impl std::fmt::Display) -> StorageError {
    StorageError::Engine(e.to_string())
}

impl FjallEngine {
    /// Opens (or creates) the store in `dir`.
    pub fn open(dir: &Path) -> Result<Self> {
        // Bounded memory whatever the data size: a 32 MiB block cache (fjall's
        // default, made explicit); memtables are flushed by fjall at its own limits.
        let db = Database::builder(dir).cache_size(32 * 1024 * 1024).open().map_err(err)?;
        let ks = db.keyspace("stator", KeyspaceCreateOptions::default).map_err(err)?;
        Ok(FjallEngine { db, ks })
    }
}

/// A snapshot of the fjall engine.
pub struct FjallSnapshot {
    snap: fjall::Snapshot,
    ks: Keyspace,
}

impl ReadView for FjallSnapshot {
    fn get(&self, key: &[u8]) -> Result<Option<Vec<u8>>> {
        Ok(self.snap.get(&self.ks, key).map_err(err)?.map(|v| v.to_vec()))
    }

    fn scan(&self, range: KeyRange, dir: Direction) -> ScanIter<'_> {
        let iter = self.snap.range(&self.ks, (range.start, range.end));
        let map = |g: fjall::Guard| g.into_inner().map(|(k, v)| (k.to_vec(), v.to_vec())).map_err(err);
        match dir {
            Direction::Forward => Box::new(iter.map(map)),
            Direction::Reverse => Box::new(iter.rev().map(map)),
        }
    }
}

impl LocalEngine for FjallEngine {
    type Snap = FjallSnapshot;

    fn snapshot(&self) -> FjallSnapshot {
        FjallSnapshot { snap: self.db.snapshot(), ks: self.ks.clone() }
    }

    fn get_latest(&self, key: &[u8]) -> Result<Option<Vec<u8>>> {
        Ok(self.ks.get(key).map_err(err)?.map(|v| v.to_vec()))
    }

    fn apply(&self, batch: Vec<Write>) -> Result<()> {
        // `Database::batch` writes through to the OS on commit (PersistMode::Buffer):
        // a process crash loses nothing; the group-commit sync covers power loss.
        let mut b = self.db.batch();
        for (k, v) in batch {
            match v {
                Some(v) => b.insert(&self.ks, k, v),
                None => b.remove(&self.ks, k),
            }
        }
        b.commit().map_err(err)
    }

    fn sync(&self) -> Result<()> {
        self.db.persist(PersistMode::SyncAll).map_err(err)
    }

    fn limits(&self) -> EngineLimits {
        EngineLimits {
            name: "fjall",
            max_key_len: u16::MAX as usize,
            max_value_len: u32::MAX as usize,
            durable: true,
            native_checkpoint: false,
        }
    }
}
