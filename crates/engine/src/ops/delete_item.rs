//! DeleteItem: removes an item, optionally under a condition.

use stator_protocol::{Constraints, DynamoError, Obj};
use stator_types::size::item_size;

use super::item_write::{self, ReturnValues};
use crate::{keys, Answer, Engine, Outcome, RequestContext};

/// DeleteItem; `parsed_key` is the `Key` when it was read from the body already (`req`
/// then holds a placeholder for it).
pub fn execute(
    engine: &Engine,
    ctx: &RequestContext,
    req: Obj,
    parsed_key: Option<stator_types::Item>,
) -> Result<Answer, DynamoError> {
    let mut c = Constraints::new();
    let common = item_write::read_common(req, "Key", "key", &mut c)?;
    c.finish()?;
    let key_item = match parsed_key {
        Some(k) => k,
        None => req.item("Key")?.unwrap_or_default(),
    };
    item_write::only_all_old(common.return_values)?;
    let cond = item_write::condition_only(req, &common)?;
    let table = common.table.clone().ok_or_else(|| DynamoError::Internal("required member checked above".into()))?;
    let (meta, ((old, stored), commit)) = engine.with_fresh_meta(ctx, &table, |meta| {
        let key = keys::key_of_key(&meta, &key_item)?;
        engine.write_item_stored(&meta, &key, |txn| {
            item_write::ensure_live(txn, &meta)?;
            let old = item_write::load(txn, &key)?;
            item_write::check_condition(cond.as_ref(), old.as_ref(), common.return_on_failure)?;
            if old.is_none() {
                return Ok(Outcome::ReadOnly((None, item_write::Stored::none())));
            }
            let stored = item_write::store(txn, &meta, &key, old.as_ref(), None, &engine.write_limits())?;
            Ok(Outcome::Write((old, stored)))
        })
    })?;
    let billed = old.as_ref().map(item_size).unwrap_or(0);
    let attributes = if common.return_values == ReturnValues::AllOld { old } else { None };
    Ok(Answer::new(item_write::response(&meta, &common, attributes, billed, &stored, &key_item), commit))
}
