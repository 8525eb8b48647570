//! A connection: its requests in order (HTTP/1.1 persistence and pipelining), and its
//! idle check — one timer per period, not one per request.
//!
//! A connection is closed when a whole period passes in which it made no progress: no
//! request answered, none in flight, and no response bytes written (a slow client still
//! reading a large response is progressing; one that stopped reading is not). A client
//! that sends nothing, or trickles its headers without finishing them, is closed within
//! one to two periods. At shutdown a connection between requests closes at once; one
//! serving a request closes after its answer.

use std::future::Future;
use std::io::{self, IoSlice};
use std::sync::atomic::{AtomicBool, AtomicU32, AtomicU64, Ordering};
use std::sync::Arc;
use std::time::Duration;

use bytes::{Buf, Bytes, BytesMut};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;
use tokio::sync::watch;

use crate::http::{self, Begin, BodyError, Reply, Request, Shared, BODY_TIMEOUT};
use crate::http1::chunked::{ChunkError, Chunked};
use crate::http1::head::{self, Framing, Head, Method};
use crate::http1::response::{self, Fields, Persist};

/// What a connection has done, for its idle check ([`watch_idle`]).
#[derive(Default)]
pub(crate) struct Activity {
    /// Bumped by every answered request and every write that moved bytes.
    progress: AtomicU64,
    /// Requests being served.
    in_flight: AtomicU32,
    /// An answer being written (busy for shutdown; for the idle check only its bytes
    /// moving count, so a client that stops reading is closed).
    writing: AtomicBool,
    /// Set at shutdown while a request is served: the connection ends after its answer.
    closing: AtomicBool,
}

impl Activity {
    fn wrote(&self) {
        self.progress.fetch_add(1, Ordering::Relaxed);
    }
}

/// Counts a request in flight on its connection until dropped.
pub(crate) struct Serving(Arc<Activity>);

impl Serving {
    pub(crate) fn new(activity: &Arc<Activity>) -> Self {
        activity.in_flight.fetch_add(1, Ordering::Relaxed);
        Serving(activity.clone())
    }
}

impl Drop for Serving {
    fn drop(&mut self) {
        self.0.in_flight.fetch_sub(1, Ordering::Relaxed);
        self.0.progress.fetch_add(1, Ordering::Relaxed);
    }
}

/// Serves a client's connection until it ends, idles a whole period, or the server
/// stops (`stop` changes or closes).
pub(crate) async fn serve(stream: TcpStream, shared: Arc<Shared>, stop: watch::Receiver<bool>) {
    let idle = shared.limits.idle_timeout;
    let activity = Arc::new(Activity::default());
    let conn = Conn::new(stream, &activity);
    watch_idle(requests(conn, &shared, stop.clone()), &activity, idle, stop).await;
}

/// Runs a connection until it ends, a whole `idle` period passes without progress, or
/// `stop` changes (see the module's documentation).
pub(crate) async fn watch_idle<C: Future<Output = io::Result<()>>>(
    conn: C,
    activity: &Activity,
    idle: Duration,
    mut stop: watch::Receiver<bool>,
) {
    let mut conn = std::pin::pin!(conn);
    let mut seen = 0;
    let mut stopping = false;
    loop {
        tokio::select! {
            biased;
            ended = conn.as_mut() => {
                if let Err(e) = ended {
                    tracing::debug!(error = %e, "connection ended with an error");
                }
                return;
            }
            _ = stop.changed(), if !stopping => {
                stopping = true;
                if activity.in_flight.load(Ordering::Relaxed) == 0 && !activity.writing.load(Ordering::Relaxed) {
                    return;
                }
                activity.closing.store(true, Ordering::Relaxed);
            }
            _ = tokio::time::sleep(idle) => {
                let progress = activity.progress.load(Ordering::Relaxed);
                if progress == seen && activity.in_flight.load(Ordering::Relaxed) == 0 {
                    tracing::debug!("closing a connection without progress for {idle:?}");
                    return;
                }
                seen = progress;
            }
        }
    }
}

/// A connection beyond the bound: its first request head (within 5 s; readable or not)
/// gets `answer`, then the connection is closed; within 10 s in all.
pub(crate) async fn refuse(stream: TcpStream, answer: &Reply) {
    let activity = Arc::new(Activity::default());
    let mut conn = Conn::new(stream, &activity);
    let _ = tokio::time::timeout(Duration::from_secs(10), async {
        let head = tokio::time::timeout(Duration::from_secs(5), conn.head()).await;
        if let Ok(Ok(Some(parsed))) = head {
            let head_only = matches!(parsed, Ok(h) if h.method == Method::Head);
            conn.answer(answer, Persist::Close, head_only).await?;
        }
        conn.stream.shutdown().await
    })
    .await;
}

