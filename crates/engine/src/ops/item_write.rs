//! What PutItem, UpdateItem and DeleteItem share: ReturnValues members, the condition
//! check with ReturnValuesOnConditionCheckFailure, reading and writing one stored item
//! together with the table's item-count and size counters, and the response.

use serde_json::{Map, Value};
use stator_expr::Condition;
use stator_protocol::{Constraints, DynamoError, Obj};
use stator_storage::Transaction;
use stator_types::itemcodec::{decode_item, encode_item};
use stator_types::size::item_size;
use stator_types::{item_to_json, Item};

use crate::capacity::{consumed_with_indexes, write_units, ReturnCapacity};
use crate::catalog::TableMeta;
use crate::layout;

/// Every ReturnValues value, in the order DynamoDB lists them in its enum constraint.
pub const RETURN_VALUES: &[&str] = &["ALL_NEW", "UPDATED_OLD", "ALL_OLD", "NONE", "UPDATED_NEW"];

/// ReturnValues.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ReturnValues {
    None,
    AllOld,
    UpdatedOld,
    AllNew,
    UpdatedNew,
}

/// Reads ReturnValues (Coral enum check).
pub fn return_values(req: Obj, c: &mut Constraints) -> Result<ReturnValues, DynamoError> {
    let v = req.str("ReturnValues")?;
    c.one_of(v, "returnValues", RETURN_VALUES);
    Ok(match v {
        Some("ALL_OLD") => ReturnValues::AllOld,
        Some("UPDATED_OLD") => ReturnValues::UpdatedOld,
        Some("ALL_NEW") => ReturnValues::AllNew,
        Some("UPDATED_NEW") => ReturnValues::UpdatedNew,
        _ => ReturnValues::None,
    })
}

/// The members PutItem, UpdateItem and DeleteItem share.
pub struct Common<'a> {
    pub table: Option<crate::request::TableRef>,
    pub return_values: ReturnValues,
    pub capacity: ReturnCapacity,
    pub collection_metrics: bool,
    pub return_on_failure: bool,
    pub condition: Option<&'a str>,
}

/// Reads the shared members with their Coral constraints; `member` is the required
/// `Item` or `Key` (Coral path `path`).
pub fn read_common<'a>(req: Obj<'a>, member: &str, path: &str, c: &mut Constraints) -> Result<Common<'a>, DynamoError> {
    let table = crate::request::table_name(req, "TableName", "tableName", c)?;
    let raw = req.get(member);
    c.require(&raw, path);
    let return_values = return_values(req, c)?;
    let capacity = crate::request::return_consumed_capacity(req, c)?;
    let collection_metrics = crate::request::return_item_collection_metrics(req, c)?;
    let return_on_failure = return_on_failure(req, c)?;
    let condition = req.str("ConditionExpression")?;
    let op = req.str("ConditionalOperator")?;
    c.one_of(op, "conditionalOperator", &["AND", "OR"]);
    Ok(Common { table, return_values, capacity, collection_metrics, return_on_failure, condition })
}

/// The condition of a PutItem or DeleteItem: ConditionExpression (with its names and
/// values, all of which must be used) or the legacy Expected / ConditionalOperator —
/// never both.
pub fn condition_only(req: Obj, common: &Common) -> Result<Option<Condition>, DynamoError> {
    crate::legacy::refuse_mixing(req, &["Expected", "ConditionalOperator"], &["ConditionExpression"])?;
    let params = crate::request::expr_params(req, common.condition.is_some())?;
    let mut resolver = params.resolver()?;
    let cond = match common.condition {
        Some(t) => Some(
            stator_expr::parse_condition(t, stator_expr::ExprKind::Condition, &mut resolver)
                .map_err(crate::request::expr_err)?,
        ),
        None => None,
    };
    resolver.check_all_used().map_err(crate::request::expr_err)?;
    crate::legacy::write_condition(req, cond)
}

/// PutItem and DeleteItem allow only NONE and ALL_OLD.
pub fn only_all_old(rv: ReturnValues) -> Result<(), DynamoError> {
    match rv {
        ReturnValues::None | ReturnValues::AllOld => Ok(()),
        _ => Err(DynamoError::validation("ReturnValues can only be ALL_OLD or NONE")),
    }
}

