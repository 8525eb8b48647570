//! The in-memory engine: a persistent (structurally shared) ordered map, so a
//! snapshot is an O(1) clone and readers never block writers for long, next to a hash
//! index of the same entries for point reads.
//!
//! A point read through a snapshot uses the hash index whenever nothing has been
//! applied since the snapshot was taken (then the latest state *is* the snapshot's);
//! otherwise it searches the snapshot's map. The hash index costs a hash and one or two
//! cache misses where the B-tree costs a dozen or more key comparisons spread over
//! several nodes.
//!
//! Memory: each pair lives in one allocation ([`Entry`]: key and value) that the map
//! and the index share by pointer; the index's slots hold that pointer alone (one
//! word) and compare keys through it.

use std::ops::Bound;
use std::sync::Arc;

use bytes::Bytes;
use hashbrown::HashTable;
use imbl::OrdMap;
use parking_lot::RwLock;
use triomphe::ThinArc;

use crate::local::{LocalEngine, Write};
use crate::{Direction, EngineLimits, KeyRange, ReadView, Result, ScanIter, StorageError};

/// The ordered map: snapshots clone it in O(1) and writes under a live snapshot copy
/// a path of nodes (pointers to entries, never their bytes).
type Map = OrdMap<Key, Entry>;

/// One stored pair in one allocation: the key's length in the header, then the key
/// and the value. Shared by the map and the hash index; a reader's [`Bytes`] keeps
/// it alive. A thin pointer (8 bytes): the index's slots and the map's values are
/// one word each.
#[derive(Clone)]
struct Entry(ThinArc<u32, u8>);

impl Entry {
    /// `None` when the key is too long to record (over `u32::MAX` bytes).
    fn new(key: &[u8], value: &[u8]) -> Option<Entry> {
        let key_len = u32::try_from(key.len()).ok()?;
        let mut pair = Vec::with_capacity(key.len() + value.len());
        pair.extend_from_slice(key);
        pair.extend_from_slice(value);
        Some(Entry(ThinArc::from_header_and_slice(key_len, &pair)))
    }

    fn key_len(&self) -> usize {
        self.0.header.header as usize
    }

    fn key(&self) -> &[u8] {
        &self.0.slice[..self.key_len()]
    }

    fn value(&self) -> &[u8] {
        &self.0.slice[self.key_len()..]
    }

    /// The value, shared (no copy).
    fn to_bytes(&self) -> Bytes {
        Bytes::from_owner(ValueOf(self.clone()))
    }
}

/// An entry seen as its value.
struct ValueOf(Entry);

impl AsRef<[u8]> for ValueOf {
    fn as_ref(&self) -> &[u8] {
        self.0.value()
    }
}

/// A stored key. Keys are compared on every step of a B-tree search; held inline (as
/// most are: a table's keys differ within their first 17 bytes, and most are shorter
/// than [`INLINE`]) a comparison reads the node itself instead of following a pointer
/// to a separate allocation.
#[derive(Clone)]
enum Key {
    Inline { len: u8, bytes: [u8; INLINE] },
    Heap(Arc<[u8]>),
}

/// Longest key held inline.
const INLINE: usize = 38;

impl Key {
    fn new(k: &[u8]) -> Key {
        if k.len() <= INLINE {
            let mut bytes = [0u8; INLINE];
            bytes[..k.len()].copy_from_slice(k);
            Key::Inline { len: k.len() as u8, bytes }
        } else {
            Key::Heap(Arc::from(k))
        }
    }

    fn as_slice(&self) -> &[u8] {
        match self {
            Key::Inline { len, bytes } => &bytes[..usize::from(*len)],
            Key::Heap(b) => b,
        }
    }
}

// Equality and order are the byte string's, as `Borrow<[u8]>` requires.
impl std::borrow::Borrow<[u8]> for Key {
    fn borrow(&self) -> &[u8] {
        self.as_slice()
    }
}

