//! Stator's storage interface: an ordered byte-key store with snapshot reads and
//! atomic, conflict-checked transactions. It knows nothing of DynamoDB.
//!
//! [`KvStore`] is what the engine sees. The local engines (in memory, and fjall on
//! disk) implement the small [`local::LocalEngine`] trait — snapshot, atomic batch,
//! sync — and share one transaction manager ([`local::LocalStore`]) that adds
//! optimistic conflict detection and group commit on top. A distributed engine
//! (PostgreSQL-protocol, TiKV) would implement [`KvStore`] directly with its own
//! transactions.

#![warn(missing_docs)]

pub mod fjall_engine;
mod group_sync;
mod journal_sync;
pub mod local;
pub mod mem;

use std::ops::Bound;

/// A key-value pair read from the store. The value is shared bytes: an engine that
/// keeps values reference-counted hands them out without copying.
pub type Kv = (Vec<u8>, Bytes);

pub use bytes::Bytes;

/// The iterator a range scan returns.
pub type ScanIter<'a> = Box<dyn Iterator<Item = Result<Kv, StorageError>> + Send + 'a>;

/// What can go wrong in the storage layer.
#[derive(Debug, thiserror::Error)]
pub enum StorageError {
    /// Another transaction changed what this one read or wrote: retry it.
    #[error("transaction conflict")]
    Conflict,
    /// The engine failed (I/O, corruption); the operation's effect is unknown only if
    /// this came from a sync, otherwise nothing was written.
    #[error("storage engine error: {0}")]
    Engine(String),
}

/// A result in the storage layer.
pub type Result<T, E = StorageError> = std::result::Result<T, E>;

/// Scan direction.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Direction {
    /// Ascending key order.
    Forward,
    /// Descending key order.
    Reverse,
}

/// A key range; bounds are byte strings compared lexicographically.
#[derive(Debug, Clone)]
pub struct KeyRange {
    /// Lower bound.
    pub start: Bound<Vec<u8>>,
    /// Upper bound.
    pub end: Bound<Vec<u8>>,
}

impl KeyRange {
    /// Every key that starts with `prefix`.
    pub fn prefix(prefix: &[u8]) -> KeyRange {
        KeyRange { start: Bound::Included(prefix.to_vec()), end: prefix_end(prefix) }
    }
}

/// The smallest key greater than every key with this prefix (unbounded if none).
pub fn prefix_end(prefix: &[u8]) -> Bound<Vec<u8>> {
    let mut end = prefix.to_vec();
    while let Some(last) = end.pop() {
        if last < 0xFF {
            end.push(last + 1);
            return Bound::Excluded(end);
        }
    }
    Bound::Unbounded
}

/// What an engine can and cannot do, so that the layer above adapts instead of each
/// engine pretending.
#[derive(Debug, Clone)]
pub struct EngineLimits {
    /// The engine's name, for logs and DescribeEndpoints-style diagnostics.
    pub name: &'static str,
    /// Largest key in bytes.
    pub max_key_len: usize,
    /// Largest value in bytes.
    pub max_value_len: usize,
    /// Whether data outlives the process.
    pub durable: bool,
    /// Whether the engine can take a consistent copy without a logical scan.
    pub native_checkpoint: bool,
}

/// A consistent, read-only view of the store.
pub trait ReadView: Send {
    /// The value of one key.
    fn get(&self, key: &[u8]) -> Result<Option<Vec<u8>>>;
    /// The value of one key as shared bytes (without a copy where the engine keeps
    /// values reference-counted).
    fn get_shared(&self, key: &[u8]) -> Result<Option<Bytes>> {
        Ok(self.get(key)?.map(Bytes::from))
    }
    /// The pairs in `range`, in `dir` order.
    fn scan(&self, range: KeyRange, dir: Direction) -> ScanIter<'_>;
}

/// A read-write transaction: reads see a snapshot plus the transaction's own writes;
/// commit fails with [`StorageError::Conflict`] if a key it read or wrote was written
/// by another transaction that committed after this one began. Range scans are not
/// conflict-checked.
pub trait Transaction: ReadView {
    /// Sets a key.
    fn put(&mut self, key: Vec<u8>, value: Vec<u8>);
    /// Removes a key.
    fn delete(&mut self, key: Vec<u8>);
    /// Adds `delta` to a signed 64-bit counter stored at `key` (absent = 0). Counter
    /// updates commute: they never cause conflicts, and a counter that reaches zero
    /// is removed.
    fn add_counter(&mut self, key: Vec<u8>, delta: i64);
    /// Keeps `guard` alive until the transaction ends: until commit has made its
    /// writes visible (or failed), or until the transaction is dropped. Lets a caller
    /// tie a reservation (a sequence number in flight) to the transaction's fate.
    fn hold(&mut self, guard: Box<dyn std::any::Any + Send>);
    /// Commits atomically. The writes are visible to new snapshots when this returns;
    /// [`Commit::wait_durable`] waits until they are on stable storage.
    fn commit(self: Box<Self>) -> Result<Commit>;
}

