//! The engine-independent binary form of a stored item.
//!
//! Format version 2 (written): `version:u8 = 2`, the item's billed size
//! ([`crate::size::item_size`]) as `u32` little-endian, then a map. Format version 1
//! (read, written by earlier releases): `version:u8 = 1` then the map; its size is
//! computed by walking it. The size in the header makes a stored item's billed size
//! (GetItem, Query and Scan capacity, page limits) a read of four bytes.
//!
//! A map is `count:varint` and per attribute `name` and `value`. A value is a tag byte
//! then its payload; strings, binaries and numbers (in their canonical text) are
//! `len:varint` + bytes; containers are `count:varint` + elements.

use crate::number::Number;
use crate::value::{AttributeValue, Item};

/// Current item format version.
pub const ITEM_FORMAT_VERSION: u8 = 2;

/// The format earlier releases wrote: no size header. Still read.
pub const ITEM_FORMAT_V1: u8 = 1;

/// A stored item's header: its billed size when the record carries it (version 2),
/// and the encoded map that follows.
pub(crate) fn split_header(b: &[u8]) -> Result<(Option<usize>, &[u8]), CorruptItem> {
    match b.split_first() {
        Some((&ITEM_FORMAT_VERSION, rest)) => {
            let (size, map) = rest.split_first_chunk::<4>().ok_or(CorruptItem("truncated"))?;
            Ok((Some(u32::from_le_bytes(*size) as usize), map))
        }
        Some((&ITEM_FORMAT_V1, rest)) => Ok((None, rest)),
        _ => Err(CorruptItem("unknown item format version")),
    }
}

/// A stored item that does not decode: a corrupted or foreign record.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CorruptItem(pub &'static str);

impl std::fmt::Display for CorruptItem {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "corrupt stored item: {}", self.0)
    }
}

impl std::error::Error for CorruptItem {}

pub(crate) const T_S: u8 = 1;
pub(crate) const T_N: u8 = 2;
pub(crate) const T_B: u8 = 3;
pub(crate) const T_FALSE: u8 = 4;
pub(crate) const T_TRUE: u8 = 5;
pub(crate) const T_NULL: u8 = 6;
pub(crate) const T_M: u8 = 7;
pub(crate) const T_L: u8 = 8;
pub(crate) const T_SS: u8 = 9;
pub(crate) const T_NS: u8 = 10;
pub(crate) const T_BS: u8 = 11;

/// Encodes an item.
pub fn encode_item(item: &Item) -> Vec<u8> {
    // Sized up front: growing by doubling copied a 1 KB item five times.
    let mut out = Vec::with_capacity(HEADER_LEN + map_len_hint(item));
    out.push(ITEM_FORMAT_VERSION);
    out.extend_from_slice(&[0; 4]);
    // The billed size is summed while encoding, then written into the header. An
    // item is at most 400 KB (and no request is larger than its 16 MB body limit),
    // so it always fits in 32 bits.
    let size = put_map(item, &mut out);
    out[1..HEADER_LEN].copy_from_slice(&(size.min(u32::MAX as usize) as u32).to_le_bytes());
    out
}

/// Version byte and size.
pub(crate) const HEADER_LEN: usize = 5;

/// Decodes an item written by [`encode_item`] (either format version).
pub fn decode_item(b: &[u8]) -> Result<Item, CorruptItem> {
    let (_, mut b) = split_header(b)?;
    let item = get_map(&mut b)?;
    if !b.is_empty() {
        return Err(CorruptItem("trailing bytes"));
    }
    Ok(item)
}

/// An upper bound of a map's encoded length, except for numbers of more than 40
/// characters in plain notation (rare; the buffer then grows).
fn map_len_hint(m: &Item) -> usize {
    5 + m.iter().map(|(k, v)| 5 + k.len() + value_len_hint(v)).sum::<usize>()
}

fn value_len_hint(v: &AttributeValue) -> usize {
    const NUMBER: usize = 6 + 40;
    6 + match v {
        AttributeValue::S(s) => s.len(),
        AttributeValue::B(b) => b.len(),
        AttributeValue::N(_) => NUMBER,
        AttributeValue::Bool(_) | AttributeValue::Null => 0,
        AttributeValue::M(m) => map_len_hint(m),
        AttributeValue::L(l) => l.iter().map(value_len_hint).sum(),
        AttributeValue::SS(s) => s.iter().map(|x| 5 + x.len()).sum(),
        AttributeValue::NS(s) => s.len() * NUMBER,
        AttributeValue::BS(s) => s.iter().map(|x| 5 + x.len()).sum(),
    }
}

pub(crate) fn put_varint(mut v: usize, out: &mut Vec<u8>) {
    while v >= 0x80 {
        out.push((v as u8) | 0x80);
        v >>= 7;
    }
    out.push(v as u8);
}

