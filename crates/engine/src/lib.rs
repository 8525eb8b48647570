//! DynamoDB semantics over the storage interface: the catalog of tables and one
//! module per operation (`ops/`). Each operation validates its whole request first,
//! then executes inside one storage transaction. Synchronous by design: the HTTP
//! layer runs it in place, or on a bounded blocking pool when [`Engine::may_block`].

#![warn(missing_docs)]

pub mod capacity;
pub mod catalog;
pub mod clock;
pub mod housekeeping;
pub mod idempotency;
pub mod indexes;
pub mod item_collections;
pub mod item_locks;
pub mod keys;
pub mod layout;
pub mod legacy;
mod ops;
pub mod propagation;
mod reply;
pub mod request;
pub mod statements;
pub mod streams;
pub mod ttl;

use std::sync::Arc;

use serde_json::{Map, Value};
use stator_protocol::{Body, DynamoError, Obj, Operation};
use stator_storage::{KvStore, StorageError};

use crate::catalog::{Catalog, TableMeta};
use crate::clock::Clock;
use crate::idempotency::Ran;
use crate::item_locks::ItemLocks;
pub use crate::reply::{Answer, Reply};
use crate::streams::Streams;

/// Who is asking, and where: tables live in (account, region).
#[derive(Debug, Clone)]
pub struct RequestContext {
    /// The account id.
    pub account: String,
    /// The region from the request's SigV4 credential scope.
    pub region: String,
    /// The host name clients use to reach this server (DescribeEndpoints).
    pub endpoint: String,
}

/// An item member read straight from a request's text ([`Engine::parse_member`]).
#[derive(Debug)]
pub enum ParsedMember {
    /// The `Key` of GetItem, UpdateItem and DeleteItem.
    Key(stator_types::Item),
    /// PutItem's `Item` as its stored record ([`stator_types::record_seed`]).
    Record(Vec<u8>),
}

/// Engine settings.
#[derive(Debug, Clone)]
pub struct EngineConfig {
    /// Most tables per account and region (CreateTable answers LimitExceededException past it).
    pub max_tables: usize,
    /// Largest item collection of a table with local indexes (DynamoDB: 10 GB).
    pub max_item_collection_bytes: u64,
    /// Opt-in eventually consistent GSIs: propagate global-index changes this long
    /// after the item write (None: in the write's transaction, the default).
    pub gsi_propagation_delay: Option<std::time::Duration>,
    /// The server's clock (system, or manual for tests).
    pub clock: Arc<Clock>,
    /// How long a stream shard stays open before it rolls over.
    pub stream_rollover: std::time::Duration,
    /// How often the housekeeping pass (TTL sweep, stream trim) runs.
    pub housekeeping_interval: std::time::Duration,
}

/// The limits and modes an item write needs.
pub struct WriteLimits<'a> {
    /// See [`EngineConfig::max_item_collection_bytes`].
    pub max_item_collection_bytes: u64,
    /// Whether global indexes are maintained by the delayed pass.
    pub async_gsi: bool,
    /// Where the write's stream record goes.
    pub streams: &'a Streams,
    /// Whether the service itself writes (a TTL delete), not a user request.
    pub service: bool,
}

impl Default for EngineConfig {
    fn default() -> Self {
        EngineConfig {
            max_tables: 2500,
            max_item_collection_bytes: item_collections::MAX_COLLECTION_BYTES,
            gsi_propagation_delay: None,
            clock: Arc::new(Clock::system()),
            stream_rollover: std::time::Duration::from_millis(streams::DEFAULT_ROLLOVER_MS),
            housekeeping_interval: std::time::Duration::from_secs(1),
        }
    }
}

/// The DynamoDB engine.
pub struct Engine {
    store: Arc<dyn KvStore>,
    catalog: Arc<Catalog>,
    locks: ItemLocks,
    config: EngineConfig,
    propagator: Option<Arc<propagation::Propagator>>,
    tokens: Arc<idempotency::Tokens>,
    streams: Streams,
    ttl: ttl::Sweeper,
}

/// Maps a storage failure to the client-facing error (details stay in the log).
pub(crate) fn internal(e: impl std::fmt::Display) -> DynamoError {
    DynamoError::Internal(e.to_string())
}

