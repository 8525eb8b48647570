//! Model-based test: a small, obviously correct in-memory model of DynamoDB's item
//! semantics (conditional puts, updates and deletes, gets, queries in both directions
//! with sort-key conditions, filtered scans, a global index), and a property test that
//! runs random operation sequences against the engine and the model and compares every
//! answer. Proptest shrinks a failure to a minimal sequence.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::collections::BTreeMap;
use std::sync::Arc;

use proptest::prelude::*;
use serde_json::{json, Value};
use stator_engine::{Engine, EngineConfig, RequestContext};
use stator_protocol::{DynamoError, Operation};
use stator_storage::local::{LocalStore, SyncPolicy};
use stator_storage::mem::MemEngine;

/// An item of the model: its key and two optional attributes.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
struct Row {
    pk: String,
    sk: i64,
    v: Option<i64>,
    g: Option<String>,
}

#[derive(Debug, Clone)]
enum Cond {
    Exists,
    NotExists,
    VEq(i64),
    VLt(i64),
    GBegins(String),
}

#[derive(Debug, Clone)]
enum Action {
    SetV(i64),
    AddV(i64),
    SetG(String),
    RemoveG,
}

#[derive(Debug, Clone)]
enum SkCond {
    Eq(i64),
    Lt(i64),
    Ge(i64),
    Between(i64, i64),
}

#[derive(Debug, Clone)]
enum Op {
    Put { pk: String, sk: i64, v: Option<i64>, g: Option<String>, cond: Option<Cond> },
    Update { pk: String, sk: i64, action: Action, cond: Option<Cond> },
    Delete { pk: String, sk: i64, cond: Option<Cond> },
    Get { pk: String, sk: i64 },
    Query { pk: String, sk: Option<SkCond>, forward: bool },
    Scan { filter: Option<Cond> },
    QueryIndex { g: String },
}

fn pk() -> impl Strategy<Value = String> {
    prop_oneof![Just("a".to_string()), Just("b".to_string()), Just("c".to_string())]
}

fn small() -> impl Strategy<Value = i64> {
    -3i64..4
}

fn g() -> impl Strategy<Value = String> {
    prop_oneof![Just("x".to_string()), Just("xy".to_string()), Just("y".to_string())]
}

fn cond() -> impl Strategy<Value = Cond> {
    prop_oneof![
        Just(Cond::Exists),
        Just(Cond::NotExists),
        small().prop_map(Cond::VEq),
        small().prop_map(Cond::VLt),
        g().prop_map(Cond::GBegins),
    ]
}

fn op() -> impl Strategy<Value = Op> {
    prop_oneof![
        3 => (pk(), small(), proptest::option::of(small()), proptest::option::of(g()), proptest::option::of(cond()))
            .prop_map(|(pk, sk, v, g, cond)| Op::Put { pk, sk, v, g, cond }),
        3 => (pk(), small(), prop_oneof![
                small().prop_map(Action::SetV),
                small().prop_map(Action::AddV),
                g().prop_map(Action::SetG),
                Just(Action::RemoveG),
            ], proptest::option::of(cond()))
            .prop_map(|(pk, sk, action, cond)| Op::Update { pk, sk, action, cond }),
        2 => (pk(), small(), proptest::option::of(cond())).prop_map(|(pk, sk, cond)| Op::Delete { pk, sk, cond }),
        1 => (pk(), small()).prop_map(|(pk, sk)| Op::Get { pk, sk }),
        2 => (pk(), proptest::option::of(prop_oneof![
                small().prop_map(SkCond::Eq),
                small().prop_map(SkCond::Lt),
                small().prop_map(SkCond::Ge),
                (small(), small()).prop_map(|(a, b)| SkCond::Between(a.min(b), a.max(b))),
            ]), any::<bool>())
            .prop_map(|(pk, sk, forward)| Op::Query { pk, sk, forward }),
        1 => proptest::option::of(cond()).prop_map(|filter| Op::Scan { filter }),
        1 => g().prop_map(|g| Op::QueryIndex { g }),
    ]
}

// ---- the model ----

fn holds(c: &Cond, row: Option<&Row>) -> bool {
    match c {
        Cond::Exists => row.is_some(),
        Cond::NotExists => row.is_none(),
        Cond::VEq(x) => row.and_then(|r| r.v) == Some(*x),
        Cond::VLt(x) => row.and_then(|r| r.v).is_some_and(|v| v < *x),
        Cond::GBegins(p) => row.and_then(|r| r.g.as_ref()).is_some_and(|g| g.starts_with(p.as_str())),
    }
}

fn sk_holds(c: &SkCond, sk: i64) -> bool {
    match c {
        SkCond::Eq(x) => sk == *x,
        SkCond::Lt(x) => sk < *x,
        SkCond::Ge(x) => sk >= *x,
        SkCond::Between(a, b) => *a <= sk && sk <= *b,
    }
}

/// What an operation answers: a condition failure, or the rows it returns.
#[derive(Debug, PartialEq, Eq)]
enum Answer {
    Failed,
    Rows(Vec<Row>),
}

