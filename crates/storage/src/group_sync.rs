//! Group commit: writers that wait for durability share one sync. A dedicated
//! syncer thread runs the syncs: while waiters are queued it syncs everything
//! committed so far, answers every waiter that sync covered, and goes again for the
//! waiters that arrived meanwhile. Waiters are callbacks, so a caller need not park
//! a thread per write (the server answers the request from the callback); blocking
//! waiters wrap a callback around a channel.
//!
//! A failed sync may have lost every commit it did not cover before (the engine drops
//! its unsynced tail when it reopens): those commits are remembered as lost, and a
//! waiter for any of them fails — now or later, even after a later sync succeeds.

use std::panic::{catch_unwind, AssertUnwindSafe};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;

use parking_lot::{Condvar, Mutex};

use crate::{DurableCallback, Result, StorageError};

/// How many separate ranges of lost commits are remembered (the oldest is forgotten).
const LOST_RANGES: usize = 64;

struct Waiter {
    lo: u64,
    hi: u64,
    done: DurableCallback,
}

struct State {
    synced: u64,
    /// Commit ranges `(after, upto]` a failed sync may have lost, ascending.
    lost: Vec<(u64, u64)>,
    waiters: Vec<Waiter>,
    /// The store is closing: the syncer drains the queue and exits.
    stopping: bool,
    /// The syncer has exited (or never started): waiters sync on their own thread.
    stopped: bool,
}

impl State {
    fn is_lost(&self, lo: u64, hi: u64) -> bool {
        self.lost.iter().any(|&(after, upto)| lo <= upto && hi > after)
    }

    /// Everything committed after the last successful sync, up to `committed`, may be lost.
    fn record_loss(&mut self, committed: u64) {
        let range = (self.synced, committed);
        if range.1 <= range.0 {
            return;
        }
        match self.lost.last_mut() {
            Some(last) if range.0 <= last.1 => last.1 = last.1.max(range.1),
            _ => self.lost.push(range),
        }
        if self.lost.len() > LOST_RANGES {
            self.lost.remove(0);
        }
    }

    /// The answer for commits `lo..=hi` once a sync covered them.
    fn outcome(&self, lo: u64, hi: u64) -> Result<()> {
        if self.is_lost(lo, hi) {
            Err(lost())
        } else {
            Ok(())
        }
    }
}

fn lost() -> StorageError {
    StorageError::Engine("a failed write or sync may have lost this commit".into())
}

fn sync_failed(e: &StorageError) -> StorageError {
    StorageError::Engine(format!("sync failed: {e}"))
}

/// Runs `sync`, turning a panic into an error.
fn guarded(sync: &dyn Fn() -> Result<()>) -> Result<()> {
    catch_unwind(AssertUnwindSafe(sync)).unwrap_or_else(|_| Err(StorageError::Engine("the sync panicked".into())))
}

/// Calls a waiter's callback; a panicking callback does not take the syncer down.
fn answer(done: DurableCallback, r: Result<()>) {
    let _ = catch_unwind(AssertUnwindSafe(move || done(r)));
}

/// Shared sync state of one store.
pub(crate) struct GroupSync {
    state: Mutex<State>,
    cv: Condvar,
    committed: Arc<AtomicU64>,
}

impl GroupSync {
    /// Sync state starting at the store's current commit. Until [`GroupSync::run`]
    /// is called on a thread, waiters sync on their own.
    pub(crate) fn new(committed: Arc<AtomicU64>) -> Self {
        let start = committed.load(Ordering::Acquire);
        GroupSync {
            state: Mutex::new(State {
                synced: start,
                lost: Vec::new(),
                waiters: Vec::new(),
                stopping: false,
                stopped: true,
            }),
            cv: Condvar::new(),
            committed,
        }
    }

    /// Marks the syncer as started (before its thread runs, so no waiter syncs on
    /// its own in between).
    pub(crate) fn start(&self) {
        self.state.lock().stopped = false;
    }

    /// Calls `done` once commits `lo..=hi` are durable (at once if they are already,
    /// or may have been lost). `sync` is used only when no syncer thread runs.
    pub(crate) fn on_durable(&self, lo: u64, hi: u64, done: DurableCallback, sync: &dyn Fn() -> Result<()>) {
        let mut st = self.state.lock();
        if st.is_lost(lo, hi) {
            drop(st);
            return answer(done, Err(lost()));
        }
        if st.synced >= hi {
            drop(st);
            return answer(done, Ok(()));
        }
        if !st.stopped {
            st.waiters.push(Waiter { lo, hi, done });
            drop(st);
            self.cv.notify_one();
            return;
        }
        drop(st);
        // No syncer: sync here. Everything up to `target` was handed to the engine
        // before `committed` advanced, so one sync covers it.
        let target = self.committed.load(Ordering::Acquire);
        let r = guarded(sync);
        let mut st = self.state.lock();
        let r = match r {
            Ok(()) => {
                st.synced = st.synced.max(target);
                st.outcome(lo, hi)
            }
            Err(e) => {
                let committed = self.committed.load(Ordering::Acquire);
                st.record_loss(committed);
                Err(sync_failed(&e))
            }
        };
        drop(st);
        answer(done, r)
    }