/// Bytes kept for reading before each read.
const READ_SPARE: usize = 4096;

/// A read buffer grown past this (a large body, many pipelined requests) is replaced
/// by a small one after the request: memory is held per request in flight, not per
/// connection.
const KEEP_BUFFER: usize = 64 * 1024;

/// A body up to this size is copied behind its head (one write of one buffer);
/// larger ones are written from where they are (one vectored write).
const COPY_BODY: usize = 16 * 1024;

/// A client's stream and its buffers.
struct Conn {
    stream: TcpStream,
    /// Received and not yet consumed.
    buf: BytesMut,
    /// A response head being written.
    out: Vec<u8>,
    activity: Arc<Activity>,
}

impl Conn {
    fn new(stream: TcpStream, activity: &Arc<Activity>) -> Self {
        Conn { stream, buf: BytesMut::with_capacity(8192), out: Vec::with_capacity(512), activity: activity.clone() }
    }

    /// Reads more of the stream into the buffer: `Ok(0)` at its end.
    async fn read_more(&mut self) -> io::Result<usize> {
        if self.buf.capacity() - self.buf.len() < READ_SPARE {
            self.buf.reserve(READ_SPARE.max(self.buf.len()));
        }
        self.stream.read_buf(&mut self.buf).await
    }

    /// The next request head: `None` when the client closed first, `Some(Err)` for a
    /// head that cannot be read.
    async fn head(&mut self) -> io::Result<Option<Result<Head, head::HeadError>>> {
        loop {
            if !self.buf.is_empty() {
                match head::parse(&self.buf) {
                    Ok(Some(h)) => return Ok(Some(Ok(h))),
                    Ok(None) => {}
                    Err(e) => return Ok(Some(Err(e))),
                }
            }
            if self.read_more().await? == 0 {
                return Ok(None);
            }
        }
    }

    /// Reads the body that `head` frames, at most `limit` bytes. Most bodies arrive
    /// with their heads: a timer is armed only for one that is still coming.
    async fn body(&mut self, head: &Head, limit: usize) -> Result<Bytes, BodyError> {
        match head.framing {
            Framing::None => Ok(Bytes::new()),
            Framing::Length(n) => {
                let n = usize::try_from(n).ok().filter(|&n| n <= limit).ok_or(BodyError::TooLarge)?;
                if self.buf.len() < n {
                    let rest = async {
                        if head.expect_continue {
                            self.write_all(response::CONTINUE).await.map_err(|_| BodyError::Closed)?;
                        }
                        while self.buf.len() < n {
                            // Grown as the bytes arrive, not from the declared length at once.
                            self.buf.reserve((n - self.buf.len()).min(1 << 20));
                            if self.stream.read_buf(&mut self.buf).await.map_err(|_| BodyError::Closed)? == 0 {
                                return Err(BodyError::Closed);
                            }
                        }
                        Ok(())
                    };
                    tokio::time::timeout(BODY_TIMEOUT, rest).await.map_err(|_| BodyError::TimedOut)??;
                }
                let body = self.buf.split_to(n).freeze();
                if n > KEEP_BUFFER {
                    // The body keeps its allocation alone: the connection's buffer must
                    // not reclaim it once the body is dropped.
                    self.buf = BytesMut::from(&self.buf[..]);
                }
                Ok(body)
            }
            Framing::Chunked => {
                let mut decoder = Chunked::new(limit);
                let mut out = Vec::new();
                if self.decode(&mut decoder, &mut out)? {
                    return Ok(Bytes::from(out));
                }
                let interim = head.expect_continue && self.buf.is_empty() && out.is_empty();
                let rest = async {
                    if interim {
                        self.write_all(response::CONTINUE).await.map_err(|_| BodyError::Closed)?;
                    }
                    loop {
                        if self.read_more().await.map_err(|_| BodyError::Closed)? == 0 {
                            return Err(BodyError::Closed);
                        }
                        if self.decode(&mut decoder, &mut out)? {
                            return Ok(());
                        }
                    }
                };
                tokio::time::timeout(BODY_TIMEOUT, rest).await.map_err(|_| BodyError::TimedOut)??;
                Ok(Bytes::from(out))
            }
        }
    }

    /// Decodes what the buffer holds of a chunked body: whether it is complete.
    fn decode(&mut self, decoder: &mut Chunked, out: &mut Vec<u8>) -> Result<bool, BodyError> {
        let (used, done) = decoder.feed(&self.buf, out).map_err(|e| match e {
            ChunkError::TooLarge => BodyError::TooLarge,
            ChunkError::Malformed => BodyError::Malformed,
        })?;
        self.buf.advance(used);
        Ok(done)
    }

