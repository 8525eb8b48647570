//! Request heads (RFC 9112 §2–3, §6–7, §9): the request line and header fields,
//! tokenized by httparse. The few fields the server reads are kept as ranges into the
//! head's bytes, so parsing allocates nothing; framing (Content-Length or chunked),
//! persistence (`Connection`, the HTTP version) and `Expect: 100-continue` are decided
//! here, once, for the connection loop.

use std::ops::Range;

/// Largest request head (request line and header fields) accepted.
pub const MAX_HEAD: usize = 64 * 1024;

/// Most header fields accepted in one request.
pub const MAX_HEADERS: usize = 100;

/// The request method, as far as the server tells methods apart.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Method {
    /// `GET`
    Get,
    /// `HEAD`
    Head,
    /// `POST`
    Post,
    /// Any other token.
    Other,
}

/// How the request's body is delimited (RFC 9112 §6.3).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Framing {
    /// No body.
    None,
    /// `Content-Length` bytes.
    Length(u64),
    /// `Transfer-Encoding: chunked`.
    Chunked,
}

/// A parsed request head. Ranges index the bytes it was parsed from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Head {
    /// Bytes of the head, its final empty line included.
    pub len: usize,
    /// The method.
    pub method: Method,
    /// The request target's path (no query; the authority of an absolute form dropped,
    /// so empty for `http://host`).
    pub path: Range<usize>,
    /// An HTTP/1.0 request.
    pub http10: bool,
    /// The body's framing.
    pub framing: Framing,
    /// Whether the connection may carry another request after this one.
    pub keep_alive: bool,
    /// `Expect: 100-continue` on an HTTP/1.1 request.
    pub expect_continue: bool,
    /// `Content-Type` (the first).
    pub content_type: Option<Range<usize>>,
    /// `Authorization` (the first).
    pub authorization: Option<Range<usize>>,
    /// `X-Amz-Target` (the first).
    pub target: Option<Range<usize>>,
    /// `Host` (the first).
    pub host: Option<Range<usize>>,
}

/// Why a head was refused. The connection is answered, then closed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum HeadError {
    /// Over [`MAX_HEAD`] bytes or [`MAX_HEADERS`] fields (431).
    TooLarge,
    /// Not an HTTP/1.x request head (400).
    Malformed,
    /// A `Content-Length` that is not a number, or differs from another; a transfer
    /// coding other than chunked; chunked on HTTP/1.0 (400).
    BadFraming,
}

