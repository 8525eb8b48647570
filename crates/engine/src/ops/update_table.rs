//! UpdateTable: billing mode, provisioned throughput, deletion protection, table
//! class, streams and SSE. Changes apply at once; a capacity change answers
//! `UPDATING`, as DynamoDB does, and later descriptions show `ACTIVE`.

use std::sync::Arc;

use serde_json::{json, Value};
use stator_protocol::{Constraints, DynamoError, Obj};
use stator_storage::decode_counter;

use super::describe_table::table_not_found;
use super::index_updates::{self, Followup};
use super::table_settings::{self, check_stream};
use crate::catalog::{BillingMode, StreamSettings, TableMeta};
use crate::request::table_name;
use crate::{layout, Engine, Outcome, RequestContext};

pub fn execute(engine: &Engine, ctx: &RequestContext, req: Obj) -> Result<Value, DynamoError> {
    let mut c = Constraints::new();
    let t = table_name(req, "TableName", "tableName", &mut c)?;
    let billing = table_settings::billing_mode(req, &mut c)?;
    let throughput = table_settings::throughput(req, &mut c)?;
    let class = table_settings::table_class(req, &mut c)?;
    let stream = table_settings::stream(req, &mut c)?;
    let protection = req.bool("DeletionProtectionEnabled")?;
    let (account, region) = match &t {
        Some(t) => {
            let (a, r) = t.scope(ctx);
            (a.to_string(), r.to_string())
        }
        None => (ctx.account.clone(), ctx.region.clone()),
    };
    let sse = table_settings::sse(req, &mut c, &account, &region)?;
    let gsi_updates = index_updates::read(req, &mut c)?;
    c.finish()?;
    let Some(t) = t else { return Err(DynamoError::Internal("required member checked above".into())) };
    if req.get("ReplicaUpdates").is_some() {
        return Err(DynamoError::validation(
            "One or more parameter values were invalid: Replicas (global tables) are not supported by this version of Stator",
        ));
    }
    if billing.is_none()
        && throughput.is_none()
        && class.is_none()
        && stream.is_none()
        && protection.is_none()
        && sse.is_none()
        && gsi_updates.is_empty()
    {
        return Err(DynamoError::validation(
            "At least one of ProvisionedThroughput, BillingMode, UpdateStreamEnabled, GlobalSecondaryIndexUpdates or SSESpecification or ReplicaUpdates is required",
        ));
    }
    let current = engine.catalog.get(&account, &region, &t.name).ok_or_else(|| table_not_found(&t.name))?;
    let mut meta: TableMeta = (*current).clone();
    let now = engine.clock().now_epoch();
    let mut capacity_changed = false;

    let target_mode = match billing {
        Some("PAY_PER_REQUEST") => BillingMode::PayPerRequest,
        Some(_) => BillingMode::Provisioned,
        None => meta.billing,
    };
    match (target_mode, throughput) {
        (BillingMode::PayPerRequest, Some(_)) => {
            return Err(DynamoError::validation(
                "One or more parameter values were invalid: Neither ReadCapacityUnits nor WriteCapacityUnits can be specified when BillingMode is PAY_PER_REQUEST",
            ))
        }
        (BillingMode::Provisioned, None) if meta.billing == BillingMode::PayPerRequest => {
            return Err(DynamoError::validation(
                "One or more parameter values were invalid: ProvisionedThroughput must be specified when BillingMode is PROVISIONED",
            ))
        }
        _ => {}
    }
    if billing.is_some() {
        meta.billing_summary = true;
    }
    if target_mode != meta.billing {
        capacity_changed = true;
        meta.billing = target_mode;
        if target_mode == BillingMode::PayPerRequest {
            meta.last_update_to_ppr = Some(now);
            meta.throughput.read = 0;
            meta.throughput.write = 0;
        }
    }
    if let Some(tp) = throughput {
        let (read, write) = (tp.read.unwrap_or(0), tp.write.unwrap_or(0));
        if read == current.throughput.read
            && write == current.throughput.write
            && current.billing == BillingMode::Provisioned
        {
            return Err(DynamoError::validation(format!(
                "The provisioned throughput for the table will not change. The requested value equals the current value. Current ReadCapacityUnitsForTable: {r}. Requested ReadCapacityUnitsForTable: {read}. Current WriteCapacityUnitsForTable: {w}. Requested WriteCapacityUnitsForTable: {write}. Refer to the Amazon DynamoDB Developer Guide for current limits and how to request higher limits.",
                r = current.throughput.read,
                w = current.throughput.write,
            )));
        }
        if current.billing == BillingMode::Provisioned {
            if read > current.throughput.read || write > current.throughput.write {
                meta.throughput.last_increase = Some(now);
            }
            if read < current.throughput.read || write < current.throughput.write {
                meta.throughput.last_decrease = Some(now);
                meta.throughput.decreases_today += 1;
            }
        }
        meta.throughput.read = read;
        meta.throughput.write = write;
        capacity_changed = true;
    }
    // The stream being closed, and whether a new one opens.
    let mut closing: Option<u64> = None;
    let mut label_ms = 0;
    if let Some(s) = &stream {
        check_stream(s, false)?;
        let enabled_now = meta.stream.as_ref().is_some_and(|s| s.enabled);
        if s.enabled && enabled_now {
            return Err(DynamoError::validation(format!(
                "Table already has an enabled stream: TableName: {}",
                meta.name
            )));
        }
        if !s.enabled && !enabled_now {
            return Err(DynamoError::validation(format!("Table has no stream to disable: TableName: {}", meta.name)));
        }
        closing = meta.stream.as_ref().filter(|s| s.enabled).and_then(|s| s.id);
        label_ms = table_settings::stream_label_ms(engine, &account, &region, &t.name);
        meta.stream = Some(if s.enabled {
            table_settings::new_stream(s, label_ms)
        } else {
            StreamSettings {
                enabled: false,
                view_type: None,
                label: meta.stream.as_ref().and_then(|x| x.label.clone()),
                id: None,
            }
        });
        // Writes planned with the old stream settings must retry with the new ones.
        meta.schema_version += 1;
    }
    if let Some(class) = class {
        meta.table_class = Some(class.to_string());
    }
    if let Some(p) = protection {
        meta.deletion_protection = p;
    }
    if let Some(sse) = sse {
        meta.sse = sse;
    }

    let new_defs = index_updates::definitions(req)?;
    let key = layout::catalog_key(&account, &region, &t.name);
    let base = meta;
    let meta = engine.write_catalog(|txn| {
        expect_current(txn, &key, &current)?;
        let mut meta = base.clone();
        let mut next = decode_counter(txn.get(layout::NEXT_TABLE_KEY).map_err(crate::internal)?.as_deref()).max(0);
        let followups = index_updates::apply(&mut meta, &gsi_updates, &new_defs, &mut || {
            next += 1;
            Ok(next as u64)
        })?;
        let mut new_stream = None;
        if let Some(st) = meta.stream.as_mut().filter(|s| s.enabled && s.id.is_none()) {
            next += 1;
            st.id = Some(next as u64);
            let st = st.clone();
            let sm = super::create_table::new_stream_meta(&meta, &st, label_ms);
            txn.put(layout::stream_meta_key(sm.id), sm.to_bytes());
            new_stream = Some(sm);
        }
        txn.put(layout::NEXT_TABLE_KEY.to_vec(), next.to_be_bytes().to_vec());
        txn.put(layout::live_key(meta.number), meta.schema_version.to_be_bytes().to_vec());
        txn.put(key.clone(), meta.to_bytes());
        Ok(Outcome::Write((meta, followups, new_stream)))
    })?;
    let (meta, followups, new_stream) = (meta.0, meta.1, meta.2);
    if let Some(sm) = new_stream {
        engine.streams().register(sm);
    }
    let meta = Arc::new(meta);
    engine.catalog.put(meta.clone());
    if let Some(id) = closing {
        engine.streams().close(id)?;
    }
    let index_changed = !followups.is_empty();
    let mut deleting = Vec::new();
    for f in followups {
        if let Followup::Purge(idx) = &f {
            deleting.push(idx.as_ref().clone());
        }
        let store = engine.store_arc();
        let catalog = engine.catalog.clone();
        let table = meta.clone();
        let job = move || match f {
            Followup::Backfill(n) => index_updates::backfill(store, catalog, table, n),
            Followup::Purge(idx) => {
                super::delete_table::purge(store.as_ref(), idx.number, &layout::index_prefix(idx.number))
            }
        };
        std::thread::Builder::new()
            .name(format!("index-job-{}", meta.number))
            .spawn(move || {
                if let Err(e) = job() {
                    tracing::error!(error = %e, "index background job failed");
                }
            })
            .map_err(crate::internal)?;
    }
    // A stream change keeps the table UPDATING for a few seconds on DynamoDB.
    let capacity_changed = capacity_changed || index_changed || stream.is_some();
    let status = if capacity_changed { "UPDATING" } else { "ACTIVE" };
    let mut description = meta.describe(engine.store(), status)?;
    // A deleted index is gone from the catalog but DynamoDB still shows it, DELETING.
    for idx in deleting {
        let entry = json!({
            "IndexName": idx.name,
            "KeySchema": idx.key_schema_json(),
            "Projection": idx.projection_json(),
            "IndexStatus": "DELETING",
            "IndexArn": idx.arn(&meta),
        });
        match description.get_mut("GlobalSecondaryIndexes").and_then(|v| v.as_array_mut()) {
            Some(list) => list.push(entry),
            None => description["GlobalSecondaryIndexes"] = json!([entry]),
        }
    }
    Ok(json!({ "TableDescription": description }))
}

/// Inside a catalog change: the table's stored metadata must still be `current`,
/// else another change got there first.
pub(crate) fn expect_current(
    txn: &dyn stator_storage::Transaction,
    key: &[u8],
    current: &TableMeta,
) -> Result<(), DynamoError> {
    match txn.get(key).map_err(crate::internal)? {
        Some(v) if TableMeta::from_bytes(&v)? == *current => Ok(()),
        Some(_) => Err(DynamoError::ResourceInUse(format!(
            "Attempt to change a resource which is still in use: Table is being updated: {}",
            current.name
        ))),
        None => Err(table_not_found(&current.name)),
    }
}