/// A number's canonical text as length and bytes, written in place (the length takes
/// one byte but for plain-notation numbers of 128 characters or more).
pub(crate) fn put_number(n: &Number, out: &mut Vec<u8>) {
    use std::io::Write as _;
    let at = out.len();
    out.push(0);
    let _ = write!(out, "{n}");
    let len = out.len() - at - 1;
    if len < 0x80 {
        out[at] = len as u8;
    } else {
        let text = out.split_off(at + 1);
        out.truncate(at);
        put_bytes(&text, out);
    }
}

pub(crate) fn put_bytes(b: &[u8], out: &mut Vec<u8>) {
    put_varint(b.len(), out);
    out.extend_from_slice(b);
}

/// Encodes a map; returns its billed size as an item's (names + values, without the
/// 3 + 1-per-entry a nested map adds: [`put_value`] adds those).
fn put_map(m: &Item, out: &mut Vec<u8>) -> usize {
    put_varint(m.len(), out);
    let mut size = 0;
    for (k, v) in m {
        put_bytes(k.as_bytes(), out);
        size += k.len() + put_value(v, out);
    }
    size
}

/// Encodes a value; returns its billed size (as [`crate::size::value_size`]).
pub(crate) fn put_value(v: &AttributeValue, out: &mut Vec<u8>) -> usize {
    match v {
        AttributeValue::S(s) => {
            out.push(T_S);
            put_bytes(s.as_bytes(), out);
            s.len()
        }
        AttributeValue::N(n) => {
            out.push(T_N);
            put_number(n, out);
            n.billed_size()
        }
        AttributeValue::B(b) => {
            out.push(T_B);
            put_bytes(b, out);
            b.len()
        }
        AttributeValue::Bool(b) => {
            out.push(if *b { T_TRUE } else { T_FALSE });
            1
        }
        AttributeValue::Null => {
            out.push(T_NULL);
            1
        }
        AttributeValue::M(m) => {
            out.push(T_M);
            3 + m.len() + put_map(m, out)
        }
        AttributeValue::L(l) => {
            out.push(T_L);
            put_varint(l.len(), out);
            let mut size = 3 + l.len();
            for v in l {
                size += put_value(v, out);
            }
            size
        }
        AttributeValue::SS(s) => {
            out.push(T_SS);
            put_varint(s.len(), out);
            let mut size = 0;
            for x in s {
                put_bytes(x.as_bytes(), out);
                size += x.len();
            }
            size
        }
        AttributeValue::NS(s) => {
            out.push(T_NS);
            put_varint(s.len(), out);
            let mut size = 0;
            for x in s {
                put_number(x, out);
                size += x.billed_size();
            }
            size
        }
        AttributeValue::BS(s) => {
            out.push(T_BS);
            put_varint(s.len(), out);
            let mut size = 0;
            for x in s {
                put_bytes(x, out);
                size += x.len();
            }
            size
        }
    }
}

pub(crate) fn get_u8(b: &mut &[u8]) -> Result<u8, CorruptItem> {
    let (&first, rest) = b.split_first().ok_or(CorruptItem("truncated"))?;
    *b = rest;
    Ok(first)
}

pub(crate) fn get_varint(b: &mut &[u8]) -> Result<usize, CorruptItem> {
    let mut v: usize = 0;
    for shift in (0..64).step_by(7) {
        let byte = get_u8(b)?;
        v |= ((byte & 0x7F) as usize) << shift;
        if byte & 0x80 == 0 {
            return Ok(v);
        }
    }
    Err(CorruptItem("varint too long"))
}

pub(crate) fn get_bytes<'a>(b: &mut &'a [u8]) -> Result<&'a [u8], CorruptItem> {
    let n = get_varint(b)?;
    if n > b.len() {
        return Err(CorruptItem("truncated"));
    }
    let (head, rest) = b.split_at(n);
    *b = rest;
    Ok(head)
}

pub(crate) fn get_string(b: &mut &[u8]) -> Result<String, CorruptItem> {
    String::from_utf8(get_bytes(b)?.to_vec()).map_err(|_| CorruptItem("invalid UTF-8"))
}

pub(crate) fn get_number(b: &mut &[u8]) -> Result<Number, CorruptItem> {
    let s = std::str::from_utf8(get_bytes(b)?).map_err(|_| CorruptItem("invalid number"))?;
    Number::parse(s).map_err(|_| CorruptItem("invalid number"))
}

pub(crate) fn get_count(b: &mut &[u8]) -> Result<usize, CorruptItem> {
    let n = get_varint(b)?;
    // Every element takes at least one byte: a larger count is corrupt, and checking
    // it first keeps a corrupt count from reserving unbounded memory.
    if n > b.len() {
        return Err(CorruptItem("count larger than the record"));
    }
    Ok(n)
}

