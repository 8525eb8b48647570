//! Test harness: starts a real `stator` process on a free loopback port and hands out
//! AWS SDK clients (and a raw HTTP helper) pointed at it. The process is killed when
//! the handle drops.

#![allow(dead_code)]

use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpStream;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::Duration;

use aws_sdk_dynamodb::config::{BehaviorVersion, Credentials, Region};
use aws_sdk_dynamodb::types::{
    AttributeDefinition, AttributeValue, BillingMode, KeySchemaElement, KeyType, ScalarAttributeType,
};
use aws_sdk_dynamodb::Client;

/// A running server.
pub struct Server {
    child: Child,
    pub port: u16,
    pub data_dir: Option<PathBuf>,
}

impl Server {
    /// An in-memory server.
    pub fn start() -> Server {
        Self::spawn(&["--in-memory"], None)
    }

    /// An in-memory server with extra `serve` options.
    pub fn start_with(extra: &[&str]) -> Server {
        let mut args = vec!["--in-memory"];
        args.extend_from_slice(extra);
        Self::spawn(&args, None)
    }

    /// A durable server over `dir`.
    pub fn start_durable(dir: &Path) -> Server {
        Self::spawn(&["--data-dir", dir.to_str().expect("utf-8 path")], Some(dir.to_path_buf()))
    }

    /// A durable server over `dir` with extra `serve` options.
    pub fn start_durable_with(dir: &Path, extra: &[&str]) -> Server {
        let mut args = vec!["--data-dir", dir.to_str().expect("utf-8 path")];
        args.extend_from_slice(extra);
        Self::spawn(&args, Some(dir.to_path_buf()))
    }

    /// Takes over a running `stator` child listening (or about to) on `port`.
    pub fn adopt(child: Child, port: u16, data_dir: Option<PathBuf>) -> Server {
        Server { child, port, data_dir }
    }

    fn spawn(extra: &[&str], data_dir: Option<PathBuf>) -> Server {
        let mut child = Command::new(env!("CARGO_BIN_EXE_stator"))
            .args(["serve", "--port", "0", "--log-level", "warn"])
            .args(extra)
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            .spawn()
            .expect("start stator");
        let stdout = child.stdout.take().expect("stdout");
        let mut line = String::new();
        BufReader::new(stdout).read_line(&mut line).expect("read the listening line");
        let port = line
            .split("http://127.0.0.1:")
            .nth(1)
            .and_then(|r| r.split(|c: char| !c.is_ascii_digit()).next())
            .and_then(|p| p.parse().ok())
            .unwrap_or_else(|| panic!("unexpected first line: {line:?}"));
        Server { child, port, data_dir }
    }

    pub fn endpoint(&self) -> String {
        format!("http://127.0.0.1:{}", self.port)
    }

    /// An SDK client for region us-east-1.
    pub fn client(&self) -> Client {
        self.client_in("us-east-1")
    }

    /// An SDK client whose requests are signed for `region`.
    pub fn client_in(&self, region: &str) -> Client {
        let http = aws_smithy_http_client::Builder::new().build_http();
        let config = aws_sdk_dynamodb::Config::builder()
            .behavior_version(BehaviorVersion::latest())
            .endpoint_url(self.endpoint())
            .region(Region::new(region.to_string()))
            .credentials_provider(Credentials::new("AKIDTEST", "secret", None, None, "test"))
            .http_client(http)
            .build();
        Client::from_conf(config)
    }

    /// An SDK client that never retries (an error reaches the caller at once).
    pub fn client_without_retries(&self) -> Client {
        let http = aws_smithy_http_client::Builder::new().build_http();
        let config = aws_sdk_dynamodb::Config::builder()
            .behavior_version(BehaviorVersion::latest())
            .endpoint_url(self.endpoint())
            .region(Region::new("us-east-1"))
            .credentials_provider(Credentials::new("AKIDTEST", "secret", None, None, "test"))
            .retry_config(aws_sdk_dynamodb::config::retry::RetryConfig::disabled())
            .http_client(http)
            .build();
        Client::from_conf(config)
    }

    /// A DynamoDB Streams SDK client for region us-east-1.
    pub fn streams_client(&self) -> aws_sdk_dynamodbstreams::Client {
        let http = aws_smithy_http_client::Builder::new().build_http();
        let config = aws_sdk_dynamodbstreams::Config::builder()
            .behavior_version(aws_sdk_dynamodbstreams::config::BehaviorVersion::latest())
            .endpoint_url(self.endpoint())
            .region(aws_sdk_dynamodbstreams::config::Region::new("us-east-1"))
            .credentials_provider(aws_sdk_dynamodbstreams::config::Credentials::new(
                "AKIDTEST", "secret", None, None, "test",
            ))
            .http_client(http)
            .build();
        aws_sdk_dynamodbstreams::Client::from_conf(config)
    }

