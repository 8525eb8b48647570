//! Work on a stored item's bytes (the [`crate::itemcodec`] form) without decoding it
//! into an [`Item`]: its billed size, its JSON wire form, and a decode of only some
//! top-level attributes. Reads that return or filter many items (Query, Scan,
//! GetItem) use these, so that an item costs no allocation beyond the response
//! buffer. Each agrees exactly with the decode-then-compute path; the property tests
//! below check that.

use crate::itemcodec::{
    get_bytes, get_count, get_u8, get_value, put_bytes, put_value, put_varint, split_header, CorruptItem, HEADER_LEN,
    ITEM_FORMAT_VERSION, T_B, T_BS, T_FALSE, T_L, T_M, T_N, T_NS, T_NULL, T_S, T_SS, T_TRUE,
};
use crate::json_write::{write_b64, write_text};
use crate::{AttributeValue, Item};

fn body(b: &[u8]) -> Result<&[u8], CorruptItem> {
    Ok(split_header(b)?.1)
}

fn done(b: &[u8]) -> Result<(), CorruptItem> {
    if b.is_empty() {
        Ok(())
    } else {
        Err(CorruptItem("trailing bytes"))
    }
}

fn utf8(b: &[u8]) -> Result<&str, CorruptItem> {
    std::str::from_utf8(b).map_err(|_| CorruptItem("invalid UTF-8"))
}

fn number_size(b: &[u8]) -> Result<usize, CorruptItem> {
    let text = std::str::from_utf8(b).map_err(|_| CorruptItem("invalid number"))?;
    Ok(crate::Number::parse(text).map_err(|_| CorruptItem("invalid number"))?.billed_size())
}

/// A buffer size that holds a stored item's JSON wire form: at most about twice the
/// record (type wrappers, quotes and commas around short attributes), so that writing
/// answers does not regrow and recopy the buffer.
pub fn json_len_hint(b: &[u8]) -> usize {
    2 * b.len()
}

/// The billed size of a stored item, equal to `size::item_size(&decode_item(b)?)` for
/// a valid record (string contents are not validated here, see [`value_size`]).
pub fn item_size(b: &[u8]) -> Result<usize, CorruptItem> {
    // Records of the current format carry it; older ones are walked.
    let (stored, mut b) = split_header(b)?;
    if let Some(size) = stored {
        return Ok(size);
    }
    let size = map_size(&mut b, false)?;
    done(b)?;
    Ok(size)
}

/// A map's size: the sum of name + value sizes (+ 1 per entry and 3 when nested).
fn map_size(b: &mut &[u8], nested: bool) -> Result<usize, CorruptItem> {
    let n = get_count(b)?;
    let mut size = if nested { 3 } else { 0 };
    for _ in 0..n {
        size += get_bytes(b)?.len() + value_size(b)? + usize::from(nested);
    }
    Ok(size)
}

/// A stored value's billed size. Strings are counted by their bytes (their UTF-8
/// length) without being validated: that happens where they are turned into text
/// (decoding, JSON), and sizing every scanned item is a Scan's hottest loop.
fn value_size(b: &mut &[u8]) -> Result<usize, CorruptItem> {
    Ok(match get_u8(b)? {
        T_S => get_bytes(b)?.len(),
        T_B => get_bytes(b)?.len(),
        T_N => number_size(get_bytes(b)?)?,
        T_FALSE | T_TRUE | T_NULL => 1,
        T_M => map_size(b, true)?,
        T_L => {
            let n = get_count(b)?;
            let mut size = 3;
            for _ in 0..n {
                size += value_size(b)? + 1;
            }
            size
        }
        T_SS | T_BS => {
            let n = get_count(b)?;
            let mut size = 0;
            for _ in 0..n {
                size += get_bytes(b)?.len();
            }
            size
        }
        T_NS => {
            let n = get_count(b)?;
            let mut size = 0;
            for _ in 0..n {
                size += number_size(get_bytes(b)?)?;
            }
            size
        }
        _ => return Err(CorruptItem("unknown value tag")),
    })
}

/// Appends a stored item's JSON wire form, equal to
/// `json_write::write_item(out, &decode_item(b)?)`. On error `out` may hold part of it.
pub fn write_json(b: &[u8], out: &mut Vec<u8>) -> Result<(), CorruptItem> {
    let mut b = body(b)?;
    out.reserve(b.len() + b.len() / 4 + 16);
    map_json(&mut b, out)?;
    done(b)
}

