//! An operation's answer. Most operations build a `serde_json::Value`; the ones that
//! return many items (GetItem, Query, Scan) write their JSON bytes
//! directly with [`JsonObject`], which skips building and then serializing a value
//! tree per attribute (measured: most of a Scan page's CPU time went there).

use serde_json::Value;
use stator_protocol::DynamoError;
use stator_storage::Commit;
use stator_types::json_write;
use stator_types::Item;

use crate::ops::read_page::PageItem;

/// What an operation answers.
#[derive(Debug)]
pub enum Reply {
    /// A value, serialized by the caller.
    Json(Value),
    /// JSON already written (always one object).
    Raw(Vec<u8>),
}

impl From<Value> for Reply {
    fn from(v: Value) -> Reply {
        Reply::Json(v)
    }
}

impl Reply {
    /// The response body.
    pub fn into_bytes(self) -> Vec<u8> {
        match self {
            Reply::Json(v) => serde_json::to_vec(&v).unwrap_or_default(),
            Reply::Raw(b) => b,
        }
    }

    /// The answer as a value (parsing written JSON back; for tests and callers that
    /// inspect answers).
    pub fn into_value(self) -> Result<Value, DynamoError> {
        match self {
            Reply::Json(v) => Ok(v),
            Reply::Raw(b) => serde_json::from_slice(&b)
                .map_err(|e| DynamoError::Internal(format!("an operation wrote invalid JSON: {e}"))),
        }
    }
}

/// An operation's reply and, for a write, the commit that must be durable before the
/// reply is sent. Writes answer once their group commit's sync is done; handing the
/// commit back (instead of waiting inside the operation) lets the HTTP layer wait
/// without a thread per waiting write.
pub struct Answer {
    reply: Reply,
    pending: Option<Commit>,
    /// Called if the commit does not become durable.
    on_failure: Option<Box<dyn FnOnce() + Send>>,
}

impl From<Reply> for Answer {
    fn from(reply: Reply) -> Answer {
        Answer { reply, pending: None, on_failure: None }
    }
}

impl From<Value> for Answer {
    fn from(v: Value) -> Answer {
        Answer::from(Reply::Json(v))
    }
}

impl Answer {
    /// A reply to send once `commit` (if any) is durable.
    pub(crate) fn new(reply: impl Into<Reply>, commit: Option<Commit>) -> Answer {
        Answer { reply: reply.into(), pending: commit.filter(Commit::is_pending), on_failure: None }
    }

    /// Runs `f` if the commit fails to become durable (before the error is answered).
    pub(crate) fn on_failure(mut self, f: impl FnOnce() + Send + 'static) -> Answer {
        self.on_failure = Some(Box::new(f));
        self
    }

    /// Whether the reply waits for a sync.
    pub fn is_pending(&self) -> bool {
        self.pending.is_some()
    }

    /// Blocks until the write is durable, then gives the reply.
    pub fn wait(self) -> Result<Reply, DynamoError> {
        let durable = self.pending.as_ref().map_or(Ok(()), Commit::wait_durable);
        settle(self.reply, self.on_failure, durable)
    }

    /// Calls `done` with the reply once the write is durable (with
    /// InternalServerError if the sync failed), without blocking the caller. `done`
    /// may run on the store's sync thread: it must be quick.
    pub fn on_durable(self, done: impl FnOnce(Result<Reply, DynamoError>) + Send + 'static) {
        let Answer { reply, pending, on_failure } = self;
        match pending {
            None => done(Ok(reply)),
            Some(c) => c.on_durable(move |r| done(settle(reply, on_failure, r))),
        }
    }
}

/// The reply once the commit's durability is known; a failure runs the failure hook
/// and answers InternalServerError.
fn settle(
    reply: Reply,
    on_failure: Option<Box<dyn FnOnce() + Send>>,
    durable: stator_storage::Result<()>,
) -> Result<Reply, DynamoError> {
    match durable {
        Ok(()) => Ok(reply),
        Err(e) => {
            if let Some(f) = on_failure {
                f();
            }
            Err(crate::internal(e))
        }
    }
}

/// Writes one JSON object member by member.
pub(crate) struct JsonObject {
    buf: Vec<u8>,
    empty: bool,
}

impl JsonObject {
    pub(crate) fn with_capacity(n: usize) -> JsonObject {
        let mut buf = Vec::with_capacity(n.max(16));
        buf.push(b'{');
        JsonObject { buf, empty: true }
    }

    fn key(&mut self, k: &str) {
        if !self.empty {
            self.buf.push(b',');
        }
        self.empty = false;
        json_write::write_str(&mut self.buf, k);
        self.buf.push(b':');
    }

    /// A member whose value is a `serde_json::Value`.
    pub(crate) fn value(&mut self, k: &str, v: &Value) {
        self.key(k);
        // Writing into a Vec cannot fail.
        let _ = serde_json::to_writer(&mut self.buf, v);
    }

    /// A member whose value is an item.
    pub(crate) fn item(&mut self, k: &str, item: &Item) {
        self.key(k);
        json_write::write_item(&mut self.buf, item);
    }

    /// A member whose value is a stored item, written without decoding it.
    pub(crate) fn stored_item(&mut self, k: &str, stored: &[u8]) -> Result<(), DynamoError> {
        self.key(k);
        stator_types::stored::write_json(stored, &mut self.buf).map_err(crate::internal)
    }

    /// A member whose value is a page's list of items.
    pub(crate) fn page_items(&mut self, k: &str, items: &[PageItem]) -> Result<(), DynamoError> {
        self.key(k);
        self.buf.push(b'[');
        for (i, item) in items.iter().enumerate() {
            if i > 0 {
                self.buf.push(b',');
            }
            match item {
                PageItem::Stored(b) => stator_types::stored::write_json(b, &mut self.buf).map_err(crate::internal)?,
                PageItem::Built(item) => json_write::write_item(&mut self.buf, item),
            }
        }
        self.buf.push(b']');
        Ok(())
    }

    /// A member whose value is an unsigned integer.
    pub(crate) fn uint(&mut self, k: &str, n: u64) {
        self.key(k);
        json_write::write_u64(&mut self.buf, n);
    }

    pub(crate) fn finish(mut self) -> Reply {
        self.buf.push(b'}');
        Reply::Raw(self.buf)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn unsigned_members_are_written_as_json_numbers() {
        for n in [0u64, 7, 10, 99, 100, 1_048_576, u64::MAX] {
            let mut o = JsonObject::with_capacity(8);
            o.uint("Count", n);
            o.uint("Next", 1);
            let text = o.finish().into_bytes();
            let v: Value = serde_json::from_slice(&text).expect("valid JSON");
            assert_eq!(v["Count"].as_u64(), Some(n), "{}", String::from_utf8_lossy(&text));
            assert_eq!(v["Next"].as_u64(), Some(1));
        }
    }
}
