//! UpdateItem: edits (or creates) one item with an UpdateExpression, optionally
//! under a condition, returning any of the five ReturnValues views.

use stator_expr::ExprKind;
use stator_protocol::{Constraints, DynamoError, Obj};
use stator_types::size::{item_size, MAX_ITEM_SIZE};
use stator_types::{stored, Item};

use super::item_write::{self, Prior, ReturnValues};
use crate::request::{self, expr_err};
use crate::{keys, Answer, Engine, Outcome, RequestContext};

/// UpdateItem; `parsed_key` is the `Key` when it was read from the body already (`req`
/// then holds a placeholder for it).
pub fn execute(
    engine: &Engine,
    ctx: &RequestContext,
    req: Obj,
    parsed_key: Option<Item>,
) -> Result<Answer, DynamoError> {
    let mut c = Constraints::new();
    let common = item_write::read_common(req, "Key", "key", &mut c)?;
    let update_text = req.str("UpdateExpression")?;
    c.finish()?;
    let key_item = match parsed_key {
        Some(k) => k,
        None => req.item("Key")?.unwrap_or_default(),
    };
    crate::legacy::refuse_mixing(
        req,
        &["AttributeUpdates", "Expected", "ConditionalOperator"],
        &["UpdateExpression", "ConditionExpression"],
    )?;
    let params = request::expr_params(req, common.condition.is_some() || update_text.is_some())?;
    let mut resolver = params.resolver()?;
    let update = match update_text {
        Some(t) => Some(stator_expr::parse_update(t, &mut resolver).map_err(expr_err)?),
        None => None,
    };
    let cond = match common.condition {
        Some(t) => Some(stator_expr::parse_condition(t, ExprKind::Condition, &mut resolver).map_err(expr_err)?),
        None => None,
    };
    resolver.check_all_used().map_err(expr_err)?;
    let cond = crate::legacy::write_condition(req, cond)?;
    let update = match (update, crate::legacy::attribute_updates(req)?) {
        (Some(u), _) => Some(u),
        (None, Some(entries)) => Some(stator_expr::attribute_updates(&entries).map_err(expr_err)?),
        (None, None) => None,
    };
    let table = common.table.clone().ok_or_else(|| DynamoError::Internal("required member checked above".into()))?;
    // The old item is kept beside the new one only where something reads it after the
    // update: the table's indexes or stream, or the ReturnValues asked for.
    let returns_old = matches!(common.return_values, ReturnValues::AllOld | ReturnValues::UpdatedOld);
    // An update with no condition to check and nothing to return decodes only the
    // attributes it reads or writes, applies itself to them, and merges the result into
    // the stored record (on tables without indexes or a stream, which read whole items).
    let in_record = match (&update, &cond, common.return_values) {
        (Some(u), None, ReturnValues::None) => Some((u, u.referenced_attributes(), u.touched_attributes())),
        _ => None,
    };
    let (meta, ((((old, new), billed), stored), commit)) = engine.with_fresh_meta(ctx, &table, |meta| {
        let key = keys::key_of_key(&meta, &key_item)?;
        if let Some(u) = &update {
            item_write::check_not_key(&meta, u)?;
        }
        let keep_old = returns_old || item_write::needs_old_item(&meta);
        let in_record = in_record.as_ref().filter(|_| !item_write::needs_old_item(&meta));
        engine.write_item_stored(&meta, &key, |txn| {
            item_write::ensure_live(txn, &meta)?;
            let record = txn.get_shared(&key).map_err(crate::internal)?;
            if let (Some((u, referenced, touched)), Some(b)) = (in_record, record.as_deref()) {
                let mut part = stored::pick(b, referenced).map_err(crate::internal)?;
                u.apply(&mut part).map_err(expr_err)?;
                let changes: Vec<_> = touched.iter().map(|&name| (name, part.get(name))).collect();
                let merged = stored::merge(b, &changes).map_err(crate::internal)?;
                let old_size = stored::item_size(b).map_err(crate::internal)?;
                let new_size = stored::item_size(&merged).map_err(crate::internal)?;
                if new_size > MAX_ITEM_SIZE {
                    return Err(DynamoError::validation("Item size to update has exceeded the maximum allowed size"));
                }
                // No index to check the new values against, no stream: the key
                // attributes stand for the item.
                let prior = Prior { item: None, size: Some(old_size) };
                let new = item_write::New { item: &key_item, record: Some(&merged) };
                let stored = item_write::store_new(txn, &meta, &key, prior, Some(new), &engine.write_limits())?;
                return Ok(Outcome::Write((((None, None), old_size.max(new_size)), stored)));
            }
            let (current, old_size) = item_write::decode_sized(record.as_deref(), true)?;
            item_write::check_condition(cond.as_ref(), current.as_ref(), common.return_on_failure)?;
            let old = if keep_old { current.clone() } else { None };
            let mut new: Item = current.unwrap_or_else(|| key_item.clone());
            if let Some(u) = &update {
                u.apply(&mut new).map_err(expr_err)?;
            }
            let new_size = item_size(&new);
            if new_size > MAX_ITEM_SIZE {
                return Err(DynamoError::validation("Item size to update has exceeded the maximum allowed size"));
            }
            crate::indexes::check_item(&meta, &new)?;
            let prior = Prior { item: old.as_ref(), size: old_size };
            let stored = item_write::store_prior(txn, &meta, &key, prior, Some(&new), &engine.write_limits())?;
            let billed = old_size.unwrap_or(0).max(new_size);
            Ok(Outcome::Write((((old, Some(new)), billed), stored)))
        })
    })?;
    let touched = || -> Vec<stator_expr::Path> {
        update.as_ref().map(|u| u.touched_paths().into_iter().cloned().collect()).unwrap_or_default()
    };
    let attributes = match common.return_values {
        ReturnValues::None => None,
        ReturnValues::AllOld => old,
        ReturnValues::AllNew => new,
        ReturnValues::UpdatedOld => old.map(|o| stator_expr::project(&o, &touched())),
        ReturnValues::UpdatedNew => new.map(|n| stator_expr::project(&n, &touched())),
    };
    Ok(Answer::new(item_write::response(&meta, &common, attributes, billed, &stored, &key_item), commit))
}