    /// Blocks until commits `lo..=hi` are durable.
    pub(crate) fn wait(&self, lo: u64, hi: u64, sync: &dyn Fn() -> Result<()>) -> Result<()> {
        let (tx, rx) = std::sync::mpsc::sync_channel(1);
        self.on_durable(
            lo,
            hi,
            Box::new(move |r| {
                let _ = tx.send(r);
            }),
            sync,
        );
        rx.recv().unwrap_or_else(|_| Err(StorageError::Engine("the store closed before the sync".into())))
    }

    /// The syncer loop; returns after [`GroupSync::stop`] once no waiter is left.
    pub(crate) fn run(&self, sync: &dyn Fn() -> Result<()>) {
        loop {
            let mut st = self.state.lock();
            while st.waiters.is_empty() && !st.stopping {
                self.cv.wait(&mut st);
            }
            if st.waiters.is_empty() {
                st.stopped = true;
                return;
            }
            let target = self.committed.load(Ordering::Acquire);
            drop(st);
            let r = guarded(sync);
            let mut st = self.state.lock();
            let answers: Vec<(DurableCallback, Result<()>)> = match &r {
                Ok(()) => {
                    st.synced = st.synced.max(target);
                    let (done, rest): (Vec<Waiter>, Vec<Waiter>) =
                        std::mem::take(&mut st.waiters).into_iter().partition(|w| w.hi <= target);
                    st.waiters = rest;
                    done.into_iter()
                        .map(|w| {
                            let r = st.outcome(w.lo, w.hi);
                            (w.done, r)
                        })
                        .collect()
                }
                Err(e) => {
                    // Every queued waiter's commits are after the last good sync.
                    let committed = self.committed.load(Ordering::Acquire);
                    st.record_loss(committed);
                    std::mem::take(&mut st.waiters).into_iter().map(|w| (w.done, Err(sync_failed(e)))).collect()
                }
            };
            drop(st);
            for (done, r) in answers {
                answer(done, r);
            }
        }
    }

    /// Asks the syncer to drain its queue and exit.
    pub(crate) fn stop(&self) {
        self.state.lock().stopping = true;
        self.cv.notify_all();
    }

    /// Marks the syncer as gone when its thread could not start.
    pub(crate) fn abandon(&self) {
        self.state.lock().stopped = true;
    }

