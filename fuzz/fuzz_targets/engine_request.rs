//! Any request body to any operation gets an answer or a DynamoDB error from the
//! engine, never a panic or an internal error, over an in-memory store holding one table.
#![no_main]
use std::sync::{Arc, OnceLock};

use libfuzzer_sys::fuzz_target;
use stator_engine::{Engine, EngineConfig, RequestContext};
use stator_protocol::{DynamoError, Obj, Operation};
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
    if let Ok(map) = Obj::parse_body(body) {
        if let Err(DynamoError::Internal(detail)) = engine.execute(ctx, op, &map) {
            panic!("internal error for {op:?}: {detail}");
        }
    }
});
