//! TransactWriteItems: up to 100 Put, Update, Delete and ConditionCheck actions over
//! one or more tables, all-or-nothing. The items' stripe locks are taken in one global
//! order (no deadlock), every condition is evaluated against one snapshot, and all
//! writes — items, index entries, counters — commit in one storage transaction.
//! A failed condition cancels the whole transaction with one reason per action.

use std::collections::HashSet;
use std::sync::Arc;

use serde_json::{Map, Value};
use stator_expr::{Condition, ExprKind, Update};
use stator_protocol::{CancellationReason, Constraints, DynamoError, Obj};
use stator_types::size::{item_size, MAX_ITEM_SIZE};
use stator_types::Item;

use super::item_write;
use crate::capacity::{consumed_with_indexes, write_units, ReturnCapacity};
use crate::catalog::TableMeta;
use crate::request::{self, expr_err, TableRef};
use crate::{keys, Answer, Engine, Outcome, RequestContext};
use stator_storage::Commit;

/// Most actions in one transaction.
pub const MAX_ACTIONS: usize = 100;
/// Largest transaction, in item bytes.
pub const MAX_TRANSACTION_BYTES: usize = 4 * 1024 * 1024;

/// What one action does.
pub(crate) enum Kind {
    Check,
    Put(Item),
    Delete,
    Update(Option<Update>),
}

/// One action of a transaction.
pub(crate) struct Action {
    pub table: TableRef,
    pub kind: Kind,
    pub key_item: Item,
    pub condition: Option<Condition>,
    pub return_old: bool,
    /// A PartiQL INSERT: its failed condition (the item exists) is a `DuplicateItem`.
    pub insert: bool,
}

fn parse_action(i: usize, a: Obj) -> Result<Action, DynamoError> {
    let members = [("ConditionCheck", "conditionCheck"), ("Put", "put"), ("Delete", "delete"), ("Update", "update")];
    let present: Vec<(&str, &str, Obj)> = members
        .iter()
        .filter_map(|(m, p)| a.obj(m).transpose().map(|o| o.map(|o| (*m, *p, o))))
        .collect::<Result<_, _>>()?;
    let [(member, path, o)] = present.as_slice() else {
        return Err(DynamoError::validation("TransactItems can only contain one of Check, Put, Update or Delete"));
    };
    let base = format!("transactItems.{}.member.{path}", i + 1);
    let mut c = Constraints::new();
    let table = request::table_name(*o, "TableName", &format!("{base}.tableName"), &mut c)?;
    let cond_text = o.str("ConditionExpression")?;
    let update_text = o.str("UpdateExpression")?;
    let rv = o.str("ReturnValuesOnConditionCheckFailure")?;
    c.one_of(rv, &format!("{base}.returnValuesOnConditionCheckFailure"), &["ALL_OLD", "NONE"]);
    let key_member = if *member == "Put" { "Item" } else { "Key" };
    let raw = o.get(key_member);
    c.require(&raw, &format!("{base}.{}", if *member == "Put" { "item" } else { "key" }));
    match *member {
        "ConditionCheck" => c.require(&cond_text, &format!("{base}.conditionExpression")),
        "Update" => c.require(&update_text, &format!("{base}.updateExpression")),
        _ => {}
    }
    c.finish()?;
    let params = request::expr_params(*o, cond_text.is_some() || update_text.is_some())?;
    let mut resolver = params.resolver()?;
    let update = match update_text {
        Some(t) => Some(stator_expr::parse_update(t, &mut resolver).map_err(expr_err)?),
        None => None,
    };
    let condition = match cond_text {
        Some(t) => Some(stator_expr::parse_condition(t, ExprKind::Condition, &mut resolver).map_err(expr_err)?),
        None => None,
    };
    resolver.check_all_used().map_err(expr_err)?;
    let item = o.item(key_member)?.unwrap_or_default();
    let table = table.ok_or_else(|| DynamoError::Internal("required member checked above".into()))?;
    let kind = match *member {
        "ConditionCheck" => Kind::Check,
        "Put" => Kind::Put(item.clone()),
        "Delete" => Kind::Delete,
        _ => Kind::Update(update),
    };
    Ok(Action { table, kind, key_item: item, condition, return_old: rv == Some("ALL_OLD"), insert: false })
}

/// Reads `TransactItems` (1 to 100 actions), shared by both transaction operations.
pub(crate) fn transact_items<'a>(req: Obj<'a>, c: &mut Constraints) -> Result<Option<Vec<Obj<'a>>>, DynamoError> {
    let items = req.list_of_obj("TransactItems")?;
    c.require(&items, "transactItems");
    c.count(items.as_deref(), "transactItems", 1, MAX_ACTIONS);
    Ok(items)
}

/// Write units of one action: its index, the table's units, and each index's units.
type ActionUnits = (usize, f64, Vec<(String, f64)>);

pub(crate) fn request_fingerprint(req: Obj) -> String {
    let mut m = req.to_map();
    m.remove("ClientRequestToken");
    serde_json::to_string(&m).unwrap_or_default()
}