    /// Writes an answer: its head, and its body unless `head_only`.
    async fn answer(&mut self, reply: &Reply, persist: Persist, head_only: bool) -> io::Result<()> {
        self.out.clear();
        let id = http::request_id();
        let fields = Fields {
            status: reply.status,
            content_type: reply.content_type,
            content_length: reply.body.len(),
            request_id: &id,
            crc32: crc32fast::hash(&reply.body),
            persist,
        };
        response::write_head(&mut self.out, &fields);
        let body: &[u8] = if head_only { &[] } else { &reply.body };
        if body.len() <= COPY_BODY {
            self.out.extend_from_slice(body);
            let out = std::mem::take(&mut self.out);
            let written = self.write_all(&out).await;
            self.out = out;
            return written;
        }
        let (mut head_at, mut body_at) = (0, 0);
        while head_at < self.out.len() {
            let n = self
                .stream
                .write_vectored(&[IoSlice::new(&self.out[head_at..]), IoSlice::new(&body[body_at..])])
                .await?;
            if n == 0 {
                return Err(io::ErrorKind::WriteZero.into());
            }
            self.activity.wrote();
            let from_head = n.min(self.out.len() - head_at);
            head_at += from_head;
            body_at += n - from_head;
        }
        self.write_all(&body[body_at..]).await
    }

    /// Writes all of `bytes`, each write counting as progress.
    async fn write_all(&mut self, mut bytes: &[u8]) -> io::Result<()> {
        while !bytes.is_empty() {
            let n = self.stream.write(bytes).await?;
            if n == 0 {
                return Err(io::ErrorKind::WriteZero.into());
            }
            self.activity.wrote();
            bytes = &bytes[n..];
        }
        Ok(())
    }
}

