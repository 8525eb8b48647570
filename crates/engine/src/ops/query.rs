//! Query: the items of one partition, optionally narrowed by a sort-key condition,
//! read in sort-key order (or reverse), filtered, projected and paged.

use std::ops::Bound;

use stator_expr::{ExprKind, KeyCondition, KeyOp};
use stator_protocol::{Constraints, DynamoError, Obj};
use stator_storage::{prefix_end, Direction, KeyRange};
use stator_types::keycodec::{encode_key_prefix, encode_key_value};
use stator_types::AttributeValue;

use super::read_page::{self, PageSpec};
use crate::catalog::{KeyAttr, ScalarType};
use crate::request::{self, expr_err};
use crate::{layout, Engine, RequestContext};

pub fn execute(engine: &Engine, ctx: &RequestContext, req: Obj) -> Result<crate::Reply, DynamoError> {
    let mut c = Constraints::new();
    let read_page::ReadCommon { table, index, limit, select, capacity: cap, consistent } =
        read_page::read_common(req, &mut c)?;
    let forward = req.bool("ScanIndexForward")?.unwrap_or(true);
    let key_text = req.str("KeyConditionExpression")?;
    let filter_text = req.str("FilterExpression")?;
    let projection_text = req.str("ProjectionExpression")?;
    let to_get = req.list_of_str("AttributesToGet")?;
    c.finish()?;
    let esk = req.item("ExclusiveStartKey")?;
    crate::legacy::refuse_mixing(
        req,
        &["AttributesToGet", "KeyConditions", "QueryFilter", "ConditionalOperator"],
        &["ProjectionExpression", "FilterExpression", "KeyConditionExpression"],
    )?;
    let legacy_keys = crate::legacy::filter(req, "KeyConditions")?;
    if key_text.is_none() && legacy_keys.is_none() {
        return Err(DynamoError::validation(
            "Either the KeyConditions or KeyConditionExpression parameter must be specified in the request.",
        ));
    }
    let params = request::expr_params(req, key_text.is_some() || filter_text.is_some() || projection_text.is_some())?;
    let mut resolver = params.resolver()?;
    let key_cond = match key_text {
        Some(t) => Some(stator_expr::parse_condition(t, ExprKind::KeyCondition, &mut resolver).map_err(expr_err)?),
        None => None,
    };
    let filter = match filter_text {
        Some(t) => Some(stator_expr::parse_condition(t, ExprKind::Filter, &mut resolver).map_err(expr_err)?),
        None => None,
    };
    let projection = match projection_text {
        Some(t) => Some(stator_expr::parse_projection(t, &mut resolver).map_err(expr_err)?),
        None => None,
    };
    resolver.check_all_used().map_err(expr_err)?;
    let conditions = match (&key_cond, &legacy_keys) {
        (Some(k), _) => stator_expr::key_conditions(k).map_err(expr_err)?,
        (None, Some(l)) => stator_expr::key_conditions_legacy(l).map_err(expr_err)?,
        (None, None) => Vec::new(),
    };
    let filter = read_page::filter_or_legacy(req, filter, stator_expr::LegacyKind::QueryFilter, "QueryFilter")?;
    let shape =
        read_page::shape(select, projection, to_get.map(|v| v.into_iter().map(str::to_string).collect()), index)?;

    let table = table.ok_or_else(|| DynamoError::Internal("required member checked above".into()))?;
    let meta = engine.table(ctx, &table)?;
    let idx = read_page::resolve_index(&meta, index, consistent, select)?;
    let range = match idx {
        None => key_range(
            &[&meta.pk],
            &meta.sk.iter().collect::<Vec<_>>(),
            &|pk| layout::partition_prefix(meta.number, pk[0]),
            &conditions,
        )?,
        Some(i) => {
            key_range(&i.pk_attrs(), &i.sk_attrs(), &|pk| layout::index_partition_prefix(i.number, pk), &conditions)?
        }
    };
    if let Some(f) = &filter {
        read_page::check_filter_keys(&meta, idx, f)?;
    }
    let start_after = read_page::start_key(&meta, idx, esk)?;
    let fetch_from_table = read_page::fetch_from_table(idx, select);
    let snap = engine.store().snapshot();
    let page = read_page::read_page(
        snap.as_ref(),
        PageSpec {
            meta: &meta,
            key_names: read_page::key_names(&meta, idx),
            fetch_from_table,
            range,
            direction: if forward { Direction::Forward } else { Direction::Reverse },
            start_after,
            limit,
            filter: filter.as_ref(),
            shape: &shape,
        },
    )?;
    read_page::response(&meta, idx, page, &shape, consistent, cap)
}

/// Whether a value has a key attribute's scalar type.
pub(crate) fn type_matches(attr: &KeyAttr, v: &AttributeValue) -> bool {
    matches!(
        (attr.ty, v),
        (ScalarType::S, AttributeValue::S(_))
            | (ScalarType::N, AttributeValue::N(_))
            | (ScalarType::B, AttributeValue::B(_))
    )
}