fn map_json(b: &mut &[u8], out: &mut Vec<u8>) -> Result<(), CorruptItem> {
    let n = get_count(b)?;
    out.push(b'{');
    for i in 0..n {
        if i > 0 {
            out.push(b',');
        }
        text_json(get_bytes(b)?, out)?;
        out.push(b':');
        value_json(b, out)?;
    }
    out.push(b'}');
    Ok(())
}

/// Writes one element of a list or set.
type WriteElement = fn(&mut &[u8], &mut Vec<u8>) -> Result<(), CorruptItem>;

fn list_json(b: &mut &[u8], out: &mut Vec<u8>, each: WriteElement) -> Result<(), CorruptItem> {
    let n = get_count(b)?;
    out.push(b'[');
    for i in 0..n {
        if i > 0 {
            out.push(b',');
        }
        each(b, out)?;
    }
    out.push(b']');
    Ok(())
}

/// A stored string as a JSON string literal (checked to be UTF-8 as it is escaped).
fn text_json(text: &[u8], out: &mut Vec<u8>) -> Result<(), CorruptItem> {
    if write_text(out, text) {
        Ok(())
    } else {
        Err(CorruptItem("invalid UTF-8"))
    }
}

fn string_json(b: &mut &[u8], out: &mut Vec<u8>) -> Result<(), CorruptItem> {
    text_json(get_bytes(b)?, out)
}

fn number_json(b: &mut &[u8], out: &mut Vec<u8>) -> Result<(), CorruptItem> {
    // Stored numbers are their canonical text, which is what the wire form shows.
    text_json(get_bytes(b)?, out).map_err(|_| CorruptItem("invalid number"))
}

fn binary_json(b: &mut &[u8], out: &mut Vec<u8>) -> Result<(), CorruptItem> {
    write_b64(out, get_bytes(b)?);
    Ok(())
}

fn value_json(b: &mut &[u8], out: &mut Vec<u8>) -> Result<(), CorruptItem> {
    match get_u8(b)? {
        T_S => {
            out.extend_from_slice(b"{\"S\":");
            string_json(b, out)?;
        }
        T_N => {
            out.extend_from_slice(b"{\"N\":");
            number_json(b, out)?;
        }
        T_B => {
            out.extend_from_slice(b"{\"B\":");
            binary_json(b, out)?;
        }
        T_FALSE => out.extend_from_slice(b"{\"BOOL\":false"),
        T_TRUE => out.extend_from_slice(b"{\"BOOL\":true"),
        T_NULL => out.extend_from_slice(b"{\"NULL\":true"),
        T_M => {
            out.extend_from_slice(b"{\"M\":");
            map_json(b, out)?;
        }
        T_L => {
            out.extend_from_slice(b"{\"L\":");
            list_json(b, out, value_json)?;
        }
        T_SS => {
            out.extend_from_slice(b"{\"SS\":");
            list_json(b, out, string_json)?;
        }
        T_NS => {
            out.extend_from_slice(b"{\"NS\":");
            list_json(b, out, number_json)?;
        }
        T_BS => {
            out.extend_from_slice(b"{\"BS\":");
            list_json(b, out, binary_json)?;
        }
        _ => return Err(CorruptItem("unknown value tag")),
    }
    out.push(b'}');
    Ok(())
}

/// Decodes only the top-level attributes whose names `wanted` accepts (the others
/// are skipped, not built). Checks the whole record's structure (tags, lengths,
/// numbers, no trailing bytes); the text of skipped strings is checked where it is
/// used (decoding, JSON).
pub fn decode_some(b: &[u8], wanted: &dyn Fn(&str) -> bool) -> Result<Item, CorruptItem> {
    let mut b = body(b)?;
    let n = get_count(&mut b)?;
    let mut entries = Vec::new();
    for _ in 0..n {
        let name = utf8(get_bytes(&mut b)?)?;
        if wanted(name) {
            entries.push((name.to_string(), get_value(&mut b)?));
        } else {
            value_size(&mut b)?;
        }
    }
    done(b)?;
    Ok(entries.into_iter().collect())
}