/// A table whose stream was enabled by a build older than stream records (its
/// settings carry no stream number) gets its stream now; until then it recorded
/// nothing.
fn give_streams_their_numbers(
    store: &dyn KvStore,
    catalog: &Catalog,
    streams: &Streams,
    now_ms: u64,
) -> Result<(), DynamoError> {
    for table in catalog.all() {
        if !table.stream.as_ref().is_some_and(|s| s.enabled && s.id.is_none()) {
            continue;
        }
        let mut meta = (*table).clone();
        let mut txn = store.begin();
        let next =
            stator_storage::decode_counter(txn.get(layout::NEXT_TABLE_KEY).map_err(internal)?.as_deref()).max(0) + 1;
        let Some(st) = meta.stream.as_mut() else { continue };
        st.id = Some(next as u64);
        let st = st.clone();
        let sm = ops::create_table::new_stream_meta(&meta, &st, now_ms);
        txn.put(layout::stream_meta_key(sm.id), sm.to_bytes());
        txn.put(layout::NEXT_TABLE_KEY.to_vec(), next.to_be_bytes().to_vec());
        txn.put(layout::catalog_key(&meta.account, &meta.region, &meta.name), meta.to_bytes());
        txn.commit().map_err(internal)?.wait_durable().map_err(internal)?;
        streams.register(sm);
        catalog.put(Arc::new(meta));
    }
    Ok(())
}

impl Engine {
    /// Opens the engine over a store: checks the on-disk format and loads the catalog.
    pub fn open(store: Arc<dyn KvStore>, config: EngineConfig) -> Result<Engine, DynamoError> {
        {
            let mut t = store.begin();
            match t.get(layout::FORMAT_KEY).map_err(internal)? {
                None => {
                    t.put(layout::FORMAT_KEY.to_vec(), layout::FORMAT_VERSION.as_bytes().to_vec());
                    t.commit().map_err(internal)?.wait_durable().map_err(internal)?;
                }
                Some(v) if v == layout::FORMAT_VERSION.as_bytes() => {}
                Some(v) => {
                    return Err(DynamoError::Internal(format!(
                        "unsupported on-disk format version {:?} (this build reads {})",
                        String::from_utf8_lossy(&v),
                        layout::FORMAT_VERSION
                    )))
                }
            }
        }
        let catalog = Catalog::load(store.as_ref())?;
        let catalog = Arc::new(catalog);
        let propagator = match config.gsi_propagation_delay {
            Some(d) => Some(propagation::Propagator::start(d, store.clone(), catalog.clone()).map_err(internal)?),
            None => None,
        };
        let rollover = config.stream_rollover.as_millis().max(1) as u64;
        let streams = Streams::open(store.clone(), config.clock.clone(), rollover)?;
        give_streams_their_numbers(store.as_ref(), &catalog, &streams, config.clock.now_ms())?;
        // A crash between a catalog change and the stream's close leaves an open
        // stream the catalog no longer points at: close it now.
        streams.reconcile(&|m| {
            catalog
                .get(&m.account, &m.region, &m.table_name)
                .is_some_and(|t| t.stream.as_ref().is_some_and(|s| s.enabled && s.id == Some(m.id)))
        })?;
        Ok(Engine {
            store,
            catalog,
            locks: ItemLocks::new(),
            config,
            propagator,
            tokens: Arc::new(idempotency::Tokens::default()),
            streams,
            ttl: ttl::Sweeper::default(),
        })
    }

    /// Executes one operation on a parsed request body.
    pub fn execute(
        &self,
        ctx: &RequestContext,
        op: Operation,
        body: &Map<String, Value>,
    ) -> Result<Value, DynamoError> {
        self.reply(ctx, op, body)?.into_value()
    }

    /// Executes one operation and answers its response (bytes or a value), once any
    /// write it made is durable.
    pub fn reply(&self, ctx: &RequestContext, op: Operation, body: &Map<String, Value>) -> Result<Reply, DynamoError> {
        self.answer(ctx, op, body)?.wait()
    }

    /// Executes one operation; a write's answer carries the commit that must be
    /// durable before it is sent ([`Answer::on_durable`]).
    pub fn answer(
        &self,
        ctx: &RequestContext,
        op: Operation,
        body: &Map<String, Value>,
    ) -> Result<Answer, DynamoError> {
        self.dispatch(ctx, op, Obj::new(body))
    }

