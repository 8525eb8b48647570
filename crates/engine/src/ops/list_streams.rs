//! ListStreams (DynamoDB Streams API): the streams of the caller's account and
//! region — enabled ones and those disabled within the retention period — optionally
//! of one table, in creation order, paged by ExclusiveStartStreamArn.

use serde_json::{json, Value};
use stator_protocol::{Constraints, DynamoError, Obj};

use crate::{Engine, RequestContext};

/// Most streams per page (the documented upper limit of Limit).
const MAX_LIMIT: i64 = 100;

pub fn execute(engine: &Engine, ctx: &RequestContext, req: Obj) -> Result<Value, DynamoError> {
    let mut c = Constraints::new();
    let table = req.str("TableName")?;
    c.table_name(table, "tableName");
    let limit = req.i64("Limit")?;
    c.at_least(limit, "limit", 1);
    let start = req.str("ExclusiveStartStreamArn")?;
    c.length(start, "exclusiveStartStreamArn", 37, 1024);
    c.finish()?;
    let limit = limit.unwrap_or(MAX_LIMIT).min(MAX_LIMIT) as usize;
    let mine: Vec<_> = engine
        .streams()
        .list()
        .into_iter()
        .filter(|m| m.account == ctx.account && m.region == ctx.region)
        .filter(|m| table.is_none_or(|t| m.table_name == t))
        .collect();
    // A table that neither exists nor left a stream behind is not found.
    if let Some(t) = table {
        if mine.is_empty() && engine.catalog.get(&ctx.account, &ctx.region, t).is_none() {
            return Err(super::describe_table::table_not_found(t));
        }
    }
    let from = match start {
        Some(arn) => mine.iter().position(|m| m.arn() == arn).map_or(0, |i| i + 1),
        None => 0,
    };
    let page: Vec<_> = mine.iter().skip(from).take(limit).collect();
    let more = from + page.len() < mine.len();
    let streams: Vec<Value> =
        page.iter().map(|m| json!({"StreamArn": m.arn(), "StreamLabel": m.label, "TableName": m.table_name})).collect();
    let mut out = json!({ "Streams": streams });
    if let (true, Some(last)) = (more, page.last()) {
        out["LastEvaluatedStreamArn"] = json!(last.arn());
    }
    Ok(out)
}
