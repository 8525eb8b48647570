//! HTTP/1.1 connections as clients use them, over raw sockets: persistent connections
//! and pipelined requests, chunked bodies in pieces, `Expect: 100-continue`, HTTP/1.0,
//! HEAD, large answers, refused heads, and shutdown finishing the request in flight.

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use std::io::{Read, Write};
use std::net::TcpStream;
use std::time::Duration;

use common::{crc32, Server, AUTH};

/// A client connection that reads answers one at a time by their Content-Length.
struct Client {
    sock: TcpStream,
    buf: Vec<u8>,
}

/// One answer: status, headers (names lower-cased), body.
type Answer = (u16, Vec<(String, String)>, Vec<u8>);

impl Client {
    fn connect(srv: &Server) -> Client {
        let sock = TcpStream::connect(("127.0.0.1", srv.port)).unwrap();
        sock.set_read_timeout(Some(Duration::from_secs(20))).unwrap();
        Client { sock, buf: Vec::new() }
    }

    fn send(&mut self, bytes: &[u8]) {
        self.sock.write_all(bytes).unwrap();
    }

    fn fill(&mut self) -> bool {
        let mut chunk = [0u8; 65536];
        let n = self.sock.read(&mut chunk).unwrap();
        self.buf.extend_from_slice(&chunk[..n]);
        n > 0
    }

    /// The next answer; `head_only` for an answer to HEAD (no body follows).
    fn answer(&mut self, head_only: bool) -> Answer {
        let split = loop {
            if let Some(i) = self.buf.windows(4).position(|w| w == b"\r\n\r\n") {
                break i;
            }
            assert!(self.fill(), "closed before an answer: {:?}", String::from_utf8_lossy(&self.buf));
        };
        let head = String::from_utf8(self.buf[..split].to_vec()).unwrap();
        self.buf.drain(..split + 4);
        let mut lines = head.split("\r\n");
        let status = lines.next().unwrap().split(' ').nth(1).unwrap().parse().unwrap();
        let headers: Vec<(String, String)> = lines
            .map(|l| l.split_once(':').unwrap())
            .map(|(k, v)| (k.trim().to_lowercase(), v.trim().to_string()))
            .collect();
        let len: usize = header(&headers, "content-length").unwrap().parse().unwrap();
        let len = if head_only { 0 } else { len };
        while self.buf.len() < len {
            assert!(self.fill(), "closed in a body");
        }
        let body = self.buf.drain(..len).collect();
        (status, headers, body)
    }

    /// Whether the server closed the connection (nothing more comes).
    fn closed(&mut self) -> bool {
        self.sock.set_read_timeout(Some(Duration::from_secs(5))).unwrap();
        let mut rest = Vec::new();
        self.sock.read_to_end(&mut rest).is_ok() && rest.is_empty() && self.buf.is_empty()
    }
}

fn header<'a>(headers: &'a [(String, String)], name: &str) -> Option<&'a str> {
    headers.iter().find(|(k, _)| k == name).map(|(_, v)| v.as_str())
}

fn api_head(op: &str, framing: &str) -> String {
    format!(
        "POST / HTTP/1.1\r\nHost: localhost\r\nAuthorization: {AUTH}\r\nX-Amz-Target: DynamoDB_20120810.{op}\r\n\
         Content-Type: application/x-amz-json-1.0\r\n{framing}\r\n"
    )
}

fn api(op: &str, body: &str) -> Vec<u8> {
    format!("{}{body}", api_head(op, &format!("Content-Length: {}\r\n", body.len()))).into_bytes()
}

fn json(body: &[u8]) -> serde_json::Value {
    serde_json::from_slice(body).unwrap_or_else(|_| panic!("not JSON: {}", String::from_utf8_lossy(body)))
}

const CREATE: &str = r#"{"TableName":"ttt","AttributeDefinitions":[{"AttributeName":"pk","AttributeType":"S"}],"KeySchema":[{"AttributeName":"pk","KeyType":"HASH"}],"BillingMode":"PAY_PER_REQUEST"}"#;

