//! The opt-in asynchronous GSI mode (`--gsi-propagation-delay-ms`): global-index
//! entries are brought up to date by a background worker a fixed delay after the item
//! write commits, so that applications can be tested against eventually consistent
//! GSIs as on DynamoDB. Jobs are queued in commit order under the item's lock and
//! applied in that order; the pass checks which old entry is really present, so it is
//! exact whatever happened in between. Local indexes stay synchronous, as on DynamoDB.

use std::collections::VecDeque;
use std::sync::Arc;
use std::time::{Duration, Instant};

use parking_lot::{Condvar, Mutex};
use stator_storage::{KvStore, StorageError};
use stator_types::Item;

use crate::catalog::Catalog;
use crate::indexes::{maintain, Which};

/// One delayed global-index update.
pub struct Job {
    due: Instant,
    account: String,
    region: String,
    table: String,
    number: u64,
    key: Vec<u8>,
    old: Option<Item>,
    new: Option<Item>,
}

/// The queue and its worker.
pub struct Propagator {
    queue: Mutex<VecDeque<Job>>,
    cv: Condvar,
    delay: Duration,
}

impl Propagator {
    /// Starts the worker.
    pub fn start(delay: Duration, store: Arc<dyn KvStore>, catalog: Arc<Catalog>) -> std::io::Result<Arc<Propagator>> {
        let p = Arc::new(Propagator { queue: Mutex::new(VecDeque::new()), cv: Condvar::new(), delay });
        let worker = p.clone();
        std::thread::Builder::new().name("gsi-propagation".into()).spawn(move || worker.run(store, catalog))?;
        Ok(p)
    }

    /// Queues the global-index update of one committed item write.
    pub fn enqueue(&self, meta: &crate::catalog::TableMeta, key: &[u8], old: Option<Item>, new: Option<Item>) {
        let job = Job {
            due: Instant::now() + self.delay,
            account: meta.account.clone(),
            region: meta.region.clone(),
            table: meta.name.clone(),
            number: meta.number,
            key: key.to_vec(),
            old,
            new,
        };
        self.queue.lock().push_back(job);
        self.cv.notify_one();
    }

    fn run(&self, store: Arc<dyn KvStore>, catalog: Arc<Catalog>) {
        loop {
            let job = {
                let mut q = self.queue.lock();
                loop {
                    match q.front().map(|j| j.due) {
                        None => self.cv.wait(&mut q),
                        Some(due) if due > Instant::now() => {
                            self.cv.wait_for(&mut q, due - Instant::now());
                        }
                        Some(_) => break,
                    }
                }
                match q.pop_front() {
                    Some(j) => j,
                    None => continue,
                }
            };
            if let Err(e) = apply(store.as_ref(), &catalog, &job) {
                tracing::error!(error = %e, table = job.table, "delayed GSI propagation failed");
            }
        }
    }
}

fn apply(store: &dyn KvStore, catalog: &Catalog, job: &Job) -> Result<(), StorageError> {
    loop {
        // The table's current indexes: a table or index dropped meanwhile is skipped.
        let Some(meta) = catalog.get(&job.account, &job.region, &job.table).filter(|m| m.number == job.number) else {
            return Ok(());
        };
        let mut txn = store.begin();
        maintain(txn.as_mut(), &meta, &job.key, job.old.as_ref(), job.new.as_ref(), Which::GlobalChecked);
        match txn.commit() {
            Ok(c) => return c.wait_durable(),
            Err(StorageError::Conflict) => continue,
            Err(e) => return Err(e),
        }
    }
}
