//! What SDKs never send: wrong content types, missing and duplicate headers, chunked
//! and gzip bodies, deeply nested and invalid JSON, invalid UTF-8, out-of-range
//! numbers, 10,000 expression attribute names. Each gets a DynamoDB error (never a
//! 500, a panic or a hang), and the server keeps serving.

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use common::{Server, AUTH};

fn request(target: Option<&str>, content_type: Option<&str>, extra: &[&str], body: &[u8]) -> Vec<u8> {
    let mut r = String::from("POST / HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n");
    r.push_str(&format!("Authorization: {AUTH}\r\n"));
    if let Some(t) = target {
        r.push_str(&format!("X-Amz-Target: DynamoDB_20120810.{t}\r\n"));
    }
    if let Some(ct) = content_type {
        r.push_str(&format!("Content-Type: {ct}\r\n"));
    }
    for h in extra {
        r.push_str(h);
        r.push_str("\r\n");
    }
    if !extra.iter().any(|h| h.to_lowercase().starts_with("transfer-encoding")) {
        r.push_str(&format!("Content-Length: {}\r\n", body.len()));
    }
    r.push_str("\r\n");
    let mut bytes = r.into_bytes();
    bytes.extend_from_slice(body);
    bytes
}

fn json_of(body: &[u8]) -> serde_json::Value {
    serde_json::from_slice(body).unwrap_or(serde_json::Value::Null)
}

/// The error's short type name.
fn error_type(body: &[u8]) -> String {
    let v = json_of(body);
    v["__type"].as_str().and_then(|t| t.rsplit('#').next()).unwrap_or("").to_string()
}

fn still_serving(server: &Server) {
    let (status, body) = server.call("ListTables", "{}");
    assert_eq!(status, 200, "{body}");
}

