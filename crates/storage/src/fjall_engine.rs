//! The default durable engine: fjall, a pure-Rust LSM tree (see
//! docs/adr/0002-storage-engine.md). One keyspace holds everything; batches are
//! atomic across keys; snapshots are MVCC sequence numbers.
//!
//! Write failures (a full disk, an I/O error): fjall refuses every later write once
//! one has failed ("poisoned"), because it cannot know how much of the failed batch
//! reached its journal. Reads go on from the open database. A recovery thread then
//! waits until a probe file of [`PROBE_BYTES`] can be written and synced in the data
//! directory, waits for the open snapshots to end, and reopens the database, which
//! recovers the journal to its last whole batch; writes then resume without a
//! restart. Nothing acknowledged is lost: an acknowledged write was synced first.

use std::io::Write as _;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use fjall::{Database, Keyspace, KeyspaceCreateOptions, PersistMode, Readable};
use parking_lot::{Mutex, RwLock};

use crate::journal_sync::ActiveJournal;
use crate::local::{LocalEngine, Write};
use crate::Bytes;
use crate::{Direction, EngineLimits, KeyRange, ReadView, Result, ScanIter, StorageError};

/// Free space the recovery thread wants to see before it reopens the database.
const PROBE_BYTES: usize = 4 << 20;
/// How often the recovery thread looks for space.
const RECOVERY_POLL: Duration = Duration::from_millis(200);
/// How long the recovery thread waits for open snapshots before it tries again later.
const SNAPSHOT_WAIT: Duration = Duration::from_secs(2);

/// The fjall engine.
pub struct FjallEngine {
    shared: Arc<Shared>,
}

struct Open {
    db: Database,
    ks: Keyspace,
    /// The journal file the group sync `fdatasync`s outside fjall's journal lock;
    /// `None` when none was found (fjall then syncs it under its lock).
    journal: Mutex<Option<ActiveJournal>>,
}

struct Shared {
    dir: PathBuf,
    /// The block cache's size, kept for reopening.
    cache_bytes: u64,
    /// `None` only while a reopen failed (then every read and write fails until a
    /// later attempt succeeds).
    open: RwLock<Option<Arc<Open>>>,
    /// A write failed; writes are refused until the database has been reopened.
    failed: AtomicBool,
    /// A recovery thread is running.
    recovering: Mutex<bool>,
    /// Bumped by every failed write or sync (see [`LocalEngine::generation`]).
    generation: std::sync::atomic::AtomicU64,
}

fn err(e: impl std::fmt::Display) -> StorageError {
    StorageError::Engine(e.to_string())
}

/// Sealed memtables waiting for their flush from which [`LocalEngine::throttling`]
/// reports that writes may be held back (fjall halts them at 4).
const THROTTLE_SEALED_MEMTABLES: usize = 2;
/// Level-0 tables from which [`LocalEngine::throttling`] reports that writes may be
/// held back (fjall slows them from 20 level-0 runs; a run has one or more tables).
const THROTTLE_L0_TABLES: usize = 16;

/// The block cache's size unless configured: fjall's default, made explicit.
pub const DEFAULT_CACHE_BYTES: u64 = 32 * 1024 * 1024;

fn open_at(dir: &Path, cache_bytes: u64) -> Result<Open> {
    // Bounded memory whatever the data size: the block cache (`cache_bytes`) and
    // 32 MiB memtables.
    let db = Database::builder(dir).cache_size(cache_bytes).open().map_err(err)?;
    let ks = db.keyspace("stator", keyspace_options).map_err(err)?;
    let journal = match ActiveJournal::find(dir) {
        Ok(j) => j,
        Err(e) => {
            tracing::warn!(error = %e, "the journal file was not found; syncing it through fjall");
            None
        }
    };
    Ok(Open { db, ks, journal: Mutex::new(journal) })
}

