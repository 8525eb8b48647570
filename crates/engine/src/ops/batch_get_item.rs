//! BatchGetItem: up to 100 keys over several tables, each table with its own
//! projection and consistency, read from one snapshot. Items past the 16 MB response
//! limit come back as UnprocessedKeys.

use std::collections::HashSet;

use serde_json::{json, Map, Value};
use stator_protocol::{Constraints, DynamoError, Obj};
use stator_types::itemcodec::decode_item;
use stator_types::size::item_size;
use stator_types::{item_to_json, Item};

use crate::capacity::{consumed, read_units, ReturnCapacity};
use crate::request::{self, expr_err};
use crate::{keys, Engine, RequestContext};

/// Most keys in one call.
pub const MAX_KEYS: usize = 100;
/// Largest response, in item bytes.
pub const MAX_RESPONSE_BYTES: usize = 16 * 1024 * 1024;

struct TableRead<'a> {
    name: String,
    raw: Obj<'a>,
    meta: std::sync::Arc<crate::catalog::TableMeta>,
    keys: Vec<(Item, Vec<u8>)>,
    consistent: bool,
    projection: Option<Vec<stator_expr::Path>>,
    to_get: Option<Vec<String>>,
}

pub fn execute(engine: &Engine, ctx: &RequestContext, req: Obj) -> Result<Value, DynamoError> {
    let mut c = Constraints::new();
    let items = req.obj("RequestItems")?;
    c.require(&items, "requestItems");
    let cap = request::return_consumed_capacity(req, &mut c)?;
    if let Some(m) = items {
        if m.is_empty() {
            c.fail("'{}'", "requestItems", "Member must have length greater than or equal to 1");
        }
        for (table, spec) in m.iter() {
            let Some(o) = spec.as_object() else {
                return Err(DynamoError::Serialization("Unexpected value type in payload".into()));
            };
            let o = Obj::new(o);
            let k = o.list("Keys")?;
            c.require(&k, &format!("requestItems.{table}.member.keys"));
            if let Some(k) = k {
                if k.is_empty() {
                    c.fail(
                        "'[]'",
                        &format!("requestItems.{table}.member.keys"),
                        "Member must have length greater than or equal to 1",
                    );
                } else if k.len() > MAX_KEYS {
                    c.fail(
                        "'[...]'",
                        &format!("requestItems.{table}.member.keys"),
                        "Member must have length less than or equal to 100",
                    );
                }
            }
            if let Some(a) = o.list_of_str("AttributesToGet")? {
                if a.is_empty() {
                    c.fail(
                        "'[]'",
                        &format!("requestItems.{table}.member.attributesToGet"),
                        "Member must have length greater than or equal to 1",
                    );
                }
            }
        }
    }
    c.finish()?;
    let Some(items) = items else { return Err(DynamoError::Internal("required member checked above".into())) };
    let total: usize = items.iter().filter_map(|(_, v)| v.get("Keys")).map(|k| k.as_array().map_or(0, Vec::len)).sum();
    if total > MAX_KEYS {
        return Err(DynamoError::validation("Too many items requested for the BatchGetItem call"));
    }

    let mut reads = Vec::with_capacity(items.len());
    for (name, spec) in items.iter() {
        let raw = Obj::new(
            spec.as_object().ok_or_else(|| DynamoError::Serialization("Unexpected value type in payload".into()))?,
        );
        let projection_text = raw.str("ProjectionExpression")?;
        let to_get: Option<Vec<String>> =
            raw.list_of_str("AttributesToGet")?.map(|v| v.into_iter().map(str::to_string).collect());
        if to_get.is_some() && projection_text.is_some() {
            return Err(DynamoError::validation(
                "Can not use both expression and non-expression parameters in the same request: Non-expression parameters: {AttributesToGet} Expression parameters: {ProjectionExpression}",
            ));
        }
        if raw.get("ExpressionAttributeValues").is_some() {
            return Err(DynamoError::Serialization("Unrecognized member ExpressionAttributeValues".into()));
        }
        let params = request::expr_params(raw, projection_text.is_some())?;
        let mut resolver = params.resolver()?;
        let projection = match projection_text {
            Some(t) => Some(stator_expr::parse_projection(t, &mut resolver).map_err(expr_err)?),
            None => None,
        };
        resolver.check_all_used().map_err(expr_err)?;
        let tref = request::table_ref(name)?;
        let meta = engine.table(ctx, &tref)?;
        let mut seen = HashSet::new();
        let mut keys_out = Vec::new();
        for k in raw.list("Keys")?.into_iter().flatten() {
            let key_item = stator_types::item_from_json(k)?;
            let storage_key = keys::key_of_key(&meta, &key_item)?;
            if !seen.insert(storage_key.clone()) {
                return Err(DynamoError::validation("Provided list of item keys contains duplicates"));
            }
            keys_out.push((key_item, storage_key));
        }
        reads.push(TableRead {
            name: name.to_string(),
            raw,
            meta,
            keys: keys_out,
            consistent: raw.bool("ConsistentRead")?.unwrap_or(false),
            projection,
            to_get,
        });
    }

    let snap = engine.store().snapshot();
    let mut responses = Map::new();
    let mut unprocessed = Map::new();
    let mut capacity = Vec::new();
    let mut bytes = 0usize;
    for r in &reads {
        let mut found = Vec::new();
        let mut units = 0.0;
        let mut left: Vec<Value> = Vec::new();
        for (key_item, storage_key) in &r.keys {
            if bytes >= MAX_RESPONSE_BYTES {
                left.push(item_to_json(key_item));
                continue;
            }
            let item = match snap.get_shared(storage_key).map_err(crate::internal)? {
                Some(b) => Some(decode_item(&b).map_err(crate::internal)?),
                None => None,
            };
            let size = item.as_ref().map(item_size).unwrap_or(0);
            units += read_units(size, r.consistent);
            bytes += size;
            if let Some(item) = item {
                let shown = match (&r.projection, &r.to_get) {
                    (Some(p), _) => stator_expr::project(&item, p),
                    (None, Some(n)) => n.iter().filter_map(|k| item.get(k).map(|v| (k.clone(), v.clone()))).collect(),
                    (None, None) => item,
                };
                found.push(item_to_json(&shown));
            }
        }
        responses.insert(r.name.clone(), Value::Array(found));
        if !left.is_empty() {
            let mut spec = r.raw.to_map();
            spec.insert("Keys".into(), Value::Array(left));
            unprocessed.insert(r.name.clone(), Value::Object(spec));
        }
        if let Some(c) = consumed(&r.meta.name, units, cap) {
            capacity.push(c);
        }
    }
    let mut out = Map::new();
    out.insert("Responses".into(), Value::Object(responses));
    out.insert("UnprocessedKeys".into(), Value::Object(unprocessed));
    if cap != ReturnCapacity::None {
        out.insert("ConsumedCapacity".into(), Value::Array(capacity));
    }
    Ok(json!(out))
}
