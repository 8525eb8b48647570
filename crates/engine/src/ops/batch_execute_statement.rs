//! BatchExecuteStatement: up to 25 PartiQL statements, all reads (each a SELECT that
//! names one whole key) or all writes; each statement succeeds or fails on its own,
//! and its failure is reported in its response (Code, Message, Item), in order.

use serde_json::{json, Map, Value};
use stator_partiql::Statement;
use stator_protocol::{Constraints, DynamoError, Obj};
use stator_types::item_to_json;
use stator_types::itemcodec::decode_item;
use stator_types::size::item_size;

use crate::capacity::{consumed, read_units, ReturnCapacity};
use crate::statements::write::{self, WriteOptions};
use crate::statements::{self, key_and_condition};
use crate::{keys, request, Engine, RequestContext};

/// Most statements in one batch.
pub const MAX_STATEMENTS: usize = 25;

struct Entry<'a> {
    text: &'a str,
    params: Option<&'a Vec<Value>>,
    consistent: bool,
    return_old: bool,
}

/// A per-statement error: BatchStatementError's Code for a DynamoDB error.
fn error_entry(table: Option<&str>, e: DynamoError) -> Value {
    let (code, item) = match &e {
        DynamoError::ConditionalCheckFailed { item, .. } => ("ConditionalCheckFailed", item.clone()),
        DynamoError::DuplicateItem(_) => ("DuplicateItem", None),
        DynamoError::ResourceNotFound(_) => ("ResourceNotFound", None),
        DynamoError::TransactionConflict(_) => ("TransactionConflict", None),
        DynamoError::ItemCollectionSizeLimitExceeded(_) => ("ItemCollectionSizeLimitExceeded", None),
        DynamoError::ProvisionedThroughputExceeded(_) => ("ProvisionedThroughputExceeded", None),
        DynamoError::RequestLimitExceeded(_) => ("RequestLimitExceeded", None),
        DynamoError::Throttling(_) => ("ThrottlingError", None),
        DynamoError::AccessDenied(_) => ("AccessDenied", None),
        DynamoError::Internal(_) => ("InternalServerError", None),
        _ => ("ValidationError", None),
    };
    let mut err = json!({ "Code": code });
    if let Some(m) = e.message() {
        err["Message"] = json!(m);
    }
    if let Some(i) = item {
        err["Item"] = item_to_json(&i);
    }
    let mut out = json!({ "Error": err });
    if let Some(t) = table {
        out["TableName"] = json!(t);
    }
    out
}

pub fn execute(engine: &Engine, ctx: &RequestContext, req: Obj) -> Result<Value, DynamoError> {
    let mut c = Constraints::new();
    let list = req.list_of_obj("Statements")?;
    c.require(&list, "statements");
    c.count(list.as_deref(), "statements", 1, MAX_STATEMENTS);
    let cap = request::return_consumed_capacity(req, &mut c)?;
    let mut entries = Vec::new();
    for (i, s) in list.iter().flatten().enumerate() {
        let base = format!("statements.{}.member", i + 1);
        let text = s.str("Statement")?;
        c.require(&text, &format!("{base}.statement"));
        c.length(text, &format!("{base}.statement"), 1, stator_partiql::MAX_STATEMENT_LENGTH);
        let params = statements::parameters(*s, &format!("{base}.parameters"), &mut c)?;
        let consistent = s.bool("ConsistentRead")?.unwrap_or(false);
        let rv = s.str("ReturnValuesOnConditionCheckFailure")?;
        c.one_of(rv, &format!("{base}.returnValuesOnConditionCheckFailure"), &["ALL_OLD", "NONE"]);
        entries.push(Entry { text: text.unwrap_or_default(), params, consistent, return_old: rv == Some("ALL_OLD") });
    }
    c.finish()?;
    let parsed: Vec<Result<Statement, DynamoError>> =
        entries.iter().map(|e| statements::parse(e.text, e.params)).collect();
    let reads = parsed.iter().filter(|p| p.as_ref().is_ok_and(Statement::is_read)).count();
    let valid = parsed.iter().filter(|p| p.is_ok()).count();
    if reads > 0 && reads < valid {
        return Err(DynamoError::validation("Batch must contain either all read statements or all write statements"));
    }
    let mut responses = Vec::with_capacity(entries.len());
    let mut units: Vec<(String, f64)> = Vec::new();
    let mut add_units = |table: &str, u: f64| match units.iter_mut().find(|(t, _)| t == table) {
        Some(e) => e.1 += u,
        None => units.push((table.to_string(), u)),
    };
    let snap = engine.store().snapshot();
    for (entry, statement) in entries.iter().zip(parsed) {
        let statement = match statement {
            Ok(s) => s,
            Err(e) => {
                responses.push(error_entry(None, e));
                continue;
            }
        };
        let table = statement.table().to_string();
        let result = match &statement {
            Statement::Select(sel) => (|| {
                let meta = statements::select::table(engine, ctx, &sel.table)?;
                let filter = sel.filter.as_ref().ok_or_else(|| {
                    DynamoError::validation("Where clause does not contain a mandatory equality on all key attributes")
                })?;
                let (key_item, rest) = key_and_condition(&meta, filter)?;
                if sel.index.is_some() {
                    return Err(DynamoError::validation(
                        "Unsupported operation: a SELECT in a batch reads the table by its key",
                    ));
                }
                let key = keys::key_of_key(&meta, &key_item)?;
                let item = match snap.get(&key).map_err(crate::internal)? {
                    Some(b) => Some(decode_item(&b).map_err(crate::internal)?),
                    None => None,
                };
                add_units(&meta.name, read_units(item.as_ref().map(item_size).unwrap_or(0), entry.consistent));
                let empty = stator_types::Item::new();
                let keep = match &rest {
                    Some(r) => r.eval(item.as_ref().unwrap_or(&empty)).map_err(request::expr_err)?,
                    None => true,
                };
                let mut out = json!({ "TableName": meta.name });
                if let (true, Some(i)) = (keep, item) {
                    let shown = match &sel.projection {
                        Some(p) => stator_expr::project(&i, p),
                        None => i,
                    };
                    out["Item"] = item_to_json(&shown);
                }
                Ok(out)
            })(),
            write_statement => {
                let opts = WriteOptions { capacity: ReturnCapacity::Total, return_on_failure: entry.return_old };
                let r = match write_statement {
                    Statement::Insert(i) => write::insert(engine, ctx, i, &opts),
                    Statement::Update(u) => write::update(engine, ctx, u, &opts),
                    Statement::Delete(d) => write::delete(engine, ctx, d, &opts),
                    _ => Err(DynamoError::validation(
                        "Unsupported operation: EXISTS is only supported in ExecuteTransaction",
                    )),
                };
                r.map(|v| {
                    if let Some(u) = v["ConsumedCapacity"]["CapacityUnits"].as_f64() {
                        add_units(&table, u);
                    }
                    json!({ "TableName": table })
                })
            }
        };
        responses.push(result.unwrap_or_else(|e| error_entry(Some(&table), e)));
    }
    let mut out = Map::new();
    out.insert("Responses".into(), Value::Array(responses));
    if cap != ReturnCapacity::None {
        let list: Vec<Value> = units.iter().filter_map(|(t, u)| consumed(t, *u, cap)).collect();
        out.insert("ConsumedCapacity".into(), Value::Array(list));
    }
    Ok(Value::Object(out))
}