/// The top-level attributes named in `names` that the record has (a write's key
/// attributes): walks the record only as far as the last of them, comparing names as
/// bytes and skipping other values without reading them — so, unlike
/// [`decode_some`], it does not check the rest of the record. For records just
/// encoded.
pub fn pick(b: &[u8], names: &[&str]) -> Result<Item, CorruptItem> {
    let mut b = body(b)?;
    let n = get_count(&mut b)?;
    let mut found = Vec::with_capacity(names.len());
    for _ in 0..n {
        if found.len() == names.len() {
            break;
        }
        let name = get_bytes(&mut b)?;
        if names.iter().any(|w| w.as_bytes() == name) {
            found.push((utf8(name)?.to_string(), get_value(&mut b)?));
        } else {
            skip_value(&mut b)?;
        }
    }
    Ok(found.into_iter().collect())
}

/// Moves past one value, reading lengths only.
fn skip_value(b: &mut &[u8]) -> Result<(), CorruptItem> {
    match get_u8(b)? {
        T_S | T_B | T_N => {
            get_bytes(b)?;
        }
        T_FALSE | T_TRUE | T_NULL => {}
        T_M => {
            for _ in 0..get_count(b)? {
                get_bytes(b)?;
                skip_value(b)?;
            }
        }
        T_L => {
            for _ in 0..get_count(b)? {
                skip_value(b)?;
            }
        }
        T_SS | T_NS | T_BS => {
            for _ in 0..get_count(b)? {
                get_bytes(b)?;
            }
        }
        _ => return Err(CorruptItem("unknown value tag")),
    }
    Ok(())
}

/// The record of the item after `changes` to its top-level attributes — a name with
/// `Some(value)` is set to it, with `None` removed — without decoding the rest: equal
/// to `encode_item` of the decoded item with the changes applied (and written in the
/// current format whatever the record's). Names in `changes` must be distinct; their
/// order does not matter. The record must be canonical, as every record the encoders
/// write is: its attributes in name order, each once.
pub fn merge(b: &[u8], changes: &[(&str, Option<&AttributeValue>)]) -> Result<Vec<u8>, CorruptItem> {
    let old_size = item_size(b)?;
    let mut body = split_header(b)?.1;
    let mut sorted: Vec<&(&str, Option<&AttributeValue>)> = changes.iter().collect();
    sorted.sort_unstable_by(|x, y| x.0.cmp(y.0));
    // The stored attributes: (name, value, whole entry), in name order.
    let n = get_count(&mut body)?;
    let mut entries = Vec::with_capacity(n);
    for _ in 0..n {
        let start = body;
        let name = get_bytes(&mut body)?;
        let value = body;
        skip_value(&mut body)?;
        entries.push((name, &value[..value.len() - body.len()], &start[..start.len() - body.len()]));
    }
    done(body)?;
    // Merged in name order: a change replaces the stored attribute of its name.
    enum Piece<'a> {
        Stored(&'a [u8]),
        Set(&'a str, &'a AttributeValue),
    }
    let mut pieces = Vec::with_capacity(entries.len() + sorted.len());
    let mut size = old_size;
    let mut changes = sorted.into_iter().peekable();
    for (name, mut value, whole) in entries {
        while let Some(&&(c, v)) = changes.peek().filter(|c| c.0.as_bytes() < name) {
            pieces.extend(v.map(|v| Piece::Set(c, v)));
            changes.next();
        }
        match changes.peek() {
            Some(&&(c, v)) if c.as_bytes() == name => {
                // Only a replaced or removed value is sized (numbers are parsed for it).
                size = size.saturating_sub(name.len() + value_size(&mut value)?);
                pieces.extend(v.map(|v| Piece::Set(c, v)));
                changes.next();
            }
            _ => pieces.push(Piece::Stored(whole)),
        }
    }
    pieces.extend(changes.filter_map(|&(c, v)| v.map(|v| Piece::Set(c, v))));
    let mut out = Vec::with_capacity(b.len() + 64);
    out.push(ITEM_FORMAT_VERSION);
    out.extend_from_slice(&[0; 4]);
    put_varint(pieces.len(), &mut out);
    for p in pieces {
        match p {
            Piece::Stored(whole) => out.extend_from_slice(whole),
            Piece::Set(name, v) => {
                put_bytes(name.as_bytes(), &mut out);
                size += name.len() + put_value(v, &mut out);
            }
        }
    }
    out[1..HEADER_LEN].copy_from_slice(&(size.min(u32::MAX as usize) as u32).to_le_bytes());
    Ok(out)
}

