//! Secondary-index maintenance, inside the same storage transaction as the item
//! write: an index entry exists exactly for items that carry the index's key
//! attributes (sparse indexes), holds the projected attributes, and is replaced when
//! the index key or a projected attribute changes. Also the write-time checks of index
//! key values, and the write units each index consumes.

use stator_protocol::DynamoError;
use stator_storage::Transaction;
use stator_types::itemcodec::encode_item;
use stator_types::size::item_size;
use stator_types::{AttributeValue, Item};

use crate::capacity::write_units;
use crate::catalog::{IndexMeta, KeyAttr, ProjectionType, ScalarType, TableMeta};
use crate::layout;

fn type_of(ty: ScalarType) -> &'static str {
    ty.as_str()
}

fn matches(attr: &KeyAttr, v: &AttributeValue) -> bool {
    matches!(
        (attr.ty, v),
        (ScalarType::S, AttributeValue::S(_))
            | (ScalarType::N, AttributeValue::N(_))
            | (ScalarType::B, AttributeValue::B(_))
    )
}

/// Refuses an item whose index key attributes have the wrong type or are empty, as
/// DynamoDB does on every write.
pub fn check_item(meta: &TableMeta, item: &Item) -> Result<(), DynamoError> {
    for idx in &meta.indexes {
        for attr in idx.key_attrs() {
            let Some(v) = item.get(&attr.name) else { continue };
            if !matches(attr, v) {
                return Err(DynamoError::validation(format!(
                    "One or more parameter values were invalid: Type mismatch for Index Key {} Expected: {} Actual: {} IndexName: {}",
                    attr.name,
                    type_of(attr.ty),
                    v.value_type(),
                    idx.name
                )));
            }
            let empty = match v {
                AttributeValue::S(s) => s.is_empty(),
                AttributeValue::B(b) => b.is_empty(),
                _ => false,
            };
            if empty {
                return Err(DynamoError::validation(format!(
                    "One or more parameter values are not valid. A value specified for a secondary index key is not supported. The AttributeValue for a key attribute cannot contain an empty {} value. IndexName: {}, IndexKey: {}",
                    if matches!(v, AttributeValue::S(_)) { "string" } else { "binary" },
                    idx.name,
                    attr.name
                )));
            }
        }
    }
    Ok(())
}

/// The attributes of `item` that `idx` holds.
pub fn project(meta: &TableMeta, idx: &IndexMeta, item: &Item) -> Item {
    match idx.projection {
        ProjectionType::All => item.clone(),
        ProjectionType::KeysOnly | ProjectionType::Include => item
            .iter()
            .filter(|(k, _)| {
                meta.is_key(k)
                    || idx.key_attrs().any(|a| &a.name == *k)
                    || (idx.projection == ProjectionType::Include && idx.non_key.iter().any(|n| n == *k))
            })
            .map(|(k, v)| (k.clone(), v.clone()))
            .collect(),
    }
}

/// The entry key and projected item of `item` in `idx`, or None when the item lacks
/// the index key (it is not in a sparse index).
pub fn entry(meta: &TableMeta, idx: &IndexMeta, item_key: &[u8], item: &Item) -> Option<(Vec<u8>, Item)> {
    // Sparse: every key attribute must be present (with its type; writes check that).
    let value = |a: &KeyAttr| item.get(&a.name).filter(|v| matches(a, v));
    let pk = idx.pk_attrs().into_iter().map(value).collect::<Option<Vec<_>>>()?;
    let sk = idx.sk_attrs().into_iter().map(value).collect::<Option<Vec<_>>>()?;
    Some((layout::index_entry_key(idx.number, &pk, &sk, item_key), project(meta, idx, item)))
}

/// Which indexes a maintenance pass covers.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Which {
    /// Every index, in the item's transaction (the default).
    All,
    /// Only local indexes (global ones are propagated later, in the opt-in
    /// asynchronous mode).
    Local,
    /// Only global indexes, checking which old entry is really there (the delayed
    /// propagation pass).
    GlobalChecked,
}

/// Brings every index of the table up to date for one item write (the caller has
/// validated the item's index keys) and returns the
/// write units each index consumed (DynamoDB bills a put, a delete, or both when the
/// index key changes; nothing when no projected attribute changed).
pub fn maintain(
    txn: &mut dyn Transaction,
    meta: &TableMeta,
    item_key: &[u8],
    old: Option<&Item>,
    new: Option<&Item>,
    which: Which,
) -> Vec<(String, f64)> {
    let mut units = Vec::with_capacity(meta.indexes.len());
    for idx in &meta.indexes {
        let selected = match which {
            Which::All => true,
            Which::Local => idx.kind == crate::catalog::IndexKind::Local,
            Which::GlobalChecked => idx.kind == crate::catalog::IndexKind::Global,
        };
        if !selected {
            continue;
        }
        let mut before = old.and_then(|o| entry(meta, idx, item_key, o));
        if idx.backfilling || which == Which::GlobalChecked {
            // While the backfill runs, the old item's entry may not have been copied
            // yet: account for the entry that is really there.
            if let Some((k, _)) = &before {
                if !matches!(txn.get(k), Ok(Some(_))) {
                    before = None;
                }
            }
        }
        let after = new.and_then(|n| entry(meta, idx, item_key, n));
        let mut used = 0.0;
        let mut count = 0i64;
        let mut bytes = 0i64;
        match (&before, &after) {
            (Some((ko, po)), Some((kn, pn))) if ko == kn => {
                if po != pn {
                    txn.put(kn.clone(), encode_item(pn));
                    used += write_units(item_size(pn).max(item_size(po)));
                    bytes += item_size(pn) as i64 - item_size(po) as i64;
                }
            }
            _ => {
                if let Some((ko, po)) = &before {
                    txn.delete(ko.clone());
                    used += write_units(item_size(po));
                    count -= 1;
                    bytes -= item_size(po) as i64;
                }
                if let Some((kn, pn)) = &after {
                    txn.put(kn.clone(), encode_item(pn));
                    used += write_units(item_size(pn));
                    count += 1;
                    bytes += item_size(pn) as i64;
                }
            }
        }
        txn.add_counter(layout::count_key(idx.number), count);
        txn.add_counter(layout::bytes_key(idx.number), bytes);
        if used > 0.0 {
            units.push((idx.name.clone(), used));
        }
    }
    units
}
