//! Group commit: writers that wait for durability share one sync. The first waiter
//! that finds no sync running becomes the leader, syncs everything committed so far,
//! and wakes the others.

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;

use parking_lot::{Condvar, Mutex};

use crate::{Result, StorageError};

struct State {
    synced: u64,
    syncing: bool,
}

/// Shared sync state of one store.
pub(crate) struct GroupSync {
    state: Mutex<State>,
    cv: Condvar,
    committed: Arc<AtomicU64>,
}

impl GroupSync {
    pub(crate) fn new(committed: Arc<AtomicU64>) -> Self {
        let start = committed.load(Ordering::Acquire);
        GroupSync { state: Mutex::new(State { synced: start, syncing: false }), cv: Condvar::new(), committed }
    }

    /// Waits until `seq` is durable, running `sync` as the leader when needed.
    pub(crate) fn wait(&self, seq: u64, sync: &dyn Fn() -> Result<()>) -> Result<()> {
        let mut st = self.state.lock();
        loop {
            if st.synced >= seq {
                return Ok(());
            }
            if st.syncing {
                self.cv.wait(&mut st);
                continue;
            }
            st.syncing = true;
            // Everything up to `target` was handed to the engine before `committed`
            // was advanced, so one sync covers all of it.
            let target = self.committed.load(Ordering::Acquire);
            drop(st);
            let r = sync();
            st = self.state.lock();
            st.syncing = false;
            if r.is_ok() && target > st.synced {
                st.synced = target;
            }
            self.cv.notify_all();
            if let Err(e) = r {
                return Err(StorageError::Engine(format!("sync failed: {e}")));
            }
        }
    }
}
