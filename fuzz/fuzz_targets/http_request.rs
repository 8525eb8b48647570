//! HTTP/1.1 request heads and chunked bodies: any bytes give a head, "incomplete" or a
//! refusal, never a panic; a head's ranges lie within it; a chunked body decodes the
//! same whether fed at once or in pieces of any size.
#![no_main]

use libfuzzer_sys::fuzz_target;
use stator_server::http1::chunked::{ChunkError, Chunked};
use stator_server::http1::head;

const LIMIT: usize = 1 << 20;

fn decode(body: &[u8], piece: usize) -> Result<(Vec<u8>, usize, bool), ChunkError> {
    let mut decoder = Chunked::new(LIMIT);
    let mut out = Vec::new();
    let mut at = 0;
    while at < body.len() {
        let to = (at + piece).min(body.len());
        let (used, done) = decoder.feed(&body[at..to], &mut out)?;
        assert!(used <= to - at);
        at += used;
        if done {
            return Ok((out, at, true));
        }
        assert_eq!(at, to, "an incomplete body is consumed whole");
    }
    assert!(out.len() <= LIMIT);
    Ok((out, at, false))
}

fuzz_target!(|data: &[u8]| {
    let Some((&piece, data)) = data.split_first() else { return };
    let piece = usize::from(piece).max(1);
    match head::parse(data) {
        Ok(Some(h)) => {
            assert!(h.len <= data.len() && h.len <= head::MAX_HEAD);
            let fields = [&h.content_type, &h.authorization, &h.target, &h.host];
            for r in std::iter::once(&h.path).chain(fields.into_iter().flatten()) {
                assert!(r.start <= r.end && r.end <= h.len);
            }
            let body = &data[h.len..];
            assert_eq!(decode(body, body.len().max(1)), decode(body, piece));
        }
        Ok(None) => assert!(data.len() < head::MAX_HEAD),
        Err(_) => {}
    }
});