#[derive(Default)]
struct Model {
    rows: BTreeMap<(String, i64), Row>,
}

impl Model {
    fn apply(&mut self, op: &Op) -> Answer {
        match op {
            Op::Put { pk, sk, v, g, cond } => {
                let key = (pk.clone(), *sk);
                if cond.as_ref().is_some_and(|c| !holds(c, self.rows.get(&key))) {
                    return Answer::Failed;
                }
                self.rows.insert(key, Row { pk: pk.clone(), sk: *sk, v: *v, g: g.clone() });
                Answer::Rows(vec![])
            }
            Op::Update { pk, sk, action, cond } => {
                let key = (pk.clone(), *sk);
                if cond.as_ref().is_some_and(|c| !holds(c, self.rows.get(&key))) {
                    return Answer::Failed;
                }
                let row = self.rows.entry(key).or_insert(Row { pk: pk.clone(), sk: *sk, v: None, g: None });
                match action {
                    Action::SetV(x) => row.v = Some(*x),
                    Action::AddV(d) => row.v = Some(row.v.unwrap_or(0) + d),
                    Action::SetG(s) => row.g = Some(s.clone()),
                    Action::RemoveG => row.g = None,
                }
                Answer::Rows(vec![])
            }
            Op::Delete { pk, sk, cond } => {
                let key = (pk.clone(), *sk);
                if cond.as_ref().is_some_and(|c| !holds(c, self.rows.get(&key))) {
                    return Answer::Failed;
                }
                self.rows.remove(&key);
                Answer::Rows(vec![])
            }
            Op::Get { pk, sk } => Answer::Rows(self.rows.get(&(pk.clone(), *sk)).cloned().into_iter().collect()),
            Op::Query { pk, sk, forward } => {
                let mut rows: Vec<Row> = self
                    .rows
                    .values()
                    .filter(|r| &r.pk == pk && sk.as_ref().is_none_or(|c| sk_holds(c, r.sk)))
                    .cloned()
                    .collect();
                if !forward {
                    rows.reverse();
                }
                Answer::Rows(rows)
            }
            Op::Scan { filter } => Answer::Rows(
                self.rows.values().filter(|r| filter.as_ref().is_none_or(|c| holds(c, Some(r)))).cloned().collect(),
            ),
            Op::QueryIndex { g } => {
                Answer::Rows(self.rows.values().filter(|r| r.g.as_deref() == Some(g.as_str())).cloned().collect())
            }
        }
    }
}

// ---- the engine ----

fn call(e: &Engine, op: Operation, body: Value) -> Result<Value, DynamoError> {
    let ctx =
        RequestContext { account: "000000000000".into(), region: "us-east-1".into(), endpoint: "localhost".into() };
    e.execute(&ctx, op, body.as_object().unwrap())
}

fn engine() -> Engine {
    let store = Arc::new(LocalStore::new(MemEngine::new(), SyncPolicy::Never));
    let e = Engine::open(store, EngineConfig::default()).unwrap();
    call(
        &e,
        Operation::CreateTable,
        json!({
            "TableName": "model", "BillingMode": "PAY_PER_REQUEST",
            "AttributeDefinitions": [
                {"AttributeName": "pk", "AttributeType": "S"}, {"AttributeName": "sk", "AttributeType": "N"},
                {"AttributeName": "g", "AttributeType": "S"}],
            "KeySchema": [{"AttributeName": "pk", "KeyType": "HASH"}, {"AttributeName": "sk", "KeyType": "RANGE"}],
            "GlobalSecondaryIndexes": [{"IndexName": "by_g", "KeySchema": [{"AttributeName": "g", "KeyType": "HASH"}],
                "Projection": {"ProjectionType": "ALL"}}]
        }),
    )
    .unwrap();
    e
}

/// A condition as expression text, with its values added to `values`.
fn cond_expr(c: &Cond, values: &mut serde_json::Map<String, Value>) -> String {
    match c {
        Cond::Exists => "attribute_exists(pk)".into(),
        Cond::NotExists => "attribute_not_exists(pk)".into(),
        Cond::VEq(x) => {
            values.insert(":cv".into(), json!({"N": x.to_string()}));
            "v = :cv".into()
        }
        Cond::VLt(x) => {
            values.insert(":cv".into(), json!({"N": x.to_string()}));
            "v < :cv".into()
        }
        Cond::GBegins(p) => {
            values.insert(":cg".into(), json!({"S": p}));
            "begins_with(g, :cg)".into()
        }
    }
}

fn with_cond(mut body: Value, cond: &Option<Cond>, member: &str, mut values: serde_json::Map<String, Value>) -> Value {
    if let Some(c) = cond {
        body[member] = json!(cond_expr(c, &mut values));
    }
    if !values.is_empty() {
        body["ExpressionAttributeValues"] = Value::Object(values);
    }
    body
}

fn key(pk: &str, sk: i64) -> Value {
    json!({"pk": {"S": pk}, "sk": {"N": sk.to_string()}})
}

