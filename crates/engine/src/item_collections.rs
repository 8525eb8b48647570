//! Item collections: for a table with local secondary indexes, the items sharing a
//! partition key together with their local-index entries. DynamoDB caps a collection
//! at 10 GB (ItemCollectionSizeLimitExceededException) and reports its size estimate
//! with ReturnItemCollectionMetrics=SIZE. The size is a commutative counter per
//! partition, updated in the item's write transaction.

use serde_json::{json, Value};
use stator_protocol::DynamoError;
use stator_storage::{decode_counter, Transaction};
use stator_types::size::item_size;
use stator_types::{item_to_json, Item};

use crate::catalog::{IndexKind, TableMeta};

/// DynamoDB's item-collection limit.
pub const MAX_COLLECTION_BYTES: u64 = 10 * 1024 * 1024 * 1024;

const COLLECTIONS: u8 = 0x07;

/// Whether the table has item collections (it has a local secondary index).
pub fn applies(meta: &TableMeta) -> bool {
    meta.indexes.iter().any(|i| i.kind == IndexKind::Local)
}

/// The collection-size counter of the partition of `item_key`.
fn counter_key(meta: &TableMeta, item: &Item) -> Option<Vec<u8>> {
    let pk = item.get(&meta.pk.name)?;
    let prefix = crate::layout::partition_prefix(meta.number, pk);
    let mut k = Vec::with_capacity(prefix.len());
    k.push(COLLECTIONS);
    k.extend_from_slice(prefix.get(1..).unwrap_or_default());
    Some(k)
}

/// An item's share of its collection: the item and its local-index entries.
fn share(meta: &TableMeta, item_key: &[u8], item: Option<&Item>) -> i64 {
    let Some(item) = item else { return 0 };
    let mut size = item_size(item) as i64;
    for idx in meta.indexes.iter().filter(|i| i.kind == IndexKind::Local) {
        if let Some((_, projected)) = crate::indexes::entry(meta, idx, item_key, item) {
            size += item_size(&projected) as i64;
        }
    }
    size
}

/// Accounts one item write in its collection; refuses a write that would take the
/// collection past `limit`. Returns the collection's new size (None without LSIs).
pub fn account(
    txn: &mut dyn Transaction,
    meta: &TableMeta,
    item_key: &[u8],
    old: Option<&Item>,
    new: Option<&Item>,
    limit: u64,
) -> Result<Option<u64>, DynamoError> {
    if !applies(meta) {
        return Ok(None);
    }
    let Some(key) = new.or(old).and_then(|i| counter_key(meta, i)) else { return Ok(None) };
    let delta = share(meta, item_key, new) - share(meta, item_key, old);
    let current = decode_counter(txn.get(&key).map_err(crate::internal)?.as_deref());
    let next = (current + delta).max(0) as u64;
    if delta > 0 && next > limit {
        return Err(DynamoError::ItemCollectionSizeLimitExceeded("Collection size exceeded.".into()));
    }
    txn.add_counter(key, delta);
    Ok(Some(next))
}

/// The ItemCollectionMetrics member: the collection's key and its size estimate in GB
/// as a [lower, upper] range.
pub fn metrics(meta: &TableMeta, item: &Item, size: u64) -> Value {
    let key: Item = item.get(&meta.pk.name).map(|v| (meta.pk.name.clone(), v.clone())).into_iter().collect();
    let gb = (size as f64 / (1024.0 * 1024.0 * 1024.0)).floor();
    json!({ "ItemCollectionKey": item_to_json(&key), "SizeEstimateRangeGB": [gb, gb + 1.0] })
}
