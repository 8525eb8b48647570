//! UpdateTable's GlobalSecondaryIndexUpdates: Create (the index starts CREATING with
//! Backfilling, existing items are copied in the background while writes keep
//! maintaining it, then it turns ACTIVE), Update (throughput) and Delete. One index
//! create or delete at a time per table, as DynamoDB allows.

use std::sync::Arc;

use stator_protocol::{Constraints, DynamoError, Obj};
use stator_storage::{Direction, KeyRange, KvStore, StorageError};
use stator_types::itemcodec::{decode_item, encode_item};
use stator_types::size::item_size;

use super::index_specs::{self, IndexSpec};
use super::table_settings;
use crate::catalog::{BillingMode, Catalog, IndexKind, KeyAttr, ScalarType, TableMeta, Throughput};
use crate::layout;

/// One entry of GlobalSecondaryIndexUpdates.
pub enum GsiUpdate<'a> {
    Create(IndexSpec<'a>),
    Update { name: &'a str, throughput: Option<table_settings::ThroughputInput> },
    Delete { name: &'a str },
}

/// Reads GlobalSecondaryIndexUpdates with Coral's constraints.
pub fn read<'a>(req: Obj<'a>, c: &mut Constraints) -> Result<Vec<GsiUpdate<'a>>, DynamoError> {
    let Some(list) = req.list_of_obj("GlobalSecondaryIndexUpdates")? else { return Ok(Vec::new()) };
    let mut out = Vec::new();
    for (i, u) in list.iter().enumerate() {
        let p = format!("globalSecondaryIndexUpdates.{}.member", i + 1);
        let create = u.obj("Create")?;
        let update = u.obj("Update")?;
        let delete = u.obj("Delete")?;
        match (create, update, delete) {
            (Some(cr), None, None) => {
                let name = cr.str("IndexName")?;
                c.require(&name, &format!("{p}.create.indexName"));
                c.table_name(name, &format!("{p}.create.indexName"));
                let mut keys = Vec::new();
                for e in cr.list_of_obj("KeySchema")?.unwrap_or_default() {
                    if let (Some(an), Some(kt)) = (e.str("AttributeName")?, e.str("KeyType")?) {
                        keys.push((an, kt));
                    }
                }
                let proj = cr.obj("Projection")?;
                c.require(&proj, &format!("{p}.create.projection"));
                let (projection, non_key) = match proj {
                    Some(pr) => (
                        match pr.str("ProjectionType")? {
                            Some("KEYS_ONLY") => crate::catalog::ProjectionType::KeysOnly,
                            Some("INCLUDE") => crate::catalog::ProjectionType::Include,
                            _ => crate::catalog::ProjectionType::All,
                        },
                        pr.list_of_str("NonKeyAttributes")?,
                    ),
                    None => (crate::catalog::ProjectionType::All, None),
                };
                let throughput = table_settings::throughput(cr, c)?;
                if let Some(name) = name {
                    out.push(GsiUpdate::Create(IndexSpec { kind: IndexKind::Global, name, keys, projection, non_key, throughput }));
                }
            }
            (None, Some(up), None) => {
                let name = up.str("IndexName")?;
                c.require(&name, &format!("{p}.update.indexName"));
                let throughput = table_settings::throughput(up, c)?;
                if let Some(name) = name {
                    out.push(GsiUpdate::Update { name, throughput });
                }
            }
            (None, None, Some(d)) => {
                let name = d.str("IndexName")?;
                c.require(&name, &format!("{p}.delete.indexName"));
                if let Some(name) = name {
                    out.push(GsiUpdate::Delete { name });
                }
            }
            _ => {
                return Err(DynamoError::validation(
                    "One or more parameter values were invalid: One of GlobalSecondaryIndexUpdate.Create, GlobalSecondaryIndexUpdate.Update, or GlobalSecondaryIndexUpdate.Delete must be specified",
                ))
            }
        }
    }
    Ok(out)
}

