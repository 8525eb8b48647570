//! The in-memory engine: a persistent (structurally shared) ordered map, so a
//! snapshot is an O(1) clone and readers never block writers for long, next to a hash
//! index of the same entries for point reads.
//!
//! A point read through a snapshot uses the hash index whenever nothing has been
//! applied since the snapshot was taken (then the latest state *is* the snapshot's);
//! otherwise it searches the snapshot's map. The hash index costs a hash and one or two
//! cache misses where the B-tree costs a dozen or more key comparisons, each behind a
//! pointer.

use std::collections::HashMap;
use std::ops::Bound;
use std::sync::Arc;

use bytes::Bytes;
use imbl::OrdMap;
use parking_lot::RwLock;

use crate::local::{LocalEngine, Write};
use crate::{Direction, EngineLimits, KeyRange, ReadView, Result, ScanIter};

/// Keys and values are reference-counted so that the path copies a write makes under
/// a live snapshot clone pointers, not bytes, and so that the map and the hash index
/// share one copy of each. A value keeps the buffer the writer encoded it into (no copy
/// of a ~1 KB item into a new allocation under the write lock).
type Map = OrdMap<Arc<[u8]>, Bytes>;

/// The engine's state: both structures always hold the same entries.
#[derive(Default)]
struct State {
    map: Map,
    index: HashMap<Arc<[u8]>, Bytes>,
    /// Incremented by every applied batch.
    version: u64,
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
                return Ok(live.index.get(key).cloned());
            }
        }
        Ok(self.map.get(key).cloned())
    }

    fn scan(&self, range: KeyRange, dir: Direction) -> ScanIter<'_> {
        let bounds: (Bound<&[u8]>, Bound<&[u8]>) = (as_ref(&range.start), as_ref(&range.end));
        if let (Bound::Included(s) | Bound::Excluded(s), Bound::Included(e) | Bound::Excluded(e)) = bounds {
            if s > e {
                return Box::new(std::iter::empty());
            }
        }
        let owned: (Bound<&[u8]>, Bound<&[u8]>) = bounds;
        let iter = self.map.range::<_, [u8]>(owned).map(|(k, v)| Ok((k.to_vec(), v.clone())));
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
        Ok(self.state.read().index.get(key).map(|v| v.to_vec()))
    }

    fn apply(&self, batch: Vec<Write>, _write_through: bool, _generation: u64) -> Result<()> {
        let mut state = self.state.write();
        let state = &mut *state;
        state.version += 1;
        for (k, v) in batch {
            match v {
                Some(mut v) => {
                    // Spare capacity would be kept for the value's lifetime.
                    v.shrink_to_fit();
                    let (k, v): (Arc<[u8]>, Bytes) = (Arc::from(k), Bytes::from(v));
                    state.map.insert(k.clone(), v.clone());
                    state.index.insert(k, v);
                }
                None => {
                    state.map.remove(k.as_slice());
                    state.index.remove(k.as_slice());
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
            max_key_len: usize::MAX,
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

    proptest! {
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
