//! What the server answers: one POST endpoint for the DynamoDB API, a GET health
//! answer, the stats and test-clock endpoints, body size limits, the in-flight bound;
//! and the accept loop with its connection bound and graceful shutdown. The HTTP/1.1
//! protocol itself is `http1` (parsing) and `connection.rs` (the connection loop).

use std::ops::Range;
use std::sync::Arc;
use std::time::Duration;

use bytes::Bytes;
use stator_engine::{Engine, RequestContext};
use stator_protocol::{DynamoError, Operation};

use crate::auth;
use crate::connection;
use crate::http1::head::{Framing, Head, HeadError, Method};

/// Largest request body accepted (DynamoDB's request limit is 16 MB).
pub const MAX_BODY: usize = 16 * 1024 * 1024;

/// Longest wait for a request body once its headers arrived.
pub(crate) const BODY_TIMEOUT: Duration = Duration::from_secs(30);

pub(crate) struct Shared {
    engine: Arc<Engine>,
    account: String,
    /// Requests being served; beyond the bound, ThrottlingException.
    in_flight: Arc<tokio::sync::Semaphore>,
    pub(crate) limits: Limits,
    /// Open connections (permits held).
    connections: Arc<tokio::sync::Semaphore>,
}

#[cfg(test)]
impl Shared {
    /// A server's state over an empty in-memory store, for tests.
    pub(crate) fn in_memory(limits: Limits) -> Shared {
        use stator_storage::{
            local::{LocalStore, SyncPolicy},
            mem::MemEngine,
        };
        let store = Arc::new(LocalStore::new(MemEngine::new(), SyncPolicy::Never));
        let engine = Engine::open(store, stator_engine::EngineConfig::default()).expect("an in-memory engine opens");
        Shared {
            engine: Arc::new(engine),
            account: "000000000000".into(),
            in_flight: Arc::new(tokio::sync::Semaphore::new(limits.max_in_flight)),
            limits,
            connections: Arc::new(tokio::sync::Semaphore::new(limits.max_connections)),
        }
    }
}

/// Bounds on what clients can hold.
#[derive(Debug, Clone, Copy)]
pub struct Limits {
    /// Open connections; a connection beyond is answered ThrottlingException and closed.
    pub max_connections: usize,
    /// Requests served at once (each may hold a body of up to 16 MB); beyond,
    /// ThrottlingException (SDKs retry it with backoff).
    pub max_in_flight: usize,
    /// A connection that makes no progress in a whole period of this length (see
    /// `connection.rs`) is closed.
    pub idle_timeout: Duration,
}

/// Connections beyond `max_connections` being answered at once (each for at most 10 s).
const MAX_REFUSALS: usize = 64;

fn throttled() -> DynamoError {
    DynamoError::Throttling("Rate of requests exceeds the allowed throughput.".into())
}

/// Serves connections until `shutdown` completes ([`shutdown_signal`]: SIGINT or
/// SIGTERM), then lets in-flight requests finish (up to 10 s): idle connections close
/// at once, busy ones after their answer.
pub async fn run(
    listener: tokio::net::TcpListener,
    engine: Arc<Engine>,
    account: String,
    limits: Limits,
    shutdown: impl std::future::Future<Output = ()>,
) {
    let in_flight = Arc::new(tokio::sync::Semaphore::new(limits.max_in_flight.max(1)));
    let connections = Arc::new(tokio::sync::Semaphore::new(limits.max_connections.max(1)));
    let shared = Arc::new(Shared { engine, account, in_flight, limits, connections: connections.clone() });
    let refusals = Arc::new(tokio::sync::Semaphore::new(MAX_REFUSALS));
    // Every connection holds a receiver: the sender sees them all gone at the end.
    let (stop, stopped) = tokio::sync::watch::channel(false);
    let mut shutdown = std::pin::pin!(shutdown);
    loop {
        tokio::select! {
            accepted = listener.accept() => {
                let (stream, _) = match accepted {
                    Ok(s) => s,
                    Err(e) => {
                        tracing::warn!(error = %e, "accept failed");
                        tokio::time::sleep(Duration::from_millis(10)).await;
                        continue;
                    }
                };
                let _ = stream.set_nodelay(true);
                let Ok(permit) = connections.clone().try_acquire_owned() else {
                    // Answered with a ThrottlingException, a bounded number at a time;
                    // past that, a flood of connections is simply closed.
                    if let Ok(refusing) = refusals.clone().try_acquire_owned() {
                        tokio::spawn(async move {
                            connection::refuse(stream, &throttled_reply()).await;
                            drop(refusing);
                        });
                    }
                    continue;
                };
                let shared = shared.clone();
                let stopped = stopped.clone();
                tokio::spawn(async move {
                    connection::serve(stream, shared, stopped).await;
                    drop(permit);
                });
            }
            _ = &mut shutdown => {
                tracing::info!("shutting down: no new connections; finishing requests in flight");
                break;
            }
        }
    }
    drop(listener);
    drop(stopped);
    let _ = stop.send(true);
    tokio::select! {
        _ = stop.closed() => {}
        _ = tokio::time::sleep(Duration::from_secs(10)) => {
            tracing::warn!("requests still in flight after 10 s; stopping anyway");
        }
    }
}