pub fn execute(engine: &Engine, ctx: &RequestContext, req: Obj) -> Result<Answer, DynamoError> {
    let mut c = Constraints::new();
    let items = transact_items(req, &mut c)?;
    let token = req.str("ClientRequestToken")?;
    c.length(token, "clientRequestToken", 1, 36);
    let cap = request::return_consumed_capacity(req, &mut c)?;
    let metrics = request::return_item_collection_metrics(req, &mut c)?;
    c.finish()?;
    let actions: Vec<Action> =
        items.unwrap_or_default().into_iter().enumerate().map(|(i, a)| parse_action(i, a)).collect::<Result<_, _>>()?;

    let run = || run_transaction(engine, ctx, &actions, cap, metrics);
    match token {
        None => run().map(|(v, commit)| Answer::new(v, commit)),
        Some(t) => engine.idempotent(ctx, t, request_fingerprint(req), run),
    }
}

pub(crate) fn run_transaction(
    engine: &Engine,
    ctx: &RequestContext,
    actions: &[Action],
    cap: ReturnCapacity,
    metrics: bool,
) -> Result<(Value, Option<Commit>), DynamoError> {
    for _ in 0..100_000 {
        match attempt(engine, ctx, actions, cap, metrics) {
            Err(DynamoError::Internal(m)) if m == crate::STALE_SCHEMA => std::thread::yield_now(),
            r => return r,
        }
    }
    Err(DynamoError::Internal("table schema kept changing".into()))
}