impl PartialEq for Key {
    fn eq(&self, other: &Key) -> bool {
        self.as_slice() == other.as_slice()
    }
}

impl Eq for Key {}

impl PartialOrd for Key {
    fn partial_cmp(&self, other: &Key) -> Option<std::cmp::Ordering> {
        Some(self.cmp(other))
    }
}

impl Ord for Key {
    fn cmp(&self, other: &Key) -> std::cmp::Ordering {
        self.as_slice().cmp(other.as_slice())
    }
}

/// The engine's state: both structures always hold the same entries.
#[derive(Default)]
struct State {
    map: Map,
    /// The entries by their keys' hashes.
    index: HashTable<Entry>,
    /// Hashes keys with foldhash, seeded per process: keys are client-chosen.
    hasher: foldhash::fast::RandomState,
    /// Incremented by every applied batch.
    version: u64,
}

impl State {
    fn hash(&self, key: &[u8]) -> u64 {
        std::hash::BuildHasher::hash_one(&self.hasher, key)
    }

    fn latest(&self, key: &[u8]) -> Option<&Entry> {
        self.index.find(self.hash(key), |e| e.key() == key)
    }

    fn set(&mut self, entry: Entry) {
        let hash = self.hash(entry.key());
        let hasher = &self.hasher;
        match self.index.entry(hash, |e| e.key() == entry.key(), |e| std::hash::BuildHasher::hash_one(hasher, e.key()))
        {
            hashbrown::hash_table::Entry::Occupied(mut o) => *o.get_mut() = entry,
            hashbrown::hash_table::Entry::Vacant(v) => {
                v.insert(entry);
            }
        }
    }

    fn remove(&mut self, key: &[u8]) {
        if let Ok(found) = self.index.find_entry(self.hash(key), |e| e.key() == key) {
            found.remove();
        }
    }
}

/// The in-memory engine (`--in-memory`): nothing outlives the process.
#[derive(Default)]
pub struct MemEngine {
    state: Arc<RwLock<State>>,
}

impl MemEngine {
    /// An empty store.
    pub fn new() -> Self {
        Self::default()
    }
}

/// A snapshot of the in-memory engine.
pub struct MemSnapshot {
    map: Map,
    /// The engine's version when the snapshot was taken.
    version: u64,
    live: Arc<RwLock<State>>,
}

impl ReadView for MemSnapshot {
    fn get(&self, key: &[u8]) -> Result<Option<Vec<u8>>> {
        Ok(self.get_shared(key)?.map(|v| v.to_vec()))
    }

    fn get_shared(&self, key: &[u8]) -> Result<Option<Bytes>> {
        {
            let live = self.live.read();
            if live.version == self.version {
                return Ok(live.latest(key).map(Entry::to_bytes));
            }
        }
        Ok(self.map.get(key).map(Entry::to_bytes))
    }

    fn scan(&self, range: KeyRange, dir: Direction) -> ScanIter<'_> {
        let bounds: (Bound<&[u8]>, Bound<&[u8]>) = (as_ref(&range.start), as_ref(&range.end));
        if let (Bound::Included(s) | Bound::Excluded(s), Bound::Included(e) | Bound::Excluded(e)) = bounds {
            if s > e {
                return Box::new(std::iter::empty());
            }
        }
        let owned: (Bound<&[u8]>, Bound<&[u8]>) = bounds;
        let iter = self.map.range::<_, [u8]>(owned).map(|(k, e)| Ok((k.as_slice().to_vec(), e.to_bytes())));
        match dir {
            Direction::Forward => Box::new(iter),
            Direction::Reverse => Box::new(iter.rev()),
        }
    }
}

fn as_ref(b: &Bound<Vec<u8>>) -> Bound<&[u8]> {
    match b {
        Bound::Included(v) => Bound::Included(v.as_slice()),
        Bound::Excluded(v) => Bound::Excluded(v.as_slice()),
        Bound::Unbounded => Bound::Unbounded,
    }
}

