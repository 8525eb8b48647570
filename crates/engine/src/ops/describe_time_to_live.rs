//! DescribeTimeToLive: ENABLED with the attribute, or DISABLED.

use serde_json::{json, Value};
use stator_protocol::{DynamoError, Obj};

use super::describe_table::{required_table, table_not_found};
use crate::{Engine, RequestContext};

pub fn execute(engine: &Engine, ctx: &RequestContext, req: Obj) -> Result<Value, DynamoError> {
    let t = required_table(req)?;
    let (account, region) = t.scope(ctx);
    let meta = engine.catalog.get(account, region, &t.name).ok_or_else(|| table_not_found(&t.name))?;
    let d = match meta.ttl.as_ref().filter(|s| s.enabled) {
        Some(s) => json!({ "TimeToLiveStatus": "ENABLED", "AttributeName": s.attribute }),
        None => json!({ "TimeToLiveStatus": "DISABLED" }),
    };
    Ok(json!({ "TimeToLiveDescription": d }))
}