    /// [`Engine::answer`] for a body parsed by [`Body::parse`]: what the HTTP layer calls.
    pub fn answer_body(&self, ctx: &RequestContext, op: Operation, body: &Body) -> Result<Answer, DynamoError> {
        self.dispatch(ctx, op, body.obj())
    }

    fn dispatch(&self, ctx: &RequestContext, op: Operation, req: Obj) -> Result<Answer, DynamoError> {
        let v = match op {
            Operation::CreateTable => ops::create_table::execute(self, ctx, req),
            Operation::DescribeTable => ops::describe_table::execute(self, ctx, req),
            Operation::ListTables => ops::list_tables::execute(self, ctx, req),
            Operation::DeleteTable => ops::delete_table::execute(self, ctx, req),
            Operation::UpdateTable => ops::update_table::execute(self, ctx, req),
            Operation::DescribeEndpoints => ops::describe_endpoints::execute(self, ctx, req),
            Operation::DescribeLimits => ops::describe_limits::execute(self, ctx, req),
            Operation::PutItem => return ops::put_item::execute(self, ctx, req, None),
            Operation::GetItem => return ops::get_item::execute(self, ctx, req, None).map(Answer::from),
            Operation::DeleteItem => return ops::delete_item::execute(self, ctx, req, None),
            Operation::UpdateItem => return ops::update_item::execute(self, ctx, req, None),
            Operation::BatchWriteItem => return ops::batch_write_item::execute(self, ctx, req),
            Operation::BatchGetItem => ops::batch_get_item::execute(self, ctx, req),
            Operation::Query => return ops::query::execute(self, ctx, req).map(Answer::from),
            Operation::Scan => return ops::scan::execute(self, ctx, req).map(Answer::from),
            Operation::TransactWriteItems => return ops::transact_write_items::execute(self, ctx, req),
            Operation::TransactGetItems => ops::transact_get_items::execute(self, ctx, req),
            Operation::UpdateTimeToLive => ops::update_time_to_live::execute(self, ctx, req),
            Operation::DescribeTimeToLive => ops::describe_time_to_live::execute(self, ctx, req),
            Operation::ListStreams => ops::list_streams::execute(self, ctx, req),
            Operation::DescribeStream => ops::describe_stream::execute(self, ctx, req),
            Operation::GetShardIterator => ops::get_shard_iterator::execute(self, ctx, req),
            Operation::GetRecords => ops::get_records::execute(self, ctx, req),
            Operation::ExecuteStatement => ops::execute_statement::execute(self, ctx, req),
            Operation::BatchExecuteStatement => ops::batch_execute_statement::execute(self, ctx, req),
            Operation::ExecuteTransaction => return ops::execute_transaction::execute(self, ctx, req),
        };
        v.map(Answer::from)
    }

    /// Parses a request body whose item member can be read straight from the text
    /// (see [`ParsedMember`]), leaving a placeholder in that member's place. `None`
    /// for other operations, and for bodies or members that are anything but regular:
    /// [`Body::parse`] and [`Engine::answer_body`] then report DynamoDB's errors.
    pub fn parse_member(op: Operation, body: &[u8]) -> Option<(Body<'_>, ParsedMember)> {
        match op {
            Operation::PutItem => Body::parse_with_record(body, "Item").map(|(m, r)| (m, ParsedMember::Record(r))),
            Operation::GetItem | Operation::UpdateItem | Operation::DeleteItem => {
                Body::parse_with_item(body, "Key").map(|(m, k)| (m, ParsedMember::Key(k)))
            }
            _ => None,
        }
    }

    /// [`Engine::answer`] for a request parsed by [`Engine::parse_member`]: `body` holds
    /// the rest, with a placeholder in the member's place.
    pub fn answer_parsed(
        &self,
        ctx: &RequestContext,
        op: Operation,
        body: &Body,
        member: ParsedMember,
    ) -> Result<Answer, DynamoError> {
        let req = body.obj();
        match (op, member) {
            (Operation::PutItem, ParsedMember::Record(r)) => ops::put_item::execute(self, ctx, req, Some(r)),
            (Operation::GetItem, ParsedMember::Key(k)) => {
                ops::get_item::execute(self, ctx, req, Some(k)).map(Answer::from)
            }
            (Operation::UpdateItem, ParsedMember::Key(k)) => ops::update_item::execute(self, ctx, req, Some(k)),
            (Operation::DeleteItem, ParsedMember::Key(k)) => ops::delete_item::execute(self, ctx, req, Some(k)),
            (op, _) => Err(DynamoError::Internal(format!("{op:?} takes no such parsed member"))),
        }
    }

