//! The HTTP/1.1 server: one POST endpoint for the DynamoDB API, a GET health answer,
//! body size limits, request ids and CRC32 checksums, graceful shutdown.

use std::convert::Infallible;
use std::future::Future;
use std::sync::Arc;
use std::task::Poll;
use std::time::Duration;

use bytes::Bytes;
use http_body_util::{BodyExt, Full, Limited};
use hyper::body::Incoming;
use hyper::header::{HeaderName, HeaderValue, AUTHORIZATION, CONTENT_LENGTH, CONTENT_TYPE, HOST};
use hyper::{Method, Request, Response, StatusCode};
use hyper_util::rt::{TokioIo, TokioTimer};
use hyper_util::server::graceful::GracefulShutdown;
use stator_engine::{Engine, RequestContext};
use stator_protocol::{DynamoError, Operation};

use crate::auth;
use crate::connection::{serve, Activity, Counted, Serving};

/// Largest request body accepted (DynamoDB's request limit is 16 MB).
pub const MAX_BODY: usize = 16 * 1024 * 1024;

/// Header names, parsed once (a name given as a string is parsed on every use).
const X_AMZ_TARGET: HeaderName = HeaderName::from_static("x-amz-target");
const X_AMZN_REQUESTID: HeaderName = HeaderName::from_static("x-amzn-requestid");
const X_AMZ_CRC32: HeaderName = HeaderName::from_static("x-amz-crc32");

/// Longest wait for a request body once its headers arrived.
const BODY_TIMEOUT: Duration = Duration::from_secs(30);

struct Shared {
    engine: Arc<Engine>,
    account: String,
    /// Requests being served; beyond the bound, ThrottlingException.
    in_flight: Arc<tokio::sync::Semaphore>,
    limits: Limits,
    /// Open connections (permits held).
    connections: Arc<tokio::sync::Semaphore>,
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

/// Serves connections until SIGINT/SIGTERM, then lets in-flight requests finish
/// (up to 10 s).
pub async fn run(listener: tokio::net::TcpListener, engine: Arc<Engine>, account: String, limits: Limits) {
    let in_flight = Arc::new(tokio::sync::Semaphore::new(limits.max_in_flight.max(1)));
    let connections = Arc::new(tokio::sync::Semaphore::new(limits.max_connections.max(1)));
    let shared = Arc::new(Shared { engine, account, in_flight, limits, connections: connections.clone() });
    let refusals = Arc::new(tokio::sync::Semaphore::new(MAX_REFUSALS));
    let graceful = GracefulShutdown::new();
    let mut shutdown = std::pin::pin!(shutdown_signal());
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
                            refuse(stream).await;
                            drop(refusing);
                        });
                    }
                    continue;
                };
                let idle = shared.limits.idle_timeout;
                let shared = shared.clone();
                let activity = Arc::new(Activity::default());
                let counted = activity.clone();
                let service = hyper::service::service_fn(move |req| {
                    let shared = shared.clone();
                    let serving = Serving::new(&counted);
                    async move {
                        let response = handle(shared, req).await;
                        drop(serving);
                        Ok::<_, Infallible>(response)
                    }
                });
                let conn = hyper::server::conn::http1::Builder::new()
                    // A client that sent its request and shut its side still gets the answer.
                    .half_close(true)
                    // Idle and stalled connections are closed by `connection::serve`.
                    .header_read_timeout(None)
                    .serve_connection(TokioIo::new(Counted::new(stream, &activity)), service);
                let conn = graceful.watch(conn);
                tokio::spawn(async move {
                    serve(conn, &activity, idle).await;
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
    tokio::select! {
        _ = graceful.shutdown() => {}
        _ = tokio::time::sleep(Duration::from_secs(10)) => {
            tracing::warn!("requests still in flight after 10 s; stopping anyway");
        }
    }
}

/// A connection beyond the bound: one ThrottlingException answer, then closed.
async fn refuse(stream: tokio::net::TcpStream) {
    let service = hyper::service::service_fn(|_req| async {
        let mut resp = error_response(&throttled(), "application/x-amz-json-1.0");
        resp.headers_mut().insert(hyper::header::CONNECTION, HeaderValue::from_static("close"));
        Ok::<_, Infallible>(resp)
    });
    let conn = hyper::server::conn::http1::Builder::new()
        .keep_alive(false)
        .timer(TokioTimer::new())
        .header_read_timeout(Duration::from_secs(5))
        .serve_connection(TokioIo::new(stream), service);
    let _ = tokio::time::timeout(Duration::from_secs(10), conn).await;
}

async fn shutdown_signal() {
    let ctrl_c = tokio::signal::ctrl_c();
    #[cfg(unix)]
    {
        let mut term = match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(t) => t,
            Err(_) => {
                let _ = ctrl_c.await;
                return;
            }
        };
        tokio::select! {
            _ = ctrl_c => {}
            _ = term.recv() => {}
        }
    }
    #[cfg(not(unix))]
    {
        let _ = ctrl_c.await;
    }
}

