//! The transaction manager shared by the local engines: optimistic concurrency
//! control (commit-time validation of the keys a transaction read or wrote) and
//! group commit, over any engine that offers snapshots and atomic batches.
//!
//! Commit protocol: under a short commit mutex, validate the transaction's keys
//! against the sequence numbers of later commits, resolve counter deltas, hand the
//! batch to the engine, record the written keys, then publish the new sequence
//! number. Durability (the sync) happens after the mutex is released, shared by all
//! waiting writers. Readers never take the mutex.

use std::cell::RefCell;
use std::collections::{BTreeMap, VecDeque};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;

use foldhash::{HashMap, HashMapExt, HashSet, HashSetExt};
use parking_lot::Mutex;

use crate::group_sync::GroupSync;
use crate::{
    decode_counter, Bytes, Commit, Direction, EngineLimits, KeyRange, KvStore, ReadView, Result, ScanIter,
    StorageError, SyncWaiter, Transaction,
};

/// A write handed to an engine: `None` deletes.
pub type Write = (Vec<u8>, Option<Vec<u8>>);

/// What an embedded engine must provide.
pub trait LocalEngine: Send + Sync + 'static {
    /// The engine's snapshot type.
    type Snap: ReadView + 'static;
    /// A consistent snapshot including at least every batch applied so far.
    fn snapshot(&self) -> Self::Snap;
    /// The latest value of a key (used under the commit mutex for counters).
    fn get_latest(&self, key: &[u8]) -> Result<Option<Vec<u8>>>;
    /// Applies a batch atomically (visible to new snapshots on return, not yet synced).
    /// With `write_through`, the batch reaches the OS before this returns (it survives
    /// a crash of the process); without, it may wait in the engine's buffers for the
    /// next [`LocalEngine::sync`], which the caller is going to ask for. Fails without
    /// writing if the engine is no longer at `generation`.
    fn apply(&self, batch: Vec<Write>, write_through: bool, generation: u64) -> Result<()>;
    /// Changes whenever applied batches may have been lost (a failed write or sync, on
    /// the way to a reopen): what the caller cached of the store's content is stale.
    fn generation(&self) -> u64 {
        0
    }
    /// Makes every applied batch durable.
    fn sync(&self) -> Result<()>;
    /// Whether [`LocalEngine::apply`] may now be held back to let background work
    /// catch up (it then sleeps, possibly for long).
    fn throttling(&self) -> bool {
        false
    }
    /// The engine's limits.
    fn limits(&self) -> EngineLimits;
    /// The engine's internal counters, for diagnostics.
    fn stats(&self) -> Vec<(&'static str, u64)> {
        Vec::new()
    }
}

/// When acknowledged writes reach stable storage.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SyncPolicy {
    /// Every commit is synced before it is acknowledged (group commit shares syncs).
    Always,
    /// Commits reach the OS before they are acknowledged (they survive a process crash,
    /// not a power loss); the engine syncs in the background.
    Never,
}

/// How many written keys the conflict tracker's history holds before it forgets the
/// oldest commits. A transaction that began before the forgotten horizon conflicts
/// conservatively (and is retried).
const TRACKED_KEYS: usize = 1 << 16;

/// How many commits the history keeps (a transaction overtaken by more commits than
/// this conflicts). Validation reads only the commits made since the transaction
/// began, so the history is a queue, not an index.
const TRACKED_COMMITS: usize = 1 << 14;

struct CommitState {
    seq: u64,
    /// The keys each recent commit wrote, oldest first: entry `i` is commit
    /// `horizon + 1 + i` (sequence numbers have no gaps).
    history: VecDeque<Vec<Vec<u8>>>,
    /// How many keys `history` holds.
    history_keys: usize,
    /// Commits at or below this sequence number are no longer tracked.
    horizon: u64,
    /// The current value of counters commits have updated, so that the next commit adds
    /// its delta without a lookup in the engine. Coherent because only commits change
    /// the store, under this state's mutex: an entry enters only after the engine took
    /// the batch, and a plain write to a counter's key evicts it.
    counters: HashMap<Vec<u8>, i64>,
    /// The engine generation `counters` belongs to.
    counters_generation: u64,
}

