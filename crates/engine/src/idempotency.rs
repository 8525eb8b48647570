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

/// How long a token is remembered.
pub const WINDOW: Duration = Duration::from_secs(600);

enum State {
    Running,
    Done(Value),
}

struct Entry {
    fingerprint: String,
    at: Instant,
    state: State,
}

/// The tokens seen in the last [`WINDOW`].
#[derive(Default)]
pub struct Tokens {
    map: Mutex<HashMap<String, Entry>>,
}

impl Tokens {
    /// Runs `run` under `token` (scoped by the caller), or answers from its record.
    pub fn run(
        &self,
        token: &str,
        fingerprint: String,
        run: impl FnOnce() -> Result<Value, DynamoError>,
    ) -> Result<Value, DynamoError> {
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
                Some(Entry { state: State::Done(v), .. }) => return Ok(v.clone()),
                None => {
                    map.insert(token.to_string(), Entry { fingerprint, at: now, state: State::Running });
                }
            }
        }
        let result = run();
        let mut map = self.map.lock();
        match &result {
            Ok(v) => {
                if let Some(e) = map.get_mut(token) {
                    e.state = State::Done(v.clone());
                }
            }
            Err(_) => {
                map.remove(token);
            }
        }
        result
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn repeat_mismatch_and_in_progress() {
        let t = Tokens::default();
        let mut runs = 0;
        let first = t.run("k", "a".into(), || {
            runs += 1;
            // A repeat while the first is still running.
            let inner = t.run("k", "a".into(), || Ok(json!({"inner": true})));
            assert!(matches!(inner, Err(DynamoError::TransactionInProgress(_))));
            Ok(json!({"n": 1}))
        });
        assert_eq!(first.unwrap(), json!({"n": 1}));
        assert_eq!(
            t.run("k", "a".into(), || Ok(json!({"n": 2}))).unwrap(),
            json!({"n": 1}),
            "answered from the record"
        );
        assert!(matches!(t.run("k", "b".into(), || Ok(json!({}))), Err(DynamoError::IdempotentParameterMismatch(_))));
        // A failed run leaves no record.
        assert!(t.run("f", "a".into(), || Err(DynamoError::validation("no"))).is_err());
        assert_eq!(t.run("f", "a".into(), || Ok(json!({"ok": true}))).unwrap(), json!({"ok": true}));
        assert_eq!(runs, 1);
    }
}
