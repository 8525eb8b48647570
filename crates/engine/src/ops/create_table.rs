//! CreateTable: validates the key schema, attribute definitions and capacity
//! settings, allocates a table number and stores the metadata. The response shows
//! `CREATING`, as DynamoDB's does; the table is usable at once and later
//! descriptions show `ACTIVE`.

use std::sync::Arc;

use serde_json::{json, Value};
use stator_protocol::{Constraints, DynamoError, Obj};
use stator_storage::decode_counter;

use super::index_specs;
use super::table_settings::{self, check_stream};
use crate::catalog::{BillingMode, IndexKind, KeyAttr, ScalarType, TableMeta, Throughput};
use crate::request::table_name;
use crate::{layout, Engine, Outcome, RequestContext};

pub fn execute(engine: &Engine, ctx: &RequestContext, req: Obj) -> Result<Value, DynamoError> {
    let mut c = Constraints::new();
    let defs = req.list_of_obj("AttributeDefinitions")?;
    c.require(&defs, "attributeDefinitions");
    let table = table_name(req, "TableName", "tableName", &mut c)?;
    let schema = req.list_of_obj("KeySchema")?;
    c.require(&schema, "keySchema");
    let mut key_schema: Vec<(Option<&str>, Option<&str>)> = Vec::new();
    if let Some(s) = &schema {
        if s.is_empty() {
            c.fail("'[]'", "keySchema", "Member must have length greater than or equal to 1");
        } else if s.len() > 2 {
            c.fail(&format!("'{}'", "[...]"), "keySchema", "Member must have length less than or equal to 2");
        }
        for (i, e) in s.iter().enumerate() {
            let name = e.str("AttributeName")?;
            let kt = e.str("KeyType")?;
            let p = format!("keySchema.{}.member", i + 1);
            c.require(&name, &format!("{p}.attributeName"));
            c.length(name, &format!("{p}.attributeName"), 1, 255);
            c.require(&kt, &format!("{p}.keyType"));
            c.one_of(kt, &format!("{p}.keyType"), &["HASH", "RANGE"]);
            key_schema.push((name, kt));
        }
    }
    let mut attr_defs: Vec<(Option<&str>, Option<&str>)> = Vec::new();
    if let Some(d) = &defs {
        for (i, e) in d.iter().enumerate() {
            let name = e.str("AttributeName")?;
            let ty = e.str("AttributeType")?;
            let p = format!("attributeDefinitions.{}.member", i + 1);
            c.require(&name, &format!("{p}.attributeName"));
            c.length(name, &format!("{p}.attributeName"), 1, 255);
            c.require(&ty, &format!("{p}.attributeType"));
            c.one_of(ty, &format!("{p}.attributeType"), &["B", "N", "S"]);
            attr_defs.push((name, ty));
        }
    }
    let billing = table_settings::billing_mode(req, &mut c)?;
    let throughput = table_settings::throughput(req, &mut c)?;
    let class = table_settings::table_class(req, &mut c)?;
    let stream = table_settings::stream(req, &mut c)?;
    let tags = table_settings::tags(req, &mut c)?;
    let mut index_specs = index_specs::read(req, IndexKind::Local, &mut c)?;
    index_specs.extend(index_specs::read(req, IndexKind::Global, &mut c)?);
    let deletion_protection = req.bool("DeletionProtectionEnabled")?.unwrap_or(false);
    let (account, region) = match &table {
        Some(t) => {
            let (a, r) = t.scope(ctx);
            (a.to_string(), r.to_string())
        }
        None => (ctx.account.clone(), ctx.region.clone()),
    };
    let sse = table_settings::sse(req, &mut c, &account, &region)?.flatten();
    c.finish()?;
    let (Some(table), Some(_), Some(_)) = (table, schema, defs) else {
        return Err(DynamoError::Internal("required members checked above".into()));
    };

    // Semantic checks, in DynamoDB's order.
    let billing_mode = match billing {
        Some("PAY_PER_REQUEST") => BillingMode::PayPerRequest,
        _ => BillingMode::Provisioned,
    };
    match (billing_mode, throughput) {
        (BillingMode::Provisioned, None) => {
            return Err(DynamoError::validation(
                "One or more parameter values were invalid: ReadCapacityUnits and WriteCapacityUnits must both be specified when BillingMode is PROVISIONED",
            ))
        }
        (BillingMode::PayPerRequest, Some(_)) => {
            return Err(DynamoError::validation(
                "One or more parameter values were invalid: Neither ReadCapacityUnits nor WriteCapacityUnits can be specified when BillingMode is PAY_PER_REQUEST",
            ))
        }
        _ => {}
    }
    let defs: Vec<KeyAttr> = attr_defs
        .iter()
        .filter_map(|&(n, t)| Some(KeyAttr { name: n?.to_string(), ty: ScalarType::parse(t?)? }))
        .collect();
    let mut seen = std::collections::HashSet::new();
    for d in &defs {
        if !seen.insert(d.name.as_str()) {
            return Err(DynamoError::validation(format!(
                "Cannot have two attributes with the same name. Attribute name: {}",
                d.name
            )));
        }
    }
    let (Some((Some(hash_name), Some(hash_type))), second) = (key_schema.first().copied(), key_schema.get(1).copied())
    else {
        return Err(DynamoError::validation("Invalid KeySchema: Some index key attribute have no definition"));
    };
    if hash_type != "HASH" {
        return Err(DynamoError::validation("Invalid KeySchema: The first KeySchemaElement is not a HASH key type"));
    }
    let range_name = match second {
        Some((Some(n), Some("RANGE"))) => Some(n),
        Some(_) => {
            return Err(DynamoError::validation(
                "Invalid KeySchema: The second KeySchemaElement is not a RANGE key type",
            ))
        }
        None => None,
    };
    if range_name == Some(hash_name) {
        return Err(DynamoError::validation(
            "Invalid KeySchema: Both the Hash Key and the Range Key element in the KeySchema have the same name",
        ));
    }
    let find = |n: &str| defs.iter().find(|d| d.name == n).cloned();
    let key_names: Vec<&str> = std::iter::once(hash_name).chain(range_name).collect();
    if key_names.iter().any(|n| find(n).is_none()) {
        return Err(DynamoError::validation(format!(
            "One or more parameter values were invalid: Some index key attributes are not defined in AttributeDefinitions. Keys: [{}], AttributeDefinitions: [{}]",
            key_names.join(", "),
            defs.iter().map(|d| d.name.as_str()).collect::<Vec<_>>().join(", ")
        )));
    }
    let table_pk = find(hash_name)
        .ok_or_else(|| DynamoError::validation("Invalid KeySchema: Some index key attribute have no definition"))?;
    let table_sk = range_name.and_then(find);
    let indexes = index_specs::build(&index_specs, &table_pk, table_sk.as_ref(), &defs, billing_mode)?;
    let mut used: std::collections::HashSet<&str> = key_names.iter().copied().collect();
    for i in &indexes {
        for a in i.key_attrs() {
            used.insert(a.name.as_str());
        }
    }
    if defs.len() != used.len() {
        return Err(DynamoError::validation(
            "One or more parameter values were invalid: Number of attributes in KeySchema does not exactly match number of attributes defined in AttributeDefinitions",
        ));
    }
    if let Some(s) = &stream {
        check_stream(s, true)?;
    }
    let (pk, sk) = match (find(hash_name), range_name.and_then(find)) {
        (Some(pk), sk) => (pk, sk),
        (None, _) => {
            return Err(DynamoError::validation("Invalid KeySchema: Some index key attribute have no definition"))
        }
    };

    if engine.catalog.get(&account, &region, &table.name).is_some() {
        return Err(DynamoError::ResourceInUse(format!("Table already exists: {}", table.name)));
    }
    if engine.catalog.count(&account, &region) >= engine.config.max_tables {
        return Err(DynamoError::LimitExceeded(format!(
            "Subscriber limit exceeded: Table count limit of {} exceeded for this account",
            engine.config.max_tables
        )));
    }

    let now = engine.clock().now_epoch();
    let label_ms = table_settings::stream_label_ms(engine, &account, &region, &table.name);
    let tp = throughput.unwrap_or(table_settings::ThroughputInput { read: Some(0), write: Some(0) });
    let mut meta = TableMeta {
        name: table.name.clone(),
        account: account.clone(),
        region: region.clone(),
        number: 0,
        table_id: uuid::Uuid::new_v4().to_string(),
        created: now,
        pk,
        sk,
        attribute_definitions: defs,
        billing: billing_mode,
        billing_summary: billing.is_some(),
        last_update_to_ppr: (billing_mode == BillingMode::PayPerRequest).then_some(now),
        throughput: Throughput {
            read: tp.read.unwrap_or(0),
            write: tp.write.unwrap_or(0),
            last_increase: None,
            last_decrease: None,
            decreases_today: 0,
        },
        stream: stream.as_ref().map(|s| table_settings::new_stream(s, label_ms)),
        sse,
        table_class: class.map(str::to_string),
        deletion_protection,
        tags,
        indexes,
        schema_version: 0,
        ttl: None,
    };
    let catalog_key = layout::catalog_key(&account, &region, &table.name);
    let meta = engine.write_catalog(|txn| {
        if txn.get(&catalog_key).map_err(crate::internal)?.is_some() {
            return Err(DynamoError::ResourceInUse(format!("Table already exists: {}", meta.name)));
        }
        let next = decode_counter(txn.get(layout::NEXT_TABLE_KEY).map_err(crate::internal)?.as_deref()).max(0) + 1;
        txn.put(layout::NEXT_TABLE_KEY.to_vec(), next.to_be_bytes().to_vec());
        meta.number = next as u64;
        let mut n = next;
        for idx in &mut meta.indexes {
            n += 1;
            idx.number = n as u64;
        }
        let mut new_stream = None;
        if let Some(st) = meta.stream.as_mut().filter(|s| s.enabled) {
            n += 1;
            st.id = Some(n as u64);
        }
        if let Some(st) = meta.stream.as_ref().filter(|s| s.enabled) {
            let sm = new_stream_meta(&meta, st, label_ms);
            txn.put(layout::stream_meta_key(sm.id), sm.to_bytes());
            new_stream = Some(sm);
        }
        txn.put(layout::NEXT_TABLE_KEY.to_vec(), n.to_be_bytes().to_vec());
        txn.put(catalog_key.clone(), meta.to_bytes());
        txn.put(layout::live_key(meta.number), 0u64.to_be_bytes().to_vec());
        Ok(Outcome::Write((meta.clone(), new_stream)))
    })?;
    let (meta, new_stream) = meta;
    // The stream is live before any write can see the table point at it.
    if let Some(sm) = new_stream {
        engine.streams().register(sm);
    }
    let meta = Arc::new(meta);
    engine.catalog.put(meta.clone());
    Ok(json!({ "TableDescription": meta.describe(engine.store(), "CREATING")? }))
}

/// The metadata of a table's new stream (settings with their number set).
pub(crate) fn new_stream_meta(
    table: &TableMeta,
    st: &crate::catalog::StreamSettings,
    label_ms: u64,
) -> crate::streams::StreamMeta {
    let view = st.view_type.as_deref().and_then(crate::streams::record::ViewType::parse);
    crate::streams::StreamMeta::new(
        st.id.unwrap_or_default(),
        table,
        view.unwrap_or(crate::streams::record::ViewType::KeysOnly),
        st.label.clone().unwrap_or_default(),
        label_ms,
    )
}