fn attempt(
    engine: &Engine,
    ctx: &RequestContext,
    actions: &[Action],
    cap: ReturnCapacity,
    metrics: bool,
) -> Result<(Value, Option<Commit>), DynamoError> {
    // Resolve tables and keys; no two actions on one item.
    let mut metas: Vec<Arc<TableMeta>> = Vec::with_capacity(actions.len());
    let mut keys_out: Vec<Vec<u8>> = Vec::with_capacity(actions.len());
    let mut seen = HashSet::new();
    let mut total = 0usize;
    for a in actions {
        let meta = engine.table(ctx, &a.table)?;
        let key = match &a.kind {
            Kind::Put(item) => {
                let k = keys::key_of_item(&meta, item)?;
                if item_size(item) > MAX_ITEM_SIZE {
                    return Err(DynamoError::validation("Item size has exceeded the maximum allowed size"));
                }
                crate::indexes::check_item(&meta, item)?;
                total += item_size(item);
                k
            }
            _ => keys::key_of_key(&meta, &a.key_item)?,
        };
        if let Kind::Update(Some(u)) = &a.kind {
            item_write::check_not_key(&meta, u)?;
        }
        if !seen.insert(key.clone()) {
            return Err(DynamoError::validation("Transaction request cannot include multiple operations on one item"));
        }
        metas.push(meta);
        keys_out.push(key);
    }
    if total > MAX_TRANSACTION_BYTES {
        return Err(DynamoError::validation("Transaction request size has exceeded the maximum allowed size of 4 MB"));
    }

    let key_refs: Vec<&[u8]> = keys_out.iter().map(Vec::as_slice).collect();
    let limits = engine.write_limits();
    let ((units, collections), commit) = {
        let _guards = match engine.lock_transaction(&key_refs) {
            Ok(g) => g,
            Err(busy) => return Err(conflict(actions.len(), &busy)),
        };
        engine.with_retry(|txn| {
            // Conditions first, all against the same snapshot.
            let mut olds = Vec::with_capacity(actions.len());
            let mut reasons = Vec::with_capacity(actions.len());
            let mut failed = false;
            // Each table's live marker once: it joins the read set either way.
            let mut live: Vec<(u64, u64)> = Vec::with_capacity(actions.len());
            for ((a, meta), key) in actions.iter().zip(&metas).zip(&keys_out) {
                if !live.contains(&(meta.number, meta.schema_version)) {
                    item_write::ensure_live(txn, meta)?;
                    live.push((meta.number, meta.schema_version));
                }
                let old = item_write::load(txn, key)?;
                let empty = Item::new();
                let ok = match &a.condition {
                    Some(c) => c.eval(old.as_ref().unwrap_or(&empty)).map_err(expr_err)?,
                    None => true,
                };
                reasons.push(if ok {
                    none_reason()
                } else if a.insert {
                    failed = true;
                    CancellationReason {
                        code: "DuplicateItem".into(),
                        message: Some("Duplicate primary key exists in table".into()),
                        item: None,
                    }
                } else {
                    failed = true;
                    CancellationReason {
                        code: "ConditionalCheckFailed".into(),
                        message: Some("The conditional request failed".into()),
                        item: if a.return_old { old.clone() } else { None },
                    }
                });
                olds.push(old);
            }
            if failed {
                return Err(cancelled(reasons));
            }
            // Then every write, in one storage transaction.
            let mut units: Vec<ActionUnits> = Vec::new();
            let mut collections: Vec<(usize, u64)> = Vec::new();
            for (i, ((a, meta), key)) in actions.iter().zip(&metas).zip(&keys_out).enumerate() {
                let old = olds[i].as_ref();
                let new: Option<Item> = match &a.kind {
                    Kind::Check => {
                        units.push((i, 2.0 * write_units(old.map(item_size).unwrap_or(0)), Vec::new()));
                        continue;
                    }
                    Kind::Put(item) => Some(item.clone()),
                    Kind::Delete => None,
                    Kind::Update(u) => {
                        let mut n = old.cloned().unwrap_or_else(|| a.key_item.clone());
                        if let Some(u) = u {
                            if let Err(e) = u.apply(&mut n) {
                                return Err(validation_reason(actions.len(), i, e.0));
                            }
                        }
                        if item_size(&n) > MAX_ITEM_SIZE {
                            return Err(validation_reason(
                                actions.len(),
                                i,
                                "Item size to update has exceeded the maximum allowed size".into(),
                            ));
                        }
                        if let Err(DynamoError::Validation(m)) = crate::indexes::check_item(meta, &n) {
                            return Err(validation_reason(actions.len(), i, m));
                        }
                        Some(n)
                    }
                };
                if old.is_none() && new.is_none() {
                    units.push((i, 2.0, Vec::new()));
                    continue;
                }
                let stored = match item_write::store(txn, meta, key, old, new.as_ref(), &limits) {
                    Ok(s) => s,
                    Err(DynamoError::ItemCollectionSizeLimitExceeded(m)) => {
                        let mut r: Vec<CancellationReason> = (0..actions.len()).map(|_| none_reason()).collect();
                        r[i] = CancellationReason {
                            code: "ItemCollectionSizeLimitExceeded".into(),
                            message: Some(m),
                            item: None,
                        };
                        return Err(cancelled(r));
                    }
                    Err(e) => return Err(e),
                };
                if let Some(size) = stored.collection_size {
                    collections.push((i, size));
                }
                let billed = old.map(item_size).unwrap_or(0).max(new.as_ref().map(item_size).unwrap_or(0));
                let idx: Vec<(String, f64)> = stored.index_units.into_iter().map(|(n, u)| (n, 2.0 * u)).collect();
                units.push((i, 2.0 * write_units(billed), idx));
            }
            Ok(Outcome::Write((units, collections)))
        })?
    };
    let mut out = Map::new();
    if cap != ReturnCapacity::None {
        // One entry per table, in first-use order.
        let mut per_table: Vec<ActionUnits> = Vec::new();
        for (i, u, idx) in units {
            match per_table.iter_mut().find(|(j, _, _)| metas[*j].number == metas[i].number) {
                Some(e) => {
                    e.1 += u;
                    e.2.extend(idx);
                }
                None => per_table.push((i, u, idx)),
            }
        }
        let list: Vec<Value> =
            per_table.iter().filter_map(|(i, u, idx)| consumed_with_indexes(&metas[*i], *u, idx, cap)).collect();
        out.insert("ConsumedCapacity".into(), Value::Array(list));
    }
    if metrics && !collections.is_empty() {
        // Per table, the collections the transaction wrote to (tables with local indexes).
        let mut per_table = Map::new();
        for (i, size) in collections {
            let meta = &metas[i];
            let item = match &actions[i].kind {
                Kind::Put(item) => item,
                _ => &actions[i].key_item,
            };
            let entry = per_table.entry(meta.name.clone()).or_insert_with(|| Value::Array(Vec::new()));
            if let Value::Array(list) = entry {
                list.push(crate::item_collections::metrics(meta, item, size));
            }
        }
        out.insert("ItemCollectionMetrics".into(), Value::Object(per_table));
    }
    Ok((Value::Object(out), commit))
}

/// Cancellation when items are held by another transaction in progress.
pub(crate) fn conflict(n: usize, busy: &[usize]) -> DynamoError {
    let reasons = (0..n)
        .map(|i| {
            if busy.contains(&i) {
                CancellationReason {
                    code: "TransactionConflict".into(),
                    message: Some("Transaction is ongoing for the item".into()),
                    item: None,
                }
            } else {
                none_reason()
            }
        })
        .collect();
    cancelled(reasons)
}

fn none_reason() -> CancellationReason {
    CancellationReason { code: "None".into(), message: None, item: None }
}

fn validation_reason(n: usize, i: usize, message: String) -> DynamoError {
    let mut r: Vec<CancellationReason> = (0..n).map(|_| none_reason()).collect();
    r[i] = CancellationReason { code: "ValidationError".into(), message: Some(message), item: None };
    cancelled(r)
}

/// TransactionCanceledException with DynamoDB's message listing the reason codes.
pub(crate) fn cancelled(reasons: Vec<CancellationReason>) -> DynamoError {
    let codes: Vec<&str> = reasons.iter().map(|r| r.code.as_str()).collect();
    DynamoError::TransactionCanceled {
        message: format!(
            "Transaction cancelled, please refer cancellation reasons for specific reasons [{}]",
            codes.join(", ")
        ),
        reasons,
    }
}