    /// Moves the manual clock (`--clock manual`) forward and waits for the
    /// housekeeping it triggers; returns the new time in ms.
    pub fn advance_clock(&self, ms: u64) -> u64 {
        let (status, _, body) =
            self.raw_at("POST", "/stator/clock", &[], format!("{{\"advance_ms\":{ms}}}").as_bytes());
        assert_eq!(status, 200, "{}", String::from_utf8_lossy(&body));
        let v: serde_json::Value = serde_json::from_slice(&body).expect("clock answer");
        v["now_ms"].as_u64().expect("now_ms")
    }

    /// The manual clock's time, ms.
    pub fn clock_now_ms(&self) -> u64 {
        let (status, _, body) = self.raw_at("GET", "/stator/clock", &[], b"");
        assert_eq!(status, 200);
        let v: serde_json::Value = serde_json::from_slice(&body).expect("clock answer");
        v["now_ms"].as_u64().expect("now_ms")
    }

    /// Kills the process with SIGKILL (no shutdown path runs) and waits for it.
    pub fn kill9(mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }

    /// Sends SIGTERM and waits for a clean exit.
    pub fn terminate(mut self) -> std::process::ExitStatus {
        let pid = self.child.id().to_string();
        let _ = Command::new("kill").args(["-TERM", &pid]).status();
        self.child.wait().expect("wait")
    }

    /// Sends SIGTERM at once (a signal, not a `kill` process) and waits for the exit,
    /// at most `limit`: `None` if the server is still running then.
    pub fn terminate_within(&mut self, limit: Duration) -> Option<std::process::ExitStatus> {
        let pid = rustix::process::Pid::from_raw(self.child.id() as i32).expect("a child's pid");
        rustix::process::kill_process(pid, rustix::process::Signal::TERM).expect("signal the server");
        let deadline = std::time::Instant::now() + limit;
        loop {
            if let Some(status) = self.child.try_wait().expect("wait") {
                return Some(status);
            }
            if std::time::Instant::now() > deadline {
                return None;
            }
            std::thread::sleep(Duration::from_millis(5));
        }
    }

    /// One raw HTTP/1.1 exchange: returns (status, headers lower-cased, body).
    pub fn raw(&self, method: &str, headers: &[(&str, &str)], body: &[u8]) -> (u16, Vec<(String, String)>, Vec<u8>) {
        self.raw_at(method, "/", headers, body)
    }

    /// Sends exactly `request` (a whole HTTP/1.1 request, headers and body) and reads
    /// the answer: (status, headers lower-cased, body). Status 0: the server closed
    /// the connection without answering.
    pub fn raw_bytes(&self, request: &[u8]) -> (u16, Vec<(String, String)>, Vec<u8>) {
        let mut s = TcpStream::connect(("127.0.0.1", self.port)).expect("connect");
        s.set_read_timeout(Some(Duration::from_secs(20))).expect("timeout");
        let _ = s.write_all(request);
        // Nothing more will come: a truncated request must not be waited for.
        let _ = s.shutdown(std::net::Shutdown::Write);
        let mut buf = Vec::new();
        let _ = s.read_to_end(&mut buf);
        let Some(split) = buf.windows(4).position(|w| w == b"\r\n\r\n") else { return (0, Vec::new(), buf) };
        let head = String::from_utf8_lossy(&buf[..split]).to_string();
        let body = buf[split + 4..].to_vec();
        let mut lines = head.split("\r\n");
        let status = lines.next().and_then(|l| l.split(' ').nth(1)).and_then(|c| c.parse().ok()).unwrap_or(0);
        let headers = lines
            .filter_map(|l| l.split_once(':').map(|(k, v)| (k.trim().to_lowercase(), v.trim().to_string())))
            .collect();
        (status, headers, body)
    }

    /// [`Server::raw`] on another path.
    pub fn raw_at(
        &self,
        method: &str,
        path: &str,
        headers: &[(&str, &str)],
        body: &[u8],
    ) -> (u16, Vec<(String, String)>, Vec<u8>) {
        let mut s = TcpStream::connect(("127.0.0.1", self.port)).expect("connect");
        s.set_read_timeout(Some(Duration::from_secs(20))).expect("timeout");
        let mut req = format!(
            "{method} {path} HTTP/1.1\r\nHost: 127.0.0.1:{}\r\nConnection: close\r\nContent-Length: {}\r\n",
            self.port,
            body.len()
        );
        for (k, v) in headers {
            req.push_str(&format!("{k}: {v}\r\n"));
        }
        req.push_str("\r\n");
        s.write_all(req.as_bytes()).expect("write");
        s.write_all(body).expect("write body");
        let mut buf = Vec::new();
        s.read_to_end(&mut buf).expect("read");
        let split = buf.windows(4).position(|w| w == b"\r\n\r\n").expect("header end");
        let head = String::from_utf8_lossy(&buf[..split]).to_string();
        let body = buf[split + 4..].to_vec();
        let mut lines = head.split("\r\n");
        let status = lines.next().and_then(|l| l.split(' ').nth(1)).and_then(|c| c.parse().ok()).expect("status");
        let headers = lines
            .filter_map(|l| l.split_once(':').map(|(k, v)| (k.trim().to_lowercase(), v.trim().to_string())))
            .collect();
        (status, headers, body)
    }

