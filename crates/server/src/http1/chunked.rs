//! The chunked transfer coding (RFC 9112 §7.1), decoded incrementally: bytes are fed
//! as they arrive, in pieces of any size, and the data is appended to the body.
//! Chunk extensions are skipped, trailer fields read and dropped. Every part is
//! bounded: the body by the caller's limit, a size line's digits and extensions, the
//! trailer section.

/// Longest chunk extension (everything between a size and its line end) accepted.
const MAX_EXTENSION: usize = 4096;

/// Largest trailer section accepted.
const MAX_TRAILERS: usize = 64 * 1024;

/// Why a chunked body was refused.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ChunkError {
    /// Not the chunked coding.
    Malformed,
    /// The data exceeds the limit.
    TooLarge,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum State {
    /// Hex digits of a chunk size.
    Size { value: u64, digits: u8 },
    /// Whitespace after the size, before `;` or CR.
    SizeWs { value: u64, len: usize },
    /// An extension (after `;`), up to CR.
    Extension { value: u64, len: usize },
    /// The LF ending a size line.
    SizeLf { value: u64 },
    /// Data bytes still to come in this chunk.
    Data(u64),
    /// The CR after a chunk's data.
    DataCr,
    /// The LF after a chunk's data.
    DataLf,
    /// A trailer line (`len` bytes so far).
    Trailer { len: usize },
    /// The LF ending a trailer line (an empty one ends the body).
    TrailerLf { empty: bool },
    /// The body is complete.
    Done,
}

/// An incremental decoder of one chunked body.
#[derive(Debug, Clone)]
pub struct Chunked {
    state: State,
    limit: usize,
    trailers: usize,
}

impl Chunked {
    /// A decoder whose data may not exceed `limit` bytes.
    pub fn new(limit: usize) -> Self {
        Chunked { state: State::Size { value: 0, digits: 0 }, limit, trailers: 0 }
    }

    /// Decodes from the start of `input`, appending data to `out`. Returns how many
    /// bytes were consumed and whether the body is complete (then nothing after its
    /// end was consumed: the rest is the next request).
    pub fn feed(&mut self, input: &[u8], out: &mut Vec<u8>) -> Result<(usize, bool), ChunkError> {
        if self.state == State::Done {
            return Ok((0, true));
        }
        let mut i = 0;
        while i < input.len() {
            if let State::Data(left) = self.state {
                let take = usize::try_from(left).unwrap_or(usize::MAX).min(input.len() - i);
                out.extend_from_slice(&input[i..i + take]);
                i += take;
                let left = left - take as u64;
                self.state = if left == 0 { State::DataCr } else { State::Data(left) };
                continue;
            }
            let b = input[i];
            i += 1;
            self.state = match self.state {
                State::Size { value, digits } => match hex(b) {
                    Some(d) if digits < 16 => State::Size { value: value << 4 | u64::from(d), digits: digits + 1 },
                    Some(_) => return Err(ChunkError::Malformed),
                    None if digits == 0 => return Err(ChunkError::Malformed),
                    None if b == b'\r' => State::SizeLf { value },
                    None if b == b';' => State::Extension { value, len: 1 },
                    None if b == b' ' || b == b'\t' => State::SizeWs { value, len: 1 },
                    None => return Err(ChunkError::Malformed),
                },
                State::SizeWs { value, len } => match b {
                    b'\r' => State::SizeLf { value },
                    b';' => State::Extension { value, len: len + 1 },
                    b' ' | b'\t' if len < MAX_EXTENSION => State::SizeWs { value, len: len + 1 },
                    _ => return Err(ChunkError::Malformed),
                },
                State::Extension { value, len } => match b {
                    b'\r' => State::SizeLf { value },
                    b'\n' => return Err(ChunkError::Malformed),
                    _ if len >= MAX_EXTENSION => return Err(ChunkError::Malformed),
                    _ => State::Extension { value, len: len + 1 },
                },
                State::SizeLf { value } => {
                    if b != b'\n' {
                        return Err(ChunkError::Malformed);
                    }
                    if value == 0 {
                        State::Trailer { len: 0 }
                    } else {
                        if value > (self.limit - out.len().min(self.limit)) as u64 {
                            return Err(ChunkError::TooLarge);
                        }
                        State::Data(value)
                    }
                }
                State::DataCr if b == b'\r' => State::DataLf,
                State::DataLf if b == b'\n' => State::Size { value: 0, digits: 0 },
                State::DataCr | State::DataLf => return Err(ChunkError::Malformed),
                State::Trailer { len } => {
                    self.trailers += 1;
                    if self.trailers > MAX_TRAILERS {
                        return Err(ChunkError::Malformed);
                    }
                    match b {
                        b'\r' => State::TrailerLf { empty: len == 0 },
                        b'\n' => return Err(ChunkError::Malformed),
                        _ => State::Trailer { len: len + 1 },
                    }
                }
                State::TrailerLf { empty } => match b {
                    b'\n' if empty => {
                        self.state = State::Done;
                        return Ok((i, true));
                    }
                    b'\n' => State::Trailer { len: 0 },
                    _ => return Err(ChunkError::Malformed),
                },
                State::Data(_) | State::Done => unreachable_state(),
            };
        }
        Ok((i, self.state == State::Done))
    }
}