#[test]
fn hostile_requests_get_dynamodb_errors_and_the_server_keeps_serving() {
    let server = Server::start();
    let ct = Some("application/x-amz-json-1.0");
    let nested_json = format!("{}{}", "[".repeat(100_000), "]".repeat(100_000));
    let nested_item = {
        let mut v = String::from(r#"{"S":"x"}"#);
        for _ in 0..40 {
            v = format!(r#"{{"M":{{"a":{v}}}}}"#);
        }
        format!(r#"{{"TableName":"t1x","Item":{{"pk":{{"S":"a"}},"deep":{v}}}}}"#)
    };
    let many_names = {
        let names: Vec<String> = (0..10_000).map(|i| format!(r##""#n{i}":"a{i}""##)).collect();
        format!(
            r##"{{"TableName":"t1x","Key":{{"pk":{{"S":"a"}}}},"ProjectionExpression":"#n0","ExpressionAttributeNames":{{{}}}}}"##,
            names.join(",")
        )
    };
    let cases: Vec<(&str, Vec<u8>, &[u16], &str)> = vec![
        ("no target", request(None, ct, &[], b"{}"), &[400], "UnknownOperationException"),
        ("unknown target", request(Some("Nope"), ct, &[], b"{}"), &[400], "UnknownOperationException"),
        (
            "duplicate target headers",
            request(Some("ListTables"), ct, &["X-Amz-Target: DynamoDB_20120810.Nope"], b"{}"),
            &[200, 400],
            "",
        ),
        ("text/plain", request(Some("ListTables"), Some("text/plain"), &[], b"{}"), &[200, 400], ""),
        ("no content type", request(Some("ListTables"), None, &[], b"{}"), &[200, 400], ""),
        ("invalid JSON", request(Some("ListTables"), ct, &[], b"{not json"), &[400], "SerializationException"),
        (
            "invalid UTF-8",
            request(Some("ListTables"), ct, &[], b"{\"a\":\"\xff\xfe\"}"),
            &[400],
            "SerializationException",
        ),
        (
            "deeply nested JSON",
            request(Some("ListTables"), ct, &[], nested_json.as_bytes()),
            &[400],
            "SerializationException",
        ),
        ("JSON array body", request(Some("ListTables"), ct, &[], b"[]"), &[400], "SerializationException"),
        (
            "gzip body",
            request(
                Some("ListTables"),
                ct,
                &["Content-Encoding: gzip"],
                &[0x1f, 0x8b, 8, 0, 0, 0, 0, 0, 0, 3, 0xab, 0xae, 5, 0],
            ),
            &[400],
            "SerializationException",
        ),
        (
            "item nested 200 deep",
            request(Some("PutItem"), ct, &[], nested_item.as_bytes()),
            &[400],
            "ValidationException",
        ),
        (
            "number out of range",
            request(Some("PutItem"), ct, &[], br#"{"TableName":"t1x","Item":{"pk":{"S":"a"},"n":{"N":"1e200"}}}"#),
            &[400],
            "ValidationException",
        ),
        (
            "number not a number",
            request(Some("PutItem"), ct, &[], br#"{"TableName":"t1x","Item":{"pk":{"S":"a"},"n":{"N":"12abc"}}}"#),
            &[400],
            "ValidationException",
        ),
        (
            "10,000 attribute names",
            request(Some("GetItem"), ct, &[], many_names.as_bytes()),
            &[400],
            "ValidationException",
        ),
        (
            "chunked body",
            request(Some("ListTables"), ct, &["Transfer-Encoding: chunked"], b"2\r\n{}\r\n0\r\n\r\n"),
            &[200],
            "",
        ),
        (
            "truncated chunked body",
            request(Some("ListTables"), ct, &["Transfer-Encoding: chunked"], b"10\r\n{}"),
            &[0, 400],
            "",
        ),
    ];
    let (status, body) = server.call(
        "CreateTable",
        r#"{"TableName":"t1x","AttributeDefinitions":[{"AttributeName":"pk","AttributeType":"S"}],"KeySchema":[{"AttributeName":"pk","KeyType":"HASH"}],"BillingMode":"PAY_PER_REQUEST"}"#,
    );
    assert_eq!(status, 200, "{body}");
    for (name, bytes, statuses, want) in cases {
        let started = std::time::Instant::now();
        let (status, _, body) = server.raw_bytes(&bytes);
        assert!(statuses.contains(&status), "{name}: status {status}: {}", String::from_utf8_lossy(&body));
        if !want.is_empty() {
            assert_eq!(error_type(&body), want, "{name}: {}", String::from_utf8_lossy(&body));
        }
        if status == 400 {
            assert!(json_of(&body)["__type"].is_string(), "{name}: a 400 without a DynamoDB error body");
        }
        assert!(started.elapsed() < std::time::Duration::from_secs(5), "{name}: took {:?}", started.elapsed());
        still_serving(&server);
    }
}

#[test]
fn a_slow_client_does_not_block_others() {
    let server = Server::start();
    // A client that sends half a request and stops.
    let mut slow = std::net::TcpStream::connect(("127.0.0.1", server.port)).unwrap();
    std::io::Write::write_all(&mut slow, b"POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 100\r\n\r\n{").unwrap();
    for _ in 0..20 {
        still_serving(&server);
    }
    drop(slow);
    still_serving(&server);
}

#[test]
fn requests_beyond_the_in_flight_bound_are_throttled() {
    let server = Server::start_with(&["--max-in-flight", "1"]);
    // A request whose body never finishes holds the only slot.
    let mut slow = std::net::TcpStream::connect(("127.0.0.1", server.port)).unwrap();
    let head = format!(
        "POST / HTTP/1.1\r\nHost: x\r\nAuthorization: {AUTH}\r\nX-Amz-Target: DynamoDB_20120810.ListTables\r\nContent-Length: 2\r\n\r\n{{"
    );
    std::io::Write::write_all(&mut slow, head.as_bytes()).unwrap();
    std::thread::sleep(std::time::Duration::from_millis(200));
    let (status, body) = server.call("ListTables", "{}");
    assert_eq!(status, 400);
    assert_eq!(body["__type"], "com.amazonaws.dynamodb.v20120810#ThrottlingException");
    assert_eq!(body["message"], "Rate of requests exceeds the allowed throughput.");
    // Once it completes, the slot is free again.
    std::io::Write::write_all(&mut slow, b"}").unwrap();
    let mut answer = [0u8; 12];
    std::io::Read::read_exact(&mut slow, &mut answer).unwrap();
    assert_eq!(&answer, b"HTTP/1.1 200");
    drop(slow);
    std::thread::sleep(std::time::Duration::from_millis(100));
    still_serving(&server);
}

#[test]
fn connections_beyond_the_bound_are_refused_with_throttling() {
    let server = Server::start_with(&["--max-connections", "2"]);
    let idle: Vec<std::net::TcpStream> =
        (0..2).map(|_| std::net::TcpStream::connect(("127.0.0.1", server.port)).unwrap()).collect();
    std::thread::sleep(std::time::Duration::from_millis(200));
    let (status, body) = server.call("ListTables", "{}");
    assert_eq!(status, 400);
    assert_eq!(body["__type"], "com.amazonaws.dynamodb.v20120810#ThrottlingException");
    drop(idle);
    std::thread::sleep(std::time::Duration::from_millis(200));
    still_serving(&server);
}

/// Whether the server closed `stream` within `within` (reads until end of file).
fn closed_within(stream: &mut std::net::TcpStream, within: std::time::Duration) -> bool {
    stream.set_read_timeout(Some(within)).unwrap();
    let mut sink = Vec::new();
    std::io::Read::read_to_end(stream, &mut sink).is_ok()
}

#[test]
fn idle_and_stalled_connections_are_closed_and_busy_ones_are_not() {
    let server = Server::start_with(&["--idle-timeout-secs", "1"]);
    let started = std::time::Instant::now();
    // Stuck in its headers; idle after a request; never sent anything.
    let mut stalled = std::net::TcpStream::connect(("127.0.0.1", server.port)).unwrap();
    std::io::Write::write_all(&mut stalled, b"POST / HTTP/1.1\r\nHost: x\r\nContent-Le").unwrap();
    let mut idle = std::net::TcpStream::connect(("127.0.0.1", server.port)).unwrap();
    let head = format!(
        "POST / HTTP/1.1\r\nHost: x\r\nAuthorization: {AUTH}\r\nX-Amz-Target: DynamoDB_20120810.ListTables\r\nContent-Length: 2\r\n\r\n{{}}"
    );
    std::io::Write::write_all(&mut idle, head.as_bytes()).unwrap();
    let mut answer = [0u8; 12];
    std::io::Read::read_exact(&mut idle, &mut answer).unwrap();
    assert_eq!(&answer, b"HTTP/1.1 200");
    let mut silent = std::net::TcpStream::connect(("127.0.0.1", server.port)).unwrap();
    // A connection answering a request every 200 ms stays open meanwhile.
    let mut busy = std::net::TcpStream::connect(("127.0.0.1", server.port)).unwrap();
    while started.elapsed() < std::time::Duration::from_millis(3500) {
        std::io::Write::write_all(&mut busy, head.as_bytes()).unwrap();
        let mut answer = [0u8; 12];
        std::io::Read::read_exact(&mut busy, &mut answer).unwrap();
        assert_eq!(&answer, b"HTTP/1.1 200");
        let mut rest = [0u8; 512];
        busy.set_read_timeout(Some(std::time::Duration::from_millis(100))).unwrap();
        let _ = std::io::Read::read(&mut busy, &mut rest);
        std::thread::sleep(std::time::Duration::from_millis(200));
    }
    // Each of the others was closed within two periods (2 s) of its last activity.
    for (name, stream) in [("stalled", &mut stalled), ("idle", &mut idle), ("silent", &mut silent)] {
        assert!(closed_within(stream, std::time::Duration::from_secs(1)), "{name} connection still open");
    }
    still_serving(&server);
}