/// A connection's requests, answered in order until it ends.
///
/// `stop` is read here too, not only by [`watch_idle`]: a request and the shutdown can
/// become ready in the same wake-up, and the answer must then say the connection closes.
async fn requests(mut conn: Conn, shared: &Shared, stop: watch::Receiver<bool>) -> io::Result<()> {
    let closing = |conn: &Conn| conn.activity.closing.load(Ordering::Relaxed) || *stop.borrow();
    loop {
        let head = match conn.head().await? {
            None => return Ok(()),
            Some(Ok(head)) => head,
            Some(Err(e)) => {
                conn.answer(&http::head_error(e), Persist::Close, false).await?;
                return conn.stream.shutdown().await;
            }
        };
        // Counted from here: at shutdown the connection finishes this request.
        let serving = Serving::new(&conn.activity);
        let bytes = conn.buf.split_to(head.len).freeze();
        let req = Request::new(head, bytes);
        let mut keep = req.head.keep_alive;
        let reply = match http::begin(shared, &req) {
            Begin::Answer(reply) => {
                // The body is not read: skipped when it is all here, else the
                // connection ends after the answer.
                match req.head.framing {
                    Framing::None => {}
                    Framing::Length(n) if n <= conn.buf.len() as u64 => conn.buf.advance(n as usize),
                    _ => keep = false,
                }
                reply
            }
            Begin::Body { limit, target, permit } => {
                let reply = match conn.body(&req.head, limit).await {
                    Ok(body) => http::finish(shared, &req, target, body).await,
                    Err(BodyError::Closed) => return Ok(()),
                    Err(e) => {
                        keep = false;
                        http::body_error(&req, target, e)
                    }
                };
                drop(permit);
                reply
            }
        };
        // Answered: no longer in flight, and the answer's bytes are its progress.
        drop(serving);
        if closing(&conn) {
            keep = false;
        }
        let persist = match (keep, req.head.http10) {
            (false, _) => Persist::Close,
            (true, true) => Persist::KeepAlive,
            (true, false) => Persist::Default,
        };
        conn.activity.writing.store(true, Ordering::Relaxed);
        let written = conn.answer(&reply, persist, req.head.method == Method::Head).await;
        conn.activity.writing.store(false, Ordering::Relaxed);
        written?;
        // Shutdown may have begun while the answer was written.
        if !keep || closing(&conn) {
            return conn.stream.shutdown().await;
        }
        if conn.buf.capacity() > KEEP_BUFFER {
            conn.buf = BytesMut::from(&conn.buf[..]);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Instant;

    const IDLE: Duration = Duration::from_millis(300);

    /// A stand-in for a connection: ends after `lasts`, making `progress` every `every`
    /// (by writing to its client) if given.
    async fn run(lasts: Duration, every: Option<Duration>) -> Duration {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        let client = tokio::spawn(async move {
            let mut c = TcpStream::connect(addr).await.unwrap();
            let mut sink = Vec::new();
            let _ = c.read_to_end(&mut sink).await;
        });
        let (server, _) = listener.accept().await.unwrap();
        let activity = Arc::new(Activity::default());
        let mut conn = Conn::new(server, &activity);
        let work = async move {
            let end = Instant::now() + lasts;
            while Instant::now() < end {
                match every {
                    Some(every) => {
                        tokio::time::sleep(every).await;
                        conn.write_all(b"x").await?;
                    }
                    None => tokio::time::sleep(end - Instant::now()).await,
                }
            }
            Ok(())
        };
        let (_stop, stopped) = watch::channel(false);
        let started = Instant::now();
        watch_idle(work, &activity, IDLE, stopped).await;
        let took = started.elapsed();
        client.abort();
        took
    }

    #[tokio::test]
    async fn a_connection_without_progress_is_closed_within_two_periods() {
        let took = run(Duration::from_secs(3), None).await;
        assert!(took >= IDLE && took < 3 * IDLE, "closed after {took:?}");
    }

    #[tokio::test]
    async fn writes_count_as_progress() {
        // Response bytes trickling out (a slow reader) keep the connection open.
        let took = run(Duration::from_millis(1500), Some(IDLE / 6)).await;
        assert!(took >= Duration::from_millis(1500), "closed after {took:?}");
    }

    #[tokio::test]
    async fn a_request_in_flight_keeps_the_connection_open() {
        let activity = Arc::new(Activity::default());
        let serving = Serving::new(&activity);
        let (_stop, stopped) = watch::channel(false);
        let started = Instant::now();
        watch_idle(open_for(5 * IDLE), &activity, IDLE, stopped).await;
        assert!(started.elapsed() >= 5 * IDLE);
        drop(serving);
        assert_eq!(activity.in_flight.load(Ordering::Relaxed), 0);
        assert_eq!(activity.progress.load(Ordering::Relaxed), 1);
    }

    #[tokio::test]
    async fn stopping_ends_an_idle_connection_at_once_and_a_busy_one_after_its_answer() {
        let long = Duration::from_secs(30);
        // Idle: ends as soon as the stop is signalled.
        let activity = Arc::new(Activity::default());
        let (stop, stopped) = watch::channel(false);
        let signal = async {
            tokio::time::sleep(IDLE).await;
            let _ = stop.send(true);
        };
        let started = Instant::now();
        tokio::join!(watch_idle(open_for(long), &activity, long, stopped), signal);
        assert!(started.elapsed() < 2 * IDLE, "{:?}", started.elapsed());
        // Busy: told to close, and runs to its end.
        let serving = Serving::new(&activity);
        let (stop, stopped) = watch::channel(false);
        let signal = async {
            tokio::time::sleep(IDLE / 3).await;
            let _ = stop.send(true);
        };
        let started = Instant::now();
        tokio::join!(watch_idle(open_for(IDLE), &activity, long, stopped), signal);
        assert!(started.elapsed() >= IDLE);
        assert!(activity.closing.load(Ordering::Relaxed));
        drop(serving);
    }

    #[tokio::test]
    async fn a_request_answered_after_the_stop_says_the_connection_closes() {
        // The stop and a request can become ready in one wake-up, before the idle
        // watch has seen the stop: the request loop reads the stop itself.
        let limits = http::Limits { max_connections: 4, max_in_flight: 4, idle_timeout: Duration::from_secs(30) };
        let shared = Shared::in_memory(limits);
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let mut client = TcpStream::connect(listener.local_addr().unwrap()).await.unwrap();
        let (server, _) = listener.accept().await.unwrap();
        let activity = Arc::new(Activity::default());
        let (stop, stopped) = watch::channel(false);
        stop.send(true).unwrap();
        let serving = tokio::spawn(async move { requests(Conn::new(server, &activity), &shared, stopped).await });
        client.write_all(b"GET / HTTP/1.1\r\n\r\n").await.unwrap();
        let mut answer = Vec::new();
        let ended = tokio::time::timeout(Duration::from_secs(5), client.read_to_end(&mut answer)).await;
        let answer = String::from_utf8(answer).unwrap();
        assert!(ended.is_ok(), "the connection stays open after {answer:?}");
        assert!(answer.starts_with("HTTP/1.1 200 "), "{answer}");
        assert!(answer.to_ascii_lowercase().contains("\r\nconnection: close\r\n"), "{answer}");
        serving.await.unwrap().unwrap();
        drop(stop);
    }

    async fn open_for(d: Duration) -> io::Result<()> {
        tokio::time::sleep(d).await;
        Ok(())
    }
}
