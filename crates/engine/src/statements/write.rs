//! Single-statement writes: INSERT (fails when the item exists), UPDATE (fails when it
//! does not, or when the rest of the WHERE clause is false), DELETE (succeeds on a
//! missing item, fails when the rest of the WHERE clause is false) — each one item
//! write with the same locking, index, stream and capacity accounting as PutItem,
//! UpdateItem and DeleteItem.

use serde_json::{Map, Value};
use stator_expr::{Path, Update};
use stator_partiql::{DeleteStatement, Insert, Returning, UpdateStatement};
use stator_protocol::DynamoError;
use stator_types::size::{item_size, MAX_ITEM_SIZE};
use stator_types::{item_to_json, Item};

use super::key_and_condition;
use crate::capacity::{consumed_with_indexes, write_units, ReturnCapacity};
use crate::catalog::TableMeta;
use crate::ops::item_write::{self, Stored};
use crate::request::{expr_err, TableRef};
use crate::{keys, Engine, Outcome, RequestContext};

/// ExecuteStatement's write options.
pub struct WriteOptions {
    /// ReturnConsumedCapacity.
    pub capacity: ReturnCapacity,
    /// ReturnValuesOnConditionCheckFailure = ALL_OLD.
    pub return_on_failure: bool,
}

/// The DuplicateItemException of an INSERT.
pub fn duplicate() -> DynamoError {
    DynamoError::DuplicateItem("Duplicate primary key exists in table".into())
}

fn failed(item: Option<Item>) -> DynamoError {
    DynamoError::ConditionalCheckFailed { message: "The conditional request failed".into(), item }
}

fn tref(name: &str) -> TableRef {
    TableRef { name: name.to_string(), scope: None }
}

/// The response of a write: `Items` (the RETURNING item, if any) and ConsumedCapacity.
fn response(meta: &TableMeta, returned: Option<Item>, billed: usize, stored: &Stored, cap: ReturnCapacity) -> Value {
    let mut out = Map::new();
    let items: Vec<Value> = returned.filter(|i| !i.is_empty()).iter().map(item_to_json).collect();
    out.insert("Items".into(), Value::Array(items));
    if let Some(c) = consumed_with_indexes(meta, write_units(billed), &stored.index_units, cap) {
        out.insert("ConsumedCapacity".into(), c);
    }
    Value::Object(out)
}

/// INSERT.
pub fn insert(engine: &Engine, ctx: &RequestContext, ins: &Insert, opts: &WriteOptions) -> Result<Value, DynamoError> {
    let (meta, (billed, stored)) = engine.with_fresh_meta(ctx, &tref(&ins.table), |meta| {
        let key = keys::key_of_item(&meta, &ins.item)?;
        let size = item_size(&ins.item);
        if size > MAX_ITEM_SIZE {
            return Err(DynamoError::validation("Item size has exceeded the maximum allowed size"));
        }
        crate::indexes::check_item(&meta, &ins.item)?;
        engine.write_item_stored_durable(&meta, &key, |txn| {
            item_write::ensure_live(txn, &meta)?;
            if item_write::load(txn, &key)?.is_some() {
                return Err(duplicate());
            }
            let stored = item_write::store(txn, &meta, &key, None, Some(&ins.item), &engine.write_limits())?;
            Ok(Outcome::Write((size, stored)))
        })
    })?;
    Ok(response(&meta, None, billed, &stored, opts.capacity))
}

/// UPDATE.
pub fn update(
    engine: &Engine,
    ctx: &RequestContext,
    u: &UpdateStatement,
    opts: &WriteOptions,
) -> Result<Value, DynamoError> {
    let update = Update { actions: u.actions.clone() };
    let (meta, ((old, new), stored)) = engine.with_fresh_meta(ctx, &tref(&u.table), |meta| {
        let (key_item, cond) = key_and_condition(&meta, &u.filter)?;
        let key = keys::key_of_key(&meta, &key_item)?;
        item_write::check_not_key(&meta, &update)?;
        engine.write_item_stored_durable(&meta, &key, |txn| {
            item_write::ensure_live(txn, &meta)?;
            let Some(old) = item_write::load(txn, &key)? else { return Err(failed(None)) };
            item_write::check_condition(cond.as_ref(), Some(&old), opts.return_on_failure)?;
            let mut new = old.clone();
            update.apply(&mut new).map_err(expr_err)?;
            if item_size(&new) > MAX_ITEM_SIZE {
                return Err(DynamoError::validation("Item size to update has exceeded the maximum allowed size"));
            }
            crate::indexes::check_item(&meta, &new)?;
            let stored = item_write::store(txn, &meta, &key, Some(&old), Some(&new), &engine.write_limits())?;
            Ok(Outcome::Write(((old, new), stored)))
        })
    })?;
    let billed = item_size(&old).max(item_size(&new));
    let touched: Vec<Path> = update.touched_paths().into_iter().cloned().collect();
    let returned = match u.returning {
        None => None,
        Some(Returning::AllOld) => Some(old),
        Some(Returning::ModifiedOld) => Some(stator_expr::project(&old, &touched)),
        Some(Returning::AllNew) => Some(new),
        Some(Returning::ModifiedNew) => Some(stator_expr::project(&new, &touched)),
    };
    Ok(response(&meta, returned, billed, &stored, opts.capacity))
}

/// DELETE.
pub fn delete(
    engine: &Engine,
    ctx: &RequestContext,
    d: &DeleteStatement,
    opts: &WriteOptions,
) -> Result<Value, DynamoError> {
    let (meta, (old, stored)) = engine.with_fresh_meta(ctx, &tref(&d.table), |meta| {
        let (key_item, cond) = key_and_condition(&meta, &d.filter)?;
        let key = keys::key_of_key(&meta, &key_item)?;
        engine.write_item_stored_durable(&meta, &key, |txn| {
            item_write::ensure_live(txn, &meta)?;
            // No such item: success, nothing deleted (whatever the rest of the clause).
            let Some(old) = item_write::load(txn, &key)? else {
                return Ok(Outcome::ReadOnly((None, Stored::none())));
            };
            item_write::check_condition(cond.as_ref(), Some(&old), opts.return_on_failure)?;
            let old = Some(old);
            let stored = item_write::store(txn, &meta, &key, old.as_ref(), None, &engine.write_limits())?;
            Ok(Outcome::Write((old, stored)))
        })
    })?;
    let billed = old.as_ref().map(item_size).unwrap_or(0);
    let returned = if d.returning.is_some() { old } else { None };
    Ok(response(&meta, returned, billed, &stored, opts.capacity))
}