/// How many counters [`CommitState::counters`] holds before it starts over.
const CACHED_COUNTERS: usize = 1 << 14;

struct Shared<E: LocalEngine> {
    engine: E,
    commit: Mutex<CommitState>,
    committed: Arc<AtomicU64>,
    sync: GroupSync,
    policy: SyncPolicy,
}

/// A [`KvStore`] over a local engine.
pub struct LocalStore<E: LocalEngine> {
    shared: Arc<Shared<E>>,
    /// The thread that runs group syncs (with [`SyncPolicy::Always`]).
    syncer: Option<std::thread::JoinHandle<()>>,
}

impl<E: LocalEngine> LocalStore<E> {
    /// Wraps an engine.
    pub fn new(engine: E, policy: SyncPolicy) -> Self {
        // An engine whose data dies with the process has nothing to sync: its commits
        // are acknowledged at once, without a trip through the sync thread.
        let policy = if engine.limits().durable { policy } else { SyncPolicy::Never };
        let committed = Arc::new(AtomicU64::new(0));
        let shared = Arc::new(Shared {
            engine,
            commit: Mutex::new(CommitState {
                seq: 0,
                history: VecDeque::new(),
                history_keys: 0,
                horizon: 0,
                counters: HashMap::new(),
                counters_generation: 0,
            }),
            sync: GroupSync::new(committed.clone()),
            committed,
            policy,
        });
        let syncer = if policy == SyncPolicy::Always {
            shared.sync.start();
            let s = shared.clone();
            let spawned = std::thread::Builder::new().name("stator-sync".into()).spawn(move || {
                s.sync.run(&|| s.engine.sync());
            });
            match spawned {
                Ok(h) => Some(h),
                Err(e) => {
                    // Waiters then sync on their own threads: slower, still correct.
                    tracing::warn!(error = %e, "could not start the sync thread");
                    shared.sync.abandon();
                    None
                }
            }
        } else {
            None
        };
        LocalStore { shared, syncer }
    }

    /// The engine.
    pub fn engine(&self) -> &E {
        &self.shared.engine
    }
}

impl<E: LocalEngine> Drop for LocalStore<E> {
    fn drop(&mut self) {
        // The syncer answers the waiters it has, then exits and releases the engine.
        self.shared.sync.stop();
        if let Some(h) = self.syncer.take() {
            let _ = h.join();
        }
    }
}

impl<E: LocalEngine> SyncWaiter for Shared<E> {
    fn wait_durable(&self, lo: u64, hi: u64) -> Result<()> {
        self.sync.wait(lo, hi, &|| self.engine.sync())
    }

    fn on_durable(&self, lo: u64, hi: u64, done: crate::DurableCallback) {
        self.sync.on_durable(lo, hi, done, &|| self.engine.sync())
    }
}

impl<E: LocalEngine> KvStore for LocalStore<E> {
    fn snapshot(&self) -> Box<dyn ReadView + '_> {
        Box::new(self.shared.engine.snapshot())
    }

    fn begin(&self) -> Box<dyn Transaction + '_> {
        // Read the published sequence number before taking the snapshot: the snapshot
        // then contains at least every commit up to `start`, so validation against
        // later commits is sound (at worst conservative).
        let start = self.shared.committed.load(Ordering::Acquire);
        let snap = self.shared.engine.snapshot();
        Box::new(LocalTxn {
            shared: self.shared.clone(),
            start,
            snap,
            reads: RefCell::new(HashSet::new()),
            writes: BTreeMap::new(),
            counters: Vec::new(),
            held: Vec::new(),
        })
    }

    fn limits(&self) -> EngineLimits {
        self.shared.engine.limits()
    }

    fn commit_may_block(&self) -> bool {
        self.shared.engine.throttling()
    }

    fn stats(&self) -> Vec<(&'static str, u64)> {
        let mut out = self.shared.engine.stats();
        let st = self.shared.commit.lock();
        out.push(("commits", st.seq));
        out.push(("conflict_tracker_keys", st.history_keys as u64));
        out.push(("conflict_tracker_commits", st.history.len() as u64));
        drop(st);
        out.push(("synced_commit", self.shared.sync.synced()));
        out
    }
}

