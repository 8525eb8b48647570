//! Running a SELECT: choose the access path (Query on a partition, or Scan), read one
//! page with Limit (items evaluated) and NextToken, filter with the whole WHERE clause,
//! project.

use serde_json::{json, Map, Value};
use stator_expr::{CmpOp, Condition, KeyCondition, KeyOp, Operand};
use stator_partiql::Select;
use stator_protocol::DynamoError;
use stator_storage::{Direction, KeyRange};
use stator_types::{item_from_json, item_to_json, Item};

use super::{conjuncts, equality};
use crate::capacity::{consumed, read_units, ReturnCapacity};
use crate::catalog::{IndexMeta, KeyAttr, ScalarType, TableMeta};
use crate::ops::query::type_matches;
use crate::ops::read_page::{self, PageSpec, Shape};
use crate::request::TableRef;
use crate::{layout, Engine, RequestContext};

/// ExecuteStatement's read options.
pub struct ReadOptions<'a> {
    /// Items to evaluate.
    pub limit: Option<usize>,
    /// NextToken.
    pub next_token: Option<&'a str>,
    /// ConsistentRead.
    pub consistent: bool,
    /// ReturnConsumedCapacity.
    pub capacity: ReturnCapacity,
    /// A fingerprint of the statement and its parameters: a NextToken only continues
    /// the request that produced it.
    pub fingerprint: u64,
}

/// The fingerprint of a statement and its parameters (FNV-1a).
pub fn fingerprint(text: &str, params: Option<&Vec<Value>>) -> u64 {
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    let params = params.map(|p| Value::Array(p.clone()).to_string()).unwrap_or_default();
    for b in text.bytes().chain([0u8]).chain(params.bytes()) {
        h ^= b as u64;
        h = h.wrapping_mul(0x0000_0100_0000_01b3);
    }
    h
}

/// The table a statement names, or DynamoDB's ResourceNotFoundException.
pub fn table(engine: &Engine, ctx: &RequestContext, name: &str) -> Result<std::sync::Arc<TableMeta>, DynamoError> {
    engine.table(ctx, &TableRef { name: name.to_string(), scope: None })
}

/// A sort-key condition among the conjuncts, as a key condition.
fn sort_condition(sk: &KeyAttr, parts: &[&Condition]) -> Option<KeyCondition> {
    let is_sk = |o: &Operand| matches!(o, Operand::Path(p) if p.is_top_level() && p.top() == Some(sk.name.as_str()));
    let value = |o: &Operand| match o {
        Operand::Value(v) if type_matches(sk, &v.value) => Some(v.value.clone()),
        _ => None,
    };
    let cond = |op, values| Some(KeyCondition { attribute: sk.name.clone(), op, values });
    for c in parts {
        let found = match c {
            Condition::Compare(op, a, b) if *op != CmpOp::Ne => {
                let (op, v) = if is_sk(a) {
                    (*op, value(b))
                } else if is_sk(b) {
                    // `value < sk` is `sk > value`.
                    (op.flipped(), value(a))
                } else {
                    continue;
                };
                let Some(v) = v else { continue };
                let op = match op {
                    CmpOp::Eq => KeyOp::Eq,
                    CmpOp::Lt => KeyOp::Lt,
                    CmpOp::Le => KeyOp::Le,
                    CmpOp::Gt => KeyOp::Gt,
                    _ => KeyOp::Ge,
                };
                cond(op, vec![v])
            }
            Condition::Between(a, lo, hi) if is_sk(a) => match (value(lo), value(hi)) {
                (Some(l), Some(h)) if stator_expr::compare_values(&l, &h) != Some(std::cmp::Ordering::Greater) => {
                    cond(KeyOp::Between, vec![l, h])
                }
                _ => continue,
            },
            Condition::BeginsWith(a, b) if is_sk(a) && sk.ty != ScalarType::N => match value(b) {
                Some(v) => cond(KeyOp::BeginsWith, vec![v]),
                None => continue,
            },
            _ => continue,
        };
        if found.is_some() {
            return found;
        }
    }
    None
}

/// The key range a SELECT reads: one partition (or part of it) when the WHERE clause
/// fixes every partition-key attribute with an equality, else everything.
fn access_path(
    meta: &TableMeta,
    idx: Option<&IndexMeta>,
    filter: Option<&Condition>,
) -> Result<(KeyRange, bool), DynamoError> {
    let (pks, sks): (Vec<&KeyAttr>, Vec<&KeyAttr>) = match idx {
        None => (vec![&meta.pk], meta.sk.iter().collect()),
        Some(i) => (i.pk_attrs(), i.sk_attrs()),
    };
    let whole = match idx {
        None => KeyRange::prefix(&layout::items_prefix(meta.number)),
        Some(i) => KeyRange::prefix(&layout::index_prefix(i.number)),
    };
    let Some(filter) = filter else { return Ok((whole, false)) };
    let parts = conjuncts(filter);
    let mut conditions = Vec::new();
    for pk in &pks {
        let v = parts.iter().filter_map(|c| equality(c)).find(|(n, v)| *n == pk.name && type_matches(pk, v));
        match v {
            Some((_, v)) => {
                conditions.push(KeyCondition { attribute: pk.name.clone(), op: KeyOp::Eq, values: vec![v.clone()] })
            }
            None => return Ok((whole, false)),
        }
    }
    // Leading sort attributes: equalities, then at most one range condition.
    for sk in &sks {
        match sort_condition(sk, &parts) {
            Some(k) => {
                let eq = k.op == KeyOp::Eq;
                conditions.push(k);
                if !eq {
                    break;
                }
            }
            None => break,
        }
    }
    let range = match idx {
        None => {
            crate::ops::query::key_range(&pks, &sks, &|pk| layout::partition_prefix(meta.number, pk[0]), &conditions)
        }
        Some(i) => {
            crate::ops::query::key_range(&pks, &sks, &|pk| layout::index_partition_prefix(i.number, pk), &conditions)
        }
    };
    match range {
        Ok(r) => Ok((r, true)),
        // A key value outside DynamoDB's limits can match no item: read nothing.
        Err(DynamoError::Validation(_)) => Ok((
            KeyRange { start: std::ops::Bound::Excluded(vec![0xff; 1]), end: std::ops::Bound::Excluded(vec![0xff; 1]) },
            true,
        )),
        Err(e) => Err(e),
    }
}

