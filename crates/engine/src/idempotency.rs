//! ClientRequestToken for TransactWriteItems: within 10 minutes, a repeat with the same
//! parameters returns the first result without applying anything again; different
//! parameters are IdempotentParameterMismatchException; a repeat while the first is
//! still running is TransactionInProgressException. A failed transaction leaves no
//! token behind, so it can be retried with the same token.

use std::collections::HashMap;
use std::time::{Duration, Instant};

use parking_lot::Mutex;
use serde_json::Value;
use stator_protocol::DynamoError;
use stator_storage::Commit;

/// How long a token is remembered.
pub const WINDOW: Duration = Duration::from_secs(600);

enum State {
    Running,
    /// The answer, and the commit it must be durable with before a repeat is answered.
    Done(Value, Option<Commit>),
}

struct Entry {
    fingerprint: String,
    at: Instant,
    state: State,
    /// Tells this entry from a later one under the same token.
    id: u64,
}

/// What [`Tokens::run`] did.
pub enum Ran {
    /// Ran the transaction: its answer, its commit, and the entry's id (to
    /// [`Tokens::forget`] it if that commit fails to become durable).
    Now(Value, Option<Commit>, u64),
    /// A repeat: the first answer and its commit.
    Before(Value, Option<Commit>),
}

/// The tokens seen in the last [`WINDOW`].
#[derive(Default)]
pub struct Tokens {
    map: Mutex<HashMap<String, Entry>>,
    next_id: std::sync::atomic::AtomicU64,
}

impl Tokens {
    /// Runs `run` under `token` (scoped by the caller), or answers from its record.
    pub fn run(
        &self,
        token: &str,
        fingerprint: String,
        run: impl FnOnce() -> Result<(Value, Option<Commit>), DynamoError>,
    ) -> Result<Ran, DynamoError> {
        let id = self.next_id.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        {
            let mut map = self.map.lock();
            let now = Instant::now();
            map.retain(|_, e| now.duration_since(e.at) < WINDOW);
            match map.get(token) {
                Some(e) if e.fingerprint != fingerprint => {
                    return Err(DynamoError::IdempotentParameterMismatch(
                        "Specified idempotent token was used with different request parameters within the idempotency window".into(),
                    ))
                }
                Some(Entry { state: State::Running, .. }) => {
                    return Err(DynamoError::TransactionInProgress("Transaction is ongoing for the idempotency token".into()))
                }
                Some(Entry { state: State::Done(v, c), .. }) => return Ok(Ran::Before(v.clone(), c.clone())),
                None => {
                    map.insert(token.to_string(), Entry { fingerprint, at: now, state: State::Running, id });
                }
            }
        }
        let result = run();
        let mut map = self.map.lock();
        match result {
            Ok((v, c)) => {
                if let Some(e) = map.get_mut(token) {
                    e.state = State::Done(v.clone(), c.clone());
                }
                Ok(Ran::Now(v, c, id))
            }
            Err(e) => {
                map.remove(token);
                Err(e)
            }
        }
    }

    /// Forgets the record `id` of `token` (a run whose commit then failed to become
    /// durable: the transaction may be lost, so a repeat must run it again).
    pub fn forget(&self, token: &str, id: u64) {
        let mut map = self.map.lock();
        if map.get(token).is_some_and(|e| e.id == id) {
            map.remove(token);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn value(r: Result<Ran, DynamoError>) -> (Value, bool) {
        match r.unwrap() {
            Ran::Now(v, _, _) => (v, true),
            Ran::Before(v, _) => (v, false),
        }
    }

    #[test]
    fn repeat_mismatch_and_in_progress() {
        let t = Tokens::default();
        let mut runs = 0;
        let first = t.run("k", "a".into(), || {
            runs += 1;
            // A repeat while the first is still running.
            let inner = t.run("k", "a".into(), || Ok((json!({"inner": true}), None)));
            assert!(matches!(inner, Err(DynamoError::TransactionInProgress(_))));
            Ok((json!({"n": 1}), None))
        });
        assert_eq!(value(first), (json!({"n": 1}), true));
        assert_eq!(
            value(t.run("k", "a".into(), || Ok((json!({"n": 2}), None)))),
            (json!({"n": 1}), false),
            "answered from the record"
        );
        assert!(matches!(
            t.run("k", "b".into(), || Ok((json!({}), None))),
            Err(DynamoError::IdempotentParameterMismatch(_))
        ));
        // A failed run leaves no record.
        assert!(t.run("f", "a".into(), || Err(DynamoError::validation("no"))).is_err());
        assert_eq!(value(t.run("f", "a".into(), || Ok((json!({"ok": true}), None)))), (json!({"ok": true}), true));
        assert_eq!(runs, 1);
    }

    #[test]
    fn a_forgotten_run_runs_again_and_a_stale_forget_is_ignored() {
        let t = Tokens::default();
        let Ran::Now(_, _, first) = t.run("k", "a".into(), || Ok((json!(1), None))).unwrap() else { panic!("ran") };
        t.forget("k", first);
        let Ran::Now(_, _, second) = t.run("k", "a".into(), || Ok((json!(2), None))).unwrap() else { panic!("ran") };
        t.forget("k", first);
        assert_eq!(value(t.run("k", "a".into(), || Ok((json!(3), None)))), (json!(2), false));
        assert_ne!(first, second);
    }
}
