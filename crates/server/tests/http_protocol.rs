//! The wire protocol as raw HTTP, for what SDKs never send: unknown operations,
//! malformed JSON, wrong JSON types, missing credentials, the health answer and the
//! response headers.

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use common::{crc32, Server, AUTH};
use serde_json::json;

#[test]
fn health_answer() {
    let srv = Server::start();
    let (status, _, body) = srv.raw("GET", &[], b"");
    assert_eq!(status, 200);
    assert!(String::from_utf8_lossy(&body).starts_with("healthy"));
}

#[test]
fn unknown_operation() {
    let srv = Server::start();
    let (status, body) = srv.call("DoSomething", "{}");
    assert_eq!(status, 400);
    assert_eq!(body, json!({"__type": "com.amazon.coral.service#UnknownOperationException"}));
    let (status, _, body) =
        srv.raw("POST", &[("Authorization", AUTH), ("Content-Type", "application/x-amz-json-1.0")], b"{}");
    assert_eq!(status, 400);
    assert_eq!(
        serde_json::from_slice::<serde_json::Value>(&body).unwrap()["__type"],
        "com.amazon.coral.service#UnknownOperationException"
    );
}

#[test]
fn malformed_and_mistyped_json() {
    let srv = Server::start();
    let (status, body) = srv.call("ListTables", "{not json");
    assert_eq!(status, 400);
    assert_eq!(body["__type"], "com.amazon.coral.service#SerializationException");
    let (status, body) = srv.call("DescribeTable", r#"{"TableName": 5}"#);
    assert_eq!(status, 400);
    assert_eq!(body["__type"], "com.amazon.coral.service#SerializationException");
    let (status, body) = srv.call("PutItem", r#"{"TableName": "abc", "Item": {"pk": {"S": 5}}}"#);
    assert_eq!(status, 400);
    assert_eq!(body["__type"], "com.amazon.coral.service#SerializationException");
    let (status, body) = srv.call("DescribeTable", "{}");
    assert_eq!(status, 400);
    assert_eq!(
        body,
        json!({
            "__type": "com.amazon.coral.validate#ValidationException",
            "message": "1 validation error detected: Value null at 'tableName' failed to satisfy constraint: Member must not be null"
        })
    );
    // A deep nesting bomb is refused, not a crash.
    let deep = format!("{}{}", "[".repeat(100_000), "]".repeat(100_000));
    let (status, body) = srv.call("PutItem", &deep);
    assert_eq!(status, 400);
    assert_eq!(body["__type"], "com.amazon.coral.service#SerializationException");
    // The server still answers.
    let (status, _) = srv.call("ListTables", "{}");
    assert_eq!(status, 200);
}

#[test]
fn missing_credentials() {
    let srv = Server::start();
    let (status, _, body) = srv.raw(
        "POST",
        &[("X-Amz-Target", "DynamoDB_20120810.ListTables"), ("Content-Type", "application/x-amz-json-1.0")],
        b"{}",
    );
    assert_eq!(status, 400);
    let v: serde_json::Value = serde_json::from_slice(&body).unwrap();
    assert_eq!(v["__type"], "com.amazon.coral.service#MissingAuthenticationTokenException");
    assert_eq!(v["Message"], "Request is missing Authentication Token");
}

#[test]
fn response_headers() {
    let srv = Server::start();
    let (status, headers, body) = srv.raw(
        "POST",
        &[
            ("X-Amz-Target", "DynamoDB_20120810.ListTables"),
            ("Content-Type", "application/x-amz-json-1.1"),
            ("Authorization", AUTH),
        ],
        b"{}",
    );
    assert_eq!(status, 200);
    let get = |k: &str| headers.iter().find(|(h, _)| h == k).map(|(_, v)| v.clone());
    assert_eq!(get("content-type").as_deref(), Some("application/x-amz-json-1.1"));
    assert_eq!(get("x-amzn-requestid").map(|v| v.len()), Some(52));
    assert_eq!(get("x-amz-crc32"), Some(crc32(&body).to_string()));
    assert_eq!(serde_json::from_slice::<serde_json::Value>(&body).unwrap(), json!({"TableNames": []}));
}

/// A declared body over 16 MB is refused from its Content-Length, before it is read.
#[test]
fn oversized_body_is_refused() {
    use std::io::{Read, Write};
    let srv = Server::start();
    let mut sock = std::net::TcpStream::connect(("127.0.0.1", srv.port)).unwrap();
    sock.set_read_timeout(Some(std::time::Duration::from_secs(20))).unwrap();
    let head = format!(
        "POST / HTTP/1.1\r\nHost: x\r\nX-Amz-Target: DynamoDB_20120810.ListTables\r\nAuthorization: {AUTH}\r\nContent-Length: {}\r\n\r\n",
        16 * 1024 * 1024 + 1
    );
    sock.write_all(head.as_bytes()).unwrap();
    let mut buf = [0u8; 512];
    let n = sock.read(&mut buf).unwrap();
    let text = String::from_utf8_lossy(&buf[..n]);
    assert!(text.starts_with("HTTP/1.1 413"), "{text}");
    // The server still answers.
    assert_eq!(srv.call("ListTables", "{}").0, 200);
}