/// NextToken: the hex of `{"k": last evaluated key, "f": request fingerprint}`.
fn encode_token(key: &Item, fingerprint: u64) -> String {
    let text = json!({ "k": item_to_json(key), "f": format!("{fingerprint:016x}") }).to_string();
    text.bytes().map(|b| format!("{b:02x}")).collect()
}

fn decode_token(token: &str, fingerprint: u64) -> Result<Item, DynamoError> {
    let invalid = || DynamoError::validation("Invalid NextToken");
    if !token.len().is_multiple_of(2) {
        return Err(invalid());
    }
    let bytes: Vec<u8> = (0..token.len())
        .step_by(2)
        .map(|i| token.get(i..i + 2).and_then(|h| u8::from_str_radix(h, 16).ok()))
        .collect::<Option<_>>()
        .ok_or_else(invalid)?;
    let v: Value = serde_json::from_slice(&bytes).map_err(|_| invalid())?;
    if v["f"].as_str() != Some(format!("{fingerprint:016x}").as_str()) {
        return Err(DynamoError::validation("NextToken does not match request"));
    }
    item_from_json(&v["k"]).map_err(|_| invalid())
}

/// Runs a SELECT: `{"Items": [...], "NextToken"?, "ConsumedCapacity"?}`.
pub fn run(engine: &Engine, ctx: &RequestContext, sel: &Select, opts: &ReadOptions) -> Result<Value, DynamoError> {
    let meta = table(engine, ctx, &sel.table)?;
    let idx = read_page::resolve_index(&meta, sel.index.as_deref(), opts.consistent, None)?;
    let (range, partition) = access_path(&meta, idx, sel.filter.as_ref())?;
    let mut direction = Direction::Forward;
    if let Some((path, desc)) = &sel.order_by {
        let (partition_key, sort_key) = match idx {
            None => (&meta.pk, meta.sk.as_ref()),
            Some(i) => (&i.pk, i.sk_attrs().first().copied()),
        };
        let names = |a: &KeyAttr| path.is_top_level() && path.top() == Some(a.name.as_str());
        // Within one partition, ordering by the partition key changes nothing.
        let on_partition_key = names(partition_key);
        let on_sort_key = sort_key.is_some_and(names);
        if !partition {
            return Err(DynamoError::validation("Must have WHERE clause in the statement when using ORDER BY clause."));
        }
        if !on_sort_key && !on_partition_key {
            return Err(DynamoError::validation("Variable reference in ORDER BY clause must be the sort key"));
        }
        if *desc && on_sort_key {
            direction = Direction::Reverse;
        }
    }
    let start = match opts.next_token {
        Some(t) => Some(decode_token(t, opts.fingerprint)?),
        None => None,
    };
    let start_after = read_page::start_key(&meta, idx, start)?;
    let shape = match &sel.projection {
        Some(p) => Shape::Paths(p.clone()),
        None => Shape::All,
    };
    let snap = engine.store().snapshot();
    let page = read_page::read_page(
        snap.as_ref(),
        PageSpec {
            meta: &meta,
            key_names: read_page::key_names(&meta, idx),
            fetch_from_table: false,
            range,
            direction,
            start_after,
            limit: opts.limit,
            filter: sel.filter.as_ref(),
            shape: &shape,
        },
    )?;
    let mut out = Map::new();
    let items = page.items.iter().map(|i| i.to_item().map(|i| item_to_json(&i))).collect::<Result<Vec<_>, _>>()?;
    out.insert("Items".into(), Value::Array(items));
    if let Some(k) = &page.last_key {
        out.insert("NextToken".into(), json!(encode_token(k, opts.fingerprint)));
        out.insert("LastEvaluatedKey".into(), item_to_json(k));
    }
    let units = read_units(page.bytes_read, opts.consistent);
    let c = match idx {
        None => consumed(&meta.name, units, opts.capacity),
        Some(i) => crate::capacity::consumed_with_indexes(&meta, 0.0, &[(i.name.clone(), units)], opts.capacity),
    };
    if let Some(c) = c {
        out.insert("ConsumedCapacity".into(), c);
    }
    Ok(Value::Object(out))
}

#[cfg(test)]
mod tests {
    use super::*;
    use stator_types::AttributeValue;

    #[test]
    fn tokens_round_trip_and_refuse_garbage() {
        let key: Item = [("pk".to_string(), AttributeValue::S("a\"b".into()))].into_iter().collect();
        assert_eq!(decode_token(&encode_token(&key, 7), 7).unwrap(), key);
        assert_eq!(
            decode_token(&encode_token(&key, 7), 8).unwrap_err(),
            DynamoError::validation("NextToken does not match request")
        );
        for bad in ["", "0", "zz", "7b7d7", "7b", "5b5d"] {
            assert!(decode_token(bad, 7).is_err(), "{bad}");
        }
    }
}