/// SIGINT and SIGTERM: listened for from the call on, not from the first poll. A
/// signal that comes before the listeners exist has its default effect (the process
/// ends); one that comes after is a graceful stop. Tokio's listeners are lazy where
/// polled late — a signal between installing the handler and subscribing to it is
/// then lost and the server ignores it — so this is called before the server prints
/// its listening line or answers anything.
pub(crate) fn shutdown_signal() -> impl std::future::Future<Output = ()> + Send + 'static {
    #[cfg(unix)]
    {
        use tokio::signal::unix::{signal, Signal, SignalKind};
        let listen = |kind: SignalKind, name: &str| match signal(kind) {
            Ok(s) => Some(s),
            Err(e) => {
                tracing::warn!(error = %e, "cannot listen for {name}: it will not stop the server gracefully");
                None
            }
        };
        let (interrupt, terminate) =
            (listen(SignalKind::interrupt(), "SIGINT"), listen(SignalKind::terminate(), "SIGTERM"));
        async fn received(signal: Option<Signal>) {
            match signal {
                Some(mut s) => {
                    s.recv().await;
                }
                None => std::future::pending().await,
            }
        }
        async move {
            tokio::select! {
                _ = received(interrupt) => {}
                _ = received(terminate) => {}
            }
        }
    }
    #[cfg(not(unix))]
    {
        async {
            let _ = tokio::signal::ctrl_c().await;
        }
    }
}

/// A request id shaped like DynamoDB's (52 upper-case alphanumerics): a per-process
/// random prefix and a counter, so that no request pays for a random-number syscall.
pub(crate) fn request_id() -> [u8; 52] {
    use std::sync::atomic::{AtomicU64, Ordering};
    use std::sync::OnceLock;
    static PREFIX: OnceLock<[u8; 32]> = OnceLock::new();
    static COUNTER: AtomicU64 = AtomicU64::new(0);
    let prefix = PREFIX.get_or_init(|| {
        let mut p = [b'0'; 32];
        p.copy_from_slice(uuid::Uuid::new_v4().simple().to_string().to_uppercase().as_bytes());
        p
    });
    let mut n = COUNTER.fetch_add(1, Ordering::Relaxed);
    let mut id = [b'0'; 52];
    id[..32].copy_from_slice(prefix);
    for slot in id[32..].iter_mut().rev() {
        let d = (n % 36) as u8;
        *slot = if d < 10 { b'0' + d } else { b'A' + d - 10 };
        n /= 36;
    }
    id
}

/// A request's head and the bytes its ranges index.
pub(crate) struct Request {
    pub(crate) head: Head,
    bytes: Bytes,
    /// The JSON content type answers carry: the request's own 1.1 or else 1.0.
    json_type: &'static str,
}

impl Request {
    pub(crate) fn new(head: Head, bytes: Bytes) -> Request {
        let json_type = match head.content_type.clone().map(|r| &bytes[r]) {
            Some(t) if t.starts_with(b"application/x-amz-json-1.1") && auth::is_text(t) => "application/x-amz-json-1.1",
            _ => "application/x-amz-json-1.0",
        };
        Request { head, bytes, json_type }
    }

    /// A header field's raw value.
    fn field(&self, field: &Option<Range<usize>>) -> Option<&[u8]> {
        field.clone().map(|r| &self.bytes[r])
    }

    /// A header field's value as text (visible ASCII and tabs), as DynamoDB reads it.
    fn text(&self, field: &Option<Range<usize>>) -> Option<&str> {
        self.field(field).and_then(auth::header_text)
    }

    fn path(&self) -> &[u8] {
        &self.bytes[self.head.path.clone()]
    }
}

/// An answer: status, content type and body.
pub(crate) struct Reply {
    pub(crate) status: u16,
    pub(crate) content_type: &'static str,
    pub(crate) body: Vec<u8>,
}

fn reply(status: u16, body: Vec<u8>, content_type: &'static str) -> Reply {
    Reply { status, content_type, body }
}

fn error_reply(e: &DynamoError, content_type: &'static str) -> Reply {
    if let DynamoError::Internal(detail) = e {
        tracing::error!(detail, "internal error");
    }
    reply(e.http_status(), serde_json::to_vec(&e.to_json()).unwrap_or_default(), content_type)
}

