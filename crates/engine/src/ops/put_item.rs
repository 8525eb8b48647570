//! PutItem: creates or replaces an item, optionally under a condition.

use stator_protocol::{Constraints, DynamoError, Obj};
use stator_types::size::{item_size, MAX_ITEM_SIZE};
use stator_types::Item;

use super::item_write::{self, Prior, ReturnValues};
use crate::{keys, Answer, Engine, Outcome, RequestContext};

/// PutItem; `parsed` is the item when it was read from the body already (`req` then
/// holds a placeholder for it).
pub fn execute(engine: &Engine, ctx: &RequestContext, req: Obj, parsed: Option<Item>) -> Result<Answer, DynamoError> {
    let mut c = Constraints::new();
    let common = item_write::read_common(req, "Item", "item", &mut c)?;
    c.finish()?;
    let item = match parsed {
        Some(item) => item,
        None => req.item("Item")?.unwrap_or_default(),
    };
    item_write::only_all_old(common.return_values)?;
    let cond = item_write::condition_only(req, &common)?;
    let table = common.table.clone().ok_or_else(|| DynamoError::Internal("required member checked above".into()))?;
    let (meta, (((old, billed), stored), commit)) = engine.with_fresh_meta(ctx, &table, |meta| {
        let key = keys::key_of_item(&meta, &item)?;
        let new_size = item_size(&item);
        if new_size > MAX_ITEM_SIZE {
            return Err(DynamoError::validation("Item size has exceeded the maximum allowed size"));
        }
        crate::indexes::check_item(&meta, &item)?;
        // The replaced item is decoded only where something reads it: a condition,
        // ReturnValues ALL_OLD, the table's indexes or stream. Otherwise its size
        // (in its record's header) is all the write needs.
        let decode_old =
            cond.is_some() || common.return_values == ReturnValues::AllOld || item_write::needs_old_item(&meta);
        engine.write_item_stored(&meta, &key, |txn| {
            item_write::ensure_live(txn, &meta)?;
            let (old, old_size) = item_write::load_sized(txn, &key, decode_old)?;
            item_write::check_condition(cond.as_ref(), old.as_ref(), common.return_on_failure)?;
            let prior = Prior { item: old.as_ref(), size: old_size };
            let stored = item_write::store_prior(txn, &meta, &key, prior, Some(&item), &engine.write_limits())?;
            let billed = old_size.unwrap_or(0).max(new_size);
            Ok(Outcome::Write(((old, billed), stored)))
        })
    })?;
    let attributes = if common.return_values == ReturnValues::AllOld { old } else { None };
    Ok(Answer::new(item_write::response(&meta, &common, attributes, billed, &stored, &item), commit))
}