    /// Whether an operation may block its thread on I/O: a catalog change (which waits
    /// for its sync and may wait for other writers), or a PartiQL statement (which may
    /// scan a whole table). Everything else is CPU work on in-memory structures or the
    /// engine's cache and runs where it is called: on this 2-core class of machine,
    /// handing each request to another thread costs more than the work itself
    /// (measured: GetItem 8.6k → 35k ops/s, see docs/benchmarks.md). Item writes do
    /// not wait for their sync: [`Engine::answer`] hands the commit back.
    pub fn may_block(&self, op: Operation) -> bool {
        match op {
            Operation::GetItem
            | Operation::DescribeTable
            | Operation::ListTables
            | Operation::DescribeEndpoints
            | Operation::DescribeLimits
            | Operation::BatchGetItem
            | Operation::Query
            | Operation::Scan
            | Operation::TransactGetItems
            | Operation::DescribeTimeToLive
            | Operation::ListStreams
            | Operation::DescribeStream
            | Operation::GetShardIterator
            | Operation::GetRecords => false,
            // Item writes commit in place (the wait for their sync is asynchronous),
            // unless the store is throttling its writers: that sleep must not stall a
            // runtime worker and the reads queued on it.
            Operation::PutItem
            | Operation::DeleteItem
            | Operation::UpdateItem
            | Operation::BatchWriteItem
            | Operation::TransactWriteItems => self.store.commit_may_block(),
            Operation::CreateTable | Operation::DeleteTable | Operation::UpdateTable | Operation::UpdateTimeToLive => {
                true
            }
            // A statement may write, or scan a whole table.
            Operation::ExecuteStatement | Operation::BatchExecuteStatement | Operation::ExecuteTransaction => true,
        }
    }

    /// Counters for diagnostics: the storage engine's, and the engine's own.
    pub fn stats(&self) -> Vec<(&'static str, u64)> {
        let mut out = self.store.stats();
        out.push(("tables", self.catalog.all().len() as u64));
        out
    }

    pub(crate) fn store(&self) -> &dyn KvStore {
        self.store.as_ref()
    }

    pub(crate) fn store_arc(&self) -> Arc<dyn KvStore> {
        self.store.clone()
    }

    /// Looks up a table for a data-plane operation.
    pub(crate) fn table(&self, ctx: &RequestContext, name: &request::TableRef) -> Result<Arc<TableMeta>, DynamoError> {
        let (account, region) = name.scope(ctx);
        self.catalog
            .get(account, region, &name.name)
            .ok_or_else(|| DynamoError::ResourceNotFound("Requested resource not found".into()))
    }

    /// Runs `f` with the table's current metadata, again with fresh metadata whenever
    /// `f` finds (through the live marker) that the table's schema changed under it.
    pub(crate) fn with_fresh_meta<T>(
        &self,
        ctx: &RequestContext,
        table: &request::TableRef,
        mut f: impl FnMut(Arc<TableMeta>) -> Result<T, DynamoError>,
    ) -> Result<(Arc<TableMeta>, T), DynamoError> {
        for _ in 0..100_000 {
            let meta = self.table(ctx, table)?;
            match f(meta.clone()) {
                Err(DynamoError::Internal(m)) if m == STALE_SCHEMA => std::thread::yield_now(),
                r => return r.map(|v| (meta, v)),
            }
        }
        Err(DynamoError::Internal("table schema kept changing".into()))
    }

