//! PartiQL through the AWS SDK: ExecuteStatement (every statement form, literal type
//! and option), paging, BatchExecuteStatement with mixed outcomes, ExecuteTransaction
//! (cancellation reasons, DuplicateItem, idempotency, reads), error types and messages,
//! and a randomized cross-check of SELECT against Scan with the same condition.

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use std::collections::HashMap;

use aws_sdk_dynamodb::operation::execute_transaction::ExecuteTransactionError;
use aws_sdk_dynamodb::primitives::Blob;
use aws_sdk_dynamodb::types::{
    AttributeDefinition, AttributeValue, BatchStatementErrorCodeEnum, BatchStatementRequest, BillingMode,
    GlobalSecondaryIndex, KeySchemaElement, KeyType, ParameterizedStatement, Projection, ProjectionType,
    ReturnConsumedCapacity, ReturnValuesOnConditionCheckFailure, ScalarAttributeType,
};
use aws_sdk_dynamodb::Client;
use common::{err_of, n, s, Rng, Server};

type Item = HashMap<String, AttributeValue>;

async fn create_music(db: &Client) {
    let def = |a: &str, t: ScalarAttributeType| {
        AttributeDefinition::builder().attribute_name(a).attribute_type(t).build().unwrap()
    };
    let key = |a: &str, k: KeyType| KeySchemaElement::builder().attribute_name(a).key_type(k).build().unwrap();
    db.create_table()
        .table_name("Music")
        .billing_mode(BillingMode::PayPerRequest)
        .attribute_definitions(def("Artist", ScalarAttributeType::S))
        .attribute_definitions(def("Song", ScalarAttributeType::S))
        .attribute_definitions(def("Year", ScalarAttributeType::N))
        .key_schema(key("Artist", KeyType::Hash))
        .key_schema(key("Song", KeyType::Range))
        .global_secondary_indexes(
            GlobalSecondaryIndex::builder()
                .index_name("by_year")
                .key_schema(key("Year", KeyType::Hash))
                .key_schema(key("Song", KeyType::Range))
                .projection(Projection::builder().projection_type(ProjectionType::All).build())
                .build()
                .unwrap(),
        )
        .send()
        .await
        .unwrap();
}

async fn run(db: &Client, statement: &str, params: Vec<AttributeValue>) -> Vec<Item> {
    let params = if params.is_empty() { None } else { Some(params) };
    let out = db.execute_statement().statement(statement).set_parameters(params).send().await;
    out.unwrap_or_else(|e| panic!("{statement}: {e:?}")).items().to_vec()
}

async fn fails(db: &Client, statement: &str, params: Vec<AttributeValue>) -> (String, String) {
    let params = if params.is_empty() { None } else { Some(params) };
    let e = db.execute_statement().statement(statement).set_parameters(params).send().await.unwrap_err();
    err_of(e)
}

fn songs(items: &[Item]) -> Vec<String> {
    items.iter().map(|i| i["Song"].as_s().unwrap().clone()).collect()
}