/// A request id shaped like DynamoDB's (52 upper-case alphanumerics): a per-process
/// random prefix and a counter, so that no request pays for a random-number syscall.
fn request_id() -> HeaderValue {
    use std::sync::atomic::{AtomicU64, Ordering};
    use std::sync::OnceLock;
    static PREFIX: OnceLock<String> = OnceLock::new();
    static COUNTER: AtomicU64 = AtomicU64::new(0);
    let prefix = PREFIX.get_or_init(|| uuid::Uuid::new_v4().simple().to_string().to_uppercase());
    let mut n = COUNTER.fetch_add(1, Ordering::Relaxed);
    let mut tail = [b'0'; 20];
    for slot in tail.iter_mut().rev() {
        let d = (n % 36) as u8;
        *slot = if d < 10 { b'0' + d } else { b'A' + d - 10 };
        n /= 36;
    }
    let mut id = [b'0'; 52];
    id[..32].copy_from_slice(&prefix.as_bytes()[..32]);
    id[32..].copy_from_slice(&tail);
    // Upper-case hex and base-36 digits: always a valid header value.
    HeaderValue::from_bytes(&id)
        .unwrap_or(HeaderValue::from_static("0000000000000000000000000000000000000000000000000000"))
}

fn respond(status: u16, body: Vec<u8>, content_type: &'static str) -> Response<Full<Bytes>> {
    let crc = crc32fast::hash(&body);
    let mut resp = Response::new(Full::new(Bytes::from(body)));
    *resp.status_mut() = StatusCode::from_u16(status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
    let h = resp.headers_mut();
    h.insert(CONTENT_TYPE, HeaderValue::from_static(content_type));
    h.insert(X_AMZN_REQUESTID, request_id());
    h.insert(X_AMZ_CRC32, HeaderValue::from(crc));
    resp
}

fn error_response(e: &DynamoError, content_type: &'static str) -> Response<Full<Bytes>> {
    if let DynamoError::Internal(detail) = e {
        tracing::error!(detail, "internal error");
    }
    respond(e.http_status(), serde_json::to_vec(&e.to_json()).unwrap_or_default(), content_type)
}

async fn handle(shared: Arc<Shared>, req: Request<Incoming>) -> Response<Full<Bytes>> {
    let json_type = match req.headers().get(CONTENT_TYPE).and_then(|v| v.to_str().ok()) {
        Some(t) if t.starts_with("application/x-amz-json-1.1") => "application/x-amz-json-1.1",
        _ => "application/x-amz-json-1.0",
    };
    if req.uri().path() == CLOCK_PATH && shared.engine.clock().is_manual() {
        return clock_endpoint(&shared, req).await;
    }
    if req.method() == Method::GET && req.uri().path() == STATS_PATH {
        return respond(200, stats(&shared).into_bytes(), "application/json");
    }
    if req.method() == Method::GET || req.method() == Method::HEAD {
        return respond(200, b"healthy: stator".to_vec(), "text/plain");
    }
    if req.method() != Method::POST {
        return error_response(&DynamoError::UnknownOperation, json_type);
    }
    // Held until the answer is ready: bounds the bodies and work in memory at once.
    let Ok(_permit) = shared.in_flight.clone().try_acquire_owned() else {
        return error_response(&throttled(), json_type);
    };
    let declared =
        req.headers().get(CONTENT_LENGTH).and_then(|v| v.to_str().ok()).and_then(|v| v.parse::<usize>().ok());
    if declared.is_some_and(|n| n > MAX_BODY) {
        return error_response(&too_large(), json_type);
    }
    let headers = req.headers();
    let region = auth::scope(headers.get(AUTHORIZATION).and_then(|v| auth::header_text(v.as_bytes())))
        .map(|s| s.region.to_string());
    let op = headers.get(X_AMZ_TARGET).and_then(|v| v.to_str().ok()).and_then(Operation::from_target);
    let host = headers.get(HOST).and_then(|v| v.to_str().ok()).unwrap_or("localhost").to_string();
    // A body that stops arriving must not hold its in-flight slot forever. Most bodies
    // arrive with their headers: a timer is armed only for one that is still coming.
    let mut collect = std::pin::pin!(Limited::new(req.into_body(), MAX_BODY).collect());
    let body = match std::future::poll_fn(|cx| Poll::Ready(collect.as_mut().poll(cx))).await {
        Poll::Ready(read) => Ok(read),
        Poll::Pending => tokio::time::timeout(BODY_TIMEOUT, collect).await,
    };
    let Ok(body) = body else {
        return error_response(&DynamoError::Serialization("Timed out reading the request body".into()), json_type);
    };
    let body = match body {
        Ok(b) => b.to_bytes(),
        Err(e) if e.downcast_ref::<http_body_util::LengthLimitError>().is_some() => {
            return error_response(&too_large(), json_type)
        }
        Err(_) => {
            return error_response(&DynamoError::Serialization("Could not read the request body".into()), json_type)
        }
    };
    let region = match region {
        Ok(r) => r,
        Err(e) => return error_response(&e, json_type),
    };
    let Some(op) = op else {
        return error_response(&DynamoError::UnknownOperation, json_type);
    };
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
        Ok(Err(e)) => return error_response(&e, json_type),
        Err(panic) => return error_response(&DynamoError::Internal(format!("operation panicked: {panic}")), json_type),
    };
    let reply = if answer.is_pending() {
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
    match reply {
        Ok(reply) => respond(200, reply.into_bytes(), json_type),
        Err(e) => error_response(&e, json_type),
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

/// `GET /stator/clock` answers `{"now_ms": N}`; `POST` with `{"advance_ms": N}` moves
/// the manual clock forward, runs housekeeping to completion (TTL deletes, stream
/// trimming) and answers the new time.
async fn clock_endpoint(shared: &Arc<Shared>, req: Request<Incoming>) -> Response<Full<Bytes>> {
    let json = "application/json";
    let engine = shared.engine.clone();
    if req.method() != Method::POST {
        let body = serde_json::json!({ "now_ms": engine.clock().now_ms() });
        return respond(200, body.to_string().into_bytes(), json);
    }
    let body = match Limited::new(req.into_body(), 4096).collect().await {
        Ok(b) => b.to_bytes(),
        Err(_) => return respond(400, br#"{"error":"body too large"}"#.to_vec(), json),
    };
    let advance = serde_json::from_slice::<serde_json::Value>(&body)
        .ok()
        .and_then(|v| v.get("advance_ms").and_then(serde_json::Value::as_u64));
    let Some(ms) = advance else {
        let body = serde_json::json!({ "error": "expected {\"advance_ms\": <non-negative integer>}" });
        return respond(400, body.to_string().into_bytes(), json);
    };
    match tokio::task::spawn_blocking(move || engine.advance_clock(ms)).await {
        Ok(Ok(Some(now))) => respond(200, serde_json::json!({ "now_ms": now }).to_string().into_bytes(), json),
        Ok(Ok(None)) => respond(400, br#"{"error":"the clock is not manual"}"#.to_vec(), json),
        Ok(Err(e)) => {
            tracing::error!(error = %e, "housekeeping after a clock advance failed");
            respond(500, br#"{"error":"housekeeping failed"}"#.to_vec(), json)
        }
        Err(_) => respond(500, br#"{"error":"housekeeping panicked"}"#.to_vec(), json),
    }
}

fn too_large() -> DynamoError {
    DynamoError::RequestEntityTooLarge(format!("Request payload size exceeds the limit of {MAX_BODY} bytes"))
}