struct LocalTxn<E: LocalEngine> {
    shared: Arc<Shared<E>>,
    start: u64,
    snap: E::Snap,
    reads: RefCell<HashSet<Vec<u8>>>,
    writes: BTreeMap<Vec<u8>, Option<Vec<u8>>>,
    counters: Vec<(Vec<u8>, i64)>,
    /// Dropped when the transaction ends (after commit applied its writes).
    held: Vec<Box<dyn std::any::Any + Send>>,
}

impl<E: LocalEngine> LocalTxn<E> {
    /// Every read is part of the read set that commit validates.
    fn track_read(&self, key: &[u8]) {
        let mut reads = self.reads.borrow_mut();
        if !reads.contains(key) {
            reads.insert(key.to_vec());
        }
    }
}

impl<E: LocalEngine> ReadView for LocalTxn<E> {
    fn get(&self, key: &[u8]) -> Result<Option<Vec<u8>>> {
        if let Some(w) = self.writes.get(key) {
            return Ok(w.clone());
        }
        self.track_read(key);
        self.snap.get(key)
    }

    fn get_shared(&self, key: &[u8]) -> Result<Option<Bytes>> {
        if let Some(w) = self.writes.get(key) {
            return Ok(w.clone().map(Bytes::from));
        }
        self.track_read(key);
        self.snap.get_shared(key)
    }

    fn scan(&self, range: KeyRange, dir: Direction) -> ScanIter<'_> {
        self.snap.scan(range, dir)
    }
}

impl<E: LocalEngine> Transaction for LocalTxn<E> {
    fn put(&mut self, key: Vec<u8>, value: Vec<u8>) {
        self.writes.insert(key, Some(value));
    }

    fn delete(&mut self, key: Vec<u8>) {
        self.writes.insert(key, None);
    }

    fn add_counter(&mut self, key: Vec<u8>, delta: i64) {
        if delta != 0 {
            self.counters.push((key, delta));
        }
    }

    fn hold(&mut self, guard: Box<dyn std::any::Any + Send>) {
        self.held.push(guard);
    }

