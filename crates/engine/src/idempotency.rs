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
