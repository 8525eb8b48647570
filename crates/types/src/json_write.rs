//! Writes attribute values straight to JSON bytes, in the same wire form as
//! [`crate::item_to_json`] followed by `serde_json::to_vec`, without building a
//! `serde_json::Value` tree first. Responses that carry many items (GetItem, Query,
//! Scan, BatchGetItem) spend most of their time here, so it is kept allocation-free
//! apart from growing the output buffer.

use base64::Engine as _;

use crate::{AttributeValue, Item};

/// Appends `s` as a JSON string literal, escaped exactly as serde_json escapes
/// (`"`, `\`, and control characters; `\b \f \n \r \t` by name, others as `\u00XX`).
pub fn write_str(out: &mut Vec<u8>, s: &str) {
    write_escaped(out, s.as_bytes(), true);
}

/// [`write_str`] for text given as bytes that should be UTF-8 (a stored string):
/// checked on the way, so that an ASCII string (the common case) costs no separate
/// validation pass. Returns false, with part of the literal in `out`, if it is not
/// UTF-8.
#[must_use]
pub fn write_text(out: &mut Vec<u8>, bytes: &[u8]) -> bool {
    write_escaped(out, bytes, false)
}

/// Writes `bytes` as a JSON string literal. Unless `checked`, bytes from the first
/// non-ASCII one on are validated as UTF-8 (once) before they are copied.
///
/// Short clean strings (attribute names, type tags' neighbours, small values) are
/// written in the caller, without a call; the rest out of line.
#[inline(always)]
fn write_escaped(out: &mut Vec<u8>, bytes: &[u8], checked: bool) -> bool {
    if bytes.len() < 8 && short_is_clean(bytes, !checked) {
        write_quoted(out, bytes);
        return true;
    }
    write_escaped_out_of_line(out, bytes, checked)
}

#[inline(always)]
fn write_quoted(out: &mut Vec<u8>, bytes: &[u8]) {
    out.reserve(bytes.len() + 2);
    out.push(b'"');
    out.extend_from_slice(bytes);
    out.push(b'"');
}

/// Whether a string of fewer than eight bytes needs no work: from four bytes on, two
/// overlapping half-words checked as one word; below, byte by byte.
#[inline(always)]
fn short_is_clean(bytes: &[u8], non_ascii: bool) -> bool {
    match (bytes.first_chunk::<4>(), bytes.last_chunk::<4>()) {
        (Some(first), Some(last)) => {
            let w = u64::from(u32::from_le_bytes(*first)) | (u64::from(u32::from_le_bytes(*last)) << 32);
            !word_needs_work(w, non_ascii)
        }
        _ => !bytes.iter().any(|&b| byte_needs_work(b, non_ascii)),
    }
}

#[inline(never)]
fn write_escaped_out_of_line(out: &mut Vec<u8>, bytes: &[u8], checked: bool) -> bool {
    let clean = clean_prefix(bytes, !checked);
    if clean == bytes.len() {
        // Nothing to escape (the common case): one copy.
        write_quoted(out, bytes);
        return true;
    }
    escape_from(out, bytes, clean, checked)
}

/// A length of leading bytes of `bytes` that need no work (see [`byte_needs_work`]):
/// all of them when none does, otherwise a point at or before the first that does.
#[inline]
fn clean_prefix(bytes: &[u8], non_ascii: bool) -> usize {
    let n = bytes.len();
    if n >= 16 {
        // Sixteen bytes at a time, then the last sixteen (overlapping what was checked).
        let mut rest = bytes;
        while let Some((chunk, tail)) = rest.split_first_chunk::<16>() {
            if chunk_needs_work(chunk, non_ascii) {
                return n - rest.len();
            }
            rest = tail;
        }
        match bytes.last_chunk::<16>() {
            Some(last) if rest.is_empty() || !chunk_needs_work(last, non_ascii) => n,
            _ => n - rest.len(),
        }
    } else if let (Some(first), Some(last)) = (bytes.first_chunk::<8>(), bytes.last_chunk::<8>()) {
        // Eight to fifteen bytes: two words, overlapping.
        let dirty = word_needs_work(u64::from_le_bytes(*first), non_ascii)
            || word_needs_work(u64::from_le_bytes(*last), non_ascii);
        if dirty {
            0
        } else {
            n
        }
    } else {
        // Under eight bytes this is reached only for a string that needs work
        // (`write_escaped` writes clean ones itself): where, byte by byte.
        bytes.iter().position(|&b| byte_needs_work(b, non_ascii)).unwrap_or(n)
    }
}

