//! PartiQL statements on the engine: how a parsed statement runs. A SELECT becomes a
//! Query when its WHERE clause fixes the partition key (of the table or the index) with
//! equalities, else a Scan; the whole WHERE clause is always applied as the filter, so
//! the narrowing is only an access path. INSERT, UPDATE and DELETE are single-item
//! writes on the item the WHERE clause's key equalities name (the rest of the clause is
//! their condition), or actions of a transaction.

pub mod select;
pub mod write;

use serde_json::Value;
use stator_expr::{CmpOp, Condition, Operand};
use stator_partiql::Statement;
use stator_protocol::{DynamoError, Obj};
use stator_types::{AttributeValue, Item};

use crate::catalog::TableMeta;

/// Parses a request's `Statement` with its `Parameters` (validated before).
pub fn parse(text: &str, params: Option<&Vec<Value>>) -> Result<Statement, DynamoError> {
    let params: Vec<AttributeValue> = match params {
        None => Vec::new(),
        Some(list) => list.iter().map(AttributeValue::from_json).collect::<Result<_, _>>()?,
    };
    stator_partiql::parse(text, &params).map_err(|e| DynamoError::Validation(e.message))
}

/// Reads `Parameters`: a non-empty list of attribute values, when present.
pub fn parameters<'a>(
    req: Obj<'a>,
    path: &str,
    c: &mut stator_protocol::Constraints,
) -> Result<Option<&'a Vec<Value>>, DynamoError> {
    let p = req.list("Parameters")?;
    if p.is_some_and(|l| l.is_empty()) {
        c.fail("'[]'", path, "Member must have length greater than or equal to 1");
    }
    Ok(p)
}

/// The top-level conjuncts of a condition.
pub fn conjuncts(c: &Condition) -> Vec<&Condition> {
    match c {
        Condition::And(a, b) => {
            let mut v = conjuncts(a);
            v.extend(conjuncts(b));
            v
        }
        other => vec![other],
    }
}

/// An equality between a top-level attribute and a value, either way round.
pub fn equality(c: &Condition) -> Option<(&str, &AttributeValue)> {
    match c {
        Condition::Compare(CmpOp::Eq, Operand::Path(p), Operand::Value(v))
        | Condition::Compare(CmpOp::Eq, Operand::Value(v), Operand::Path(p))
            if p.is_top_level() =>
        {
            p.top().map(|t| (t, &v.value))
        }
        _ => None,
    }
}

/// Splits the WHERE clause of an UPDATE, DELETE or EXISTS into the item's key (an
/// equality on every key attribute of the table) and the rest of the clause, which is
/// the write's condition.
pub fn key_and_condition(meta: &TableMeta, filter: &Condition) -> Result<(Item, Option<Condition>), DynamoError> {
    let mut key = Item::new();
    let mut rest: Vec<Condition> = Vec::new();
    for c in conjuncts(filter) {
        match equality(c) {
            Some((name, v)) if meta.is_key(name) && !key.contains_key(name) => {
                key.insert(name.to_string(), v.clone());
            }
            _ => rest.push(c.clone()),
        }
    }
    if meta.key_attrs().any(|k| !key.contains_key(&k.name)) {
        return Err(DynamoError::validation(
            "Where clause does not contain a mandatory equality on all key attributes",
        ));
    }
    let condition = rest.into_iter().reduce(|a, b| Condition::And(Box::new(a), Box::new(b)));
    Ok((key, condition))
}
