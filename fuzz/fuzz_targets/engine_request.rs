//! Any request body to any operation gets an answer or a DynamoDB error from the
//! engine, never a panic or an internal error, over an in-memory store holding one table
//! (through the server's path: `Engine::parse_member`, else `Body::parse`); and the
//! body parse agrees with the plain map parse.
#![no_main]
use std::sync::{Arc, OnceLock};

use libfuzzer_sys::fuzz_target;
use stator_engine::{Engine, EngineConfig, RequestContext};
use stator_protocol::{Body, DynamoError, Obj, Operation};
use stator_storage::local::{LocalStore, SyncPolicy};
use stator_storage::mem::MemEngine;

fn engine() -> &'static (Engine, RequestContext) {
    static E: OnceLock<(Engine, RequestContext)> = OnceLock::new();
    E.get_or_init(|| {
        let store = Arc::new(LocalStore::new(MemEngine::new(), SyncPolicy::Never));
        let e = Engine::open(store, EngineConfig::default()).expect("open");
        let ctx = RequestContext { account: "000000000000".into(), region: "us-east-1".into(), endpoint: "localhost".into() };
        let body = serde_json::json!({
            "TableName": "fuzz", "BillingMode": "PAY_PER_REQUEST",
            "AttributeDefinitions": [{"AttributeName": "pk", "AttributeType": "S"}, {"AttributeName": "sk", "AttributeType": "N"}],
            "KeySchema": [{"AttributeName": "pk", "KeyType": "HASH"}, {"AttributeName": "sk", "KeyType": "RANGE"}]
        });
        e.execute(&ctx, Operation::CreateTable, body.as_object().expect("object")).expect("create table");
        (e, ctx)
    })
}

fuzz_target!(|data: &[u8]| {
    let Some((&selector, body)) = data.split_first() else { return };
    let ops = Operation::ALL;
    let op = ops[selector as usize % ops.len()];
    if op == Operation::DeleteTable {
        return;
    }
    let (engine, ctx) = engine();
    // The body parse the server uses agrees with the plain map parse.
    match (Body::parse(body), Obj::parse_body(body)) {
        (Ok(b), Ok(m)) => assert_eq!(b.obj().to_map(), m),
        (Err(a), Err(b)) => assert_eq!(a, b),
        (a, b) => panic!("body parse {:?} against map parse {:?}", a.err(), b.err()),
    }
    // The server's path: an item member read straight from the text where regular.
    let answer = match Engine::parse_member(op, body) {
        Some((rest, member)) => engine.answer_parsed(ctx, op, &rest, member),
        None => match Body::parse(body) {
            Ok(b) => engine.answer_body(ctx, op, &b),
            Err(_) => return,
        },
    };
    if let Err(DynamoError::Internal(detail)) = answer.and_then(|a| a.wait()) {
        panic!("internal error for {op:?}: {detail}");
    }
});