/// Escapes `bytes` from `i` on (everything before `i` needs no work). Unless
/// `checked`, bytes from the first non-ASCII one on are validated as UTF-8 (once).
#[inline(never)]
fn escape_from(out: &mut Vec<u8>, bytes: &[u8], mut i: usize, mut checked: bool) -> bool {
    out.reserve(bytes.len() + 2);
    out.push(b'"');
    let mut start = 0;
    loop {
        // Sixteen bytes at a time while none needs escaping (or checking): a
        // branch-free test over a fixed-size chunk, which compiles to vector compares.
        while let Some(chunk) = bytes.get(i..i + 16).and_then(|c| <&[u8; 16]>::try_from(c).ok()) {
            if chunk_needs_work(chunk, !checked) {
                break;
            }
            i += 16;
        }
        // Then eight bytes in one word (short strings and tails), then byte by byte
        // to the end of that chunk.
        if let Some(word) = bytes.get(i..i + 8).and_then(|c| <[u8; 8]>::try_from(c).ok()) {
            if !word_needs_work(u64::from_le_bytes(word), !checked) {
                i += 8;
            }
        }
        let stop = (i + 16).min(bytes.len());
        while i < stop && !byte_needs_work(bytes[i], !checked) {
            i += 1;
        }
        if i >= bytes.len() {
            break;
        }
        if i == stop {
            continue;
        }
        let b = bytes[i];
        let esc: &[u8] = match b {
            b'"' => b"\\\"",
            b'\\' => b"\\\\",
            b'\n' => b"\\n",
            b'\r' => b"\\r",
            b'\t' => b"\\t",
            0x08 => b"\\b",
            0x0c => b"\\f",
            0..=0x1f => b"",
            _ => {
                // The first non-ASCII byte (`checked` is false): everything before
                // `i` is ASCII, so `i` starts a character.
                if std::str::from_utf8(&bytes[i..]).is_err() {
                    return false;
                }
                checked = true;
                i += 1;
                continue;
            }
        };
        out.extend_from_slice(&bytes[start..i]);
        if esc.is_empty() {
            const HEX: &[u8; 16] = b"0123456789abcdef";
            out.extend_from_slice(&[b'\\', b'u', b'0', b'0', HEX[(b >> 4) as usize], HEX[(b & 0xf) as usize]]);
        } else {
            out.extend_from_slice(esc);
        }
        i += 1;
        start = i;
    }
    out.extend_from_slice(&bytes[start..]);
    out.push(b'"');
    true
}

/// Whether `b` is a control character, `"` or `\`, or (when `non_ascii`) at or above
/// 0x80.
#[inline]
fn byte_needs_work(b: u8, non_ascii: bool) -> bool {
    b < 0x20 || b == b'"' || b == b'\\' || (non_ascii && b >= 0x80)
}

/// [`byte_needs_work`] for any byte of the word `w`.
#[inline]
fn word_needs_work(w: u64, non_ascii: bool) -> bool {
    const ONES: u64 = 0x0101_0101_0101_0101;
    const HIGH: u64 = 0x8080_8080_8080_8080;
    // A zero byte of `x` leaves its high bit set in `(x - 1) & !x`; a byte below 0x20
    // (of a word without high bits) borrows into its high bit when 0x20 is subtracted.
    let zero = |x: u64| x.wrapping_sub(ONES) & !x;
    let special =
        w.wrapping_sub(ONES * 0x20) & !w | zero(w ^ (ONES * u64::from(b'"'))) | zero(w ^ (ONES * u64::from(b'\\')));
    let high = if non_ascii { w } else { 0 };
    (special | high) & HIGH != 0
}

