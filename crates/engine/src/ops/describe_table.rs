//! DescribeTable: the full TableDescription with live item count and size.

use serde_json::{json, Value};
use stator_protocol::{Constraints, DynamoError, Obj};

use crate::request::{table_name, TableRef};
use crate::{Engine, RequestContext};

/// The ResourceNotFoundException of the control-plane operations.
pub(crate) fn table_not_found(name: &str) -> DynamoError {
    DynamoError::ResourceNotFound(format!("Requested resource not found: Table: {name} not found"))
}

/// Validates a request whose only required member is `TableName`.
pub(crate) fn required_table(req: Obj) -> Result<TableRef, DynamoError> {
    let mut c = Constraints::new();
    let t = table_name(req, "TableName", "tableName", &mut c)?;
    c.finish()?;
    t.ok_or_else(|| DynamoError::Internal("required member checked above".into()))
}

pub fn execute(engine: &Engine, ctx: &RequestContext, req: Obj) -> Result<Value, DynamoError> {
    let t = required_table(req)?;
    let (account, region) = t.scope(ctx);
    let meta = engine.catalog.get(account, region, &t.name).ok_or_else(|| table_not_found(&t.name))?;
    Ok(json!({ "Table": meta.describe(engine.store(), "ACTIVE")? }))
}