fn throttled_reply() -> Reply {
    error_reply(&throttled(), "application/x-amz-json-1.0")
}

/// What a request's head leads to.
pub(crate) enum Begin {
    /// An answer from the head alone (the body, if any, is not read).
    Answer(Reply),
    /// The body is read (at most `limit` bytes), then [`finish`] answers. `permit`
    /// holds the request's in-flight slot until then.
    Body { limit: usize, target: BodyFor, permit: Option<tokio::sync::OwnedSemaphorePermit> },
}

/// Who reads a body.
#[derive(Debug, Clone, Copy)]
pub(crate) enum BodyFor {
    /// A DynamoDB or DynamoDB Streams operation.
    Api,
    /// The manual clock's endpoint.
    Clock,
}

/// Why a body could not be read (the connection is then closed).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum BodyError {
    /// Over the limit.
    TooLarge,
    /// Not the chunked coding it declared.
    Malformed,
    /// Not complete within [`BODY_TIMEOUT`].
    TimedOut,
    /// The client went away (nobody to answer).
    Closed,
}

/// Routes a request from its head: the health, stats and clock endpoints, the API.
pub(crate) fn begin(shared: &Shared, req: &Request) -> Begin {
    let json_type = req.json_type;
    let method = req.head.method;
    if req.path() == CLOCK_PATH.as_bytes() && shared.engine.clock().is_manual() {
        if method != Method::Post {
            let body = serde_json::json!({ "now_ms": shared.engine.clock().now_ms() });
            return Begin::Answer(reply(200, body.to_string().into_bytes(), "application/json"));
        }
        return Begin::Body { limit: CLOCK_BODY, target: BodyFor::Clock, permit: None };
    }
    if method == Method::Get && req.path() == STATS_PATH.as_bytes() {
        return Begin::Answer(reply(200, stats(shared).into_bytes(), "application/json"));
    }
    if method == Method::Get || method == Method::Head {
        return Begin::Answer(reply(200, b"healthy: stator".to_vec(), "text/plain"));
    }
    if method != Method::Post {
        return Begin::Answer(error_reply(&DynamoError::UnknownOperation, json_type));
    }
    // Held until the answer is ready: bounds the bodies and work in memory at once.
    let Ok(permit) = shared.in_flight.clone().try_acquire_owned() else {
        return Begin::Answer(error_reply(&throttled(), json_type));
    };
    if matches!(req.head.framing, Framing::Length(n) if n > MAX_BODY as u64) {
        return Begin::Answer(error_reply(&too_large(), json_type));
    }
    Begin::Body { limit: MAX_BODY, target: BodyFor::Api, permit: Some(permit) }
}