/// [`byte_needs_work`] for any byte of `chunk`.
#[inline]
fn chunk_needs_work(chunk: &[u8; 16], non_ascii: bool) -> bool {
    let high = if non_ascii { 0x80 } else { 0 };
    let flags = chunk
        .iter()
        .fold(0u8, |acc, &b| acc | u8::from(b < 0x20) | u8::from(b == b'"') | u8::from(b == b'\\') | (b & high));
    flags != 0
}

/// Writes `n` in decimal (digits from the right, in a buffer on the stack: no
/// formatting machinery).
pub fn write_u64(out: &mut Vec<u8>, n: u64) {
    let mut digits = [0u8; 20];
    let mut at = digits.len();
    let mut rest = n;
    loop {
        at -= 1;
        digits[at] = b'0' + (rest % 10) as u8;
        rest /= 10;
        if rest == 0 {
            break;
        }
    }
    out.extend_from_slice(&digits[at..]);
}

/// Appends bytes as a base64 JSON string.
pub fn write_b64(out: &mut Vec<u8>, b: &[u8]) {
    out.push(b'"');
    let start = out.len();
    out.resize(start + b.len().div_ceil(3) * 4, 0);
    let n = base64::engine::general_purpose::STANDARD.encode_slice(b, &mut out[start..]).unwrap_or(0);
    out.truncate(start + n);
    out.push(b'"');
}

fn write_number(out: &mut Vec<u8>, n: &crate::Number) {
    use std::io::Write as _;
    out.push(b'"');
    let _ = write!(out, "{n}");
    out.push(b'"');
}

/// Appends `[e0,e1,…]`, each element written by `each`.
fn write_list<T>(out: &mut Vec<u8>, items: &[T], each: impl Fn(&mut Vec<u8>, &T)) {
    out.push(b'[');
    for (i, x) in items.iter().enumerate() {
        if i > 0 {
            out.push(b',');
        }
        each(out, x);
    }
    out.push(b']');
}

/// Appends one attribute value (`{"S":"x"}`, `{"M":{…}}`, …).
pub fn write_value(out: &mut Vec<u8>, v: &AttributeValue) {
    match v {
        AttributeValue::S(s) => {
            out.extend_from_slice(b"{\"S\":");
            write_str(out, s);
        }
        AttributeValue::N(n) => {
            out.extend_from_slice(b"{\"N\":");
            write_number(out, n);
        }
        AttributeValue::B(b) => {
            out.extend_from_slice(b"{\"B\":");
            write_b64(out, b);
        }
        AttributeValue::Bool(b) => out.extend_from_slice(if *b { b"{\"BOOL\":true" } else { b"{\"BOOL\":false" }),
        AttributeValue::Null => out.extend_from_slice(b"{\"NULL\":true"),
        AttributeValue::M(m) => {
            out.extend_from_slice(b"{\"M\":");
            write_item(out, m);
        }
        AttributeValue::L(l) => {
            out.extend_from_slice(b"{\"L\":");
            write_list(out, l, write_value);
        }
        AttributeValue::SS(s) => {
            out.extend_from_slice(b"{\"SS\":");
            write_list(out, s, |out, s| write_str(out, s));
        }
        AttributeValue::NS(s) => {
            out.extend_from_slice(b"{\"NS\":");
            write_list(out, s, write_number);
        }
        AttributeValue::BS(s) => {
            out.extend_from_slice(b"{\"BS\":");
            write_list(out, s, |out, b| write_b64(out, b));
        }
    }
    out.push(b'}');
}

