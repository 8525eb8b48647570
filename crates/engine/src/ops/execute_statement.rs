//! ExecuteStatement: one PartiQL statement — a SELECT page (Query or Scan, with Limit
//! and NextToken), or an INSERT, UPDATE or DELETE of one item.

use serde_json::Value;
use stator_partiql::Statement;
use stator_protocol::{Constraints, DynamoError, Obj};

use crate::statements::select::{self, ReadOptions};
use crate::statements::write::{self, WriteOptions};
use crate::{request, statements, Engine, RequestContext};

pub fn execute(engine: &Engine, ctx: &RequestContext, req: Obj) -> Result<Value, DynamoError> {
    let mut c = Constraints::new();
    let text = req.str("Statement")?;
    c.require(&text, "statement");
    c.length(text, "statement", 1, stator_partiql::MAX_STATEMENT_LENGTH);
    let params = statements::parameters(req, "parameters", &mut c)?;
    let consistent = req.bool("ConsistentRead")?.unwrap_or(false);
    let token = req.str("NextToken")?;
    c.length(token, "nextToken", 1, 32768);
    let capacity = request::return_consumed_capacity(req, &mut c)?;
    let limit = req.i64("Limit")?;
    c.at_least(limit, "limit", 1);
    let return_on_failure = super::item_write::return_on_failure(req, &mut c)?;
    c.finish()?;
    let statement = statements::parse(text.unwrap_or_default(), params)?;
    let writes = WriteOptions { capacity, return_on_failure };
    match &statement {
        Statement::Select(s) => {
            let opts = ReadOptions {
                limit: limit.map(|l| l as usize),
                next_token: token,
                consistent,
                capacity,
                fingerprint: select::fingerprint(text.unwrap_or_default(), params),
            };
            select::run(engine, ctx, s, &opts)
        }
        Statement::Insert(i) => write::insert(engine, ctx, i, &writes),
        Statement::Update(u) => write::update(engine, ctx, u, &writes),
        Statement::Delete(d) => write::delete(engine, ctx, d, &writes),
        Statement::Exists(_) => {
            Err(DynamoError::validation("Unsupported operation: EXISTS is only supported in ExecuteTransaction"))
        }
    }
}