    /// The highest commit known to be durable.
    pub(crate) fn synced(&self) -> u64 {
        self.state.lock().synced
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::atomic::AtomicUsize;
    use std::sync::mpsc;
    use std::time::Duration;

    struct Fixture {
        gs: Arc<GroupSync>,
        committed: Arc<AtomicU64>,
        syncs: Arc<AtomicUsize>,
    }

    /// A group sync whose syncer thread runs `sync` (counted).
    fn start(sync: impl Fn() -> Result<()> + Send + 'static) -> (Fixture, std::thread::JoinHandle<()>) {
        let committed = Arc::new(AtomicU64::new(0));
        let gs = Arc::new(GroupSync::new(committed.clone()));
        let syncs = Arc::new(AtomicUsize::new(0));
        gs.start();
        let (g, n) = (gs.clone(), syncs.clone());
        let h = std::thread::spawn(move || {
            g.run(&|| {
                n.fetch_add(1, Ordering::SeqCst);
                sync()
            })
        });
        (Fixture { gs, committed, syncs }, h)
    }

    fn never() -> Result<()> {
        panic!("waiters must not sync on their own while the syncer runs")
    }

    fn callback(tx: &mpsc::Sender<(u64, bool)>, seq: u64) -> DurableCallback {
        let tx = tx.clone();
        Box::new(move |r: Result<()>| {
            let _ = tx.send((seq, r.is_ok()));
        })
    }

    #[test]
    fn a_waiter_is_answered_only_after_a_sync_that_covers_it() {
        // The sync blocks until the test lets it go.
        let (gate_tx, gate_rx) = mpsc::channel::<()>();
        let gate_rx = parking_lot::Mutex::new(gate_rx);
        let (f, h) = start(move || {
            gate_rx.lock().recv().map_err(|_| StorageError::Engine("gate closed".into()))?;
            Ok(())
        });
        let (tx, rx) = mpsc::channel();
        f.committed.store(3, Ordering::Release);
        for seq in 1..=3 {
            f.gs.on_durable(seq, seq, callback(&tx, seq), &never);
        }
        assert!(rx.recv_timeout(Duration::from_millis(200)).is_err(), "answered before the sync finished");
        gate_tx.send(()).unwrap();
        let mut answered: Vec<_> = (0..3).map(|_| rx.recv_timeout(Duration::from_secs(5)).unwrap()).collect();
        answered.sort();
        assert_eq!(answered, vec![(1, true), (2, true), (3, true)]);
        // One sync covered all three (it may be the only one: all were queued first).
        assert_eq!(f.syncs.load(Ordering::SeqCst), 1);
        // Already durable: answered at once, no sync.
        f.gs.on_durable(2, 2, callback(&tx, 2), &never);
        assert_eq!(rx.recv_timeout(Duration::from_secs(5)).unwrap(), (2, true));
        assert_eq!(f.syncs.load(Ordering::SeqCst), 1);
        drop(gate_tx);
        f.gs.stop();
        h.join().unwrap();
    }

    #[test]
    fn a_failed_sync_loses_the_unsynced_commits_for_good_and_later_ones_succeed() {
        let fail = Arc::new(std::sync::atomic::AtomicBool::new(true));
        let f2 = fail.clone();
        let (f, h) =
            start(
                move || {
                    if f2.load(Ordering::SeqCst) {
                        Err(StorageError::Engine("disk gone".into()))
                    } else {
                        Ok(())
                    }
                },
            );
        f.committed.store(1, Ordering::Release);
        let err = f.gs.wait(1, 1, &never).unwrap_err();
        assert!(err.to_string().contains("sync failed"), "{err}");
        // The engine comes back (without commit 1's batch, which was not synced).
        fail.store(false, Ordering::SeqCst);
        f.committed.store(3, Ordering::Release);
        f.gs.wait(2, 3, &never).unwrap();
        assert_eq!(f.gs.synced(), 3);
        // Commit 1 stays lost, alone or as part of a span, though later syncs succeeded.
        assert!(f.gs.wait(1, 1, &never).is_err());
        assert!(f.gs.wait(1, 3, &never).is_err());
        f.gs.wait(3, 3, &never).unwrap();
        f.gs.stop();
        h.join().unwrap();
    }

    #[test]
    fn a_panicking_sync_or_callback_fails_its_waiters_and_the_syncer_goes_on() {
        let panic_now = Arc::new(std::sync::atomic::AtomicBool::new(true));
        let p2 = panic_now.clone();
        let (f, h) = start(move || {
            if p2.swap(false, Ordering::SeqCst) {
                panic!("sync blew up");
            }
            Ok(())
        });
        f.committed.store(1, Ordering::Release);
        assert!(f.gs.wait(1, 1, &never).is_err());
        f.committed.store(2, Ordering::Release);
        f.gs.on_durable(2, 2, Box::new(|_| panic!("callback blew up")), &never);
        f.committed.store(3, Ordering::Release);
        f.gs.wait(3, 3, &never).unwrap();
        f.gs.stop();
        h.join().unwrap();
    }

    #[test]
    fn after_the_syncer_stops_waiters_sync_on_their_own() {
        let (f, h) = start(|| Ok(()));
        f.gs.stop();
        h.join().unwrap();
        f.committed.store(5, Ordering::Release);
        let own = AtomicUsize::new(0);
        f.gs.wait(5, 5, &|| {
            own.fetch_add(1, Ordering::SeqCst);
            Ok(())
        })
        .unwrap();
        assert_eq!(own.load(Ordering::SeqCst), 1);
        assert_eq!(f.gs.synced(), 5);
    }

    #[test]
    fn many_threads_waiting_share_syncs() {
        let (f, h) = start(|| {
            std::thread::sleep(Duration::from_millis(2));
            Ok(())
        });
        let threads: Vec<_> = (0..16)
            .map(|_| {
                let (gs, committed) = (f.gs.clone(), f.committed.clone());
                std::thread::spawn(move || {
                    for _ in 0..50 {
                        let seq = committed.fetch_add(1, Ordering::AcqRel) + 1;
                        gs.wait(seq, seq, &never).unwrap();
                        assert!(gs.synced() >= seq);
                    }
                })
            })
            .collect();
        for t in threads {
            t.join().unwrap();
        }
        let syncs = f.syncs.load(Ordering::SeqCst);
        assert!(syncs < 16 * 50, "{syncs} syncs for 800 waits: no grouping");
        f.gs.stop();
        h.join().unwrap();
    }
}
