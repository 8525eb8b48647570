//! GetItem: reads one item from a snapshot, with an optional projection. Reads take
//! no lock; a consistent read sees every write acknowledged before it started.

use stator_protocol::{Constraints, DynamoError, Obj};
use stator_types::itemcodec::decode_item;

use crate::capacity::{consumed, read_units};
use crate::reply::{JsonObject, Reply};
use crate::request::{self, expr_err, table_name};
use crate::{keys, Engine, RequestContext};

/// GetItem; `parsed_key` is the `Key` when it was read from the body already (`req`
/// then holds a placeholder for it).
pub fn execute(
    engine: &Engine,
    ctx: &RequestContext,
    req: Obj,
    parsed_key: Option<stator_types::Item>,
) -> Result<Reply, DynamoError> {
    let mut c = Constraints::new();
    let table = table_name(req, "TableName", "tableName", &mut c)?;
    let raw_key = req.get("Key");
    c.require(&raw_key, "key");
    let cap = request::return_consumed_capacity(req, &mut c)?;
    let consistent = req.bool("ConsistentRead")?.unwrap_or(false);
    let projection_text = req.str("ProjectionExpression")?;
    let to_get = req.list_of_str("AttributesToGet")?;
    if let Some(a) = &to_get {
        if a.is_empty() {
            c.fail("'[]'", "attributesToGet", "Member must have length greater than or equal to 1");
        }
    }
    c.finish()?;
    let key_item = match parsed_key {
        Some(k) => k,
        None => req.item("Key")?.unwrap_or_default(),
    };
    if to_get.is_some() && projection_text.is_some() {
        return Err(DynamoError::validation(
            "Can not use both expression and non-expression parameters in the same request: Non-expression parameters: {AttributesToGet} Expression parameters: {ProjectionExpression}",
        ));
    }
    let params = request::expr_params(req, projection_text.is_some())?;
    let mut resolver = params.resolver()?;
    let projection = match projection_text {
        Some(t) => Some(stator_expr::parse_projection(t, &mut resolver).map_err(expr_err)?),
        None => None,
    };
    resolver.check_all_used().map_err(expr_err)?;
    if let Some(a) = &to_get {
        let mut seen = std::collections::HashSet::new();
        for n in a {
            if !seen.insert(*n) {
                return Err(DynamoError::validation(format!(
                    "One or more parameter values were invalid: Duplicate value in attribute name: {n}"
                )));
            }
        }
    }
    let table = table.ok_or_else(|| DynamoError::Internal("required member checked above".into()))?;
    let meta = engine.table(ctx, &table)?;
    let key = keys::key_of_key(&meta, &key_item)?;
    let stored = engine.store().snapshot().get_shared(&key).map_err(crate::internal)?;
    let size = match &stored {
        Some(b) => stator_types::stored::item_size(b).map_err(crate::internal)?,
        None => 0,
    };
    let mut out = JsonObject::with_capacity(stored.as_deref().map_or(0, stator_types::stored::json_len_hint) + 64);
    if let Some(b) = stored {
        match (&projection, &to_get) {
            // The whole item: written straight from its stored form.
            (None, None) => out.stored_item("Item", &b)?,
            (Some(paths), _) => {
                out.item("Item", &stator_expr::project(&decode_item(&b).map_err(crate::internal)?, paths))
            }
            (None, Some(names)) => {
                let wanted = stator_types::stored::decode_some(&b, &|n| names.contains(&n)).map_err(crate::internal)?;
                out.item("Item", &wanted)
            }
        }
    }
    if let Some(c) = consumed(&meta.name, read_units(size, consistent), cap) {
        out.value("ConsumedCapacity", &c);
    }
    Ok(out.finish())
}