async fn seed(db: &Client) {
    for (song, year, plays) in [("a1", 1990, 5), ("a2", 1995, 10), ("a3", 2000, 1), ("b1", 2000, 7)] {
        run(
            db,
            r#"INSERT INTO "Music" VALUE {'Artist': 'Acme', 'Song': ?, 'Year': ?, 'Plays': ?, 'Tags': <<'x', 'y'>>}"#,
            vec![s(song), n(&year.to_string()), n(&plays.to_string())],
        )
        .await;
    }
    run(db, r#"INSERT INTO Music VALUE {'Artist': 'Other', 'Song': 'z', 'Year': 1990, 'Plays': 3}"#, vec![]).await;
}

#[tokio::test]
async fn insert_literals_and_parameters_of_every_type() {
    let server = Server::start();
    let db = server.client();
    create_music(&db).await;
    run(
        &db,
        "INSERT INTO Music VALUE {'Artist': 'T', 'Song': 's', 'str': 'it''s', 'num': -12.50, 'exp': 1e3, 'yes': TRUE, 'none': NULL, \
         'ss': <<'a', 'b'>>, 'ns': <<1, 2.5>>, 'list': [1, 'two', [3], {'k': 'v'}], 'map': {'inner': {'deep': 1}}, 'bin': ?, 'bs': ?}",
        vec![AttributeValue::B(Blob::new(vec![1, 2, 3])), AttributeValue::Bs(vec![Blob::new(vec![9])])],
    )
    .await;
    let got = db.get_item().table_name("Music").key("Artist", s("T")).key("Song", s("s")).send().await.unwrap();
    let item = got.item().unwrap();
    assert_eq!(item["str"], s("it's"));
    assert_eq!(item["num"], n("-12.5"));
    assert_eq!(item["exp"], n("1000"));
    assert_eq!(item["yes"], AttributeValue::Bool(true));
    assert_eq!(item["none"], AttributeValue::Null(true));
    assert_eq!(item["ss"].as_ss().unwrap().len(), 2);
    assert_eq!(item["ns"].as_ns().unwrap().len(), 2);
    assert_eq!(item["list"].as_l().unwrap().len(), 4);
    assert_eq!(item["map"].as_m().unwrap()["inner"].as_m().unwrap()["deep"], n("1"));
    assert_eq!(item["bin"], AttributeValue::B(Blob::new(vec![1, 2, 3])));
    assert_eq!(item["bs"], AttributeValue::Bs(vec![Blob::new(vec![9])]));

    // Inserting an item that exists fails and changes nothing.
    let e = fails(&db, "INSERT INTO Music VALUE {'Artist': 'T', 'Song': 's'}", vec![]).await;
    assert_eq!(e.0, "DuplicateItemException");
    let e = fails(&db, "INSERT INTO Music VALUE {'Artist': 'T'}", vec![]).await;
    assert_eq!(e.0, "ValidationException");
    let e = fails(&db, "INSERT INTO Music VALUE {'Artist': 'T', 'Song': 1}", vec![]).await;
    assert_eq!(e.0, "ValidationException");
}

#[tokio::test]
async fn select_forms_and_where_functions() {
    let server = Server::start();
    let db = server.client();
    create_music(&db).await;
    seed(&db).await;
    run(&db, "UPDATE Music SET Info = {'label': 'L', 'charts': [3, 1]} WHERE Artist = 'Acme' AND Song = 'a1'", vec![])
        .await;
    let cases: Vec<(&str, Vec<&str>)> = vec![
        ("SELECT * FROM Music WHERE Artist = 'Acme'", vec!["a1", "a2", "a3", "b1"]),
        ("SELECT * FROM Music WHERE Artist = 'Acme' AND Song = 'a2'", vec!["a2"]),
        ("SELECT * FROM Music WHERE Artist = 'Acme' AND Song > 'a1' AND Song <= 'a3'", vec!["a2", "a3"]),
        ("SELECT * FROM Music WHERE Artist = 'Acme' AND Song BETWEEN 'a2' AND 'b1'", vec!["a2", "a3", "b1"]),
        ("SELECT * FROM Music WHERE Artist = 'Acme' AND begins_with(Song, 'a')", vec!["a1", "a2", "a3"]),
        ("SELECT * FROM Music WHERE Artist = 'Acme' AND Plays >= 5", vec!["a1", "a2", "b1"]),
        ("SELECT * FROM Music WHERE Artist = 'Acme' ORDER BY Song DESC", vec!["b1", "a3", "a2", "a1"]),
        (
            "SELECT * FROM Music WHERE Artist = 'Acme' AND Year IN [1990, 2000] ORDER BY Song ASC",
            vec!["a1", "a3", "b1"],
        ),
        ("SELECT * FROM Music WHERE Artist = 'Acme' AND NOT (Plays < 5 OR Year = 1995)", vec!["a1", "b1"]),
        ("SELECT * FROM Music WHERE Artist = 'Acme' AND Info IS MISSING", vec!["a2", "a3", "b1"]),
        ("SELECT * FROM Music WHERE Artist = 'Acme' AND Info IS NOT MISSING", vec!["a1"]),
        ("SELECT * FROM Music WHERE Artist = 'Acme' AND Info.charts[0] = 3", vec!["a1"]),
        (
            "SELECT * FROM Music WHERE Artist = 'Acme' AND contains(Tags, 'x') AND size(Tags) = 2",
            vec!["a1", "a2", "a3", "b1"],
        ),
        ("SELECT * FROM Music WHERE attribute_type(Tags, 'SS') AND Year = 2000", vec!["a3", "b1"]),
        ("SELECT * FROM Music WHERE Year = 1990", vec!["a1", "z"]),
        (r#"SELECT * FROM "Music"."by_year" WHERE "Year" = 2000"#, vec!["a3", "b1"]),
        (r#"SELECT * FROM "Music"."by_year" WHERE "Year" = 2000 ORDER BY Song DESC"#, vec!["b1", "a3"]),
        ("SELECT * FROM Music WHERE Artist = 'Nobody'", vec![]),
        ("SELECT * FROM Music WHERE Artist = 1", vec![]),
    ];
    for (q, want) in cases {
        let mut got = songs(&run(&db, q, vec![]).await);
        if !q.contains("ORDER BY") {
            got.sort();
        }
        assert_eq!(got, want, "{q}");
    }
    // Projections: attributes, nested paths, list elements.
    let items = run(
        &db,
        "SELECT Song, Info.label, Info.charts[1] FROM Music WHERE Artist = ? AND Song = ?",
        vec![s("Acme"), s("a1")],
    )
    .await;
    assert_eq!(items.len(), 1);
    let info = items[0]["Info"].as_m().unwrap();
    assert_eq!(info["label"], s("L"));
    assert_eq!(info["charts"], AttributeValue::L(vec![n("1")]));
    assert_eq!(items[0].len(), 2);
}

#[tokio::test]
async fn updates_and_deletes() {
    let server = Server::start();
    let db = server.client();
    create_music(&db).await;
    seed(&db).await;
    let key = "WHERE Artist = 'Acme' AND Song = 'a1'";
    let out = run(
        &db,
        &format!("UPDATE Music SET Plays = Plays + 1, Extra = 'e' REMOVE Tags {key} RETURNING MODIFIED NEW *"),
        vec![],
    )
    .await;
    assert_eq!(out, vec![[("Plays".to_string(), n("6")), ("Extra".to_string(), s("e"))].into_iter().collect::<Item>()]);
    let out = run(&db, &format!("UPDATE Music SET Plays = Plays - 2 {key} RETURNING MODIFIED OLD *"), vec![]).await;
    assert_eq!(out[0]["Plays"], n("6"));
    assert_eq!(out[0].len(), 1);
    let out = run(
        &db,
        &format!("UPDATE Music SET L = list_append([0], [1]) SET S = set_add(S, <<'p'>>) {key} RETURNING ALL NEW *"),
        vec![],
    )
    .await;
    assert_eq!(out[0]["L"], AttributeValue::L(vec![n("0"), n("1")]));
    assert_eq!(out[0]["S"], AttributeValue::Ss(vec!["p".into()]));
    assert_eq!(out[0]["Plays"], n("4"));
    let out = run(
        &db,
        &format!("UPDATE Music SET L = list_append(L, [2]) SET S = set_delete(S, <<'p'>>) {key} RETURNING ALL OLD *"),
        vec![],
    )
    .await;
    assert_eq!(out[0]["L"].as_l().unwrap().len(), 2);
    let got = db.get_item().table_name("Music").key("Artist", s("Acme")).key("Song", s("a1")).send().await.unwrap();
    let item = got.item().unwrap();
    assert_eq!(item["L"].as_l().unwrap().len(), 3);
    assert!(!item.contains_key("S"), "deleting the last element removes the set");
    assert!(run(&db, &format!("UPDATE Music SET x = 1 {key}"), vec![]).await.is_empty());

    // The rest of the WHERE clause is a condition; the item must exist.
    let e = db
        .execute_statement()
        .statement(format!("UPDATE Music SET x = 2 {key} AND Plays > 100"))
        .return_values_on_condition_check_failure(ReturnValuesOnConditionCheckFailure::AllOld)
        .send()
        .await
        .unwrap_err();
    let se = e.into_service_error();
    assert!(se.is_conditional_check_failed_exception());
    let aws_sdk_dynamodb::operation::execute_statement::ExecuteStatementError::ConditionalCheckFailedException(ccf) =
        se
    else {
        panic!()
    };
    assert_eq!(ccf.message(), Some("The conditional request failed"));
    assert_eq!(ccf.item().unwrap()["x"], n("1"));
    let e = fails(&db, "UPDATE Music SET x = 1 WHERE Artist = 'Acme' AND Song = 'nope'", vec![]).await;
    assert_eq!(e, ("ConditionalCheckFailedException".into(), "The conditional request failed".into()));
    assert!(db
        .get_item()
        .table_name("Music")
        .key("Artist", s("Acme"))
        .key("Song", s("nope"))
        .send()
        .await
        .unwrap()
        .item()
        .is_none());
    let e = fails(&db, "UPDATE Music SET x = 1 WHERE Artist = 'Acme'", vec![]).await;
    assert_eq!(
        e,
        (
            "ValidationException".into(),
            "Where clause does not contain a mandatory equality on all key attributes".into()
        )
    );
    let e = fails(&db, &format!("UPDATE Music SET Song = 'b' {key}"), vec![]).await;
    assert_eq!(e.0, "ValidationException");
    assert!(e.1.contains("Cannot update attribute Song. This attribute is part of the key"), "{}", e.1);

    // DELETE: a false condition fails; a missing item succeeds; RETURNING ALL OLD *.
    let e = fails(&db, "DELETE FROM Music WHERE Artist = 'Acme' AND Song = 'a2' AND Plays = 0", vec![]).await;
    assert_eq!(e.0, "ConditionalCheckFailedException");
    assert!(run(&db, "DELETE FROM Music WHERE Artist = 'Acme' AND Song = 'nope' AND Plays = 0", vec![])
        .await
        .is_empty());
    let out = run(&db, "DELETE FROM Music WHERE Artist = 'Acme' AND Song = 'a2' RETURNING ALL OLD *", vec![]).await;
    assert_eq!(out[0]["Plays"], n("10"));
    assert!(run(&db, "SELECT * FROM Music WHERE Artist = 'Acme' AND Song = 'a2'", vec![]).await.is_empty());
    // The index follows.
    assert_eq!(
        songs(&run(&db, r#"SELECT * FROM "Music"."by_year" WHERE "Year" = 1995"#, vec![]).await),
        Vec::<String>::new()
    );
}

#[tokio::test]
async fn errors_carry_dynamodbs_types_and_messages() {
    let server = Server::start();
    let db = server.client();
    create_music(&db).await;
    let syntax = "Statement wasn't well formed, can't be processed: ";
    let cases: Vec<(&str, Vec<AttributeValue>, &str, String)> = vec![
        ("SELEC * FROM Music", vec![], "ValidationException", format!("{syntax}Expected data manipulation")),
        ("SELECT * FROM Music WHERE", vec![], "ValidationException", format!("{syntax}Unexpected end of statement")),
        (
            "INSERT INTO Music VALUES {'Artist': 'a'}",
            vec![],
            "ValidationException",
            format!("{syntax}Unexpected keyword"),
        ),
        (
            "SELECT * FROM Music WHERE Artist = ?",
            vec![],
            "ValidationException",
            "Number of parameters in request and statement don't match.".into(),
        ),
        (
            "SELECT * FROM Music",
            vec![s("x")],
            "ValidationException",
            "Number of parameters in request and statement don't match.".into(),
        ),
        ("SELECT * FROM Nope", vec![], "ResourceNotFoundException", "Requested resource not found".into()),
        (
            "SELECT * FROM Music ORDER BY Song",
            vec![],
            "ValidationException",
            "Must have WHERE clause in the statement when using ORDER BY clause.".into(),
        ),
        (
            "SELECT * FROM Music.nope WHERE Artist = 'a'",
            vec![],
            "ValidationException",
            "The table does not have the specified index: nope".into(),
        ),
        (
            "EXISTS(SELECT * FROM Music WHERE Artist = 'a' AND Song = 'b')",
            vec![],
            "ValidationException",
            "Unsupported operation: EXISTS is only supported in ExecuteTransaction".into(),
        ),
    ];
    for (q, params, ty, msg) in cases {
        assert_eq!(fails(&db, q, params).await, (ty.to_string(), msg), "{q}");
    }
    let (status, body) = server.call("ExecuteStatement", r#"{"Statement": ""}"#);
    assert_eq!(status, 400);
    assert_eq!(
        body["message"],
        "1 validation error detected: Value '' at 'statement' failed to satisfy constraint: Member must have length greater than or equal to 1"
    );
    let (_, body) = server.call("ExecuteStatement", r#"{"Statement": "SELECT * FROM Music", "Parameters": []}"#);
    assert!(body["message"].as_str().unwrap().contains("'parameters'"), "{body}");
    let (_, body) = server.call("ExecuteStatement", r#"{"Statement": "SELECT * FROM Music", "NextToken": "zz"}"#);
    assert_eq!(body["message"], "Invalid NextToken");
}

#[tokio::test]
async fn a_select_scan_pages_with_next_token() {
    let server = Server::start();
    let db = server.client();
    create_music(&db).await;
    for i in 0..57 {
        run(
            &db,
            "INSERT INTO Music VALUE {'Artist': ?, 'Song': 's', 'Year': 1, 'odd': ?}",
            vec![s(&format!("a{i:02}")), AttributeValue::Bool(i % 2 == 1)],
        )
        .await;
    }
    let mut token: Option<String> = None;
    let mut seen = Vec::new();
    let mut pages = 0;
    loop {
        let out = db
            .execute_statement()
            .statement("SELECT Artist FROM Music WHERE odd = true")
            .limit(10)
            .set_next_token(token.take())
            .return_consumed_capacity(ReturnConsumedCapacity::Total)
            .send()
            .await
            .unwrap();
        pages += 1;
        assert!(out.items().len() <= 10);
        assert!(out.consumed_capacity().unwrap().capacity_units().unwrap() > 0.0);
        seen.extend(out.items().iter().map(|i| i["Artist"].as_s().unwrap().clone()));
        match out.next_token() {
            Some(t) => {
                assert!(out.last_evaluated_key().is_some());
                if pages == 1 {
                    let e = db
                        .execute_statement()
                        .statement("SELECT Artist FROM Music WHERE odd = false")
                        .next_token(t)
                        .send()
                        .await
                        .unwrap_err();
                    assert_eq!(err_of(e), ("ValidationException".into(), "NextToken does not match request".into()));
                }
                token = Some(t.to_string());
            }
            None => break,
        }
        assert!(pages < 20);
    }
    assert!(pages >= 6, "{pages} pages");
    seen.sort();
    let want: Vec<String> = (0..57).filter(|i| i % 2 == 1).map(|i| format!("a{i:02}")).collect();
    assert_eq!(seen, want);
}

#[tokio::test]
async fn a_batch_reports_each_statement() {
    let server = Server::start();
    let db = server.client();
    create_music(&db).await;
    seed(&db).await;
    let st = |q: &str, p: Vec<AttributeValue>| {
        BatchStatementRequest::builder()
            .statement(q)
            .set_parameters(if p.is_empty() { None } else { Some(p) })
            .return_values_on_condition_check_failure(ReturnValuesOnConditionCheckFailure::AllOld)
            .build()
            .unwrap()
    };
    let out = db
        .batch_execute_statement()
        .statements(st("INSERT INTO Music VALUE {'Artist': 'New', 'Song': 'n'}", vec![]))
        .statements(st("INSERT INTO Music VALUE {'Artist': 'Acme', 'Song': 'a1'}", vec![]))
        .statements(st(
            "UPDATE Music SET Plays = 0 WHERE Artist = ? AND Song = ? AND Plays = 99",
            vec![s("Acme"), s("a2")],
        ))
        .statements(st("DELETE FROM Music WHERE Artist = 'Acme' AND Song = 'a3'", vec![]))
        .statements(st("SELEC nonsense", vec![]))
        .return_consumed_capacity(ReturnConsumedCapacity::Total)
        .send()
        .await
        .unwrap();
    let r = out.responses();
    assert_eq!(r.len(), 5);
    assert!(r[0].error().is_none());
    assert_eq!(r[0].table_name(), Some("Music"));
    assert_eq!(r[1].error().unwrap().code(), Some(&BatchStatementErrorCodeEnum::DuplicateItem));
    let ccf = r[2].error().unwrap();
    assert_eq!(ccf.code(), Some(&BatchStatementErrorCodeEnum::ConditionalCheckFailed));
    assert_eq!(ccf.message(), Some("The conditional request failed"));
    assert_eq!(ccf.item().unwrap()["Plays"], n("10"));
    assert!(r[3].error().is_none());
    assert_eq!(r[4].error().unwrap().code(), Some(&BatchStatementErrorCodeEnum::ValidationError));
    assert!(out.consumed_capacity()[0].capacity_units().unwrap() >= 2.0);

    let out = db
        .batch_execute_statement()
        .statements(st("SELECT Song, Plays FROM Music WHERE Artist = 'Acme' AND Song = 'a1'", vec![]))
        .statements(st("SELECT * FROM Music WHERE Artist = 'Acme' AND Song = 'a3'", vec![]))
        .statements(st("SELECT * FROM Music WHERE Artist = 'Acme'", vec![]))
        .send()
        .await
        .unwrap();
    let r = out.responses();
    assert_eq!(r[0].item().unwrap().len(), 2);
    assert!(r[1].item().is_none() && r[1].error().is_none(), "deleted above");
    assert_eq!(r[2].error().unwrap().code(), Some(&BatchStatementErrorCodeEnum::ValidationError));

    let e = db
        .batch_execute_statement()
        .statements(st("SELECT * FROM Music WHERE Artist = 'Acme' AND Song = 'a1'", vec![]))
        .statements(st("DELETE FROM Music WHERE Artist = 'Acme' AND Song = 'a1'", vec![]))
        .send()
        .await
        .unwrap_err();
    assert_eq!(err_of(e).0, "ValidationException");
}

#[tokio::test]
async fn transactions_are_all_or_nothing() {
    let server = Server::start();
    let db = server.client();
    create_music(&db).await;
    seed(&db).await;
    let st = |q: &str| ParameterizedStatement::builder().statement(q).build().unwrap();
    // One failing condition cancels everything.
    let e = db
        .execute_transaction()
        .transact_statements(st("UPDATE Music SET Plays = 100 WHERE Artist = 'Acme' AND Song = 'a1'"))
        .transact_statements(st("EXISTS(SELECT * FROM Music WHERE Artist = 'Acme' AND Song = 'a2' AND Plays = 0)"))
        .transact_statements(st("INSERT INTO Music VALUE {'Artist': 'Acme', 'Song': 'a3'}"))
        .send()
        .await
        .unwrap_err();
    let ExecuteTransactionError::TransactionCanceledException(tc) = e.into_service_error() else { panic!() };
    let codes: Vec<&str> = tc.cancellation_reasons().iter().map(|r| r.code().unwrap()).collect();
    assert_eq!(codes, ["None", "ConditionalCheckFailed", "DuplicateItem"]);
    assert_eq!(
        tc.message(),
        Some("Transaction cancelled, please refer cancellation reasons for specific reasons [None, ConditionalCheckFailed, DuplicateItem]")
    );
    let a1 = run(&db, "SELECT Plays FROM Music WHERE Artist = 'Acme' AND Song = 'a1'", vec![]).await;
    assert_eq!(a1[0]["Plays"], n("5"), "nothing was written");

    // All succeed together, once per token.
    for _ in 0..2 {
        db.execute_transaction()
            .client_request_token("tok-1")
            .transact_statements(st("UPDATE Music SET Plays = Plays + 1 WHERE Artist = 'Acme' AND Song = 'a1'"))
            .transact_statements(st("EXISTS(SELECT * FROM Music WHERE Artist = 'Acme' AND Song = 'a2' AND Plays = 10)"))
            .transact_statements(st("INSERT INTO Music VALUE {'Artist': 'Acme', 'Song': 'c1'}"))
            .transact_statements(st("DELETE FROM Music WHERE Artist = 'Acme' AND Song = 'b1'"))
            .send()
            .await
            .unwrap();
    }
    let a1 = run(&db, "SELECT Plays FROM Music WHERE Artist = 'Acme' AND Song = 'a1'", vec![]).await;
    assert_eq!(a1[0]["Plays"], n("6"), "the retried token did not apply twice");
    assert_eq!(
        songs(&run(&db, "SELECT Song FROM Music WHERE Artist = 'Acme'", vec![]).await),
        ["a1", "a2", "a3", "c1"]
    );

    // Reads.
    let out = db
        .execute_transaction()
        .transact_statements(st("SELECT Song FROM Music WHERE Artist = 'Acme' AND Song = 'a2'"))
        .transact_statements(st("SELECT * FROM Music WHERE Artist = 'Acme' AND Song = 'gone'"))
        .send()
        .await
        .unwrap();
    let r = out.responses();
    assert_eq!(r[0].item().unwrap()["Song"], s("a2"));
    assert!(r[1].item().is_none());
    // Reads and writes do not mix.
    let e = db
        .execute_transaction()
        .transact_statements(st("SELECT * FROM Music WHERE Artist = 'Acme' AND Song = 'a2'"))
        .transact_statements(st("DELETE FROM Music WHERE Artist = 'Acme' AND Song = 'a1'"))
        .send()
        .await
        .unwrap_err();
    assert_eq!(err_of(e).0, "ValidationException");
}

/// A random condition as (PartiQL text, expression text, expression values).
fn random_condition(rng: &mut Rng, depth: u32, values: &mut HashMap<String, AttributeValue>) -> (String, String) {
    let val = |v: AttributeValue, values: &mut HashMap<String, AttributeValue>| -> String {
        let name = format!(":v{}", values.len());
        values.insert(name.clone(), v);
        name
    };
    if depth > 0 && rng.below(3) == 0 {
        let op = rng.below(3);
        let (a, ea) = random_condition(rng, depth - 1, values);
        if op == 2 {
            // Binary parts come parenthesized; DynamoDB refuses redundant parentheses.
            return (format!("NOT {a}"), format!("NOT {ea}"));
        }
        let (b, eb) = random_condition(rng, depth - 1, values);
        let word = if op == 0 { "AND" } else { "OR" };
        return (format!("({a} {word} {b})"), format!("({ea} {word} {eb})"));
    }
    let num = rng.below(10) as i64;
    let letter = ["a", "b", "c", "ab"][rng.below(4) as usize];
    match rng.below(8) {
        0 => {
            let op = ["=", "<>", "<", "<=", ">", ">="][rng.below(6) as usize];
            let v = val(n(&num.to_string()), values);
            (format!("num {op} {num}"), format!("num {op} {v}"))
        }
        1 => {
            let v = val(s(letter), values);
            (format!("txt = '{letter}'"), format!("txt = {v}"))
        }
        2 => {
            let (lo, hi) = (num.min(5), num.max(5));
            let (vl, vh) = (val(n(&lo.to_string()), values), val(n(&hi.to_string()), values));
            (format!("num BETWEEN {lo} AND {hi}"), format!("num BETWEEN {vl} AND {vh}"))
        }
        3 => {
            let v = val(s(letter), values);
            (format!("begins_with(txt, '{letter}')"), format!("begins_with(txt, {v})"))
        }
        4 => ("opt IS MISSING".into(), "attribute_not_exists(opt)".into()),
        5 => {
            let (a, b) = (num, (num + 3) % 10);
            let (va, vb) = (val(n(&a.to_string()), values), val(n(&b.to_string()), values));
            (format!("num IN [{a}, {b}]"), format!("num IN ({va}, {vb})"))
        }
        6 => {
            let v = val(s(letter), values);
            (format!("contains(tags, '{letter}')"), format!("contains(tags, {v})"))
        }
        _ => {
            let v = val(n(&(num % 4).to_string()), values);
            (format!("size(txt) > {}", num % 4), format!("size(txt) > {v}"))
        }
    }
}

#[tokio::test]
async fn select_agrees_with_scan_on_random_conditions() {
    let server = Server::start();
    let db = server.client();
    common::create_table(&db, "cross", false).await;
    let mut rng = Rng(0x9e37_79b9_7f4a_7c15);
    for i in 0..120 {
        let mut b = db
            .put_item()
            .table_name("cross")
            .item("pk", s(&format!("k{i}")))
            .item("num", n(&rng.below(10).to_string()))
            .item("txt", s(["a", "ab", "b", "abc", "c"][rng.below(5) as usize]));
        if rng.below(2) == 0 {
            b = b.item("opt", n("1"));
        }
        if rng.below(3) > 0 {
            b = b.item("tags", AttributeValue::Ss(vec!["a".into(), ["b", "c"][rng.below(2) as usize].into()]));
        }
        b.send().await.unwrap();
    }
    for round in 0..200 {
        let mut values = HashMap::new();
        let (partiql, expression) = random_condition(&mut rng, 2, &mut values);
        let mut via_select: Vec<String> = run(&db, &format!("SELECT pk FROM \"cross\" WHERE {partiql}"), vec![])
            .await
            .iter()
            .map(|i| i["pk"].as_s().unwrap().clone())
            .collect();
        let scan = db
            .scan()
            .table_name("cross")
            .filter_expression(&expression)
            .set_expression_attribute_values(if values.is_empty() { None } else { Some(values) })
            .send()
            .await
            .unwrap_or_else(|e| panic!("{expression}: {e:?}"));
        let mut via_scan: Vec<String> = scan.items().iter().map(|i| i["pk"].as_s().unwrap().clone()).collect();
        via_select.sort();
        via_scan.sort();
        assert_eq!(via_select, via_scan, "round {round}: {partiql}  vs  {expression}");
    }
}
