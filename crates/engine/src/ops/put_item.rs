//! PutItem: creates or replaces an item, optionally under a condition.

use stator_protocol::{Constraints, DynamoError, Obj};
use stator_types::itemcodec::decode_item;
use stator_types::size::{item_size, MAX_ITEM_SIZE};
use stator_types::{stored, Item};

use super::item_write::{self, Prior, ReturnValues};
use crate::{keys, Answer, Engine, Outcome, RequestContext};

/// PutItem; `record` is the item's stored record when it was read from the body
/// already (`req` then holds a placeholder for the item).
pub fn execute(
    engine: &Engine,
    ctx: &RequestContext,
    req: Obj,
    record: Option<Vec<u8>>,
) -> Result<Answer, DynamoError> {
    let mut c = Constraints::new();
    let common = item_write::read_common(req, "Item", "item", &mut c)?;
    c.finish()?;
    let parsed = match record {
        Some(_) => None,
        None => Some(req.item("Item")?.unwrap_or_default()),
    };
    item_write::only_all_old(common.return_values)?;
    let cond = item_write::condition_only(req, &common)?;
    let table = common.table.clone().ok_or_else(|| DynamoError::Internal("required member checked above".into()))?;
    let (meta, (((old, billed), stored), decoded, commit)) = engine.with_fresh_meta(ctx, &table, |meta| {
        // Of a record, as much as this table's write reads: its key attributes, or all
        // of it where indexes or a stream read or copy the item.
        let decoded = match &record {
            Some(r) if item_write::needs_old_item(&meta) => Some(decode_item(r).map_err(crate::internal)?),
            Some(r) => Some(keys::key_attributes_of_record(&meta, r)?),
            None => None,
        };
        let item = decoded.as_ref().or(parsed.as_ref()).ok_or_else(|| DynamoError::Internal("no item".into()))?;
        let key = keys::key_of_item(&meta, item)?;
        let new_size = match &record {
            // The record's header holds the size its encoder summed.
            Some(r) => stored::item_size(r).map_err(crate::internal)?,
            None => item_size(item),
        };
        if new_size > MAX_ITEM_SIZE {
            return Err(DynamoError::validation("Item size has exceeded the maximum allowed size"));
        }
        crate::indexes::check_item(&meta, item)?;
        // The replaced item is decoded only where something reads it: a condition,
        // ReturnValues ALL_OLD, the table's indexes or stream. Otherwise its size
        // (in its record's header) is all the write needs.
        let decode_old =
            cond.is_some() || common.return_values == ReturnValues::AllOld || item_write::needs_old_item(&meta);
        let written = engine.write_item_stored(&meta, &key, |txn| {
            item_write::ensure_live(txn, &meta)?;
            let (old, old_size) = item_write::load_sized(txn, &key, decode_old)?;
            item_write::check_condition(cond.as_ref(), old.as_ref(), common.return_on_failure)?;
            let prior = Prior { item: old.as_ref(), size: old_size };
            let new = item_write::New { item, record: record.as_deref() };
            let stored = item_write::store_new(txn, &meta, &key, prior, Some(new), &engine.write_limits())?;
            let billed = old_size.unwrap_or(0).max(new_size);
            Ok(Outcome::Write(((old, billed), stored)))
        })?;
        Ok((written.0, decoded, written.1))
    })?;
    let attributes = if common.return_values == ReturnValues::AllOld { old } else { None };
    let key_item: &Item = match (&decoded, &parsed) {
        (Some(d), _) | (None, Some(d)) => d,
        (None, None) => return Err(DynamoError::Internal("no item".into())),
    };
    Ok(Answer::new(item_write::response(&meta, &common, attributes, billed, &stored, key_item), commit))
}