    /// A signed-looking DynamoDB call over raw HTTP, returning (status, JSON body).
    pub fn call(&self, op: &str, body: &str) -> (u16, serde_json::Value) {
        let target = format!("DynamoDB_20120810.{op}");
        let (status, _, body) = self.raw(
            "POST",
            &[("Content-Type", "application/x-amz-json-1.0"), ("X-Amz-Target", &target), ("Authorization", AUTH)],
            body.as_bytes(),
        );
        (status, serde_json::from_slice(&body).unwrap_or(serde_json::Value::Null))
    }
}

/// A well-formed (unverified) SigV4 header for raw requests.
pub const AUTH: &str = "AWS4-HMAC-SHA256 Credential=AKIDTEST/20260101/us-east-1/dynamodb/aws4_request, SignedHeaders=host;x-amz-date;x-amz-target, Signature=0000";

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Creates an on-demand table with a string partition key `pk` (and sort key `sk` when asked).
pub async fn create_table(client: &Client, name: &str, with_sort_key: bool) {
    let mut b = client
        .create_table()
        .table_name(name)
        .billing_mode(BillingMode::PayPerRequest)
        .attribute_definitions(
            AttributeDefinition::builder()
                .attribute_name("pk")
                .attribute_type(ScalarAttributeType::S)
                .build()
                .expect("def"),
        )
        .key_schema(KeySchemaElement::builder().attribute_name("pk").key_type(KeyType::Hash).build().expect("key"));
    if with_sort_key {
        b = b
            .attribute_definitions(
                AttributeDefinition::builder()
                    .attribute_name("sk")
                    .attribute_type(ScalarAttributeType::N)
                    .build()
                    .expect("def"),
            )
            .key_schema(
                KeySchemaElement::builder().attribute_name("sk").key_type(KeyType::Range).build().expect("key"),
            );
    }
    b.send().await.expect("create table");
}

pub fn s(v: &str) -> AttributeValue {
    AttributeValue::S(v.to_string())
}

pub fn n(v: &str) -> AttributeValue {
    AttributeValue::N(v.to_string())
}

/// The `(type name, message)` of an SDK error.
pub fn err_of<E, R>(e: aws_sdk_dynamodb::error::SdkError<E, R>) -> (String, String)
where
    E: aws_sdk_dynamodb::error::ProvideErrorMetadata + std::fmt::Debug,
    R: std::fmt::Debug,
{
    match e.as_service_error() {
        Some(se) => (se.code().unwrap_or("").to_string(), se.message().unwrap_or("").to_string()),
        None => panic!("not a service error: {e:?}"),
    }
}

/// Creates an on-demand table with string partition key `pk`, a global index `index`
/// on string attribute `attr` (projection ALL) and a NEW_AND_OLD_IMAGES stream;
/// returns the stream's ARN.
pub async fn create_table_with_index_and_stream(client: &Client, name: &str, index: &str, attr: &str) -> String {
    use aws_sdk_dynamodb::types::{
        GlobalSecondaryIndex, Projection, ProjectionType, StreamSpecification, StreamViewType,
    };
    let def = |a: &str| {
        AttributeDefinition::builder().attribute_name(a).attribute_type(ScalarAttributeType::S).build().expect("def")
    };
    let hash = |a: &str| KeySchemaElement::builder().attribute_name(a).key_type(KeyType::Hash).build().expect("key");
    let out = client
        .create_table()
        .table_name(name)
        .billing_mode(BillingMode::PayPerRequest)
        .attribute_definitions(def("pk"))
        .attribute_definitions(def(attr))
        .key_schema(hash("pk"))
        .global_secondary_indexes(
            GlobalSecondaryIndex::builder()
                .index_name(index)
                .key_schema(hash(attr))
                .projection(Projection::builder().projection_type(ProjectionType::All).build())
                .build()
                .expect("index"),
        )
        .stream_specification(
            StreamSpecification::builder()
                .stream_enabled(true)
                .stream_view_type(StreamViewType::NewAndOldImages)
                .build()
                .expect("stream"),
        )
        .send()
        .await
        .expect("create table");
    out.table_description().and_then(|t| t.latest_stream_arn()).expect("stream arn").to_string()
}

/// A tiny deterministic generator for randomized tests (xorshift64*).
pub struct Rng(pub u64);

impl Rng {
    pub fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_f491_4f6c_dd1d)
    }

    pub fn below(&mut self, n: u64) -> u64 {
        self.next() % n
    }
}

/// CRC-32 (IEEE) computed bit by bit, independent of the server's implementation (the
/// `x-amz-crc32` header).
pub fn crc32(data: &[u8]) -> u32 {
    let mut crc = 0xFFFF_FFFFu32;
    for &b in data {
        crc ^= u32::from(b);
        for _ in 0..8 {
            crc = if crc & 1 != 0 { (crc >> 1) ^ 0xEDB8_8320 } else { crc >> 1 };
        }
    }
    !crc
}
