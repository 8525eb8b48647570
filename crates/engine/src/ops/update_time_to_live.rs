//! UpdateTimeToLive: turns TTL on (with its attribute) or off. Takes effect at once
//! (DescribeTimeToLive answers ENABLED or DISABLED, never the transitional states).
//! As on DynamoDB, a table's TTL setting can change once per cool-down interval.

use std::sync::Arc;

use serde_json::{json, Value};
use stator_protocol::{Constraints, DynamoError, Obj};

use super::describe_table::table_not_found;
use crate::catalog::{TableMeta, TtlSettings};
use crate::request::table_name;
use crate::{layout, Engine, Outcome, RequestContext};

/// How long after a change another change is refused (measured on DynamoDB: about
/// half an hour; documented: up to one hour).
pub const COOL_DOWN_MS: u64 = 30 * 60 * 1000;

pub fn execute(engine: &Engine, ctx: &RequestContext, req: Obj) -> Result<Value, DynamoError> {
    let mut c = Constraints::new();
    let t = table_name(req, "TableName", "tableName", &mut c)?;
    let spec = req.obj("TimeToLiveSpecification")?;
    c.require(&spec, "timeToLiveSpecification");
    let (mut enabled, mut attribute) = (None, None);
    if let Some(s) = spec {
        enabled = s.bool("Enabled")?;
        attribute = s.str("AttributeName")?;
        c.require(&enabled, "timeToLiveSpecification.enabled");
        c.require(&attribute, "timeToLiveSpecification.attributeName");
        c.length(attribute, "timeToLiveSpecification.attributeName", 1, 255);
    }
    c.finish()?;
    let (Some(t), Some(enabled), Some(attribute)) = (t, enabled, attribute) else {
        return Err(DynamoError::Internal("required members checked above".into()));
    };
    let (account, region) = t.scope(ctx);
    let current = engine.catalog.get(account, region, &t.name).ok_or_else(|| table_not_found(&t.name))?;
    let now = engine.clock().now_ms();
    let active = current.ttl.as_ref().filter(|s| s.enabled);
    match (active, enabled) {
        (Some(s), _) if s.attribute != attribute => {
            return Err(DynamoError::validation(format!(
                "TimeToLive is active on a different AttributeName: current AttributeName is {}",
                s.attribute
            )))
        }
        (Some(_), true) => return Err(DynamoError::validation("TimeToLive is already enabled")),
        (None, false) => return Err(DynamoError::validation("TimeToLive is already disabled")),
        _ => {}
    }
    if current.ttl.as_ref().is_some_and(|s| now.saturating_sub(s.changed_ms) < COOL_DOWN_MS) {
        return Err(DynamoError::validation("Time to live has been modified multiple times within a fixed interval"));
    }
    let mut meta: TableMeta = (*current).clone();
    meta.ttl = Some(TtlSettings { attribute: attribute.to_string(), enabled, changed_ms: now });
    let key = layout::catalog_key(account, region, &t.name);
    engine.write_catalog(|txn| {
        super::update_table::expect_current(txn, &key, &current)?;
        txn.put(key.clone(), meta.to_bytes());
        Ok(Outcome::Write(()))
    })?;
    engine.catalog.put(Arc::new(meta));
    Ok(json!({ "TimeToLiveSpecification": { "AttributeName": attribute, "Enabled": enabled } }))
}