/// Parses the head at the start of `buf`: `Ok(None)` while it is incomplete.
pub fn parse(buf: &[u8]) -> Result<Option<Head>, HeadError> {
    // Left uninitialized: httparse writes the fields it finds.
    let mut fields = [const { std::mem::MaybeUninit::<httparse::Header<'_>>::uninit() }; MAX_HEADERS];
    let mut req = httparse::Request::new(&mut []);
    let len = match req.parse_with_uninit_headers(buf, &mut fields) {
        Ok(httparse::Status::Complete(n)) if n <= MAX_HEAD => n,
        Ok(httparse::Status::Complete(_)) => return Err(HeadError::TooLarge),
        Ok(httparse::Status::Partial) if buf.len() >= MAX_HEAD => return Err(HeadError::TooLarge),
        Ok(httparse::Status::Partial) => return Ok(None),
        Err(httparse::Error::TooManyHeaders) => return Err(HeadError::TooLarge),
        Err(_) => return Err(HeadError::Malformed),
    };
    let at = |s: &[u8]| {
        let start = s.as_ptr() as usize - buf.as_ptr() as usize;
        start..start + s.len()
    };
    let method = match req.method {
        Some("GET") => Method::Get,
        Some("HEAD") => Method::Head,
        Some("POST") => Method::Post,
        Some(_) => Method::Other,
        None => return Err(HeadError::Malformed),
    };
    let http10 = req.version == Some(0);
    let path = at(path_of(req.path.ok_or(HeadError::Malformed)?.as_bytes()));
    let mut head = Head {
        len,
        method,
        path,
        http10,
        framing: Framing::None,
        // Decided from the Connection fields below.
        keep_alive: false,
        expect_continue: false,
        content_type: None,
        authorization: None,
        target: None,
        host: None,
    };
    let mut length: Option<u64> = None;
    let (mut close, mut keep_alive_10) = (false, false);
    let mut codings = false;
    let mut chunked_last = false;
    let mut coded = false;
    for field in req.headers.iter() {
        let name = field.name.as_bytes();
        let value = trim(field.value);
        let first = |slot: &mut Option<Range<usize>>| {
            if slot.is_none() {
                *slot = Some(at(value));
            }
        };
        // By length first: most fields are none of these, and are passed over after
        // one comparison.
        let is = |known: &[u8]| name.eq_ignore_ascii_case(known);
        match name.len() {
            14 if is(b"content-length") => {
                // One value, or a list of equal values (RFC 9110 §8.6); all fields agree.
                for part in value.split(|&b| b == b',') {
                    let n = decimal(trim(part)).ok_or(HeadError::BadFraming)?;
                    if length.is_some_and(|m| m != n) {
                        return Err(HeadError::BadFraming);
                    }
                    length = Some(n);
                }
            }
            17 if is(b"transfer-encoding") => {
                coded = true;
                for coding in value.split(|&b| b == b',').map(trim).filter(|c| !c.is_empty()) {
                    // Only chunked is understood, and it must come last (RFC 9112 §6.1).
                    if codings || !coding.eq_ignore_ascii_case(b"chunked") {
                        return Err(HeadError::BadFraming);
                    }
                    codings = true;
                    chunked_last = true;
                }
            }
            10 if is(b"connection") => {
                for token in value.split(|&b| b == b',').map(trim) {
                    close |= token.eq_ignore_ascii_case(b"close");
                    keep_alive_10 |= token.eq_ignore_ascii_case(b"keep-alive");
                }
            }
            6 if is(b"expect") => head.expect_continue = !http10 && value.eq_ignore_ascii_case(b"100-continue"),
            12 if is(b"content-type") => first(&mut head.content_type),
            13 if is(b"authorization") => first(&mut head.authorization),
            12 if is(b"x-amz-target") => first(&mut head.target),
            4 if is(b"host") => first(&mut head.host),
            _ => {}
        }
    }
    // A close anywhere wins; HTTP/1.0 persists only when asked to.
    head.keep_alive = !close && (!http10 || keep_alive_10);
    // A Transfer-Encoding field naming no coding frames nothing: refused rather than
    // guessed at.
    if coded && !codings {
        return Err(HeadError::BadFraming);
    }
    head.framing = if codings {
        if http10 || !chunked_last {
            return Err(HeadError::BadFraming);
        }
        // Both framings: chunked wins, and the connection is not reused (§6.3).
        if length.is_some() {
            head.keep_alive = false;
        }
        Framing::Chunked
    } else {
        match length {
            Some(0) | None => Framing::None,
            Some(n) => Framing::Length(n),
        }
    };
    Ok(Some(head))
}

/// The path of a request target: origin form up to its query; the path of an
/// absolute form (`http://host/path?q`; empty for the root); anything else as it is.
/// Always a part of `target` (the head's ranges index its buffer).
fn path_of(target: &[u8]) -> &[u8] {
    let mut t = target;
    for scheme in [&b"http://"[..], &b"https://"[..]] {
        if t.len() >= scheme.len() && t[..scheme.len()].eq_ignore_ascii_case(scheme) {
            let rest = &t[scheme.len()..];
            // No path: an empty one at the end of the authority (the root).
            t = match rest.iter().position(|&b| b == b'/' || b == b'?') {
                Some(i) if rest[i] == b'/' => &rest[i..],
                Some(i) => &rest[i..i],
                None => &rest[rest.len()..],
            };
            break;
        }
    }
    match t.iter().position(|&b| b == b'?') {
        Some(i) => &t[..i],
        None => t,
    }
}

fn trim(s: &[u8]) -> &[u8] {
    let start = s.iter().position(|&b| b != b' ' && b != b'\t').unwrap_or(s.len());
    let end = s.iter().rposition(|&b| b != b' ' && b != b'\t').map_or(start, |i| i + 1);
    &s[start..end.max(start)]
}

/// `1*DIGIT` as a number; `None` when empty, not all digits, or too large.
fn decimal(s: &[u8]) -> Option<u64> {
    if s.is_empty() || s.len() > 19 {
        return None;
    }
    s.iter().try_fold(0u64, |n, &b| b.is_ascii_digit().then(|| n * 10 + u64::from(b - b'0')))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn head(text: &str) -> Result<Option<Head>, HeadError> {
        parse(text.as_bytes())
    }

    fn complete(text: &str) -> Head {
        head(text).unwrap().unwrap()
    }

    fn field<'a>(text: &'a str, r: &Option<Range<usize>>) -> Option<&'a str> {
        r.clone().map(|r| &text[r])
    }

    #[test]
    fn reads_what_the_server_needs() {
        let t = "POST /?x=1 HTTP/1.1\r\nhost: localhost:8000\r\nX-AMZ-TARGET:  DynamoDB_20120810.ListTables \r\n\
                 Content-Type: application/x-amz-json-1.0\r\nAuthorization: AWS4-HMAC-SHA256 a\r\n\
                 X-Amz-Target: second\r\nContent-Length: 2\r\n\r\n{}";
        let h = complete(t);
        assert_eq!(h.len, t.len() - 2);
        assert_eq!(h.method, Method::Post);
        assert_eq!(&t[h.path.clone()], "/");
        assert_eq!(field(t, &h.target), Some("DynamoDB_20120810.ListTables"));
        assert_eq!(field(t, &h.content_type), Some("application/x-amz-json-1.0"));
        assert_eq!(field(t, &h.authorization), Some("AWS4-HMAC-SHA256 a"));
        assert_eq!(field(t, &h.host), Some("localhost:8000"));
        assert_eq!(h.framing, Framing::Length(2));
        assert!(h.keep_alive && !h.http10 && !h.expect_continue);
    }

    #[test]
    fn incomplete_heads_wait_for_more() {
        let t = "POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 2\r\n\r\n";
        for cut in 0..t.len() {
            assert_eq!(head(&t[..cut]), Ok(None), "{cut}");
        }
        assert!(head(t).unwrap().is_some());
    }

    #[test]
    fn framing() {
        let h = |extra: &str| head(&format!("POST / HTTP/1.1\r\nHost: x\r\n{extra}\r\n"));
        assert_eq!(h("").unwrap().unwrap().framing, Framing::None);
        assert_eq!(h("Content-Length: 0\r\n").unwrap().unwrap().framing, Framing::None);
        assert_eq!(h("Content-Length: 17\r\nContent-Length: 17\r\n").unwrap().unwrap().framing, Framing::Length(17));
        assert_eq!(h("Content-Length: 17, 17\r\n").unwrap().unwrap().framing, Framing::Length(17));
        assert_eq!(h("Transfer-Encoding: Chunked\r\n").unwrap().unwrap().framing, Framing::Chunked);
        let both = h("Content-Length: 5\r\nTransfer-Encoding: chunked\r\n").unwrap().unwrap();
        assert_eq!(both.framing, Framing::Chunked);
        assert!(!both.keep_alive);
        for bad in [
            "Content-Length: -1\r\n",
            "Content-Length: +1\r\n",
            "Content-Length: 1 2\r\n",
            "Content-Length: \r\n",
            "Content-Length: 0x10\r\n",
            "Content-Length: 99999999999999999999\r\n",
            "Content-Length: 1\r\nContent-Length: 2\r\n",
            "Content-Length: 1, 2\r\n",
            "Transfer-Encoding: gzip\r\n",
            "Transfer-Encoding: chunked, gzip\r\n",
            "Transfer-Encoding: chunked\r\nTransfer-Encoding: chunked\r\n",
            "Transfer-Encoding: ,\r\nContent-Length: 5\r\n",
            "Transfer-Encoding: \r\n",
        ] {
            assert_eq!(h(bad), Err(HeadError::BadFraming), "{bad}");
        }
        assert_eq!(head("POST / HTTP/1.0\r\nTransfer-Encoding: chunked\r\n\r\n"), Err(HeadError::BadFraming));
    }

    #[test]
    fn persistence_and_expectations() {
        assert!(complete("GET / HTTP/1.1\r\n\r\n").keep_alive);
        assert!(!complete("GET / HTTP/1.1\r\nConnection: close\r\n\r\n").keep_alive);
        assert!(!complete("GET / HTTP/1.1\r\nConnection: Keep-Alive, Close\r\n\r\n").keep_alive);
        let old = complete("GET / HTTP/1.0\r\n\r\n");
        assert!(old.http10 && !old.keep_alive);
        assert!(complete("GET / HTTP/1.0\r\nConnection: keep-alive\r\n\r\n").keep_alive);
        assert!(!complete("GET / HTTP/1.0\r\nConnection: close\r\nConnection: keep-alive\r\n\r\n").keep_alive);
        assert!(complete("POST / HTTP/1.1\r\nExpect: 100-Continue\r\n\r\n").expect_continue);
        assert!(!complete("POST / HTTP/1.0\r\nExpect: 100-continue\r\n\r\n").expect_continue);
    }

    #[test]
    fn methods_and_paths() {
        let cases = [
            ("GET /stator/stats HTTP/1.1", Method::Get, "/stator/stats"),
            ("HEAD / HTTP/1.1", Method::Head, "/"),
            ("PUT /a?b HTTP/1.1", Method::Other, "/a"),
            ("POST http://localhost:8000/stator/clock?x HTTP/1.1", Method::Post, "/stator/clock"),
            ("POST HTTP://h HTTP/1.1", Method::Post, ""),
            ("POST https://h?q HTTP/1.1", Method::Post, ""),
            ("OPTIONS * HTTP/1.1", Method::Other, "*"),
        ];
        for (line, method, path) in cases {
            let t = format!("{line}\r\n\r\n");
            let h = complete(&t);
            assert_eq!((h.method, &t[h.path.clone()]), (method, path), "{line}");
        }
    }

    #[test]
    fn refusals() {
        for bad in [
            "GARBAGE\r\n\r\n",
            "POST / HTTP/2.0\r\n\r\n",
            "POST / HTTP/1.1\r\nBad Name: x\r\n\r\n",
            "\x16\x03\x01\x02\x00",
        ] {
            assert_eq!(head(bad), Err(HeadError::Malformed), "{bad:?}");
        }
        let many: String = (0..=MAX_HEADERS).map(|i| format!("X-{i}: v\r\n")).collect();
        assert_eq!(head(&format!("POST / HTTP/1.1\r\n{many}\r\n")), Err(HeadError::TooLarge));
        let long = format!("POST / HTTP/1.1\r\nX: {}\r\n", "a".repeat(MAX_HEAD));
        assert_eq!(head(&long), Err(HeadError::TooLarge));
        assert_eq!(head(&format!("{long}\r\n")), Err(HeadError::TooLarge));
    }
}