/// Appends an item (or a map value): `{"name":{"S":"x"},…}`.
pub fn write_item(out: &mut Vec<u8>, item: &Item) {
    out.push(b'{');
    for (i, (k, v)) in item.iter().enumerate() {
        if i > 0 {
            out.push(b',');
        }
        write_str(out, k);
        out.push(b':');
        write_value(out, v);
    }
    out.push(b'}');
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]

    use super::*;

    #[test]
    fn strings_are_escaped_like_serde_json() {
        let cases = [
            "",
            "plain ascii text that is longer than eight bytes",
            "quote \" and backslash \\ inside",
            "\u{0}\u{1}\u{8}\u{9}\u{a}\u{b}\u{c}\u{d}\u{1f}\u{7f}",
            "ünïcödé → ✓ 😀 and a tab\tafter",
            "12345678\"",
            "1234567\\",
            "/slash/ stays",
        ];
        for s in cases {
            let mut out = Vec::new();
            write_str(&mut out, s);
            assert_eq!(String::from_utf8(out).unwrap(), serde_json::to_string(s).unwrap(), "{s:?}");
        }
    }

    #[test]
    fn short_strings_with_a_special_byte_at_every_position() {
        let specials: [&[u8]; 7] = [b"\"", b"\\", b"\x00", b"\x1f", b"\x7f", "é".as_bytes(), b"\xff"];
        for len in 1..=9 {
            for pos in 0..len {
                for special in specials {
                    let mut bytes = b"abcdefghi"[..len].to_vec();
                    bytes.splice(pos..=pos, special.iter().copied());
                    let mut out = Vec::new();
                    match std::str::from_utf8(&bytes) {
                        Ok(s) => {
                            assert!(write_text(&mut out, &bytes));
                            assert_eq!(String::from_utf8(out).unwrap(), serde_json::to_string(s).unwrap(), "{s:?}");
                        }
                        Err(_) => assert!(!write_text(&mut out, &bytes), "{bytes:?}"),
                    }
                }
            }
        }
    }

    proptest::proptest! {
        /// Long ASCII runs (the chunked path) broken by characters that need
        /// escaping or checking, at every offset.
        #[test]
        fn long_strings_are_escaped_like_serde_json(s in "([a-z0-9 ]{0,40}[\"\\\\\\x00-\\x1f\\x7fé😀]?){0,6}") {
            let mut out = Vec::new();
            write_str(&mut out, &s);
            proptest::prop_assert_eq!(String::from_utf8(out.clone()).unwrap(), serde_json::to_string(&s).unwrap());
            let mut text = Vec::new();
            proptest::prop_assert!(write_text(&mut text, s.as_bytes()));
            proptest::prop_assert_eq!(text, out);
        }

        #[test]
        fn text_from_bytes_is_written_like_a_str(s in ".{0,40}", cut in 0usize..48) {
            let mut a = Vec::new();
            write_str(&mut a, &s);
            let mut b = Vec::new();
            proptest::prop_assert!(write_text(&mut b, s.as_bytes()));
            proptest::prop_assert_eq!(&a, &b);
            // A string cut inside a character is refused.
            let bytes = &s.as_bytes()[..cut.min(s.len())];
            let mut c = Vec::new();
            proptest::prop_assert_eq!(write_text(&mut c, bytes), std::str::from_utf8(bytes).is_ok());
        }
    }

    #[test]
    fn invalid_utf8_is_refused_anywhere() {
        for pos in 0..12 {
            let mut s = b"abcdefghijkl".to_vec();
            s[pos] = 0xff;
            assert!(!write_text(&mut Vec::new(), &s), "0xff at {pos}");
            let mut t = "ééééééé".as_bytes().to_vec();
            t.truncate(pos + 1);
            assert_eq!(write_text(&mut Vec::new(), &t), std::str::from_utf8(&t).is_ok());
        }
    }

    #[test]
    fn every_control_byte_and_every_position_in_a_word() {
        for b in 0u8..0x80 {
            // Forty bytes: positions in, between and after the 16-byte chunks.
            for pos in 0..40 {
                let mut s = "abcdefghijklmnopqrstuvwxyzabcdefghijklmn".to_string().into_bytes();
                s[pos] = b;
                let s = String::from_utf8(s).unwrap();
                let mut out = Vec::new();
                write_str(&mut out, &s);
                assert_eq!(String::from_utf8(out).unwrap(), serde_json::to_string(&s).unwrap());
            }
        }
    }
}
