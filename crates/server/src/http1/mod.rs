//! HTTP/1.1 as the server speaks it (ADR 0014): request heads parsed by httparse into
//! the few fields the server reads, Content-Length and chunked bodies, persistent
//! connections and pipelining, `Expect: 100-continue`, and response heads written
//! into a reused buffer. Pure and synchronous; the connection loop that drives it is
//! `connection.rs`.

pub mod chunked;
pub mod head;
pub mod response;
