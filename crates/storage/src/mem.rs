//! The in-memory engine: a persistent (structurally shared) ordered map, so a
//! snapshot is an O(1) clone and readers never block writers for long.

use std::ops::Bound;
use std::sync::Arc;

use imbl::OrdMap;
use parking_lot::RwLock;

use crate::local::{LocalEngine, Write};
use crate::{Direction, EngineLimits, KeyRange, ReadView, Result, ScanIter};

/// Keys and values are reference-counted so that the path copies a write makes under
/// a live snapshot clone pointers, not bytes.
type Map = OrdMap<Arc<[u8]>, Arc<[u8]>>;

/// The in-memory engine (`--in-memory`): nothing outlives the process.
#[derive(Default)]
pub struct MemEngine {
    map: RwLock<Map>,
}

impl MemEngine {
    /// An empty store.
    pub fn new() -> Self {
        Self::default()
    }
}

/// A snapshot of the in-memory engine.
pub struct MemSnapshot(Map);

impl ReadView for MemSnapshot {
    fn get(&self, key: &[u8]) -> Result<Option<Vec<u8>>> {
        Ok(self.0.get(key).map(|v| v.to_vec()))
    }

    fn scan(&self, range: KeyRange, dir: Direction) -> ScanIter<'_> {
        let bounds: (Bound<&[u8]>, Bound<&[u8]>) = (as_ref(&range.start), as_ref(&range.end));
        if let (Bound::Included(s) | Bound::Excluded(s), Bound::Included(e) | Bound::Excluded(e)) = bounds {
            if s > e {
                return Box::new(std::iter::empty());
            }
        }
        let owned: (Bound<&[u8]>, Bound<&[u8]>) = bounds;
        let iter = self.0.range::<_, [u8]>(owned).map(|(k, v)| Ok((k.to_vec(), v.to_vec())));
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
        MemSnapshot(self.map.read().clone())
    }

    fn get_latest(&self, key: &[u8]) -> Result<Option<Vec<u8>>> {
        Ok(self.map.read().get(key).map(|v| v.to_vec()))
    }

    fn apply(&self, batch: Vec<Write>, _write_through: bool, _generation: u64) -> Result<()> {
        let mut map = self.map.write();
        for (k, v) in batch {
            match v {
                Some(v) => {
                    map.insert(Arc::from(k), Arc::from(v));
                }
                None => {
                    map.remove(k.as_slice());
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
