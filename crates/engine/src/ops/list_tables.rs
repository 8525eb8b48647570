//! ListTables: names in ascending order, paged by Limit and ExclusiveStartTableName.

use serde_json::{json, Value};
use stator_protocol::{Constraints, DynamoError, Obj};

use crate::{Engine, RequestContext};

pub fn execute(engine: &Engine, ctx: &RequestContext, req: Obj) -> Result<Value, DynamoError> {
    let mut c = Constraints::new();
    let start = req.str("ExclusiveStartTableName")?;
    c.table_name(start, "exclusiveStartTableName");
    let limit = req.i64("Limit")?;
    c.at_least(limit, "limit", 1);
    c.at_most(limit, "limit", 100);
    c.finish()?;
    let limit = limit.unwrap_or(100) as usize;
    let names = engine.catalog.names(&ctx.account, &ctx.region);
    let from = match start {
        Some(s) => names.partition_point(|n| n.as_str() <= s),
        None => 0,
    };
    let page: Vec<&String> = names[from..].iter().take(limit).collect();
    let mut out = json!({ "TableNames": page });
    if from + page.len() < names.len() {
        if let Some(last) = page.last() {
            out["LastEvaluatedTableName"] = json!(last);
        }
    }
    Ok(out)
}
