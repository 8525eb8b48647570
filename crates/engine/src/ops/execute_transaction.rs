//! ExecuteTransaction: up to 100 PartiQL statements, all reads (SELECTs naming whole
//! keys, read from one snapshot as TransactGetItems) or all writes (INSERT, UPDATE,
//! DELETE, with EXISTS as condition checks, all-or-nothing as TransactWriteItems —
//! same locking, cancellation reasons and ClientRequestToken idempotency).

use serde_json::Value;
use stator_expr::{Condition, Path, Update};
use stator_partiql::Statement;
use stator_protocol::{Constraints, DynamoError, Obj};

use super::transact_write_items::{run_transaction, Action, Kind, MAX_ACTIONS};
use crate::request::{self, TableRef};
use crate::statements::{self, key_and_condition};
use crate::{Answer, Engine, RequestContext};

fn tref(name: &str) -> TableRef {
    TableRef { name: name.to_string(), scope: None }
}

fn and(a: Condition, b: Option<Condition>) -> Condition {
    match b {
        Some(b) => Condition::And(Box::new(a), Box::new(b)),
        None => a,
    }
}

pub fn execute(engine: &Engine, ctx: &RequestContext, req: Obj) -> Result<Answer, DynamoError> {
    let mut c = Constraints::new();
    let list = req.list_of_obj("TransactStatements")?;
    c.require(&list, "transactStatements");
    c.count(list.as_deref(), "transactStatements", 1, MAX_ACTIONS);
    let token = req.str("ClientRequestToken")?;
    c.length(token, "clientRequestToken", 1, 36);
    let cap = request::return_consumed_capacity(req, &mut c)?;
    let mut texts = Vec::new();
    for (i, s) in list.iter().flatten().enumerate() {
        let base = format!("transactStatements.{}.member", i + 1);
        let text = s.str("Statement")?;
        c.require(&text, &format!("{base}.statement"));
        c.length(text, &format!("{base}.statement"), 1, stator_partiql::MAX_STATEMENT_LENGTH);
        let params = statements::parameters(*s, &format!("{base}.parameters"), &mut c)?;
        let rv = s.str("ReturnValuesOnConditionCheckFailure")?;
        c.one_of(rv, &format!("{base}.returnValuesOnConditionCheckFailure"), &["ALL_OLD", "NONE"]);
        texts.push((text.unwrap_or_default(), params, rv == Some("ALL_OLD")));
    }
    c.finish()?;
    let parsed: Vec<(Statement, bool)> =
        texts.iter().map(|(t, p, rv)| statements::parse(t, *p).map(|s| (s, *rv))).collect::<Result<_, _>>()?;
    let reads = parsed.iter().filter(|(s, _)| s.is_read()).count();
    if reads > 0 && reads < parsed.len() {
        return Err(DynamoError::validation(
            "Transaction must contain either all read statements or all write statements",
        ));
    }
    let run = || {
        if reads > 0 {
            read_all(engine, ctx, &parsed, cap).map(|v| (v, None))
        } else {
            let actions = parsed.iter().map(|(s, rv)| action(engine, ctx, s, *rv)).collect::<Result<Vec<_>, _>>()?;
            run_transaction(engine, ctx, &actions, cap, false)
        }
    };
    match token {
        None => run().map(|(v, commit)| Answer::new(v, commit)),
        Some(t) => engine.idempotent(ctx, t, super::transact_write_items::request_fingerprint(req), run),
    }
}

/// Every SELECT names one whole key; the items are read from one snapshot.
fn read_all(
    engine: &Engine,
    ctx: &RequestContext,
    parsed: &[(Statement, bool)],
    cap: crate::capacity::ReturnCapacity,
) -> Result<Value, DynamoError> {
    let mut gets = Vec::with_capacity(parsed.len());
    for (s, _) in parsed {
        let Statement::Select(sel) = s else { continue };
        let meta = statements::select::table(engine, ctx, &sel.table)?;
        let filter = sel.filter.as_ref().ok_or_else(|| {
            DynamoError::validation("Where clause does not contain a mandatory equality on all key attributes")
        })?;
        let (key, rest) = key_and_condition(&meta, filter)?;
        if rest.is_some() || sel.index.is_some() || sel.order_by.is_some() {
            return Err(DynamoError::validation(
                "Unsupported operation: a SELECT in a transaction may only name one item by its key",
            ));
        }
        gets.push((tref(&sel.table), key, sel.projection.clone()));
    }
    super::transact_get_items::run_gets(engine, ctx, &gets, cap)
}

/// The TransactWriteItems action of a write statement.
fn action(engine: &Engine, ctx: &RequestContext, s: &Statement, return_old: bool) -> Result<Action, DynamoError> {
    let meta = statements::select::table(engine, ctx, s.table())?;
    let exists = Condition::AttributeExists(Path::attr(meta.pk.name.clone()));
    let missing = Condition::AttributeNotExists(Path::attr(meta.pk.name.clone()));
    Ok(match s {
        Statement::Insert(i) => Action {
            table: tref(&i.table),
            kind: Kind::Put(i.item.clone()),
            key_item: i.item.clone(),
            condition: Some(missing),
            return_old: false,
            insert: true,
        },
        Statement::Update(u) => {
            let (key, rest) = key_and_condition(&meta, &u.filter)?;
            Action {
                table: tref(&u.table),
                kind: Kind::Update(Some(Update { actions: u.actions.clone() })),
                key_item: key,
                condition: Some(and(exists, rest)),
                return_old,
                insert: false,
            }
        }
        Statement::Delete(d) => {
            let (key, rest) = key_and_condition(&meta, &d.filter)?;
            // A missing item deletes nothing and succeeds.
            let condition = rest.map(|r| Condition::Or(Box::new(missing), Box::new(r)));
            Action { table: tref(&d.table), kind: Kind::Delete, key_item: key, condition, return_old, insert: false }
        }
        Statement::Exists(sel) => {
            let filter = sel.filter.as_ref().ok_or_else(|| {
                DynamoError::validation("Where clause does not contain a mandatory equality on all key attributes")
            })?;
            let (key, rest) = key_and_condition(&meta, filter)?;
            Action {
                table: tref(&sel.table),
                kind: Kind::Check,
                key_item: key,
                condition: Some(and(exists, rest)),
                return_old,
                insert: false,
            }
        }
        Statement::Select(_) => return Err(DynamoError::Internal("reads are handled apart".into())),
    })
}