/// Reads ReturnValuesOnConditionCheckFailure: true for ALL_OLD.
pub fn return_on_failure(req: Obj, c: &mut Constraints) -> Result<bool, DynamoError> {
    let v = req.str("ReturnValuesOnConditionCheckFailure")?;
    c.one_of(v, "returnValuesOnConditionCheckFailure", &["ALL_OLD", "NONE"]);
    Ok(v == Some("ALL_OLD"))
}

/// Evaluates the condition against the current item (absent = empty).
pub fn check_condition(cond: Option<&Condition>, old: Option<&Item>, return_old: bool) -> Result<(), DynamoError> {
    let Some(cond) = cond else { return Ok(()) };
    let empty = Item::new();
    if cond.eval(old.unwrap_or(&empty)).map_err(crate::request::expr_err)? {
        return Ok(());
    }
    Err(DynamoError::ConditionalCheckFailed {
        message: "The conditional request failed".into(),
        item: if return_old { old.cloned() } else { None },
    })
}

/// Reads the table's live marker inside the transaction, so that the write conflicts
/// with a concurrent DeleteTable instead of leaving an item behind its purge.
pub fn ensure_live(txn: &dyn Transaction, meta: &TableMeta) -> Result<(), DynamoError> {
    match txn.get(&layout::live_key(meta.number)).map_err(crate::internal)? {
        None => Err(DynamoError::ResourceNotFound("Requested resource not found".into())),
        Some(v)
            if stator_storage::decode_counter(Some(&v)) as u64 == meta.schema_version
                || (v.is_empty() && meta.schema_version == 0) =>
        {
            Ok(())
        }
        Some(_) => Err(DynamoError::Internal(crate::STALE_SCHEMA.into())),
    }
}

/// Reads the stored item at `key` inside the transaction.
pub fn load(txn: &dyn Transaction, key: &[u8]) -> Result<Option<Item>, DynamoError> {
    Ok(load_sized(txn, key, true)?.0)
}

/// The item a write replaces, as much of it as the write needs (what [`load_sized`]
/// read): its billed size when it exists, the item itself when decoded — always for
/// tables where [`needs_old_item`] is true.
#[derive(Clone, Copy)]
pub struct Prior<'a> {
    pub item: Option<&'a Item>,
    pub size: Option<usize>,
}

/// Whether a write to this table needs the replaced item itself, not only its size:
/// indexes, item collections (local indexes) and an enabled stream compare or copy it.
pub fn needs_old_item(meta: &TableMeta) -> bool {
    !meta.indexes.is_empty() || meta.stream.as_ref().is_some_and(|s| s.enabled)
}

/// Reads the stored item at `key` inside the transaction: the item when `decode`, and
/// its billed size (from the record's header, without decoding); both `None` when there
/// is none.
pub fn load_sized(
    txn: &dyn Transaction,
    key: &[u8],
    decode: bool,
) -> Result<(Option<Item>, Option<usize>), DynamoError> {
    let record = txn.get_shared(key).map_err(crate::internal)?;
    decode_sized(record.as_deref(), decode)
}

/// [`load_sized`] of a record read already.
pub fn decode_sized(record: Option<&[u8]>, decode: bool) -> Result<(Option<Item>, Option<usize>), DynamoError> {
    let Some(b) = record else { return Ok((None, None)) };
    let size = stator_types::stored::item_size(b).map_err(crate::internal)?;
    let item = if decode { Some(decode_item(b).map_err(crate::internal)?) } else { None };
    Ok((item, Some(size)))
}

/// What one stored write changed besides the item.
pub struct Stored {
    /// Write units each index consumed.
    pub index_units: Vec<(String, f64)>,
    /// The item collection's new size (tables with local indexes).
    pub collection_size: Option<u64>,
    /// In the asynchronous-GSI mode: the item before and after, for the delayed pass.
    pub deferred: Option<(Option<Item>, Option<Item>)>,
}

impl Stored {
    /// Nothing written.
    pub fn none() -> Stored {
        Stored { index_units: Vec::new(), collection_size: None, deferred: None }
    }
}

/// Writes (or with `None`, deletes) the item at `key`, maintains the table's indexes,
/// its item collection and the counters.
pub fn store(
    txn: &mut dyn Transaction,
    meta: &TableMeta,
    key: &[u8],
    old: Option<&Item>,
    new: Option<&Item>,
    limits: &crate::WriteLimits<'_>,
) -> Result<Stored, DynamoError> {
    store_prior(txn, meta, key, Prior { item: old, size: old.map(item_size) }, new, limits)
}