/// The answer to a body that could not be read.
pub(crate) fn body_error(req: &Request, target: BodyFor, e: BodyError) -> Reply {
    match (target, e) {
        (BodyFor::Clock, _) => reply(400, br#"{"error":"body too large or unreadable"}"#.to_vec(), "application/json"),
        (BodyFor::Api, BodyError::TooLarge) => error_reply(&too_large(), req.json_type),
        (BodyFor::Api, BodyError::TimedOut) => {
            error_reply(&DynamoError::Serialization("Timed out reading the request body".into()), req.json_type)
        }
        (BodyFor::Api, BodyError::Malformed | BodyError::Closed) => {
            error_reply(&DynamoError::Serialization("Could not read the request body".into()), req.json_type)
        }
    }
}

/// The answer to a head that could not be read (the connection is then closed).
pub(crate) fn head_error(e: HeadError) -> Reply {
    let (status, message) = match e {
        HeadError::TooLarge => (431, "Request header fields too large"),
        HeadError::Malformed => (400, "Could not read the request"),
        HeadError::BadFraming => (400, "Could not read the request body's framing"),
    };
    let body = DynamoError::Serialization(message.into()).to_json();
    reply(status, serde_json::to_vec(&body).unwrap_or_default(), "application/x-amz-json-1.0")
}

/// Answers a request whose body has been read.
pub(crate) async fn finish(shared: &Shared, req: &Request, target: BodyFor, body: Bytes) -> Reply {
    match target {
        BodyFor::Api => api(shared, req, body).await,
        BodyFor::Clock => advance_clock(shared, &body).await,
    }
}

async fn api(shared: &Shared, req: &Request, body: Bytes) -> Reply {
    let json_type = req.json_type;
    let region = match auth::scope(req.field(&req.head.authorization)) {
        Ok(s) => s.region.to_string(),
        Err(e) => return error_reply(&e, json_type),
    };
    let Some(op) = req.text(&req.head.target).and_then(Operation::from_target) else {
        return error_reply(&DynamoError::UnknownOperation, json_type);
    };
    let host = req.text(&req.head.host).unwrap_or("localhost").to_string();
    let ctx = RequestContext { account: shared.account.clone(), region, endpoint: host };
    let engine = shared.engine.clone();
    let run = move || {
        // PutItem's item, and the key of GetItem, UpdateItem and DeleteItem, are read
        // straight from the text when they are regular.
        if let Some((rest, member)) = Engine::parse_member(op, &body) {
            return engine.answer_parsed(&ctx, op, &rest, member);
        }
        let parsed = stator_protocol::Body::parse(&body)?;
        engine.answer_body(&ctx, op, &parsed)
    };
    // Operations that can block (`Engine::may_block`: catalog changes, PartiQL, item
    // writes while the durable store throttles writers) run on the bounded blocking
    // pool; the rest run in place, which saves two thread hand-offs per request. A
    // write's answer then waits for its group commit without holding a thread: the
    // store's sync thread completes the wait.
    let result = if shared.engine.may_block(op) {
        tokio::task::spawn_blocking(run).await.map_err(|join| join.to_string())
    } else {
        std::panic::catch_unwind(std::panic::AssertUnwindSafe(run)).map_err(|_| "panic".to_string())
    };
    let answer = match result {
        Ok(Ok(answer)) => answer,
        Ok(Err(e)) => return error_reply(&e, json_type),
        Err(panic) => return error_reply(&DynamoError::Internal(format!("operation panicked: {panic}")), json_type),
    };
    let outcome = if answer.is_pending() {
        let (tx, rx) = tokio::sync::oneshot::channel();
        answer.on_durable(move |r| {
            let _ = tx.send(r);
        });
        match rx.await {
            Ok(r) => r,
            Err(_) => Err(DynamoError::Internal("the store closed before the write was durable".into())),
        }
    } else {
        answer.wait()
    };
    match outcome {
        Ok(out) => reply(200, out.into_bytes(), json_type),
        Err(e) => error_reply(&e, json_type),
    }
}

/// The diagnostics endpoint: `GET /stator/stats` answers a flat JSON object of
/// counters (requests and connections in progress, the storage engine's memory and
/// disk use). Names may change between versions; for operators and soak runs.
const STATS_PATH: &str = "/stator/stats";

fn stats(shared: &Shared) -> String {
    let used = |sem: &tokio::sync::Semaphore, max: usize| max.max(1).saturating_sub(sem.available_permits()) as u64;
    let mut out = serde_json::Map::new();
    out.insert("connections".into(), used(&shared.connections, shared.limits.max_connections).into());
    out.insert("requests_in_flight".into(), used(&shared.in_flight, shared.limits.max_in_flight).into());
    for (name, v) in shared.engine.stats() {
        out.insert(name.into(), v.into());
    }
    serde_json::Value::Object(out).to_string()
}

/// The test-clock endpoint: only served with `--clock manual`.
const CLOCK_PATH: &str = "/stator/clock";

/// Largest body of a clock request.
const CLOCK_BODY: usize = 4096;

/// `GET /stator/clock` answers `{"now_ms": N}`; `POST` with `{"advance_ms": N}` moves
/// the manual clock forward, runs housekeeping to completion (TTL deletes, stream
/// trimming) and answers the new time.
async fn advance_clock(shared: &Shared, body: &[u8]) -> Reply {
    let json = "application/json";
    let engine = shared.engine.clone();
    let advance = serde_json::from_slice::<serde_json::Value>(body)
        .ok()
        .and_then(|v| v.get("advance_ms").and_then(serde_json::Value::as_u64));
    let Some(ms) = advance else {
        let body = serde_json::json!({ "error": "expected {\"advance_ms\": <non-negative integer>}" });
        return reply(400, body.to_string().into_bytes(), json);
    };
    match tokio::task::spawn_blocking(move || engine.advance_clock(ms)).await {
        Ok(Ok(Some(now))) => reply(200, serde_json::json!({ "now_ms": now }).to_string().into_bytes(), json),
        Ok(Ok(None)) => reply(400, br#"{"error":"the clock is not manual"}"#.to_vec(), json),
        Ok(Err(e)) => {
            tracing::error!(error = %e, "housekeeping after a clock advance failed");
            reply(500, br#"{"error":"housekeeping failed"}"#.to_vec(), json)
        }
        Err(_) => reply(500, br#"{"error":"housekeeping panicked"}"#.to_vec(), json),
    }
}

fn too_large() -> DynamoError {
    DynamoError::RequestEntityTooLarge(format!("Request payload size exceeds the limit of {MAX_BODY} bytes"))
}
