//! Reading the legacy (pre-expression) request members — Expected, AttributeUpdates,
//! KeyConditions, QueryFilter, ScanFilter, ConditionalOperator, AttributesToGet —
//! into the typed entries that `stator_expr`'s legacy module turns into conditions
//! and updates; and DynamoDB's refusal to mix them with expressions.

use serde_json::Value;
use stator_expr::{AttributeUpdateEntry, ExpectedEntry, FilterEntry};
use stator_protocol::{DynamoError, Obj};
use stator_types::AttributeValue;

/// Refuses a request that uses legacy and expression members together.
pub fn refuse_mixing(req: Obj, legacy: &[&str], expressions: &[&str]) -> Result<(), DynamoError> {
    // Every request passes through here: nothing is copied, and an empty list allocates
    // nothing.
    fn used<'n>(req: Obj, names: &[&'n str]) -> Vec<&'n str> {
        names.iter().copied().filter(|n| req.get(n).is_some()).collect()
    }
    let (l, e) = (used(req, legacy), used(req, expressions));
    if l.is_empty() || e.is_empty() {
        return Ok(());
    }
    Err(DynamoError::validation(format!(
        "Can not use both expression and non-expression parameters in the same request: Non-expression parameters: {{{}}} Expression parameters: {{{}}}",
        l.join(", "),
        e.join(", ")
    )))
}

fn entries<'a>(req: Obj<'a>, member: &str) -> Result<Option<Vec<(String, Obj<'a>)>>, DynamoError> {
    let Some(m) = req.obj(member)? else { return Ok(None) };
    let mut out = Vec::with_capacity(m.len());
    for (k, v) in m.iter() {
        match v {
            Value::Object(o) => out.push((k.to_string(), Obj::new(o))),
            Value::Null => {}
            _ => return Err(DynamoError::Serialization("Unexpected value type in payload".into())),
        }
    }
    Ok(Some(out))
}

fn value_list(o: Obj) -> Result<Option<Vec<AttributeValue>>, DynamoError> {
    match o.list("AttributeValueList")? {
        None => Ok(None),
        Some(l) => Ok(Some(l.iter().map(AttributeValue::from_json).collect::<Result<Vec<_>, _>>()?)),
    }
}

fn value(o: Obj) -> Result<Option<AttributeValue>, DynamoError> {
    match o.get("Value") {
        None => Ok(None),
        Some(v) => Ok(Some(AttributeValue::from_json(v)?)),
    }
}

/// `Expected`.
pub fn expected(req: Obj) -> Result<Option<Vec<(String, ExpectedEntry)>>, DynamoError> {
    let Some(list) = entries(req, "Expected")? else { return Ok(None) };
    list.into_iter()
        .map(|(k, o)| {
            Ok((
                k,
                ExpectedEntry {
                    value: value(o)?,
                    exists: o.bool("Exists")?,
                    comparison_operator: o.str("ComparisonOperator")?.map(str::to_string),
                    attribute_value_list: value_list(o)?,
                },
            ))
        })
        .collect::<Result<Vec<_>, DynamoError>>()
        .map(Some)
}

/// `KeyConditions`, `QueryFilter` or `ScanFilter`.
pub fn filter(req: Obj, member: &str) -> Result<Option<Vec<(String, FilterEntry)>>, DynamoError> {
    let Some(list) = entries(req, member)? else { return Ok(None) };
    list.into_iter()
        .map(|(k, o)| {
            Ok((
                k,
                FilterEntry {
                    comparison_operator: o.str("ComparisonOperator")?.map(str::to_string),
                    attribute_value_list: value_list(o)?,
                },
            ))
        })
        .collect::<Result<Vec<_>, DynamoError>>()
        .map(Some)
}

/// `AttributeUpdates`.
pub fn attribute_updates(req: Obj) -> Result<Option<Vec<(String, AttributeUpdateEntry)>>, DynamoError> {
    let Some(list) = entries(req, "AttributeUpdates")? else { return Ok(None) };
    list.into_iter()
        .map(|(k, o)| Ok((k, AttributeUpdateEntry { action: o.str("Action")?.map(str::to_string), value: value(o)? })))
        .collect::<Result<Vec<_>, DynamoError>>()
        .map(Some)
}

/// The condition of a write: ConditionExpression, or the legacy Expected.
pub fn write_condition(
    req: Obj,
    expression: Option<stator_expr::Condition>,
) -> Result<Option<stator_expr::Condition>, DynamoError> {
    if expression.is_some() {
        return Ok(expression);
    }
    let op = req.str("ConditionalOperator")?;
    match expected(req)? {
        Some(e) => stator_expr::expected_condition(&e, op).map_err(crate::request::expr_err),
        None if op.is_some() => Err(DynamoError::validation(
            "ConditionalOperator can only be used when Filter or Expected has two or more elements",
        )),
        None => Ok(None),
    }
}