    /// Runs `f` in a transaction, retrying on conflicts. Returns the value and, for a
    /// write, the commit to wait on for durability (after releasing any item lock).
    pub(crate) fn with_retry<T>(
        &self,
        mut f: impl FnMut(&mut dyn stator_storage::Transaction) -> Result<Outcome<T>, DynamoError>,
    ) -> Result<(T, Option<stator_storage::Commit>), DynamoError> {
        let mut attempt = 0u32;
        loop {
            let mut txn = self.store.begin();
            let (value, write) = match f(txn.as_mut())? {
                Outcome::Write(v) => (v, true),
                Outcome::ReadOnly(v) => (v, false),
            };
            if !write {
                return Ok((value, None));
            }
            match txn.commit() {
                Ok(c) => return Ok((value, Some(c))),
                Err(StorageError::Conflict) if attempt < 10_000 => {
                    attempt += 1;
                    if attempt > 3 {
                        std::thread::yield_now();
                    }
                }
                Err(StorageError::Conflict) => {
                    return Err(DynamoError::Internal("transaction retried too often".into()))
                }
                Err(e) => return Err(internal(e)),
            }
        }
    }

    /// Locks a transaction's items (see [`ItemLocks::lock_transaction`]).
    pub(crate) fn lock_transaction(&self, keys: &[&[u8]]) -> Result<item_locks::TransactionGuard<'_>, Vec<usize>> {
        self.locks.lock_transaction(keys)
    }

    /// Whether a transaction in progress holds the item at `key`.
    pub(crate) fn item_in_transaction(&self, key: &[u8]) -> bool {
        self.locks.in_transaction(key)
    }

    /// Runs a request under a ClientRequestToken (see [`idempotency`]).
    pub(crate) fn idempotent(
        &self,
        ctx: &RequestContext,
        token: &str,
        fingerprint: String,
        run: impl FnOnce() -> Result<(Value, Option<stator_storage::Commit>), DynamoError>,
    ) -> Result<Answer, DynamoError> {
        let key = format!("{}\u{0}{}\u{0}{token}", ctx.account, ctx.region);
        Ok(match self.tokens.run(&key, fingerprint, run)? {
            // If the commit does not become durable the transaction may be lost: a
            // repeat must run it again, not answer from the record.
            Ran::Now(value, commit, id) => {
                let tokens = self.tokens.clone();
                Answer::new(value, commit).on_failure(move || tokens.forget(&key, id))
            }
            // A repeat is answered once the first run's writes are durable (and fails
            // with it if they may have been lost).
            Ran::Before(value, commit) => Answer::new(value, commit),
        })
    }

    /// The limits and modes of item writes.
    pub(crate) fn write_limits(&self) -> WriteLimits<'_> {
        WriteLimits {
            max_item_collection_bytes: self.config.max_item_collection_bytes,
            async_gsi: self.propagator.is_some(),
            streams: &self.streams,
            service: false,
        }
    }

    /// The server's clock.
    pub fn clock(&self) -> &Clock {
        &self.config.clock
    }

    /// The streams of every table.
    pub(crate) fn streams(&self) -> &Streams {
        &self.streams
    }

    /// The engine's settings.
    pub fn config(&self) -> &EngineConfig {
        &self.config
    }

    /// A single-item write: serialized with other writes to the same item by its
    /// stripe lock, retried on conflicts. Its body reports what it stored; in the
    /// asynchronous-GSI mode the delayed global-index pass is queued while the item's
    /// lock is still held, so passes run in commit order. The caller waits for
    /// durability on the returned commit after the lock is released, so that writers
    /// of a hot item share syncs (and BatchWriteItem waits once, on its last commit:
    /// syncs are ordered).
    pub(crate) fn write_item_stored<T>(
        &self,
        meta: &TableMeta,
        storage_key: &[u8],
        f: impl FnMut(&mut dyn stator_storage::Transaction) -> Result<Outcome<(T, ops::Stored)>, DynamoError>,
    ) -> Result<((T, ops::Stored), Option<stator_storage::Commit>), DynamoError> {
        // A single-item write that meets a transaction in progress fails, as on DynamoDB.
        if self.locks.in_transaction(storage_key) {
            return Err(DynamoError::TransactionConflict("Transaction is ongoing for the item".into()));
        }
        let _guard = self.locks.lock(storage_key);
        let ((value, mut stored), commit) = self.with_retry(f)?;
        if let (Some(p), Some(_), Some((old, new))) = (&self.propagator, &commit, stored.deferred.take()) {
            p.enqueue(meta, storage_key, old, new);
        }
        Ok(((value, stored), commit))
    }

    /// [`Engine::write_item_stored`], acknowledged once durable.
    pub(crate) fn write_item_stored_durable<T>(
        &self,
        meta: &TableMeta,
        storage_key: &[u8],
        f: impl FnMut(&mut dyn stator_storage::Transaction) -> Result<Outcome<(T, ops::Stored)>, DynamoError>,
    ) -> Result<(T, ops::Stored), DynamoError> {
        let (value, commit) = self.write_item_stored(meta, storage_key, f)?;
        if let Some(c) = commit {
            c.wait_durable().map_err(internal)?;
        }
        Ok(value)
    }

    /// A catalog change: retried on conflicts, durable before it returns.
    pub(crate) fn write_catalog<T>(
        &self,
        f: impl FnMut(&mut dyn stator_storage::Transaction) -> Result<Outcome<T>, DynamoError>,
    ) -> Result<T, DynamoError> {
        let (value, commit) = self.with_retry(f)?;
        if let Some(c) = commit {
            c.wait_durable().map_err(internal)?;
        }
        Ok(value)
    }
}