/// `Data` is handled before the byte loop and `Done` returns at once; kept total
/// without a panic.
fn unreachable_state() -> State {
    State::Done
}

fn hex(b: u8) -> Option<u8> {
    match b {
        b'0'..=b'9' => Some(b - b'0'),
        b'a'..=b'f' => Some(b - b'a' + 10),
        b'A'..=b'F' => Some(b - b'A' + 10),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn decode(input: &[u8], limit: usize) -> Result<(Vec<u8>, usize, bool), ChunkError> {
        let mut out = Vec::new();
        let (used, done) = Chunked::new(limit).feed(input, &mut out)?;
        Ok((out, used, done))
    }

    #[test]
    fn decodes_with_extensions_and_trailers() {
        let body = b"4 ;name=value\r\nWiki\r\n5 \r\npedia\r\nE\r\n in\r\n\r\nchunks.\r\n0\r\nX-Trailer: 1\r\n\r\nNEXT";
        let (out, used, done) = decode(body, 1 << 20).unwrap();
        assert_eq!(out, b"Wikipedia in\r\n\r\nchunks.");
        assert!(done);
        assert_eq!(&body[used..], b"NEXT");
    }

    #[test]
    fn refuses_what_is_not_chunked() {
        for bad in [
            &b"x\r\n"[..],
            b"\r\n",
            b"4\nWiki\r\n0\r\n\r\n",
            b"4\r\nWikiX\r\n0\r\n\r\n",
            b"4\r\nWiki\r\r",
            b"11111111111111111\r\n",
            b"0\r\nX: y\n\r\n",
            b"1;\n",
            b"5 junk\r\nhello\r\n0\r\n\r\n",
        ] {
            assert_eq!(decode(bad, 1 << 20), Err(ChunkError::Malformed), "{:?}", String::from_utf8_lossy(bad));
        }
        assert_eq!(decode(b"5\r\nhello\r\n1\r\n!\r\n", 5), Err(ChunkError::TooLarge));
        assert_eq!(decode(b"ffffffffffffffff\r\n", 1 << 20), Err(ChunkError::TooLarge));
        let long_ext = format!("1;{}\r\n", "e".repeat(MAX_EXTENSION));
        assert_eq!(decode(long_ext.as_bytes(), 10), Err(ChunkError::Malformed));
        let mut endless = b"0\r\n".to_vec();
        endless.extend(std::iter::repeat_n(b'a', MAX_TRAILERS + 1));
        assert_eq!(decode(&endless, 10), Err(ChunkError::Malformed));
    }

    #[test]
    fn incomplete_input_is_not_done() {
        let body = b"3\r\nabc\r\n0\r\n\r\n";
        for cut in 0..body.len() {
            let (_, used, done) = decode(&body[..cut], 100).unwrap();
            assert!(!done, "{cut}");
            assert_eq!(used, cut);
        }
    }

    proptest! {
        /// Any body, cut into any chunks, fed in pieces of any sizes, decodes to itself
        /// and consumes exactly the coded body.
        #[test]
        fn any_split_decodes_to_the_body(
            body in proptest::collection::vec(any::<u8>(), 0..600),
            chunk_sizes in proptest::collection::vec(1usize..90, 1..20),
            piece_sizes in proptest::collection::vec(1usize..40, 1..40),
            upper in any::<bool>(),
        ) {
            let mut coded = Vec::new();
            let mut rest = &body[..];
            let mut sizes = chunk_sizes.iter().cycle();
            while !rest.is_empty() {
                let n = (*sizes.next().unwrap()).min(rest.len());
                let size = if upper { format!("{n:X}") } else { format!("{n:x}") };
                coded.extend_from_slice(size.as_bytes());
                coded.extend_from_slice(b"\r\n");
                coded.extend_from_slice(&rest[..n]);
                coded.extend_from_slice(b"\r\n");
                rest = &rest[n..];
            }
            coded.extend_from_slice(b"0\r\n\r\nGET / HTTP/1.1\r\n");
            let end = coded.len() - b"GET / HTTP/1.1\r\n".len();
            let mut dec = Chunked::new(body.len());
            let mut out = Vec::new();
            let mut at = 0;
            let mut pieces = piece_sizes.iter().cycle();
            let mut done = false;
            while !done {
                let to = (at + *pieces.next().unwrap()).min(coded.len());
                let (used, d) = dec.feed(&coded[at..to], &mut out).unwrap();
                at += used;
                done = d;
                prop_assert!(done || at == to);
            }
            prop_assert_eq!(at, end);
            prop_assert_eq!(out, body);
        }
    }
}
