//! Striped item locks: writes to one item are serialized before their storage
//! transaction starts, so contending writers queue instead of failing optimistic
//! validation over and over. Different items almost always map to different stripes;
//! there is no lock around the store.

use parking_lot::{Mutex, MutexGuard};

const STRIPES: usize = 4096;

/// The lock table.
pub struct ItemLocks {
    stripes: Vec<Mutex<()>>,
}

impl Default for ItemLocks {
    fn default() -> Self {
        Self::new()
    }
}

impl ItemLocks {
    /// A lock table.
    pub fn new() -> Self {
        ItemLocks { stripes: (0..STRIPES).map(|_| Mutex::new(())).collect() }
    }

    fn stripe(key: &[u8]) -> usize {
        // FNV-1a: cheap, and good enough to spread keys over stripes.
        let mut h: u64 = 0xcbf29ce484222325;
        for b in key {
            h ^= *b as u64;
            h = h.wrapping_mul(0x100000001b3);
        }
        (h % STRIPES as u64) as usize
    }

    /// Locks the stripe of a storage key.
    pub fn lock(&self, key: &[u8]) -> MutexGuard<'_, ()> {
        self.stripes[Self::stripe(key)].lock()
    }

    /// Locks the stripes of several keys (a transaction's items) in ascending stripe
    /// order, each once: every multi-lock takes them in the same order, so two
    /// transactions can never deadlock.
    pub fn lock_many(&self, keys: &[&[u8]]) -> Vec<MutexGuard<'_, ()>> {
        let mut stripes: Vec<usize> = keys.iter().map(|k| Self::stripe(k)).collect();
        stripes.sort_unstable();
        stripes.dedup();
        stripes.into_iter().map(|i| self.stripes[i].lock()).collect()
    }
}
