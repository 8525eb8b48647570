//! DescribeLimits: DynamoDB's default account and table quotas.

use serde_json::{json, Value};
use stator_protocol::{DynamoError, Obj};

use crate::{Engine, RequestContext};

/// Largest provisioned read or write capacity of one table.
pub const TABLE_MAX_UNITS: i64 = 40_000;
/// Largest provisioned capacity of one account in a region.
pub const ACCOUNT_MAX_UNITS: i64 = 80_000;

pub fn execute(_engine: &Engine, _ctx: &RequestContext, _req: Obj) -> Result<Value, DynamoError> {
    Ok(json!({
        "AccountMaxReadCapacityUnits": ACCOUNT_MAX_UNITS,
        "AccountMaxWriteCapacityUnits": ACCOUNT_MAX_UNITS,
        "TableMaxReadCapacityUnits": TABLE_MAX_UNITS,
        "TableMaxWriteCapacityUnits": TABLE_MAX_UNITS,
    }))
}