/// The keyspace's options (fixed when the store is created).
///
/// Index and filter blocks are partitioned from level 2 on (fjall's default starts
/// at level 3): unpinned, a level-2 table's whole index block is read and checksummed
/// whenever the cache has lost it, which at 10 million items made every point read
/// cost a ~half-megabyte read (measured: 70 % of the server's CPU during a bulk load).
/// Partitioned, a lookup reads one small partition; the top-level index stays small.
fn keyspace_options() -> KeyspaceCreateOptions {
    use fjall::config::PartitioningPolicy;
    KeyspaceCreateOptions::default()
        .max_memtable_size(32 * 1024 * 1024)
        .index_block_partitioning_policy(PartitioningPolicy::new([false, false, true]))
        .filter_block_partitioning_policy(PartitioningPolicy::new([false, false, true]))
}

fn unavailable() -> StorageError {
    StorageError::Engine("the store is recovering from a failed write; try again".into())
}

impl FjallEngine {
    /// Opens (or creates) the store in `dir` with the default block cache.
    pub fn open(dir: &Path) -> Result<Self> {
        Self::open_with_cache(dir, DEFAULT_CACHE_BYTES)
    }

    /// Opens (or creates) the store in `dir` with a block cache of `cache_bytes`.
    pub fn open_with_cache(dir: &Path, cache_bytes: u64) -> Result<Self> {
        let open = open_at(dir, cache_bytes)?;
        Ok(FjallEngine {
            shared: Arc::new(Shared {
                dir: dir.to_path_buf(),
                cache_bytes,
                open: RwLock::new(Some(Arc::new(open))),
                failed: AtomicBool::new(false),
                recovering: Mutex::new(false),
                generation: std::sync::atomic::AtomicU64::new(0),
            }),
        })
    }

    /// Whether writes are refused after a failed write (until recovery reopens the store).
    pub fn is_failed(&self) -> bool {
        self.shared.failed.load(Ordering::Acquire)
    }

    fn current(&self) -> Result<Arc<Open>> {
        self.shared.open.read().clone().ok_or_else(unavailable)
    }

    fn writable(&self) -> Result<Arc<Open>> {
        if self.is_failed() {
            return Err(StorageError::Engine(
                "a write to the data directory failed (disk full?); writes resume once space is back".into(),
            ));
        }
        self.current()
    }

    /// Marks the engine failed and starts the recovery thread (once).
    fn fail(&self, e: fjall::Error) -> StorageError {
        tracing::error!(error = %e, dir = %self.shared.dir.display(), "a write to the store failed; writes are refused until space is back and the store has been reopened");
        // Before the failed flag: a commit that sees writes allowed again also sees
        // the new generation (batches applied before the failure may be lost).
        self.shared.generation.fetch_add(1, Ordering::AcqRel);
        self.shared.failed.store(true, Ordering::Release);
        let mut running = self.shared.recovering.lock();
        if !*running {
            *running = true;
            let shared = self.shared.clone();
            let spawned = std::thread::Builder::new().name("stator-store-recovery".into()).spawn(move || {
                recover(&shared);
            });
            if spawned.is_err() {
                *running = false;
            }
        }
        err(e)
    }
}

/// Whether `PROBE_BYTES` can be written and synced in `dir`.
fn space_is_back(dir: &Path) -> bool {
    let path = dir.join(".stator-space-probe");
    let ok = (|| -> std::io::Result<()> {
        let mut f = std::fs::File::create(&path)?;
        f.write_all(&vec![0u8; PROBE_BYTES])?;
        f.sync_all()
    })()
    .is_ok();
    let _ = std::fs::remove_file(&path);
    ok
}