impl LocalEngine for MemEngine {
    type Snap = MemSnapshot;

    fn snapshot(&self) -> MemSnapshot {
        let state = self.state.read();
        MemSnapshot { map: state.map.clone(), version: state.version, live: self.state.clone() }
    }

    fn get_latest(&self, key: &[u8]) -> Result<Option<Vec<u8>>> {
        Ok(self.state.read().latest(key).map(|e| e.value().to_vec()))
    }

    fn apply(&self, batch: Vec<Write>, _write_through: bool, _generation: u64) -> Result<()> {
        // Entries are built (allocated and copied) before the lock.
        let mut writes = Vec::with_capacity(batch.len());
        for (k, v) in batch {
            let entry = match v {
                Some(v) => Some(
                    Entry::new(&k, &v)
                        .ok_or_else(|| StorageError::Engine(format!("key of {} bytes is too long", k.len())))?,
                ),
                None => None,
            };
            writes.push((Key::new(&k), entry));
        }
        let mut state = self.state.write();
        let state = &mut *state;
        state.version += 1;
        for (k, entry) in writes {
            match entry {
                Some(entry) => {
                    state.map.insert(k, entry.clone());
                    state.set(entry);
                }
                None => {
                    state.remove(k.as_slice());
                    state.map.remove(k.as_slice());
                }
            }
        }
        Ok(())
    }

    fn sync(&self) -> Result<()> {
        Ok(())
    }

    fn limits(&self) -> EngineLimits {
        EngineLimits {
            name: "memory",
            max_key_len: u32::MAX as usize,
            max_value_len: usize::MAX,
            durable: false,
            native_checkpoint: true,
        }
    }
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeMap;

    use proptest::prelude::*;

    use super::*;
    use crate::Kv;

    fn apply(e: &MemEngine, batch: &[(u8, Option<u8>)]) {
        let batch = batch.iter().map(|&(k, v)| (vec![k], v.map(|v| vec![v]))).collect();
        e.apply(batch, false, 0).unwrap();
    }

    #[test]
    fn a_snapshot_keeps_its_state_once_later_batches_are_applied() {
        let e = MemEngine::new();
        apply(&e, &[(1, Some(10)), (2, Some(20))]);
        let before = e.snapshot();
        // Nothing applied since: the hash index answers, with the snapshot's state.
        assert_eq!(before.get(&[1]).unwrap(), Some(vec![10]));
        apply(&e, &[(1, Some(11)), (2, None), (3, Some(30))]);
        assert_eq!(before.get(&[1]).unwrap(), Some(vec![10]));
        assert_eq!(before.get(&[2]).unwrap(), Some(vec![20]));
        assert_eq!(before.get(&[3]).unwrap(), None);
        let after = e.snapshot();
        assert_eq!(after.get(&[1]).unwrap(), Some(vec![11]));
        assert_eq!(after.get(&[2]).unwrap(), None);
        assert_eq!(after.get(&[3]).unwrap(), Some(vec![30]));
        assert_eq!(e.get_latest(&[3]).unwrap(), Some(vec![30]));
    }

    #[test]
    fn values_read_stay_valid_after_their_keys_are_overwritten_or_removed() {
        let e = MemEngine::new();
        let (k1, k2) = (b"a key".to_vec(), vec![7u8; 100]);
        e.apply(vec![(k1.clone(), Some(b"first".to_vec())), (k2.clone(), Some(vec![]))], false, 0).unwrap();
        let snap = e.snapshot();
        let shared = snap.get_shared(&k1).unwrap().unwrap();
        let empty = snap.get_shared(&k2).unwrap().unwrap();
        let scanned: Vec<Kv> = snap
            .scan(KeyRange { start: Bound::Unbounded, end: Bound::Unbounded }, Direction::Forward)
            .collect::<Result<_>>()
            .unwrap();
        drop(snap);
        e.apply(vec![(k1.clone(), Some(b"second".to_vec())), (k2.clone(), None)], false, 0).unwrap();
        assert_eq!(&shared[..], b"first");
        assert!(empty.is_empty());
        // Byte order: [7, …] before "a key".
        assert_eq!(scanned, vec![(k2.clone(), Bytes::new()), (k1.clone(), Bytes::from_static(b"first"))]);
        assert_eq!(e.get_latest(&k1).unwrap(), Some(b"second".to_vec()));
        assert_eq!(e.get_latest(&k2).unwrap(), None);
    }