    fn commit(self: Box<Self>) -> Result<Commit> {
        let LocalTxn { shared, start, snap, reads, writes, counters, held } = *self;
        // Released on every return path, after the writes are applied.
        let _held = held;
        // Validation uses sequence numbers, not the snapshot: releasing it first lets
        // an engine with persistent maps update in place instead of copying a path.
        drop(snap);
        if writes.is_empty() && counters.is_empty() {
            return Ok(Commit::durable());
        }
        let seq = {
            let mut st = shared.commit.lock();
            let reads = reads.into_inner();
            if start < st.horizon {
                return Err(StorageError::Conflict);
            }
            // The commits since this transaction began are the history's last
            // `seq - start` entries; none (a lone writer) is the common case.
            let since = (st.seq - start) as usize;
            for keys in st.history.iter().rev().take(since) {
                if keys.iter().any(|k| reads.contains(k) || writes.contains_key(k)) {
                    return Err(StorageError::Conflict);
                }
            }
            let mut batch: Vec<(Vec<u8>, Option<Vec<u8>>)> = Vec::with_capacity(writes.len() + counters.len());
            let mut written: Vec<Vec<u8>> = Vec::with_capacity(writes.len());
            for (k, v) in writes {
                written.push(k.clone());
                batch.push((k, v));
            }
            // Counters: fold deltas per key, add them to the latest value.
            let mut folded: BTreeMap<Vec<u8>, i64> = BTreeMap::new();
            for (k, d) in counters {
                *folded.entry(k).or_insert(0) += d;
            }
            // Cached counters describe one generation of the engine's content.
            let generation = shared.engine.generation();
            if st.counters_generation != generation {
                st.counters.clear();
                st.counters_generation = generation;
            }
            let mut counted: Vec<(Vec<u8>, i64)> = Vec::with_capacity(folded.len());
            for (k, d) in folded {
                let cur = match st.counters.get(&k) {
                    Some(&v) => v,
                    None => decode_counter(shared.engine.get_latest(&k)?.as_deref()),
                };
                let next = cur.saturating_add(d);
                batch.push((k.clone(), if next == 0 { None } else { Some(next.to_be_bytes().to_vec()) }));
                counted.push((k, next));
            }
            // With SyncPolicy::Always every commit is followed by a sync, which writes the
            // engine's buffers out: no write syscall per commit.
            shared.engine.apply(batch, shared.policy == SyncPolicy::Never, generation)?;
            st.seq += 1;
            let seq = st.seq;
            if !st.counters.is_empty() {
                for k in &written {
                    st.counters.remove(k);
                }
            }
            if st.counters.len() + counted.len() > CACHED_COUNTERS {
                st.counters.clear();
            }
            // Counter values win over plain writes of the same key: the batch applies them last.
            st.counters.extend(counted);
            st.history_keys += written.len();
            st.history.push_back(written);
            while st.history_keys > TRACKED_KEYS || st.history.len() > TRACKED_COMMITS {
                let Some(keys) = st.history.pop_front() else { break };
                st.history_keys -= keys.len();
                st.horizon += 1;
            }
            shared.committed.store(seq, Ordering::Release);
            seq
        };
        match shared.policy {
            SyncPolicy::Always => Ok(Commit::pending(seq, shared)),
            SyncPolicy::Never => Ok(Commit::durable()),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::mem::MemEngine;
    use crate::KvStore;

    #[test]
    fn the_conflict_tracker_stays_bounded_when_few_keys_are_rewritten() {
        let store = LocalStore::new(MemEngine::new(), SyncPolicy::Never);
        for i in 0..(TRACKED_COMMITS * 2 + 10) {
            let mut t = store.begin();
            t.put(format!("k{}", i % 7).into_bytes(), vec![1]);
            t.commit().unwrap();
        }
        let st = store.shared.commit.lock();
        assert!(st.history.len() <= TRACKED_COMMITS, "history of {} commits", st.history.len());
        assert_eq!(st.history_keys, st.history.len());
        assert_eq!(st.horizon + st.history.len() as u64, st.seq);
    }

    #[test]
    fn validation_sees_every_commit_since_the_transaction_began_and_only_those() {
        let store = LocalStore::new(MemEngine::new(), SyncPolicy::Never);
        let write = |k: &[u8]| {
            let mut t = store.begin();
            t.put(k.to_vec(), vec![1]);
            t.commit().unwrap();
        };
        // Read "r", write "w"; "r" is rewritten by the first, or the last, of the
        // commits made since the transaction began.
        for (before, after) in [(&[][..], &[&b"a"[..], b"b"][..]), (&[&b"a"[..], b"b"][..], &[][..])] {
            let mut t = store.begin();
            t.get(b"r").unwrap();
            t.put(b"w".to_vec(), vec![2]);
            before.iter().for_each(|k| write(k));
            write(b"r");
            after.iter().for_each(|k| write(k));
            assert!(matches!(t.commit(), Err(StorageError::Conflict)));
        }
        // "r" written by the commit just before the transaction began, unrelated commits
        // after: no conflict.
        write(b"r");
        let mut t = store.begin();
        t.get(b"r").unwrap();
        t.put(b"w".to_vec(), vec![3]);
        write(b"a");
        write(b"b");
        t.commit().unwrap();
        // A blind write conflicts with a concurrent write of the same key.
        let mut t = store.begin();
        t.put(b"a".to_vec(), vec![4]);
        write(b"a");
        assert!(matches!(t.commit(), Err(StorageError::Conflict)));
    }

    fn counter(store: &dyn KvStore, key: &[u8]) -> i64 {
        decode_counter(store.snapshot().get(key).unwrap().as_deref())
    }

    fn add(store: &dyn KvStore, key: &[u8], delta: i64) {
        let mut t = store.begin();
        t.add_counter(key.to_vec(), delta);
        t.commit().unwrap();
    }

    #[test]
    fn cached_counters_follow_plain_writes_of_their_keys() {
        let store = LocalStore::new(MemEngine::new(), SyncPolicy::Never);
        add(&store, b"c", 5);
        add(&store, b"c", 3);
        assert_eq!(counter(&store, b"c"), 8);
        let mut t = store.begin();
        t.put(b"c".to_vec(), 100i64.to_be_bytes().to_vec());
        t.commit().unwrap();
        add(&store, b"c", 1);
        assert_eq!(counter(&store, b"c"), 101);
        let mut t = store.begin();
        t.delete(b"c".to_vec());
        t.commit().unwrap();
        add(&store, b"c", 2);
        assert_eq!(counter(&store, b"c"), 2);
        // Reaching zero removes the key; counting on from there starts at zero.
        add(&store, b"c", -2);
        assert_eq!(store.snapshot().get(b"c").unwrap(), None);
        add(&store, b"c", 7);
        assert_eq!(counter(&store, b"c"), 7);
        // A plain write and a counter of one key in one transaction: the counter wins.
        let mut t = store.begin();
        t.put(b"c".to_vec(), 50i64.to_be_bytes().to_vec());
        t.add_counter(b"c".to_vec(), 1);
        t.commit().unwrap();
        assert_eq!(counter(&store, b"c"), 8);
        add(&store, b"c", 1);
        assert_eq!(counter(&store, b"c"), 9);
    }

    /// A memory engine whose content can change behind the store's back, as when a
    /// reopen after a failed sync loses batches.
    struct Reopening {
        inner: MemEngine,
        generation: std::sync::atomic::AtomicU64,
    }

    impl LocalEngine for Reopening {
        type Snap = <MemEngine as LocalEngine>::Snap;
        fn snapshot(&self) -> Self::Snap {
            self.inner.snapshot()
        }
        fn get_latest(&self, key: &[u8]) -> Result<Option<Vec<u8>>> {
            self.inner.get_latest(key)
        }
        fn apply(&self, batch: Vec<Write>, write_through: bool, generation: u64) -> Result<()> {
            if generation != self.generation() {
                return Err(StorageError::Engine("reopened".into()));
            }
            self.inner.apply(batch, write_through, generation)
        }
        fn sync(&self) -> Result<()> {
            Ok(())
        }
        fn limits(&self) -> EngineLimits {
            self.inner.limits()
        }
        fn generation(&self) -> u64 {
            self.generation.load(Ordering::SeqCst)
        }
    }

    #[test]
    fn cached_counters_are_dropped_when_the_engine_loses_batches() {
        let engine = Reopening { inner: MemEngine::new(), generation: Default::default() };
        let store = LocalStore::new(engine, SyncPolicy::Never);
        add(&store, b"c", 5);
        add(&store, b"c", 5);
        // The last batch is lost: the engine holds 5 again, in a new generation.
        store.engine().inner.apply(vec![(b"c".to_vec(), Some(5i64.to_be_bytes().to_vec()))], false, 0).unwrap();
        store.engine().generation.fetch_add(1, Ordering::SeqCst);
        add(&store, b"c", 1);
        assert_eq!(counter(&store, b"c"), 6);
    }

    #[test]
    fn a_transaction_older_than_the_horizon_conflicts() {
        let store = LocalStore::new(MemEngine::new(), SyncPolicy::Never);
        let mut old = store.begin();
        let _ = old.get(b"x");
        for i in 0..(TRACKED_COMMITS + 10) {
            let mut t = store.begin();
            t.put(format!("k{}", i % 3).into_bytes(), vec![1]);
            t.commit().unwrap();
        }
        old.put(b"x".to_vec(), vec![2]);
        assert!(matches!(old.commit(), Err(StorageError::Conflict)));
    }
}