/// [`item_size`] and [`decode_some`] in one pass over the record: what a filtered
/// read needs of every item it scans.
pub fn sized_decode_some(b: &[u8], wanted: &dyn Fn(&str) -> bool) -> Result<(usize, Item), CorruptItem> {
    let mut b = body(b)?;
    let n = get_count(&mut b)?;
    let mut size = 0;
    let mut entries = Vec::new();
    for _ in 0..n {
        let name = get_bytes(&mut b)?;
        let mut value = b;
        size += name.len() + value_size(&mut value)?;
        let name = utf8(name)?;
        if wanted(name) {
            entries.push((name.to_string(), get_value(&mut b)?));
        }
        b = value;
    }
    done(b)?;
    Ok((size, entries.into_iter().collect()))
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]

    use proptest::prelude::*;

    use super::*;
    use crate::itemcodec::{decode_item, encode_item};
    use crate::strategies::value;

    proptest! {
        #[test]
        fn agrees_with_decoding(item in proptest::collection::btree_map(".{1,6}", value(), 0..8)) {
            let stored = encode_item(&item);
            // Format version 1 (no size header, walked instead): the same answers.
            let v1 = [&[crate::itemcodec::ITEM_FORMAT_V1][..], &stored[5..]].concat();
            prop_assert_eq!(item_size(&v1).unwrap(), crate::size::item_size(&item));
            let (mut json_v1, mut json_v2) = (Vec::new(), Vec::new());
            write_json(&v1, &mut json_v1).unwrap();
            write_json(&stored, &mut json_v2).unwrap();
            prop_assert_eq!(json_v1, json_v2);
            prop_assert_eq!(sized_decode_some(&v1, &|_| true).unwrap(), (crate::size::item_size(&item), item.clone()));
            prop_assert_eq!(item_size(&stored).unwrap(), crate::size::item_size(&item));
            let mut direct = Vec::new();
            write_json(&stored, &mut direct).unwrap();
            let mut decoded = Vec::new();
            crate::json_write::write_item(&mut decoded, &decode_item(&stored).unwrap());
            prop_assert_eq!(direct, decoded);
            let names: Vec<&String> = item.keys().step_by(2).collect();
            let some = decode_some(&stored, &|n| names.iter().any(|x| x.as_str() == n)).unwrap();
            let expected: Item = item.iter().step_by(2).map(|(k, v)| (k.clone(), v.clone())).collect();
            prop_assert_eq!(&some, &expected);
            let wanted: Vec<&str> = names.iter().map(|n| n.as_str()).chain(["not there"]).collect();
            prop_assert_eq!(&pick(&stored, &wanted).unwrap(), &expected);
            prop_assert_eq!(&pick(&stored, &wanted[..wanted.len() - 1]).unwrap(), &expected);
            let (size, sized) = sized_decode_some(&stored, &|n| names.iter().any(|x| x.as_str() == n)).unwrap();
            prop_assert_eq!(size, crate::size::item_size(&item));
            prop_assert_eq!(sized, expected);
        }

        #[test]
        fn merging_changes_equals_encoding_the_changed_item(
            item in proptest::collection::btree_map("[a-d]{1,2}", value(), 0..6),
            changes in proptest::collection::btree_map("[a-d]{1,2}", proptest::option::of(value()), 0..5),
            v1 in any::<bool>(),
        ) {
            let stored = encode_item(&item);
            let record = if v1 { [&[crate::itemcodec::ITEM_FORMAT_V1][..], &stored[5..]].concat() } else { stored };
            let mut expected = item.clone();
            for (k, v) in &changes {
                match v {
                    Some(v) => expected.insert(k.clone(), v.clone()),
                    None => expected.remove(k),
                };
            }
            // Given in reverse order: the order of changes does not matter.
            let list: Vec<(&str, Option<&AttributeValue>)> = changes.iter().rev().map(|(k, v)| (k.as_str(), v.as_ref())).collect();
            let merged = merge(&record, &list).unwrap();
            prop_assert_eq!(&merged, &encode_item(&expected));
            prop_assert_eq!(item_size(&merged).unwrap(), crate::size::item_size(&expected));
        }

        #[test]
        fn garbage_never_panics(bytes in proptest::collection::vec(any::<u8>(), 0..64)) {
            let _ = item_size(&bytes);
            let _ = write_json(&bytes, &mut Vec::new());
            let _ = decode_some(&bytes, &|_| true);
            let _ = pick(&bytes, &["a", "b"]);
            let _ = merge(&bytes, &[("a", None)]);
        }
    }
}
