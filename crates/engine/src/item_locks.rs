//! Striped item locks: writes to one item are serialized before their storage
//! transaction starts, so contending writers queue instead of failing optimistic
//! validation over and over. Different items almost always map to different stripes;
//! there is no lock around the store.

use std::collections::HashSet;

use parking_lot::{Mutex, MutexGuard};

const STRIPES: usize = 4096;

/// Shards of the in-transaction marks: a mark is set and cleared once per item of a
/// transaction and read once per item write, each under its shard's lock for a hash
/// lookup, so few shards suffice (and the table stays small: it is built at start).
const MARK_SHARDS: usize = 64;

/// The lock table.
pub struct ItemLocks {
    stripes: Vec<Mutex<()>>,
    /// The item keys transactions in progress hold, in [`MARK_SHARDS`] shards: DynamoDB
    /// fails (rather than queues) a write that meets a transaction in progress. Exact
    /// keys, so that items merely sharing a stripe never conflict.
    in_transaction: Vec<Mutex<HashSet<Vec<u8>>>>,
}

impl Default for ItemLocks {
    fn default() -> Self {
        Self::new()
    }
}

impl ItemLocks {
    /// A lock table.
    pub fn new() -> Self {
        ItemLocks {
            stripes: (0..STRIPES).map(|_| Mutex::new(())).collect(),
            in_transaction: (0..MARK_SHARDS).map(|_| Mutex::new(HashSet::new())).collect(),
        }
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

    /// The in-transaction marks of the shard of `key`.
    fn marks(&self, key: &[u8]) -> MutexGuard<'_, HashSet<Vec<u8>>> {
        self.in_transaction[Self::stripe(key) % MARK_SHARDS].lock()
    }

    /// Locks the stripe of a storage key.
    pub fn lock(&self, key: &[u8]) -> MutexGuard<'_, ()> {
        self.stripes[Self::stripe(key)].lock()
    }

    /// Whether a transaction in progress holds `key` (the item itself, not merely its
    /// stripe).
    pub fn in_transaction(&self, key: &[u8]) -> bool {
        self.marks(key).contains(key)
    }

    /// Locks the stripes of a transaction's items in ascending stripe order, each once
    /// (so two transactions never deadlock), and marks the items as held by a
    /// transaction until the returned guard drops. Returns the positions (in `keys`) of the items
    /// that another transaction holds instead, without locking anything.
    pub fn lock_transaction(&self, keys: &[&[u8]]) -> Result<TransactionGuard<'_>, Vec<usize>> {
        let busy: Vec<usize> =
            keys.iter().enumerate().filter(|(_, k)| self.in_transaction(k)).map(|(i, _)| i).collect();
        if !busy.is_empty() {
            return Err(busy);
        }
        let mut stripes: Vec<usize> = keys.iter().map(|k| Self::stripe(k)).collect();
        stripes.sort_unstable();
        stripes.dedup();
        let guards: Vec<MutexGuard<'_, ()>> = stripes.iter().map(|&i| self.stripes[i].lock()).collect();
        let keys: Vec<Vec<u8>> = keys.iter().map(|k| k.to_vec()).collect();
        for k in &keys {
            self.marks(k).insert(k.clone());
        }
        Ok(TransactionGuard { locks: self, keys, _guards: guards })
    }
}

/// The stripes a transaction holds; clears their marks before unlocking them.
pub struct TransactionGuard<'a> {
    locks: &'a ItemLocks,
    keys: Vec<Vec<u8>>,
    _guards: Vec<MutexGuard<'a, ()>>,
}

impl Drop for TransactionGuard<'_> {
    fn drop(&mut self) {
        for k in &self.keys {
            self.locks.marks(k).remove(k);
        }
    }
}
