//! DeleteTable: removes the table from the catalog at once (honouring deletion
//! protection) and purges its items in the background. Table numbers are never
//! reused, so a purge still running cannot touch a new table of the same name.

use serde_json::{json, Value};
use stator_protocol::{DynamoError, Obj};
use stator_storage::{Direction, KeyRange, KvStore};

use super::describe_table::{required_table, table_not_found};
use crate::{layout, Engine, Outcome, RequestContext};

pub fn execute(engine: &Engine, ctx: &RequestContext, req: Obj) -> Result<Value, DynamoError> {
    let t = required_table(req)?;
    let (account, region) = t.scope(ctx);
    let meta = engine.catalog.get(account, region, &t.name).ok_or_else(|| table_not_found(&t.name))?;
    if meta.deletion_protection {
        return Err(DynamoError::validation(format!(
            "Resource cannot be deleted as it is currently protected against deletion. Disable deletion protection first. TableArn: {}",
            meta.arn()
        )));
    }
    let description = meta.describe(engine.store(), "DELETING")?;
    let key = layout::catalog_key(account, region, &t.name);
    engine.write_catalog(|txn| {
        match txn.get(&key).map_err(crate::internal)? {
            Some(v) if crate::catalog::TableMeta::from_bytes(&v)?.number == meta.number => {}
            _ => return Err(table_not_found(&t.name)),
        }
        txn.delete(key.clone());
        txn.delete(layout::live_key(meta.number));
        Ok(Outcome::Write(()))
    })?;
    engine.catalog.remove(account, region, &t.name);
    // The table's stream stays readable for 24 hours, closed.
    if let Some(id) = meta.stream.as_ref().filter(|s| s.enabled).and_then(|s| s.id) {
        engine.streams().close(id)?;
    }
    let store = engine.store_arc();
    let number = meta.number;
    let mut prefixes = vec![(number, layout::items_prefix(number))];
    prefixes.extend(meta.indexes.iter().map(|i| (i.number, layout::index_prefix(i.number))));
    std::thread::Builder::new()
        .name(format!("purge-table-{number}"))
        .spawn(move || {
            for (n, prefix) in prefixes {
                if let Err(e) = purge(store.as_ref(), n, &prefix) {
                    tracing::error!(table = number, error = %e, "purging a deleted table's items failed");
                }
            }
        })
        .map_err(crate::internal)?;
    Ok(json!({ "TableDescription": description }))
}

/// Deletes every key under `prefix` and the counters of `number` (a table or an
/// index), in bounded transactions.
pub(crate) fn purge(store: &dyn KvStore, number: u64, prefix: &[u8]) -> Result<(), DynamoError> {
    const CHUNK: usize = 1000;
    loop {
        let keys: Vec<Vec<u8>> = {
            let snap = store.snapshot();
            let mut v = Vec::with_capacity(CHUNK);
            for kv in snap.scan(KeyRange::prefix(prefix), Direction::Forward).take(CHUNK) {
                v.push(kv.map_err(crate::internal)?.0);
            }
            v
        };
        let mut txn = store.begin();
        let done = keys.len() < CHUNK;
        for k in keys {
            txn.delete(k);
        }
        if done {
            txn.delete(layout::count_key(number));
            txn.delete(layout::bytes_key(number));
        }
        txn.commit().map_err(crate::internal)?.wait_durable().map_err(crate::internal)?;
        if done {
            return Ok(());
        }
    }
}
