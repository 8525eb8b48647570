//! BatchWriteItem: up to 25 puts and deletes over several tables. Each write is atomic
//! on its own item (the batch is not a transaction); no two requests may name the
//! same item.

use std::collections::HashSet;

use serde_json::{json, Map, Value};
use stator_protocol::{Constraints, DynamoError, Obj};
use stator_types::size::{item_size, MAX_ITEM_SIZE};
use stator_types::Item;

use super::item_write;
use crate::capacity::{consumed_with_indexes, write_units, ReturnCapacity};
use crate::catalog::TableMeta;
use crate::request;
use crate::{keys, Answer, Engine, Outcome, RequestContext};

/// Most write requests in one call.
pub const MAX_WRITES: usize = 25;

enum Write {
    Put(Item),
    Delete(Item),
}

struct TableWrites {
    tref: request::TableRef,
    meta: std::sync::Arc<TableMeta>,
    writes: Vec<(Vec<u8>, Write)>,
}

pub fn execute(engine: &Engine, ctx: &RequestContext, req: Obj) -> Result<Answer, DynamoError> {
    let mut c = Constraints::new();
    let items = req.obj("RequestItems")?;
    c.require(&items, "requestItems");
    let cap = request::return_consumed_capacity(req, &mut c)?;
    request::return_item_collection_metrics(req, &mut c)?;
    if let Some(m) = items {
        if m.is_empty() {
            c.fail("'{}'", "requestItems", "Member must have length greater than or equal to 1");
        }
        for (table, list) in m.iter() {
            let mut tc = Constraints::new();
            tc.table_name(Some(table), "requestItems.key");
            if !tc.is_ok() {
                c.fail(&format!("'{table}'"), "requestItems", "Map keys must satisfy constraint: [Member must have length less than or equal to 255, Member must have length greater than or equal to 3, Member must satisfy regular expression pattern: [a-zA-Z0-9_.-]+]");
            }
            match list {
                Value::Array(a) if a.is_empty() => c.fail(
                    "'[]'",
                    &format!("requestItems.{table}.member"),
                    "Member must have length greater than or equal to 1",
                ),
                Value::Array(a) if a.len() > MAX_WRITES => c.fail(
                    "'[...]'",
                    &format!("requestItems.{table}.member"),
                    "Member must have length less than or equal to 25",
                ),
                Value::Array(_) => {}
                _ => return Err(DynamoError::Serialization("Expected list or null".into())),
            }
        }
    }
    c.finish()?;
    let Some(items) = items else { return Err(DynamoError::Internal("required member checked above".into())) };
    let total: usize = items.iter().map(|(_, v)| v.as_array().map_or(0, Vec::len)).sum();
    if total > MAX_WRITES {
        return Err(DynamoError::validation("Too many items requested for the BatchWriteItem call"));
    }

    // Parse every request before any write.
    let mut parsed: Vec<(String, Vec<Write>)> = Vec::with_capacity(items.len());
    for (table, _) in items.iter() {
        let list = items.list_of_obj(table)?.unwrap_or_default();
        let mut writes = Vec::with_capacity(list.len());
        for w in list {
            let put = w.obj("PutRequest")?;
            let del = w.obj("DeleteRequest")?;
            match (put, del) {
                (Some(p), None) => match p.item("Item")? {
                    Some(item) => writes.push(Write::Put(item)),
                    None => return Err(DynamoError::validation("1 validation error detected: Value null at 'requestItems.member.putRequest.item' failed to satisfy constraint: Member must not be null")),
                },
                (None, Some(d)) => match d.item("Key")? {
                    Some(key) => writes.push(Write::Delete(key)),
                    None => return Err(DynamoError::validation("1 validation error detected: Value null at 'requestItems.member.deleteRequest.key' failed to satisfy constraint: Member must not be null")),
                },
                _ => {
                    return Err(DynamoError::validation(
                        "Supplied AttributeValue has more than one datatypes set, must contain exactly one of the supported datatypes",
                    ))
                }
            }
        }
        parsed.push((table.to_string(), writes));
    }

    let mut tables: Vec<TableWrites> = Vec::with_capacity(parsed.len());
    for (name, writes) in parsed {
        let tref = request::table_ref(&name)?;
        let meta = engine.table(ctx, &tref)?;
        let mut seen = HashSet::new();
        let mut keyed = Vec::with_capacity(writes.len());
        for w in writes {
            let key = match &w {
                Write::Put(item) => {
                    let k = keys::key_of_item(&meta, item)?;
                    crate::indexes::check_item(&meta, item)?;
                    if item_size(item) > MAX_ITEM_SIZE {
                        return Err(DynamoError::validation("Item size has exceeded the maximum allowed size"));
                    }
                    k
                }
                Write::Delete(key) => keys::key_of_key(&meta, key)?,
            };
            if !seen.insert(key.clone()) {
                return Err(DynamoError::validation("Provided list of item keys contains duplicates"));
            }
            keyed.push((key, w));
        }
        tables.push(TableWrites { tref, meta, writes: keyed });
    }

    let mut capacity: Vec<Value> = Vec::new();
    let mut commits: Option<stator_storage::Commit> = None;
    for t in &tables {
        let mut units = 0.0;
        let mut index_units: Vec<(String, f64)> = Vec::new();
        for (key, w) in &t.writes {
            let (meta, ((billed, idx_units), commit)) = engine.with_fresh_meta(ctx, &t.tref, |meta| {
                if let Write::Put(item) = w {
                    crate::indexes::check_item(&meta, item)?;
                }
                engine.write_item_stored(&meta, key, |txn| {
                    item_write::ensure_live(txn, &meta)?;
                    let old = item_write::load(txn, key)?;
                    let old_size = old.as_ref().map(item_size).unwrap_or(0);
                    let limits = engine.write_limits();
                    match w {
                        Write::Put(item) => {
                            let stored = item_write::store(txn, &meta, key, old.as_ref(), Some(item), &limits)?;
                            Ok(Outcome::Write((old_size.max(item_size(item)), stored)))
                        }
                        Write::Delete(_) if old.is_none() => Ok(Outcome::ReadOnly((0, item_write::Stored::none()))),
                        Write::Delete(_) => {
                            let stored = item_write::store(txn, &meta, key, old.as_ref(), None, &limits)?;
                            Ok(Outcome::Write((old_size, stored)))
                        }
                    }
                })
            })?;
            let _ = &meta;
            if let Some(c) = commit {
                // All of the request's commits: acknowledged only if none was lost.
                commits = Some(match commits {
                    Some(all) => stator_storage::Commit::and(all, c),
                    None => c,
                });
            }
            units += write_units(billed);
            for (name, u) in idx_units.index_units {
                match index_units.iter_mut().find(|(n, _)| *n == name) {
                    Some(e) => e.1 += u,
                    None => index_units.push((name, u)),
                }
            }
        }
        if let Some(v) = consumed_with_indexes(&t.meta, units, &index_units, cap) {
            capacity.push(v);
        }
    }
    let mut out = Map::new();
    out.insert("UnprocessedItems".into(), json!({}));
    if cap != ReturnCapacity::None {
        out.insert("ConsumedCapacity".into(), Value::Array(capacity));
    }
    Ok(Answer::new(Value::Object(out), commits))
}