fn mismatch() -> DynamoError {
    DynamoError::validation(
        "One or more parameter values were invalid: Condition parameter type does not match schema type",
    )
}

/// Turns the key conditions on a key schema (the table's, or an index's, whose key may
/// have several partition and sort attributes) into the storage range they select.
///
/// Every partition attribute needs an equality; the sort attributes with conditions
/// must be a leading run of the sort key, all equalities but the last. Bounds are
/// taken on encoded-key prefixes, so they hold for item keys (which end with the sort
/// key) and for index entries (which continue with the item's table key).
pub(crate) fn key_range(
    pks: &[&KeyAttr],
    sks: &[&KeyAttr],
    partition_prefix: &dyn Fn(&[&AttributeValue]) -> Vec<u8>,
    conditions: &[KeyCondition],
) -> Result<KeyRange, DynamoError> {
    let mut pk_values = Vec::with_capacity(pks.len());
    for (i, pk) in pks.iter().enumerate() {
        let Some(c) = conditions.iter().find(|k| k.attribute == pk.name) else {
            return Err(DynamoError::validation(format!("Query condition missed key schema element: {}", pk.name)));
        };
        if c.op != KeyOp::Eq {
            return Err(DynamoError::validation("Query key condition not supported"));
        }
        let v = &c.values[0];
        if !type_matches(pk, v) {
            return Err(mismatch());
        }
        crate::keys::check_key_value(pk, v, i == 0)?;
        pk_values.push(v);
    }
    for c in conditions {
        if !pks.iter().any(|p| p.name == c.attribute) && !sks.iter().any(|s| s.name == c.attribute) {
            return Err(match sks.first() {
                Some(sk) if !conditions.iter().any(|k| k.attribute == sk.name) => {
                    DynamoError::validation(format!("Query condition missed key schema element: {}", sk.name))
                }
                _ => DynamoError::validation("Query key condition not supported"),
            });
        }
    }
    // The sort-key conditions: a leading run of the sort attributes.
    let mut sk_conds: Vec<(&KeyAttr, &KeyCondition)> = Vec::new();
    for sk in sks {
        match conditions.iter().find(|k| k.attribute == sk.name) {
            Some(c) => sk_conds.push((sk, c)),
            None => break,
        }
    }
    let used = conditions.iter().filter(|c| sks.iter().any(|s| s.name == c.attribute)).count();
    if used != sk_conds.len() || sk_conds.iter().rev().skip(1).any(|(_, c)| c.op != KeyOp::Eq) {
        return Err(DynamoError::validation("Query key condition not supported"));
    }
    let mut prefix = partition_prefix(&pk_values);
    let Some(((sk, k), leading)) = sk_conds.split_last() else {
        return Ok(KeyRange::prefix(&prefix));
    };
    for (attr, c) in leading {
        if !type_matches(attr, &c.values[0]) {
            return Err(mismatch());
        }
        encode_key_value(&c.values[0], &mut prefix);
    }
    let at = |v: &AttributeValue| -> Result<Vec<u8>, DynamoError> {
        if !type_matches(sk, v) {
            return Err(mismatch());
        }
        let mut key = prefix.clone();
        encode_key_value(v, &mut key);
        Ok(key)
    };
    // Every key whose sort key is exactly `v` starts with `at(v)`.
    let after = |v: &AttributeValue| -> Result<Bound<Vec<u8>>, DynamoError> {
        Ok(match prefix_end(&at(v)?) {
            Bound::Excluded(e) => Bound::Included(e),
            other => other,
        })
    };
    let whole_end = prefix_end(&prefix);
    Ok(match k.op {
        KeyOp::Eq => KeyRange::prefix(&at(&k.values[0])?),
        KeyOp::Lt => KeyRange { start: Bound::Included(prefix.clone()), end: Bound::Excluded(at(&k.values[0])?) },
        KeyOp::Le => KeyRange { start: Bound::Included(prefix.clone()), end: prefix_end(&at(&k.values[0])?) },
        KeyOp::Gt => KeyRange { start: after(&k.values[0])?, end: whole_end },
        KeyOp::Ge => KeyRange { start: Bound::Included(at(&k.values[0])?), end: whole_end },
        KeyOp::Between => {
            let (lo, hi) = (at(&k.values[0])?, at(&k.values[1])?);
            KeyRange { start: Bound::Included(lo), end: prefix_end(&hi) }
        }
        KeyOp::BeginsWith => {
            let bytes: &[u8] = match (&k.values[0], sk.ty) {
                (AttributeValue::S(s), ScalarType::S) => s.as_bytes(),
                (AttributeValue::B(b), ScalarType::B) => b,
                (AttributeValue::N(_), ScalarType::N) => {
                    return Err(DynamoError::validation(
                        "Invalid KeyConditionExpression: Incorrect operand type for operator or function; operator or function: begins_with, operand type: N",
                    ))
                }
                _ => return Err(mismatch()),
            };
            let mut p = prefix.clone();
            encode_key_prefix(bytes, &mut p);
            KeyRange::prefix(&p)
        }
    })
}