/// Reads a counter written with [`Transaction::add_counter`].
pub fn decode_counter(v: Option<&[u8]>) -> i64 {
    match v {
        Some(b) if b.len() == 8 => {
            let mut a = [0u8; 8];
            a.copy_from_slice(b);
            i64::from_be_bytes(a)
        }
        _ => 0,
    }
}

/// A committed transaction (or several, see [`Commit::and`]).
#[derive(Clone)]
pub struct Commit {
    /// The commit sequence numbers covered, inclusive.
    lo: u64,
    hi: u64,
    sync: Option<std::sync::Arc<dyn SyncWaiter>>,
}

/// What a durability waiter is told.
pub type DurableCallback = Box<dyn FnOnce(Result<()>) + Send>;

/// Something that can tell when commits are durable.
pub trait SyncWaiter: Send + Sync {
    /// Blocks until every commit in `lo..=hi` is on stable storage; fails if a failed
    /// write or sync may have lost one of them.
    fn wait_durable(&self, lo: u64, hi: u64) -> Result<()>;
    /// Calls `done` once every commit in `lo..=hi` is on stable storage (or one of them
    /// may have been lost). `done` may run on the caller's thread or the store's syncer
    /// thread, so it must be quick.
    fn on_durable(&self, lo: u64, hi: u64, done: DurableCallback);
}

impl Commit {
    /// A commit that is durable already (or needs no sync).
    pub fn durable() -> Commit {
        Commit { lo: 0, hi: 0, sync: None }
    }

    /// A commit that becomes durable through `sync`.
    pub fn pending(seq: u64, sync: std::sync::Arc<dyn SyncWaiter>) -> Commit {
        Commit { lo: seq, hi: seq, sync: Some(sync) }
    }

    /// Whether the commit may still have to wait for a sync.
    pub fn is_pending(&self) -> bool {
        self.sync.is_some()
    }

    /// This commit and `other` (of the same store): durable once both are, failed if
    /// either may have been lost, or any commit between them (a request's writes are
    /// acknowledged together).
    pub fn and(self, other: Commit) -> Commit {
        match (&self.sync, &other.sync) {
            (None, _) => other,
            (_, None) => self,
            (Some(_), Some(_)) => Commit { lo: self.lo.min(other.lo), hi: self.hi.max(other.hi), sync: self.sync },
        }
    }

    /// Blocks until the commit is on stable storage (at once where the store's sync
    /// policy does not sync). Concurrent waiters share one sync: group commit.
    pub fn wait_durable(&self) -> Result<()> {
        match &self.sync {
            Some(s) => s.wait_durable(self.lo, self.hi),
            None => Ok(()),
        }
    }

    /// Calls `done` once the commit is on stable storage, without blocking the caller
    /// (see [`SyncWaiter::on_durable`]).
    pub fn on_durable(self, done: impl FnOnce(Result<()>) + Send + 'static) {
        match self.sync {
            Some(s) => s.on_durable(self.lo, self.hi, Box::new(done)),
            None => done(Ok(())),
        }
    }
}

/// The storage interface the engine uses.
pub trait KvStore: Send + Sync {
    /// A consistent snapshot of the whole store.
    fn snapshot(&self) -> Box<dyn ReadView + '_>;
    /// Starts a transaction.
    fn begin(&self) -> Box<dyn Transaction + '_>;
    /// The engine's limits.
    fn limits(&self) -> EngineLimits;
    /// Whether a commit may now wait long (tens of milliseconds or more): a durable
    /// engine whose background flushes or compactions have fallen behind throttles
    /// its writers. The caller then commits where waiting stalls nothing else.
    fn commit_may_block(&self) -> bool;
    /// The engine's internal counters (memory and disk use, queues), for diagnostics.
    fn stats(&self) -> Vec<(&'static str, u64)> {
        Vec::new()
    }
}