/// The recovery thread: waits for space, then reopens the database.
fn recover(shared: &Shared) {
    loop {
        std::thread::sleep(RECOVERY_POLL);
        if !space_is_back(&shared.dir) {
            continue;
        }
        let mut open = shared.open.write();
        // New snapshots wait on the lock; wait for the open ones to end.
        let deadline = Instant::now() + SNAPSHOT_WAIT;
        let idle = loop {
            match open.as_ref() {
                Some(o) if Arc::strong_count(o) > 1 => {
                    if Instant::now() >= deadline {
                        break false;
                    }
                    std::thread::sleep(Duration::from_millis(1));
                }
                _ => break true,
            }
        };
        if !idle {
            continue;
        }
        // Dropping the old database stops its workers and releases its lock file.
        *open = None;
        let (dir, cache_bytes) = (shared.dir.clone(), shared.cache_bytes);
        match std::panic::catch_unwind(move || open_at(&dir, cache_bytes)) {
            Ok(Ok(o)) => {
                *open = Some(Arc::new(o));
                // Under the `recovering` lock: a write failing right after this sees no
                // recovery running and starts a new one.
                let mut running = shared.recovering.lock();
                // A commit that read the old database and reaches `apply` now must
                // not pass the generation check.
                shared.generation.fetch_add(1, Ordering::AcqRel);
                shared.failed.store(false, Ordering::Release);
                *running = false;
                drop(running);
                tracing::warn!(dir = %shared.dir.display(), "the store has been reopened; writes resume");
                return;
            }
            Ok(Err(e)) => tracing::error!(error = %e, "reopening the store failed; retrying"),
            Err(_) => tracing::error!("reopening the store panicked; retrying"),
        }
    }
}

/// A snapshot of the fjall engine.
pub struct FjallSnapshot {
    // `snap` before `open`: the snapshot is released before the database handle.
    snap: Option<fjall::Snapshot>,
    open: Option<Arc<Open>>,
}

impl ReadView for FjallSnapshot {
    fn get(&self, key: &[u8]) -> Result<Option<Vec<u8>>> {
        let (Some(snap), Some(open)) = (&self.snap, &self.open) else { return Err(unavailable()) };
        Ok(snap.get(&open.ks, key).map_err(err)?.map(|v| v.to_vec()))
    }

    fn scan(&self, range: KeyRange, dir: Direction) -> ScanIter<'_> {
        let (Some(snap), Some(open)) = (&self.snap, &self.open) else {
            return Box::new(std::iter::once(Err(unavailable())));
        };
        let iter = snap.range(&open.ks, (range.start, range.end));
        let map = |g: fjall::Guard| g.into_inner().map(|(k, v)| (k.to_vec(), Bytes::from(v.to_vec()))).map_err(err);
        match dir {
            Direction::Forward => Box::new(iter.map(map)),
            Direction::Reverse => Box::new(iter.rev().map(map)),
        }
    }
}

impl LocalEngine for FjallEngine {
    type Snap = FjallSnapshot;

    fn snapshot(&self) -> FjallSnapshot {
        match self.current() {
            Ok(open) => FjallSnapshot { snap: Some(open.db.snapshot()), open: Some(open) },
            Err(_) => FjallSnapshot { snap: None, open: None },
        }
    }

    fn get_latest(&self, key: &[u8]) -> Result<Option<Vec<u8>>> {
        Ok(self.current()?.ks.get(key).map_err(err)?.map(|v| v.to_vec()))
    }

    fn generation(&self) -> u64 {
        self.shared.generation.load(Ordering::Acquire)
    }

    fn apply(&self, batch: Vec<Write>, write_through: bool, generation: u64) -> Result<()> {
        // Write-through (PersistMode::Buffer) hands the batch to the OS on commit: a
        // process crash loses nothing. Otherwise it stays in the journal's buffer until
        // the group-commit sync flushes and syncs it (one write syscall per sync, not
        // per commit); nothing is acknowledged before that sync.
        let open = self.writable()?;
        if self.generation() != generation {
            return Err(StorageError::Engine("the store was reopened during the commit; try again".into()));
        }
        let mut b = open.db.batch().durability(write_through.then_some(PersistMode::Buffer));
        for (k, v) in batch {
            match v {
                Some(v) => b.insert(&open.ks, k, v),
                None => b.remove(&open.ks, k),
            }
        }
        b.commit().map_err(|e| self.fail(e))
    }

    fn sync(&self) -> Result<()> {
        let open = self.writable()?;
        // fdatasync: the journal's data and what is needed to read it back reach the
        // disk; timestamps need not. Commits go on meanwhile: only handing the buffer to
        // the OS holds fjall's journal lock (`journal_sync`, ADR 0013).
        let mut journal = open.journal.lock();
        match journal.as_mut() {
            Some(j) => {
                open.db.persist(PersistMode::Buffer).map_err(|e| self.fail(e))?;
                j.sync().map_err(|e| self.fail(fjall::Error::Io(e)))
            }
            None => open.db.persist(PersistMode::SyncData).map_err(|e| self.fail(e)),
        }
    }

