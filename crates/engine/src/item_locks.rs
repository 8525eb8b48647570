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

    /// Locks the stripe of a storage key.
    pub fn lock(&self, key: &[u8]) -> MutexGuard<'_, ()> {
        // FNV-1a: cheap, and good enough to spread keys over stripes.
        let mut h: u64 = 0xcbf29ce484222325;
        for b in key {
            h ^= *b as u64;
            h = h.wrapping_mul(0x100000001b3);
        }
        self.stripes[(h % STRIPES as u64) as usize].lock()
    }
}