/// The internal marker of a write planned with an outdated table schema: never sent
/// to a client, always retried with fresh metadata (see `Engine::with_fresh_meta`).
pub(crate) const STALE_SCHEMA: &str = "stale table schema";

/// What a transaction body decided: commit its writes, or only return.
pub(crate) enum Outcome<T> {
    /// Commit and return the value.
    Write(T),
    /// Nothing to commit.
    ReadOnly(T),
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used)]

    use serde_json::json;
    use stator_storage::local::{LocalStore, SyncPolicy};
    use stator_storage::mem::MemEngine;

    use super::*;

    fn call(e: &Engine, op: Operation, body: Value) -> Value {
        let ctx =
            RequestContext { account: "000000000000".into(), region: "us-east-1".into(), endpoint: "localhost".into() };
        e.execute(&ctx, op, body.as_object().unwrap()).unwrap()
    }

    #[test]
    fn a_stream_enabled_by_an_older_build_gets_its_number_at_open() {
        let store: Arc<LocalStore<MemEngine>> = Arc::new(LocalStore::new(MemEngine::new(), SyncPolicy::Never));
        let engine = Engine::open(store.clone(), EngineConfig::default()).unwrap();
        call(
            &engine,
            Operation::CreateTable,
            json!({"TableName": "old", "BillingMode": "PAY_PER_REQUEST",
                "AttributeDefinitions": [{"AttributeName": "pk", "AttributeType": "S"}],
                "KeySchema": [{"AttributeName": "pk", "KeyType": "HASH"}],
                "StreamSpecification": {"StreamEnabled": true, "StreamViewType": "NEW_IMAGE"}}),
        );
        drop(engine);
        // What an older build left: stream settings without a number, no stream metadata.
        let key = layout::catalog_key("000000000000", "us-east-1", "old");
        let mut txn = store.begin();
        let mut meta = TableMeta::from_bytes(&txn.get(&key).unwrap().unwrap()).unwrap();
        let id = meta.stream.as_mut().unwrap().id.take().unwrap();
        txn.delete(layout::stream_meta_key(id));
        txn.put(key, meta.to_bytes());
        txn.commit().unwrap().wait_durable().unwrap();

        let engine = Engine::open(store, EngineConfig::default()).unwrap();
        call(&engine, Operation::PutItem, json!({"TableName": "old", "Item": {"pk": {"S": "a"}}}));
        let streams = call(&engine, Operation::ListStreams, json!({"TableName": "old"}));
        let arn = streams["Streams"][0]["StreamArn"].as_str().unwrap().to_string();
        let described = call(&engine, Operation::DescribeStream, json!({"StreamArn": arn}));
        let shard = described["StreamDescription"]["Shards"][0]["ShardId"].as_str().unwrap().to_string();
        let it = call(
            &engine,
            Operation::GetShardIterator,
            json!({"StreamArn": arn, "ShardId": shard, "ShardIteratorType": "TRIM_HORIZON"}),
        );
        let records = call(&engine, Operation::GetRecords, json!({"ShardIterator": it["ShardIterator"]}));
        assert_eq!(records["Records"].as_array().unwrap().len(), 1, "{records}");
        assert_eq!(records["Records"][0]["dynamodb"]["NewImage"], json!({"pk": {"S": "a"}}));
    }
}