fn get_map(b: &mut &[u8]) -> Result<Item, CorruptItem> {
    let n = get_count(b)?;
    // Names are stored in order, so building the map from a list is a linear bulk
    // build rather than one search per insert (a corrupt count cannot reserve more
    // entries than there are bytes left).
    let mut entries = Vec::with_capacity(n.min(b.len()));
    for _ in 0..n {
        let k = get_string(b)?;
        let v = get_value(b)?;
        entries.push((k, v));
    }
    Ok(entries.into_iter().collect())
}

pub(crate) fn get_value(b: &mut &[u8]) -> Result<AttributeValue, CorruptItem> {
    Ok(match get_u8(b)? {
        T_S => AttributeValue::S(get_string(b)?),
        T_N => AttributeValue::N(get_number(b)?),
        T_B => AttributeValue::B(get_bytes(b)?.to_vec()),
        T_FALSE => AttributeValue::Bool(false),
        T_TRUE => AttributeValue::Bool(true),
        T_NULL => AttributeValue::Null,
        T_M => AttributeValue::M(get_map(b)?),
        T_L => {
            let n = get_count(b)?;
            let mut l = Vec::with_capacity(n);
            for _ in 0..n {
                l.push(get_value(b)?);
            }
            AttributeValue::L(l)
        }
        T_SS => {
            let n = get_count(b)?;
            AttributeValue::SS((0..n).map(|_| get_string(b)).collect::<Result<_, _>>()?)
        }
        T_NS => {
            let n = get_count(b)?;
            AttributeValue::NS((0..n).map(|_| get_number(b)).collect::<Result<_, _>>()?)
        }
        T_BS => {
            let n = get_count(b)?;
            AttributeValue::BS((0..n).map(|_| get_bytes(b).map(<[u8]>::to_vec)).collect::<Result<_, _>>()?)
        }
        _ => return Err(CorruptItem("unknown value tag")),
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::strategies::value;
    use proptest::prelude::*;

    proptest! {
        #[test]
        fn round_trip(item in proptest::collection::btree_map(".{1,6}", value(), 0..6)) {
            prop_assert_eq!(decode_item(&encode_item(&item)).unwrap(), item);
        }

        #[test]
        fn the_length_hint_bounds_the_encoding_when_numbers_are_short(item in proptest::collection::btree_map(".{1,6}", value(), 0..6)) {
            fn short_numbers(v: &AttributeValue) -> bool {
                match v {
                    AttributeValue::N(n) => n.to_string().len() <= 40,
                    AttributeValue::NS(s) => s.iter().all(|n| n.to_string().len() <= 40),
                    AttributeValue::M(m) => m.values().all(short_numbers),
                    AttributeValue::L(l) => l.iter().all(short_numbers),
                    _ => true,
                }
            }
            if item.values().all(short_numbers) {
                prop_assert!(encode_item(&item).len() <= HEADER_LEN + map_len_hint(&item));
            }
        }

        #[test]
        fn json_writer_matches_the_value_tree(item in proptest::collection::btree_map(".{1,6}", value(), 0..6), frac in -99_999i64..99_999) {
            let mut item = item;
            item.insert("frac".into(), AttributeValue::N(Number::parse(&format!("{}e-3", frac)).unwrap()));
            item.insert("ns".into(), AttributeValue::NS(vec![Number::from_i64(frac), Number::parse("1.5e30").unwrap()]));
            item.insert("bs".into(), AttributeValue::BS(vec![vec![0, 255, 7], vec![1]]));
            let mut out = Vec::new();
            crate::json_write::write_item(&mut out, &item);
            prop_assert_eq!(out, serde_json::to_vec(&crate::item_to_json(&item)).unwrap());
        }

        /// The header holds the billed size, and records of format version 1 (no
        /// header, written by earlier releases) still decode to the same item.
        #[test]
        fn the_header_holds_the_size_and_version_1_still_reads(item in proptest::collection::btree_map(".{1,6}", value(), 0..6)) {
            let stored = encode_item(&item);
            prop_assert_eq!(split_header(&stored).unwrap().0, Some(crate::size::item_size(&item)));
            let v1 = [&[ITEM_FORMAT_V1][..], &stored[HEADER_LEN..]].concat();
            prop_assert_eq!(split_header(&v1).unwrap().0, None);
            prop_assert_eq!(decode_item(&v1).unwrap(), item);
        }

        #[test]
        fn garbage_never_panics(bytes in proptest::collection::vec(any::<u8>(), 0..64)) {
            let _ = decode_item(&bytes);
        }
    }
}