    proptest! {
        /// Keys on both sides of the inline limit order, scan and read as byte strings.
        #[test]
        fn keys_of_any_length_keep_byte_order(
            entries in proptest::collection::btree_map(proptest::collection::vec(prop_oneof![Just(0u8), Just(1u8), Just(255u8), any::<u8>()], 0..64), any::<u8>(), 0..40),
            lo in proptest::collection::vec(any::<u8>(), 0..50),
        ) {
            let e = MemEngine::new();
            e.apply(entries.iter().map(|(k, v)| (k.clone(), Some(vec![*v]))).collect(), false, 0).unwrap();
            let snap = e.snapshot();
            let all: Vec<(Vec<u8>, Vec<u8>)> = snap.scan(KeyRange { start: Bound::Unbounded, end: Bound::Unbounded }, Direction::Forward)
                .map(|kv| kv.map(|(k, v)| (k, v.to_vec()))).collect::<Result<_>>().unwrap();
            let model: Vec<(Vec<u8>, Vec<u8>)> = entries.iter().map(|(k, v)| (k.clone(), vec![*v])).collect();
            prop_assert_eq!(&all, &model);
            let from: Vec<Vec<u8>> = snap.scan(KeyRange { start: Bound::Included(lo.clone()), end: Bound::Unbounded }, Direction::Reverse)
                .map(|kv| kv.map(|(k, _)| k)).collect::<Result<_>>().unwrap();
            let want: Vec<Vec<u8>> = entries.range(lo.clone()..).rev().map(|(k, _)| k.clone()).collect();
            prop_assert_eq!(from, want);
            for (k, v) in &entries {
                prop_assert_eq!(snap.get(k).unwrap(), Some(vec![*v]));
                prop_assert_eq!(e.get_latest(k).unwrap(), Some(vec![*v]));
            }
            prop_assert_eq!(snap.get(&lo).unwrap(), entries.get(&lo).map(|v| vec![*v]));
        }

        /// Every snapshot, read through the hash index (nothing applied since) or the
        /// map (batches applied since), answers with the state it was taken at.
        #[test]
        fn point_reads_agree_with_a_model(batches in proptest::collection::vec(
            proptest::collection::vec((0u8..16, proptest::option::of(any::<u8>())), 0..6), 1..24)) {
            let e = MemEngine::new();
            let mut model: BTreeMap<u8, u8> = BTreeMap::new();
            let mut taken: Vec<(MemSnapshot, BTreeMap<u8, u8>)> = Vec::new();
            for batch in &batches {
                apply(&e, batch);
                for &(k, v) in batch {
                    match v {
                        Some(v) => { model.insert(k, v); }
                        None => { model.remove(&k); }
                    }
                }
                taken.push((e.snapshot(), model.clone()));
                for (snap, state) in &taken {
                    for k in 0u8..16 {
                        prop_assert_eq!(snap.get(&[k]).unwrap(), state.get(&k).map(|v| vec![*v]));
                        prop_assert_eq!(snap.get_shared(&[k]).unwrap().map(|b| b.to_vec()), state.get(&k).map(|v| vec![*v]));
                    }
                }
                for k in 0u8..16 {
                    prop_assert_eq!(e.get_latest(&[k]).unwrap(), model.get(&k).map(|v| vec![*v]));
                }
            }
        }
    }
}