fn rows_of(v: &Value) -> Vec<Row> {
    let list = match v.get("Items") {
        Some(items) => items.as_array().unwrap().clone(),
        None => v.get("Item").map(|i| vec![i.clone()]).unwrap_or_default(),
    };
    list.iter()
        .map(|i| Row {
            pk: i["pk"]["S"].as_str().unwrap().to_string(),
            sk: i["sk"]["N"].as_str().unwrap().parse().unwrap(),
            v: i.get("v").map(|v| v["N"].as_str().unwrap().parse().unwrap()),
            g: i.get("g").map(|g| g["S"].as_str().unwrap().to_string()),
        })
        .collect()
}

fn run_engine(e: &Engine, op: &Op) -> Answer {
    let none = serde_json::Map::new;
    let result = match op {
        Op::Put { pk, sk, v, g, cond } => {
            let mut item = key(pk, *sk);
            if let Some(v) = v {
                item["v"] = json!({"N": v.to_string()});
            }
            if let Some(g) = g {
                item["g"] = json!({"S": g});
            }
            call(
                e,
                Operation::PutItem,
                with_cond(json!({"TableName": "model", "Item": item}), cond, "ConditionExpression", none()),
            )
        }
        Op::Update { pk, sk, action, cond } => {
            let mut values = none();
            let update = match action {
                Action::SetV(x) => {
                    values.insert(":x".into(), json!({"N": x.to_string()}));
                    "SET v = :x"
                }
                Action::AddV(d) => {
                    values.insert(":x".into(), json!({"N": d.to_string()}));
                    "ADD v :x"
                }
                Action::SetG(s) => {
                    values.insert(":x".into(), json!({"S": s}));
                    "SET g = :x"
                }
                Action::RemoveG => "REMOVE g",
            };
            let body = json!({"TableName": "model", "Key": key(pk, *sk), "UpdateExpression": update});
            call(e, Operation::UpdateItem, with_cond(body, cond, "ConditionExpression", values))
        }
        Op::Delete { pk, sk, cond } => call(
            e,
            Operation::DeleteItem,
            with_cond(json!({"TableName": "model", "Key": key(pk, *sk)}), cond, "ConditionExpression", none()),
        ),
        Op::Get { pk, sk } => {
            call(e, Operation::GetItem, json!({"TableName": "model", "Key": key(pk, *sk), "ConsistentRead": true}))
        }
        Op::Query { pk, sk, forward } => {
            let mut values = none();
            values.insert(":p".into(), json!({"S": pk}));
            let mut expr = "pk = :p".to_string();
            let num = |x: &i64| json!({"N": x.to_string()});
            match sk {
                Some(SkCond::Eq(x)) => {
                    values.insert(":a".into(), num(x));
                    expr.push_str(" AND sk = :a");
                }
                Some(SkCond::Lt(x)) => {
                    values.insert(":a".into(), num(x));
                    expr.push_str(" AND sk < :a");
                }
                Some(SkCond::Ge(x)) => {
                    values.insert(":a".into(), num(x));
                    expr.push_str(" AND sk >= :a");
                }
                Some(SkCond::Between(a, b)) => {
                    values.insert(":a".into(), num(a));
                    values.insert(":b".into(), num(b));
                    expr.push_str(" AND sk BETWEEN :a AND :b");
                }
                None => {}
            }
            call(
                e,
                Operation::Query,
                json!({"TableName": "model", "KeyConditionExpression": expr, "ExpressionAttributeValues": values,
                    "ScanIndexForward": forward, "ConsistentRead": true}),
            )
        }
        Op::Scan { filter } => {
            call(e, Operation::Scan, with_cond(json!({"TableName": "model"}), filter, "FilterExpression", none()))
        }
        Op::QueryIndex { g } => call(
            e,
            Operation::Query,
            json!({"TableName": "model", "IndexName": "by_g", "KeyConditionExpression": "g = :g",
                "ExpressionAttributeValues": {":g": {"S": g}}}),
        ),
    };
    match result {
        Ok(v) => Answer::Rows(rows_of(&v)),
        Err(DynamoError::ConditionalCheckFailed { .. }) => Answer::Failed,
        Err(e) => panic!("{op:?}: unexpected error {e:?}"),
    }
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 512, ..ProptestConfig::default() })]

    #[test]
    fn the_engine_answers_as_the_model_does(ops in proptest::collection::vec(op(), 1..40)) {
        let e = engine();
        let mut model = Model::default();
        for (i, op) in ops.iter().enumerate() {
            let want = model.apply(op);
            let mut got = run_engine(&e, op);
            let mut want = want;
            // A scan and an index query return items in hash order: compare as sets.
            if matches!(op, Op::Scan { .. } | Op::QueryIndex { .. }) {
                if let (Answer::Rows(a), Answer::Rows(b)) = (&mut got, &mut want) {
                    a.sort();
                    b.sort();
                }
            }
            prop_assert_eq!(got, want, "step {}: {:?}", i, op);
        }
    }
}