    fn throttling(&self) -> bool {
        // fjall slows writers from 20 level-0 runs, sleeps them in 10 ms steps from 30,
        // and in 100 ms steps while 4 sealed memtables wait for their flush. Somewhat
        // earlier than that, writes are committed where a sleep stalls nothing else.
        // So are they while the store is being reopened (its lock is held for that).
        let Some(open) = self.shared.open.try_read() else { return true };
        match open.as_ref() {
            Some(open) => {
                open.ks.sealed_memtable_count() >= THROTTLE_SEALED_MEMTABLES
                    || open.ks.l0_table_count() >= THROTTLE_L0_TABLES
            }
            None => false,
        }
    }

    fn stats(&self) -> Vec<(&'static str, u64)> {
        let Ok(open) = self.current() else { return vec![("failed", 1)] };
        let ks = &open.ks;
        vec![
            ("failed", self.is_failed() as u64),
            ("cache_bytes", open.db.cache_size()),
            ("cache_capacity_bytes", open.db.cache_capacity()),
            ("write_buffer_bytes", open.db.write_buffer_size()),
            ("sealed_memtables", ks.sealed_memtable_count() as u64),
            ("outstanding_flushes", open.db.outstanding_flushes() as u64),
            ("journals", open.db.journal_count() as u64),
            ("journal_bytes", open.db.journal_disk_space().unwrap_or(0)),
            ("disk_bytes", ks.disk_space()),
            ("lsm_tables", ks.table_count() as u64),
            ("lsm_l0_tables", ks.l0_table_count() as u64),
            ("active_compactions", open.db.active_compactions() as u64),
            ("compactions_completed", open.db.compactions_completed() as u64),
        ]
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

#[cfg(test)]
mod tests {
    use super::*;

    fn journal_id(engine: &FjallEngine) -> Option<u64> {
        engine.current().unwrap().journal.lock().as_ref().map(|j| j.id())
    }

    fn put(engine: &FjallEngine, key: &[u8]) {
        engine.apply(vec![(key.to_vec(), Some(b"v".to_vec()))], false, engine.generation()).unwrap();
    }

    /// The group sync follows fjall's journal files by their names: if a fjall upgrade
    /// changes how journals are named or rotated, this fails.
    #[test]
    fn the_sync_follows_fjalls_journal_across_a_rotation() {
        let dir = tempfile::tempdir().unwrap();
        let engine = FjallEngine::open(dir.path()).unwrap();
        put(&engine, b"a");
        engine.sync().unwrap();
        let first = journal_id(&engine).expect("fjall's journal file is found");
        assert!(dir.path().join(format!("{first}.jnl")).exists());
        // fjall rotates its journal at a memtable flush once the journal holds 64 MB
        // (of compressed batches: the values must not compress).
        let mut x = 0x9e37_79b9_7f4a_7c15u64;
        let big: Vec<u8> = (0..1 << 20)
            .map(|_| {
                x ^= x << 13;
                x ^= x >> 7;
                x ^= x << 17;
                x as u8
            })
            .collect();
        for i in 0..66u32 {
            let batch = vec![(i.to_be_bytes().to_vec(), Some(big.clone()))];
            engine.apply(batch, false, engine.generation()).unwrap();
        }
        engine.current().unwrap().ks.rotate_memtable_and_wait().unwrap();
        put(&engine, b"b");
        engine.sync().unwrap();
        let second = journal_id(&engine).unwrap();
        assert_eq!(second, first + 1, "the sync moved to the journal fjall writes now");
        assert!(dir.path().join(format!("{second}.jnl")).exists());
        drop(engine);
        let engine = FjallEngine::open(dir.path()).unwrap();
        assert!(journal_id(&engine).unwrap() >= second);
        for key in [&b"a"[..], b"b"] {
            assert_eq!(engine.get_latest(key).unwrap().as_deref(), Some(&b"v"[..]));
        }
    }
}