#[test]
fn pipelined_requests_on_one_connection_are_answered_in_order() {
    let srv = Server::start();
    let mut c = Client::connect(&srv);
    // Sent in one write, then (another table) split at every 7th byte.
    for (table, piece, tables) in
        [("ttt", usize::MAX, serde_json::json!(["ttt"])), ("uuu", 7, serde_json::json!(["ttt", "uuu"]))]
    {
        let mut batch = api("CreateTable", &CREATE.replace(r#""ttt""#, &format!(r#""{table}""#)));
        batch.extend(api(
            "PutItem",
            &format!(r#"{{"TableName":"{table}","Item":{{"pk":{{"S":"a"}},"v":{{"N":"1"}}}}}}"#),
        ));
        batch.extend(b"GET / HTTP/1.1\r\nHost: x\r\n\r\n");
        batch.extend(api("GetItem", &format!(r#"{{"TableName":"{table}","Key":{{"pk":{{"S":"a"}}}}}}"#)));
        batch.extend(api("ListTables", "{}"));
        for part in batch.chunks(piece.min(batch.len())) {
            c.send(part);
        }
        let (status, _, body) = c.answer(false);
        assert_eq!(
            (status, json(&body)["TableDescription"]["TableName"].clone()),
            (200, table.into()),
            "{}",
            String::from_utf8_lossy(&body)
        );
        let (status, _, body) = c.answer(false);
        assert_eq!((status, json(&body)), (200, serde_json::json!({})));
        let (status, _, body) = c.answer(false);
        assert_eq!((status, &body[..]), (200, &b"healthy: stator"[..]));
        let (status, _, body) = c.answer(false);
        assert_eq!((status, json(&body)["Item"]["v"]["N"].clone()), (200, "1".into()));
        let (status, headers, body) = c.answer(false);
        assert_eq!((status, json(&body)), (200, serde_json::json!({ "TableNames": tables })));
        assert_eq!(header(&headers, "connection"), None);
        assert!(header(&headers, "date").is_some_and(|d| d.len() == 29 && d.ends_with(" GMT")), "{headers:?}");
    }
}

#[test]
fn chunked_bodies_arrive_in_pieces() {
    let srv = Server::start();
    let mut c = Client::connect(&srv);
    c.send(&api("CreateTable", CREATE));
    assert_eq!(c.answer(false).0, 200);
    let item = r#"{"TableName":"ttt","Item":{"pk":{"S":"chunked"},"v":{"S":"hello"}}}"#;
    let (a, b) = item.split_at(20);
    let coded = format!("{:x};ext=1\r\n{a}\r\n{:X}\r\n{b}\r\n0\r\nX-Trailer: yes\r\n\r\n", a.len(), b.len());
    c.send(api_head("PutItem", "Transfer-Encoding: chunked\r\n").as_bytes());
    for part in coded.as_bytes().chunks(5) {
        std::thread::sleep(Duration::from_millis(2));
        c.send(part);
    }
    let (status, _, body) = c.answer(false);
    assert_eq!(status, 200, "{}", String::from_utf8_lossy(&body));
    c.send(&api("GetItem", r#"{"TableName":"ttt","Key":{"pk":{"S":"chunked"}}}"#));
    let (status, _, body) = c.answer(false);
    assert_eq!((status, json(&body)["Item"]["v"]["S"].clone()), (200, "hello".into()));
    // A broken chunk: a DynamoDB error, then the connection ends.
    c.send(api_head("ListTables", "Transfer-Encoding: chunked\r\n").as_bytes());
    c.send(b"2\r\n{}XX0\r\n\r\n");
    let (status, headers, body) = c.answer(false);
    assert_eq!(status, 400);
    assert_eq!(json(&body)["__type"], "com.amazon.coral.service#SerializationException");
    assert_eq!(header(&headers, "connection"), Some("close"));
    assert!(c.closed());
}

#[test]
fn expect_100_continue_is_answered_before_the_body() {
    let srv = Server::start();
    let mut c = Client::connect(&srv);
    c.send(api_head("ListTables", "Content-Length: 2\r\nExpect: 100-continue\r\n").as_bytes());
    let mut interim = vec![0u8; 25];
    c.sock.read_exact(&mut interim).unwrap();
    assert_eq!(&interim, b"HTTP/1.1 100 Continue\r\n\r\n");
    c.send(b"{}");
    let (status, _, body) = c.answer(false);
    assert_eq!((status, json(&body)), (200, serde_json::json!({"TableNames": []})));
    // Sent with its body at once: no interim answer.
    let mut whole = api_head("ListTables", "Content-Length: 2\r\nExpect: 100-continue\r\n").into_bytes();
    whole.extend(b"{}");
    c.send(&whole);
    assert_eq!(c.answer(false).0, 200);
}

#[test]
fn http_1_0_closes_unless_kept_alive() {
    let srv = Server::start();
    let mut c = Client::connect(&srv);
    c.send(b"GET / HTTP/1.0\r\nConnection: keep-alive\r\n\r\n");
    let (status, headers, _) = c.answer(false);
    assert_eq!((status, header(&headers, "connection")), (200, Some("keep-alive")));
    c.send(b"GET / HTTP/1.0\r\n\r\n");
    let (status, headers, _) = c.answer(false);
    assert_eq!((status, header(&headers, "connection")), (200, Some("close")));
    assert!(c.closed());
    // HTTP/1.1 with `Connection: close`.
    let mut c = Client::connect(&srv);
    c.send(b"GET / HTTP/1.1\r\nConnection: close\r\n\r\n");
    assert_eq!(header(&c.answer(false).1, "connection"), Some("close"));
    assert!(c.closed());
}

#[test]
fn head_answers_carry_no_body() {
    let srv = Server::start();
    let mut c = Client::connect(&srv);
    c.send(b"HEAD / HTTP/1.1\r\nHost: x\r\n\r\nGET / HTTP/1.1\r\nHost: x\r\n\r\n");
    let (status, headers, _) = c.answer(true);
    assert_eq!((status, header(&headers, "content-length")), (200, Some("15")));
    // The next answer starts right after the head: no body was sent for HEAD.
    let (status, _, body) = c.answer(false);
    assert_eq!((status, &body[..]), (200, &b"healthy: stator"[..]));
}

#[test]
fn large_answers_and_bodies_keep_the_connection_in_step() {
    let srv = Server::start();
    let mut c = Client::connect(&srv);
    c.send(&api("CreateTable", CREATE));
    assert_eq!(c.answer(false).0, 200);
    let big = "x".repeat(300_000);
    let put = format!(r#"{{"TableName":"ttt","Item":{{"pk":{{"S":"big"}},"v":{{"S":"{big}"}}}}}}"#);
    for _ in 0..3 {
        c.send(&api("PutItem", &put));
        assert_eq!(c.answer(false).0, 200);
        c.send(&api("GetItem", r#"{"TableName":"ttt","Key":{"pk":{"S":"big"}}}"#));
        let (status, headers, body) = c.answer(false);
        assert_eq!(status, 200);
        assert_eq!(json(&body)["Item"]["v"]["S"].as_str().map(str::len), Some(300_000));
        assert_eq!(header(&headers, "x-amz-crc32"), Some(crc32(&body).to_string().as_str()));
    }
}

#[test]
fn unreadable_heads_are_refused_and_closed() {
    let srv = Server::start();
    let long = format!("GET / HTTP/1.1\r\nX-Long: {}\r\n\r\n", "a".repeat(70_000));
    let cases: [(&[u8], u16); 5] = [
        (b"NOT HTTP AT ALL\r\n\r\n", 400),
        (b"POST / HTTP/1.1\r\nContent-Length: nope\r\n\r\n", 400),
        (b"POST / HTTP/1.1\r\nContent-Length: 1\r\nContent-Length: 2\r\n\r\n", 400),
        (b"POST / HTTP/1.1\r\nTransfer-Encoding: gzip\r\n\r\n", 400),
        (long.as_bytes(), 431),
    ];
    for (request, want) in cases {
        let mut c = Client::connect(&srv);
        c.send(request);
        let (status, headers, body) = c.answer(false);
        assert_eq!(status, want, "{:?}", String::from_utf8_lossy(&request[..40.min(request.len())]));
        assert_eq!(json(&body)["__type"], "com.amazon.coral.service#SerializationException");
        assert_eq!(header(&headers, "connection"), Some("close"));
        assert!(c.closed());
    }
    // A request without credentials on a kept-alive connection leaves it usable.
    let mut c = Client::connect(&srv);
    c.send(b"POST / HTTP/1.1\r\nX-Amz-Target: DynamoDB_20120810.ListTables\r\nContent-Length: 2\r\n\r\n{}");
    assert_eq!(c.answer(false).0, 400);
    c.send(&api("ListTables", "{}"));
    assert_eq!(c.answer(false).0, 200);
}

#[test]
fn shutdown_closes_idle_connections_and_finishes_the_request_in_flight() {
    let srv = Server::start();
    let mut idle = Client::connect(&srv);
    idle.send(b"GET / HTTP/1.1\r\n\r\n");
    assert_eq!(idle.answer(false).0, 200);
    let mut busy = Client::connect(&srv);
    busy.send(api_head("ListTables", "Content-Length: 2\r\n").as_bytes());
    busy.send(b"{");
    std::thread::sleep(Duration::from_millis(200));
    let stopping = std::thread::spawn(move || srv.terminate());
    assert!(idle.closed(), "the idle connection stays open");
    busy.send(b"}");
    let (status, headers, body) = busy.answer(false);
    assert_eq!((status, json(&body)), (200, serde_json::json!({"TableNames": []})));
    assert_eq!(header(&headers, "connection"), Some("close"));
    assert!(busy.closed());
    assert!(stopping.join().unwrap().success());
}

#[test]
fn sigterm_right_after_the_first_answer_stops_the_server_gracefully() {
    // A client that connects while the server starts (as readiness probes do) is
    // answered at once. The signal handlers used to be installed by the accept
    // loop's first look at them, which could come after that answer: a SIGTERM sent
    // then either killed the process (the default action) or was lost between the
    // handler's installation and its listener (the server ignored it) — about one
    // start in ten. Rounds stop at 30 or 20 s.
    let started = std::time::Instant::now();
    for round in 0..30 {
        if started.elapsed() > Duration::from_secs(20) {
            break;
        }
        let port = std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
        let child = std::process::Command::new(env!("CARGO_BIN_EXE_stator"))
            .args(["serve", "--in-memory", "--log-level", "warn", "--port", &port.to_string()])
            .stdout(std::process::Stdio::null())
            .spawn()
            .unwrap();
        // Killed if the round fails before it stops.
        let mut srv = Server::adopt(child, port, None);
        let request = api("ListTables", "{}");
        let deadline = std::time::Instant::now() + Duration::from_secs(10);
        let answered = loop {
            assert!(std::time::Instant::now() < deadline, "round {round}: never answered");
            let Ok(mut sock) = TcpStream::connect(("127.0.0.1", port)) else {
                std::thread::sleep(Duration::from_micros(200));
                continue;
            };
            sock.set_read_timeout(Some(Duration::from_secs(5))).unwrap();
            let mut got = [0u8; 12];
            if sock.write_all(&request).is_ok() && sock.read_exact(&mut got).is_ok() {
                break got;
            }
        };
        assert_eq!(&answered, b"HTTP/1.1 200", "round {round}");
        let status = srv.terminate_within(Duration::from_secs(10));
        let status = status.unwrap_or_else(|| panic!("round {round}: SIGTERM ignored"));
        assert!(status.success(), "round {round}: {status}");
    }
}

#[test]
fn a_client_that_stops_reading_is_closed_after_an_idle_period() {
    let srv = Server::start_with(&["--idle-timeout-secs", "1"]);
    let mut c = Client::connect(&srv);
    c.send(&api("CreateTable", CREATE));
    assert_eq!(c.answer(false).0, 200);
    let big = "x".repeat(300_000);
    c.send(&api("PutItem", &format!(r#"{{"TableName":"ttt","Item":{{"pk":{{"S":"big"}},"v":{{"S":"{big}"}}}}}}"#)));
    assert_eq!(c.answer(false).0, 200);
    // 60 answers of 300 KB pipelined and never read: far more than the sockets buffer.
    let get = api("GetItem", r#"{"TableName":"ttt","Key":{"pk":{"S":"big"}}}"#);
    for _ in 0..60 {
        c.send(&get);
    }
    // Two periods without a byte moving, and a margin.
    std::thread::sleep(Duration::from_millis(3500));
    c.sock.set_read_timeout(Some(Duration::from_secs(5))).unwrap();
    let mut received = Vec::new();
    let ended = match c.sock.read_to_end(&mut received) {
        Ok(_) => true,
        Err(e) => !matches!(e.kind(), std::io::ErrorKind::WouldBlock | std::io::ErrorKind::TimedOut),
    };
    assert!(ended, "the connection was kept open ({} bytes read)", received.len());
    assert!(received.len() < 60 * 300_000, "every answer was sent");
    // Others are served meanwhile and after.
    let mut other = Client::connect(&srv);
    other.send(&api("ListTables", "{}"));
    assert_eq!(other.answer(false).0, 200);
}