/// Reads AttributeDefinitions given to UpdateTable.
pub fn definitions(req: Obj) -> Result<Vec<KeyAttr>, DynamoError> {
    let mut out = Vec::new();
    for d in req.list_of_obj("AttributeDefinitions")?.unwrap_or_default() {
        if let (Some(n), Some(t)) = (d.str("AttributeName")?, d.str("AttributeType")?) {
            let ty = ScalarType::parse(t).ok_or_else(|| {
                DynamoError::validation(format!(
                    "1 validation error detected: Value '{t}' at 'attributeDefinitions.1.member.attributeType' failed to satisfy constraint: Member must satisfy enum value set: [B, N, S]"
                ))
            })?;
            out.push(KeyAttr { name: n.to_string(), ty });
        }
    }
    Ok(out)
}

/// What UpdateTable must do after committing the new metadata.
pub enum Followup {
    /// Copy existing items into the new index `number`.
    Backfill(u64),
    /// Purge the entries of the removed index (shown as DELETING in the response).
    Purge(Box<crate::catalog::IndexMeta>),
}

/// Applies the updates to `meta` (the caller commits it), allocating index numbers
/// through `next_number`. Returns the background work to start after the commit.
pub fn apply(
    meta: &mut TableMeta,
    updates: &[GsiUpdate],
    new_defs: &[KeyAttr],
    next_number: &mut dyn FnMut() -> Result<u64, DynamoError>,
) -> Result<Vec<Followup>, DynamoError> {
    let mut follow = Vec::new();
    let changes = updates.iter().filter(|u| !matches!(u, GsiUpdate::Update { .. })).count();
    let in_progress = meta.indexes.iter().any(|i| i.status != "ACTIVE");
    if changes > 1 || (changes == 1 && in_progress) {
        return Err(DynamoError::LimitExceeded(format!(
            "Subscriber limit exceeded: Only 1 online index can be created or deleted simultaneously per table, table: {}",
            meta.name
        )));
    }
    for u in updates {
        match u {
            GsiUpdate::Create(spec) => {
                if meta.index(spec.name).is_some() {
                    return Err(DynamoError::validation(format!(
                        "One or more parameter values were invalid: Index with name: {} already exists",
                        spec.name
                    )));
                }
                // Definitions: the table's, plus (or overridden by) those given now.
                let mut defs = meta.attribute_definitions.clone();
                for d in new_defs {
                    match defs.iter_mut().find(|x| x.name == d.name) {
                        Some(x) if x.ty != d.ty => {
                            return Err(DynamoError::validation(format!(
                                "One or more parameter values were invalid: Cannot change the type of an existing attribute: {}",
                                d.name
                            )))
                        }
                        Some(_) => {}
                        None => defs.push(d.clone()),
                    }
                }
                let mut built =
                    index_specs::build(std::slice::from_ref(spec), &meta.pk, meta.sk.as_ref(), &defs, meta.billing)?;
                let gsis = meta.indexes.iter().filter(|i| i.kind == IndexKind::Global).count();
                if gsis + 1 > index_specs::MAX_GSI {
                    return Err(DynamoError::LimitExceeded(format!(
                        "Subscriber limit exceeded: The number of global secondary indexes exceeds the per-table limit of {}",
                        index_specs::MAX_GSI
                    )));
                }
                let Some(mut idx) = built.pop() else { continue };
                idx.number = next_number()?;
                idx.status = "CREATING".into();
                idx.backfilling = true;
                // Keep only the definitions some key uses.
                for k in idx.key_attrs() {
                    if !meta.attribute_definitions.iter().any(|d| d.name == k.name) {
                        meta.attribute_definitions.push(k.clone());
                    }
                }
                follow.push(Followup::Backfill(idx.number));
                meta.indexes.push(idx);
                meta.schema_version += 1;
            }
            GsiUpdate::Update { name, throughput } => {
                let billing = meta.billing;
                let idx = meta.indexes.iter_mut().find(|i| i.name == *name && i.kind == IndexKind::Global).ok_or_else(
                    || DynamoError::ResourceNotFound(format!("Requested resource not found: Index: {name} not found")),
                )?;
                match (billing, throughput) {
                    (BillingMode::PayPerRequest, Some(_)) => {
                        return Err(DynamoError::validation(
                            "One or more parameter values were invalid: ProvisionedThroughput should not be specified for index when BillingMode is PAY_PER_REQUEST",
                        ))
                    }
                    (_, Some(t)) => {
                        idx.throughput = Some(Throughput {
                            read: t.read.unwrap_or(0),
                            write: t.write.unwrap_or(0),
                            last_increase: None,
                            last_decrease: None,
                            decreases_today: idx.throughput.as_ref().map_or(0, |x| x.decreases_today),
                        })
                    }
                    (_, None) => {}
                }
            }
            GsiUpdate::Delete { name } => {
                let pos = meta.indexes.iter().position(|i| i.name == *name && i.kind == IndexKind::Global).ok_or_else(
                    || DynamoError::ResourceNotFound(format!("Requested resource not found: Index: {name} not found")),
                )?;
                let idx = meta.indexes.remove(pos);
                follow.push(Followup::Purge(Box::new(idx)));
                meta.schema_version += 1;
            }
        }
    }
    Ok(follow)
}

