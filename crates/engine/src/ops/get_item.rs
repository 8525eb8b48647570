//! GetItem: reads one item from a snapshot, with an optional projection. Reads take
//! no lock; a consistent read sees every write acknowledged before it started.

use serde_json::{Map, Value};
use stator_protocol::{Constraints, DynamoError, Obj};
use stator_types::itemcodec::decode_item;
use stator_types::size::item_size;
use stator_types::{item_to_json, Item};

use crate::capacity::{consumed, read_units};
use crate::request::{self, expr_err, table_name};
use crate::{keys, Engine, RequestContext};

pub fn execute(engine: &Engine, ctx: &RequestContext, req: Obj) -> Result<Value, DynamoError> {
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
    let key_item = req.item("Key")?.unwrap_or_default();
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
    let stored = engine.store().snapshot().get(&key).map_err(crate::internal)?;
    let item = match stored {
        Some(b) => Some(decode_item(&b).map_err(crate::internal)?),
        None => None,
    };
    let size = item.as_ref().map(item_size).unwrap_or(0);
    let mut out = Map::new();
    if let Some(item) = item {
        let shown: Item = match (&projection, &to_get) {
            (Some(paths), _) => stator_expr::project(&item, paths),
            (None, Some(names)) => {
                names.iter().filter_map(|n| item.get(*n).map(|v| (n.to_string(), v.clone()))).collect()
            }
            (None, None) => item,
        };
        out.insert("Item".into(), item_to_json(&shown));
    }
    if let Some(c) = consumed(&meta.name, read_units(size, consistent), cap) {
        out.insert("ConsumedCapacity".into(), c);
    }
    Ok(Value::Object(out))
}
