//! DescribeEndpoints: this server is its own endpoint.

use serde_json::{json, Value};
use stator_protocol::{DynamoError, Obj};

use crate::{Engine, RequestContext};

pub fn execute(_engine: &Engine, ctx: &RequestContext, _req: Obj) -> Result<Value, DynamoError> {
    Ok(json!({ "Endpoints": [{ "Address": ctx.endpoint, "CachePeriodInMinutes": 1440 }] }))
}
