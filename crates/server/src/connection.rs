//! A connection's idle check: one timer per period, not one per request (hyper's
//! header-read timeout arms, registers and drops a timer for every request).
//!
//! A connection is closed when a whole period passes in which it made no progress: no
//! request answered, none in flight, and no response bytes written (a slow client still
//! reading a large response is progressing). A client that sends nothing, or trickles
//! its headers without finishing them, is closed within one to two periods.

use std::future::Future;
use std::io;
use std::pin::Pin;
use std::sync::atomic::{AtomicU32, AtomicU64, Ordering};
use std::sync::Arc;
use std::task::{Context, Poll};
use std::time::Duration;

use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};
use tokio::net::TcpStream;

/// What a connection has done, for its idle check ([`serve`]).
#[derive(Default)]
pub(crate) struct Activity {
    /// Bumped by every answered request and every write that moved bytes.
    progress: AtomicU64,
    /// Requests being served.
    in_flight: AtomicU32,
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

/// A client's stream whose writes count as progress.
pub(crate) struct Counted {
    stream: TcpStream,
    activity: Arc<Activity>,
}

impl Counted {
    pub(crate) fn new(stream: TcpStream, activity: &Arc<Activity>) -> Self {
        Counted { stream, activity: activity.clone() }
    }

    fn wrote(&self, written: &Poll<io::Result<usize>>) {
        if matches!(written, Poll::Ready(Ok(n)) if *n > 0) {
            self.activity.progress.fetch_add(1, Ordering::Relaxed);
        }
    }
}

impl AsyncRead for Counted {
    fn poll_read(mut self: Pin<&mut Self>, cx: &mut Context<'_>, buf: &mut ReadBuf<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.stream).poll_read(cx, buf)
    }
}

impl AsyncWrite for Counted {
    fn poll_write(mut self: Pin<&mut Self>, cx: &mut Context<'_>, buf: &[u8]) -> Poll<io::Result<usize>> {
        let written = Pin::new(&mut self.stream).poll_write(cx, buf);
        self.wrote(&written);
        written
    }

    fn poll_write_vectored(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        bufs: &[io::IoSlice<'_>],
    ) -> Poll<io::Result<usize>> {
        let written = Pin::new(&mut self.stream).poll_write_vectored(cx, bufs);
        self.wrote(&written);
        written
    }

    fn is_write_vectored(&self) -> bool {
        self.stream.is_write_vectored()
    }

    fn poll_flush(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.stream).poll_flush(cx)
    }

    fn poll_shutdown(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.stream).poll_shutdown(cx)
    }
}

/// Runs a connection until it ends, or until a whole `idle` period passes without
/// progress (see the module's documentation).
pub(crate) async fn serve<C: Future<Output = Result<(), hyper::Error>>>(conn: C, activity: &Activity, idle: Duration) {
    let mut conn = std::pin::pin!(conn);
    let mut seen = 0;
    loop {
        tokio::select! {
            biased;
            ended = conn.as_mut() => {
                if let Err(e) = ended {
                    tracing::debug!(error = %e, "connection ended with an error");
                }
                return;
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

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Instant;
    use tokio::io::{AsyncReadExt, AsyncWriteExt};

    const IDLE: Duration = Duration::from_millis(300);

    /// A stand-in for a connection: ends after `lasts`, making `progress` every `every`
    /// (by writing through a `Counted` stream) if given.
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
        let mut stream = Counted::new(server, &activity);
        let conn = async move {
            let end = Instant::now() + lasts;
            while Instant::now() < end {
                match every {
                    Some(every) => {
                        tokio::time::sleep(every).await;
                        stream.write_all(b"x").await.unwrap();
                    }
                    None => tokio::time::sleep(end - Instant::now()).await,
                }
            }
            Ok::<(), hyper::Error>(())
        };
        let started = Instant::now();
        serve(conn, &activity, IDLE).await;
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
        let started = Instant::now();
        serve(open_for(5 * IDLE), &activity, IDLE).await;
        assert!(started.elapsed() >= 5 * IDLE);
        drop(serving);
        assert_eq!(activity.in_flight.load(Ordering::Relaxed), 0);
        assert_eq!(activity.progress.load(Ordering::Relaxed), 1);
    }

    async fn open_for(d: Duration) -> Result<(), hyper::Error> {
        tokio::time::sleep(d).await;
        Ok(())
    }
}
