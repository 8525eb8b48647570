//! DynamoDB semantics over the storage interface: the catalog of tables and one
//! module per operation (`ops/`). Each operation validates its whole request first,
//! then executes inside one storage transaction. Synchronous by design: the HTTP
//! layer runs it on a bounded blocking pool.

#![warn(missing_docs)]

pub mod capacity;
pub mod catalog;
pub mod indexes;
pub mod item_collections;
pub mod item_locks;
pub mod keys;
pub mod layout;
pub mod legacy;
mod ops;
pub mod request;

use std::sync::Arc;

use serde_json::{Map, Value};
use stator_protocol::{DynamoError, Operation};
use stator_storage::{KvStore, StorageError};

use crate::catalog::{Catalog, TableMeta};
use crate::item_locks::ItemLocks;

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

/// Engine settings.
#[derive(Debug, Clone)]
pub struct EngineConfig {
    /// Most tables per account and region (CreateTable answers LimitExceededException past it).
    pub max_tables: usize,
    /// Largest item collection of a table with local indexes (DynamoDB: 10 GB).
    pub max_item_collection_bytes: u64,
}

impl Default for EngineConfig {
    fn default() -> Self {
        EngineConfig { max_tables: 2500, max_item_collection_bytes: item_collections::MAX_COLLECTION_BYTES }
    }
}

/// The DynamoDB engine.
pub struct Engine {
    store: Arc<dyn KvStore>,
    catalog: Arc<Catalog>,
    locks: ItemLocks,
    config: EngineConfig,
}

/// Maps a storage failure to the client-facing error (details stay in the log).
pub(crate) fn internal(e: impl std::fmt::Display) -> DynamoError {
    DynamoError::Internal(e.to_string())
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
        Ok(Engine { store, catalog: Arc::new(catalog), locks: ItemLocks::new(), config })
    }

    /// Executes one operation on a parsed request body.
    pub fn execute(
        &self,
        ctx: &RequestContext,
        op: Operation,
        body: &Map<String, Value>,
    ) -> Result<Value, DynamoError> {
        let req = stator_protocol::Obj(body);
        match op {
            Operation::CreateTable => ops::create_table::execute(self, ctx, req),
            Operation::DescribeTable => ops::describe_table::execute(self, ctx, req),
            Operation::ListTables => ops::list_tables::execute(self, ctx, req),
            Operation::DeleteTable => ops::delete_table::execute(self, ctx, req),
            Operation::UpdateTable => ops::update_table::execute(self, ctx, req),
            Operation::DescribeEndpoints => ops::describe_endpoints::execute(self, ctx, req),
            Operation::DescribeLimits => ops::describe_limits::execute(self, ctx, req),
            Operation::PutItem => ops::put_item::execute(self, ctx, req),
            Operation::GetItem => ops::get_item::execute(self, ctx, req),
            Operation::DeleteItem => ops::delete_item::execute(self, ctx, req),
            Operation::UpdateItem => ops::update_item::execute(self, ctx, req),
            Operation::BatchWriteItem => ops::batch_write_item::execute(self, ctx, req),
            Operation::BatchGetItem => ops::batch_get_item::execute(self, ctx, req),
            Operation::Query => ops::query::execute(self, ctx, req),
            Operation::Scan => ops::scan::execute(self, ctx, req),
        }
    }

    /// Whether an operation may block its thread on I/O: a write waiting for a disk
    /// sync, or a catalog change. Everything else is CPU work on in-memory structures or
    /// the engine's cache and runs where it is called: on this 2-core class of machine,
    /// handing each request to another thread costs more than the work itself
    /// (measured: GetItem 8.6k → 35k ops/s, see docs/benchmarks.md).
    pub fn may_block(&self, op: Operation) -> bool {
        match op {
            Operation::GetItem
            | Operation::DescribeTable
            | Operation::ListTables
            | Operation::DescribeEndpoints
            | Operation::DescribeLimits
            | Operation::BatchGetItem
            | Operation::Query
            | Operation::Scan => false,
            Operation::CreateTable | Operation::DeleteTable | Operation::UpdateTable => true,
            Operation::PutItem | Operation::DeleteItem | Operation::UpdateItem | Operation::BatchWriteItem => {
                self.store.commit_waits()
            }
        }
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

    /// A single-item write: serialized with other writes to the same item by its
    /// stripe lock, retried on conflicts, acknowledged once durable. The lock is
    /// released before the durability wait so that writers to a hot item share syncs.
    pub(crate) fn write_item<T>(
        &self,
        storage_key: &[u8],
        f: impl FnMut(&mut dyn stator_storage::Transaction) -> Result<Outcome<T>, DynamoError>,
    ) -> Result<T, DynamoError> {
        let (value, commit) = self.write_item_deferred(storage_key, f)?;
        if let Some(c) = commit {
            c.wait_durable().map_err(internal)?;
        }
        Ok(value)
    }

    /// [`Engine::write_item`] without the durability wait: the caller waits on the
    /// returned commit (syncs are ordered, so waiting on the last of several commits
    /// covers them all — BatchWriteItem pays one sync, not 25).
    pub(crate) fn write_item_deferred<T>(
        &self,
        storage_key: &[u8],
        f: impl FnMut(&mut dyn stator_storage::Transaction) -> Result<Outcome<T>, DynamoError>,
    ) -> Result<(T, Option<stator_storage::Commit>), DynamoError> {
        let _guard = self.locks.lock(storage_key);
        self.with_retry(f)
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