/// [`store`], given as much of the replaced item as the table needs.
pub fn store_prior(
    txn: &mut dyn Transaction,
    meta: &TableMeta,
    key: &[u8],
    prior: Prior<'_>,
    new: Option<&Item>,
    limits: &crate::WriteLimits<'_>,
) -> Result<Stored, DynamoError> {
    store_new(txn, meta, key, prior, new.map(|item| New { item, record: None }), limits)
}

/// An item a write stores, with its stored record when the caller has that already
/// (a PutItem's item read straight from the request text).
#[derive(Clone, Copy)]
pub struct New<'a> {
    /// The item: all of it where [`needs_old_item`] (indexes and streams read it);
    /// elsewhere, with a record, its key attributes are enough.
    pub item: &'a Item,
    /// `encode_item(item)` of the whole item.
    pub record: Option<&'a [u8]>,
}

/// [`store_prior`] of a [`New`] item.
pub fn store_new(
    txn: &mut dyn Transaction,
    meta: &TableMeta,
    key: &[u8],
    prior: Prior<'_>,
    written: Option<New<'_>>,
    limits: &crate::WriteLimits<'_>,
) -> Result<Stored, DynamoError> {
    let new = written.map(|n| n.item);
    let old = prior.item;
    if old.is_none() && prior.size.is_some() && needs_old_item(meta) {
        return Err(DynamoError::Internal("a write to a table with indexes or a stream lost the old item".into()));
    }
    let collection_limit = limits.max_item_collection_bytes;
    let collection_size = crate::item_collections::account(txn, meta, key, old, new, collection_limit)?;
    let old_size = prior.size.unwrap_or(0);
    let new_size = match written {
        Some(n) => {
            let encoded = n.record.map_or_else(|| encode_item(n.item), <[u8]>::to_vec);
            // The record's header holds the size the encoder summed.
            let size = stator_types::stored::item_size(&encoded).map_err(crate::internal)?;
            txn.put(key.to_vec(), encoded);
            size
        }
        None => {
            txn.delete(key.to_vec());
            0
        }
    };
    let count = new.is_some() as i64 - prior.size.is_some() as i64;
    txn.add_counter(layout::count_key(meta.number), count);
    txn.add_counter(layout::bytes_key(meta.number), new_size as i64 - old_size as i64);
    let async_globals = limits.async_gsi && meta.indexes.iter().any(|i| i.kind == crate::catalog::IndexKind::Global);
    let which = if async_globals { crate::indexes::Which::Local } else { crate::indexes::Which::All };
    let index_units = crate::indexes::maintain(txn, meta, key, old, new, which);
    limits.streams.record_change(txn, meta, old, new, limits.service)?;
    let deferred = async_globals.then(|| (old.cloned(), new.cloned()));
    Ok(Stored { index_units, collection_size, deferred })
}

/// A write's response: `Attributes` when there are any, `ConsumedCapacity` and
/// `ItemCollectionMetrics` when asked (the latter only for tables with local indexes).
pub fn response(
    meta: &TableMeta,
    common: &Common,
    attributes: Option<Item>,
    billed_size: usize,
    stored: &Stored,
    key_item: &Item,
) -> Value {
    let mut out = Map::new();
    if let Some(a) = attributes.filter(|a| !a.is_empty()) {
        out.insert("Attributes".into(), item_to_json(&a));
    }
    if let Some(c) = consumed_with_indexes(meta, write_units(billed_size), &stored.index_units, common.capacity) {
        out.insert("ConsumedCapacity".into(), c);
    }
    if let (true, Some(size)) = (common.collection_metrics, stored.collection_size) {
        out.insert("ItemCollectionMetrics".into(), crate::item_collections::metrics(meta, key_item, size));
    }
    Value::Object(out)
}

/// Refuses an update that touches a key attribute (UpdateItem, transactions, PartiQL).
pub fn check_not_key(meta: &TableMeta, update: &stator_expr::Update) -> Result<(), DynamoError> {
    for p in update.touched_paths() {
        if let Some(top) = p.top().filter(|t| meta.is_key(t)) {
            return Err(DynamoError::validation(format!(
                "One or more parameter values were invalid: Cannot update attribute {top}. This attribute is part of the key"
            )));
        }
    }
    Ok(())
}
