//! Primary keys: taking them from an item (PutItem) or a `Key` member (GetItem,
//! DeleteItem, UpdateItem), with DynamoDB's checks and messages, and turning them
//! into storage keys.

use stator_protocol::DynamoError;
use stator_types::{AttributeValue, Item};

use crate::catalog::{KeyAttr, ScalarType, TableMeta};
use crate::layout;

/// Largest partition key value, in bytes.
pub const MAX_PK_BYTES: usize = 2048;
/// Largest sort key value, in bytes.
pub const MAX_SK_BYTES: usize = 1024;

fn matches(ty: ScalarType, v: &AttributeValue) -> bool {
    matches!(
        (ty, v),
        (ScalarType::S, AttributeValue::S(_))
            | (ScalarType::N, AttributeValue::N(_))
            | (ScalarType::B, AttributeValue::B(_))
    )
}

fn key_len(v: &AttributeValue) -> usize {
    match v {
        AttributeValue::S(s) => s.len(),
        AttributeValue::B(b) => b.len(),
        AttributeValue::N(n) => n.billed_size(),
        _ => 0,
    }
}

/// Checks a key value's content: not empty, not over the key size limits.
pub fn check_key_value(attr: &KeyAttr, v: &AttributeValue, is_pk: bool) -> Result<(), DynamoError> {
    match v {
        AttributeValue::S(s) if s.is_empty() => {
            return Err(DynamoError::validation(format!(
                "One or more parameter values are not valid. The AttributeValue for a key attribute cannot contain an empty string value. Key: {}",
                attr.name
            )))
        }
        AttributeValue::B(b) if b.is_empty() => {
            return Err(DynamoError::validation(format!(
                "One or more parameter values are not valid. The AttributeValue for a key attribute cannot contain an empty binary value. Key: {}",
                attr.name
            )))
        }
        _ => {}
    }
    if is_pk && key_len(v) > MAX_PK_BYTES {
        return Err(DynamoError::validation(
            "One or more parameter values were invalid: Size of hashkey has exceeded the maximum size limit of2048 bytes",
        ));
    }
    if !is_pk && key_len(v) > MAX_SK_BYTES {
        return Err(DynamoError::validation(
            "One or more parameter values were invalid: Aggregated size of all range keys has exceeded the size limit of 1024 bytes",
        ));
    }
    Ok(())
}

/// The storage key of an item about to be written, checking that it carries the
/// table's key attributes with the right types.
pub fn key_of_item(meta: &TableMeta, item: &Item) -> Result<Vec<u8>, DynamoError> {
    let mut vals = Vec::with_capacity(2);
    for (i, attr) in meta.key_attrs().enumerate() {
        let Some(v) = item.get(&attr.name) else {
            return Err(DynamoError::validation(format!(
                "One or more parameter values were invalid: Missing the key {} in the item",
                attr.name
            )));
        };
        if !matches(attr.ty, v) {
            return Err(DynamoError::validation(format!(
                "One or more parameter values were invalid: Type mismatch for key {} expected: {} actual: {}",
                attr.name,
                attr.ty.as_str(),
                v.value_type()
            )));
        }
        check_key_value(attr, v, i == 0)?;
        vals.push(v);
    }
    Ok(layout::item_key(meta.number, vals[0], vals.get(1).copied()))
}

/// The key attributes a stored record has (only those are decoded).
pub fn key_attributes_of_record(meta: &TableMeta, record: &[u8]) -> Result<Item, DynamoError> {
    let pk = meta.pk.name.as_str();
    let picked = match &meta.sk {
        Some(sk) => stator_types::stored::pick(record, &[pk, sk.name.as_str()]),
        None => stator_types::stored::pick(record, &[pk]),
    };
    picked.map_err(crate::internal)
}

/// The storage key named by a `Key` member: exactly the key attributes, right types.
pub fn key_of_key(meta: &TableMeta, key: &Item) -> Result<Vec<u8>, DynamoError> {
    let mismatch = || DynamoError::validation("The provided key element does not match the schema");
    let expected = if meta.sk.is_some() { 2 } else { 1 };
    if key.len() != expected {
        return Err(mismatch());
    }
    let mut vals = Vec::with_capacity(2);
    for attr in meta.key_attrs() {
        let v = key.get(&attr.name).ok_or_else(mismatch)?;
        if !matches(attr.ty, v) {
            return Err(mismatch());
        }
        vals.push(v);
    }
    for (i, attr) in meta.key_attrs().enumerate() {
        check_key_value(attr, vals[i], i == 0)?;
    }
    Ok(layout::item_key(meta.number, vals[0], vals.get(1).copied()))
}

/// Just the key attributes of an item.
pub fn key_attributes(meta: &TableMeta, item: &Item) -> Item {
    meta.key_attrs().filter_map(|a| item.get(&a.name).map(|v| (a.name.clone(), v.clone()))).collect()
}
