//! TransactGetItems: up to 100 Get actions over one or more tables, read from one
//! snapshot (serializable with every committed write and transaction), each with its
//! own projection. Transactional reads cost twice a strongly consistent read.

use std::sync::Arc;

use serde_json::{json, Map, Value};
use stator_expr::Path;
use stator_protocol::{Constraints, DynamoError, Obj};
use stator_types::itemcodec::decode_item;
use stator_types::size::item_size;
use stator_types::{item_to_json, Item};

use crate::capacity::{consumed, read_units, ReturnCapacity};
use crate::catalog::TableMeta;
use crate::request::{self, expr_err, TableRef};
use crate::{keys, Engine, RequestContext};

pub fn execute(engine: &Engine, ctx: &RequestContext, req: Obj) -> Result<Value, DynamoError> {
    let mut c = Constraints::new();
    let items = super::transact_write_items::transact_items(req, &mut c)?;
    let cap = request::return_consumed_capacity(req, &mut c)?;
    c.finish()?;
    let mut gets = Vec::new();
    for (i, a) in items.unwrap_or_default().into_iter().enumerate() {
        let Some(g) = a.obj("Get")? else {
            let mut c = Constraints::new();
            c.require::<&str>(&None, &format!("transactItems.{}.member.get", i + 1));
            c.finish()?;
            continue;
        };
        let mut c = Constraints::new();
        let table =
            request::table_name(g, "TableName", &format!("transactItems.{}.member.get.tableName", i + 1), &mut c)?;
        let raw = g.get("Key");
        c.require(&raw, &format!("transactItems.{}.member.get.key", i + 1));
        let projection_text = g.str("ProjectionExpression")?;
        c.finish()?;
        let params = request::expr_params(g, projection_text.is_some())?;
        let mut resolver = params.resolver()?;
        let projection = match projection_text {
            Some(t) => Some(stator_expr::parse_projection(t, &mut resolver).map_err(expr_err)?),
            None => None,
        };
        resolver.check_all_used().map_err(expr_err)?;
        let key_item = g.item("Key")?.unwrap_or_default();
        let table = table.ok_or_else(|| DynamoError::Internal("required member checked above".into()))?;
        gets.push((table, key_item, projection));
    }
    run_gets(engine, ctx, &gets, cap)
}

/// One read of a transaction: table, key, projection.
pub(crate) type Get = (TableRef, Item, Option<Vec<Path>>);

/// Reads every item from one snapshot, cancelled if any is held by a transaction in
/// progress: `{"Responses": [...], "ConsumedCapacity"?}`.
pub(crate) fn run_gets(
    engine: &Engine,
    ctx: &RequestContext,
    gets: &[Get],
    cap: ReturnCapacity,
) -> Result<Value, DynamoError> {
    let mut resolved: Vec<(Arc<TableMeta>, Vec<u8>)> = Vec::with_capacity(gets.len());
    for (table, key_item, _) in gets {
        let meta = engine.table(ctx, table)?;
        let key = keys::key_of_key(&meta, key_item)?;
        if resolved.iter().any(|(_, k)| *k == key) {
            return Err(DynamoError::validation("Transaction request cannot include multiple operations on one item"));
        }
        resolved.push((meta, key));
    }
    // A read that meets a transaction in progress is cancelled, as on DynamoDB.
    let busy: Vec<usize> =
        resolved.iter().enumerate().filter(|(_, (_, k))| engine.item_in_transaction(k)).map(|(i, _)| i).collect();
    if !busy.is_empty() {
        return Err(super::transact_write_items::conflict(resolved.len(), &busy));
    }
    let snap = engine.store().snapshot();
    let mut responses = Vec::with_capacity(gets.len());
    let mut per_table: Vec<(Arc<TableMeta>, f64)> = Vec::new();
    for ((_, _, projection), (meta, key)) in gets.iter().zip(&resolved) {
        let item = match snap.get_shared(key).map_err(crate::internal)? {
            Some(b) => Some(decode_item(&b).map_err(crate::internal)?),
            None => None,
        };
        let units = 2.0 * read_units(item.as_ref().map(item_size).unwrap_or(0), true);
        match per_table.iter_mut().find(|(m, _)| m.number == meta.number) {
            Some(e) => e.1 += units,
            None => per_table.push((meta.clone(), units)),
        }
        responses.push(match item {
            Some(i) => {
                let shown = match projection {
                    Some(p) => stator_expr::project(&i, p),
                    None => i,
                };
                json!({ "Item": item_to_json(&shown) })
            }
            None => json!({}),
        });
    }
    let mut out = Map::new();
    out.insert("Responses".into(), Value::Array(responses));
    if cap != ReturnCapacity::None {
        let list: Vec<Value> = per_table.iter().filter_map(|(m, u)| consumed(&m.name, *u, cap)).collect();
        out.insert("ConsumedCapacity".into(), Value::Array(list));
    }
    Ok(Value::Object(out))
}