/// Copies every existing item of the table into index `index`, in bounded
/// transactions that read each item (so a concurrent write of the same item makes the
/// chunk retry), then marks the index ACTIVE.
pub fn backfill(
    store: Arc<dyn KvStore>,
    catalog: Arc<Catalog>,
    table: Arc<TableMeta>,
    index: u64,
) -> Result<(), DynamoError> {
    const CHUNK: usize = 500;
    let prefix = layout::items_prefix(table.number);
    let mut after: Option<Vec<u8>> = None;
    loop {
        let keys: Vec<Vec<u8>> = {
            let snap = store.snapshot();
            let start = match &after {
                Some(k) => std::ops::Bound::Excluded(k.clone()),
                None => std::ops::Bound::Included(prefix.clone()),
            };
            let range = KeyRange { start, end: stator_storage::prefix_end(&prefix) };
            let mut v = Vec::with_capacity(CHUNK);
            for kv in snap.scan(range, Direction::Forward).take(CHUNK) {
                v.push(kv.map_err(crate::internal)?.0);
            }
            v
        };
        let Some(last) = keys.last().cloned() else { break };
        loop {
            // The table's current metadata: stop if the table or the index went away.
            let Some(meta) =
                catalog.get(&table.account, &table.region, &table.name).filter(|m| m.number == table.number)
            else {
                return Ok(());
            };
            let Some(idx) = meta.indexes.iter().find(|i| i.number == index) else { return Ok(()) };
            let mut txn = store.begin();
            for key in &keys {
                let Some(raw) = txn.get(key).map_err(crate::internal)? else { continue };
                let item = decode_item(&raw).map_err(crate::internal)?;
                if let Some((entry_key, projected)) = crate::indexes::entry(&meta, idx, key, &item) {
                    let existing = txn.get(&entry_key).map_err(crate::internal)?;
                    let new_size = item_size(&projected) as i64;
                    match existing {
                        Some(e) => {
                            let old_size = decode_item(&e).map(|i| item_size(&i) as i64).unwrap_or(0);
                            txn.add_counter(layout::bytes_key(index), new_size - old_size);
                        }
                        None => {
                            txn.add_counter(layout::count_key(index), 1);
                            txn.add_counter(layout::bytes_key(index), new_size);
                        }
                    }
                    txn.put(entry_key, encode_item(&projected));
                }
            }
            match txn.commit() {
                Ok(c) => {
                    c.wait_durable().map_err(crate::internal)?;
                    break;
                }
                Err(StorageError::Conflict) => continue,
                Err(e) => return Err(crate::internal(e)),
            }
        }
        after = Some(last);
    }
    // Mark ACTIVE.
    loop {
        let Some(meta) = catalog.get(&table.account, &table.region, &table.name).filter(|m| m.number == table.number)
        else {
            return Ok(());
        };
        let mut next = (*meta).clone();
        let Some(idx) = next.indexes.iter_mut().find(|i| i.number == index) else { return Ok(()) };
        idx.status = "ACTIVE".into();
        idx.backfilling = false;
        let key = layout::catalog_key(&meta.account, &meta.region, &meta.name);
        let mut txn = store.begin();
        match txn.get(&key).map_err(crate::internal)? {
            Some(v) if TableMeta::from_bytes(&v)? == *meta => {}
            _ => {
                std::thread::yield_now();
                continue;
            }
        }
        txn.put(key, next.to_bytes());
        match txn.commit() {
            Ok(c) => {
                c.wait_durable().map_err(crate::internal)?;
                catalog.put(Arc::new(next));
                return Ok(());
            }
            Err(StorageError::Conflict) => continue,
            Err(e) => return Err(crate::internal(e)),
        }
    }
}
