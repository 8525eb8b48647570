//! A direct parse of an item's wire JSON (`{"name": {"S": "x"}, ...}`) into its
//! stored record (the [`crate::itemcodec`] form), without building an [`crate::Item`]
//! first: a PutItem's item goes from the request text to the bytes the store keeps,
//! with a scratch buffer, a list of entries and the record as its only allocations
//! (instead of a string per name and value, a tree, and then the encoding).
//!
//! It accepts exactly what [`crate::item_seed`] accepts — the regular shapes only —
//! and yields `encode_item` of the item that path builds: attributes in name order, a
//! repeated name keeping its last value, numbers in their canonical text, the billed
//! size in the header. Property tests below check both on generated and on mutated
//! text. Anything irregular fails, and the caller falls back to the path that reports
//! DynamoDB's exact error.

use std::fmt;
use std::ops::Range;

use base64::Engine as _;
use serde::de::{self, DeserializeSeed, Deserializer, MapAccess, SeqAccess, Visitor};

use crate::itemcodec::{
    put_bytes, put_number, put_varint, HEADER_LEN, ITEM_FORMAT_VERSION, T_B, T_FALSE, T_L, T_M, T_N, T_NULL, T_S,
    T_TRUE,
};
use crate::value::MAX_DEPTH;
use crate::Number;

/// Deserializes a top-level item into its stored record, in a buffer that starts at
/// `capacity` bytes (the request's length: a record is about as long as its text, so
/// that the buffer rarely grows).
pub struct RecordSeed {
    /// The buffer's starting size.
    pub capacity: usize,
}

impl<'de> DeserializeSeed<'de> for RecordSeed {
    type Value = Vec<u8>;

    fn deserialize<D: Deserializer<'de>>(self, d: D) -> Result<Vec<u8>, D::Error> {
        let mut out = Vec::with_capacity(self.capacity);
        out.push(ITEM_FORMAT_VERSION);
        out.extend_from_slice(&[0; 4]);
        let (_, size) = d.deserialize_map(MapWriter { out: &mut out, depth: 0 })?;
        // At most 16 MB of request text: the size always fits in 32 bits.
        out[1..HEADER_LEN].copy_from_slice(&(size.min(u32::MAX as usize) as u32).to_le_bytes());
        Ok(out)
    }
}

fn irregular<E: de::Error>() -> E {
    E::custom("not a regular attribute value")
}

/// One attribute of a map being written: where its whole entry (name and value) and
/// its name's bytes sit in the buffer, its billed size (name + value), and the first
/// eight bytes of its name as a big-endian number (zero-padded), which orders most
/// names without comparing them in full.
struct Entry {
    whole: Range<usize>,
    name: Range<usize>,
    size: usize,
    prefix: u64,
}

fn name_prefix(name: &[u8]) -> u64 {
    let mut word = [0u8; 8];
    let n = name.len().min(8);
    word[..n].copy_from_slice(&name[..n]);
    u64::from_be_bytes(word)
}

/// Writes a map of attribute values, whose values sit at `depth`, at the end of
/// `out`; yields its number of attributes and its billed size as a top-level item's
/// (names + values).
struct MapWriter<'o> {
    out: &'o mut Vec<u8>,
    depth: usize,
}

impl<'de> DeserializeSeed<'de> for MapWriter<'_> {
    type Value = (usize, usize);

    fn deserialize<D: Deserializer<'de>>(self, d: D) -> Result<(usize, usize), D::Error> {
        d.deserialize_map(self)
    }
}

impl<'de> Visitor<'de> for MapWriter<'_> {
    type Value = (usize, usize);

    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("a map of attribute values")
    }

    fn visit_map<A: MapAccess<'de>>(self, mut m: A) -> Result<(usize, usize), A::Error> {
        // Entries are written in the order they come, then put in name order.
        let base = self.out.len();
        let mut entries = Vec::new();
        loop {
            let start = self.out.len();
            let Some(len) = m.next_key_seed(TextWriter { out: &mut *self.out })? else { break };
            let name = self.out.len() - len..self.out.len();
            let prefix = name_prefix(&self.out[name.clone()]);
            let value = m.next_value_seed(ValueWriter { out: &mut *self.out, depth: self.depth })?;
            entries.push(Entry { whole: start..self.out.len(), size: len + value, name, prefix });
        }
        let written: &[u8] = self.out;
        let name_of = |e: &Entry| &written[e.name.clone()];
        // Stable: of a repeated name, the last one is kept (as inserting in turn does).
        // Equal prefixes of names are equal names, or names that differ past their
        // eighth byte, or a name and the same one followed by zero bytes.
        entries.sort_by(|a, b| a.prefix.cmp(&b.prefix).then_with(|| name_of(a).cmp(name_of(b))));
        let mut kept: Vec<&Entry> = Vec::with_capacity(entries.len());
        for e in &entries {
            match kept.last_mut() {
                Some(last) if name_of(last) == name_of(e) => *last = e,
                _ => kept.push(e),
            }
        }
        let mut sorted = Vec::with_capacity(written.len() - base + 5);
        put_varint(kept.len(), &mut sorted);
        let mut size = 0;
        for e in &kept {
            sorted.extend_from_slice(&written[e.whole.clone()]);
            size += e.size;
        }
        self.out.truncate(base);
        self.out.extend_from_slice(&sorted);
        Ok((kept.len(), size))
    }
}

/// Writes a string (a name or an `S` value) as length and bytes — read from the text
/// in place when it has no escapes, unescaped by the parser when it has; yields its
/// length in bytes.
struct TextWriter<'o> {
    out: &'o mut Vec<u8>,
}

impl<'de> DeserializeSeed<'de> for TextWriter<'_> {
    type Value = usize;

    fn deserialize<D: Deserializer<'de>>(self, d: D) -> Result<usize, D::Error> {
        d.deserialize_str(self)
    }
}

impl Visitor<'_> for TextWriter<'_> {
    type Value = usize;

    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("a string")
    }

    fn visit_str<E: de::Error>(self, s: &str) -> Result<usize, E> {
        put_bytes(s.as_bytes(), self.out);
        Ok(s.len())
    }
}

/// Writes one attribute value (`{"S": "x"}`) at `depth`; yields its billed size.
struct ValueWriter<'o> {
    out: &'o mut Vec<u8>,
    depth: usize,
}

impl<'de> DeserializeSeed<'de> for ValueWriter<'_> {
    type Value = usize;

    fn deserialize<D: Deserializer<'de>>(self, d: D) -> Result<usize, D::Error> {
        d.deserialize_map(self)
    }
}

impl<'de> Visitor<'de> for ValueWriter<'_> {
    type Value = usize;

    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("an attribute value")
    }

    fn visit_map<A: MapAccess<'de>>(self, mut m: A) -> Result<usize, A::Error> {
        let Some(t) = m.next_key::<&'de str>()? else {
            return Err(irregular());
        };
        let out = self.out;
        let nested = self.depth + 1;
        let size = match t {
            "S" => {
                out.push(T_S);
                m.next_value_seed(TextWriter { out: &mut *out })?
            }
            "N" => {
                let n = Number::parse(m.next_value::<&'de str>()?).map_err(|_| irregular())?;
                out.push(T_N);
                put_number(&n, out);
                n.billed_size()
            }
            "B" => {
                let b = base64::engine::general_purpose::STANDARD
                    .decode(m.next_value::<&'de str>()?)
                    .map_err(|_| irregular())?;
                out.push(T_B);
                put_bytes(&b, out);
                b.len()
            }
            "BOOL" => {
                out.push(if m.next_value::<bool>()? { T_TRUE } else { T_FALSE });
                1
            }
            "NULL" if m.next_value::<bool>()? => {
                out.push(T_NULL);
                1
            }
            "M" if nested <= MAX_DEPTH => {
                out.push(T_M);
                let (count, size) = m.next_value_seed(MapWriter { out: &mut *out, depth: nested })?;
                3 + count + size
            }
            "L" if nested <= MAX_DEPTH => {
                out.push(T_L);
                m.next_value_seed(ListWriter { out: &mut *out, depth: nested })?
            }
            _ => return Err(irregular()),
        };
        if m.next_key::<de::IgnoredAny>()?.is_some() {
            return Err(irregular());
        }
        Ok(size)
    }
}

/// Writes a list of attribute values at `depth` (count, then the values); yields its
/// billed size.
struct ListWriter<'o> {
    out: &'o mut Vec<u8>,
    depth: usize,
}

impl<'de> DeserializeSeed<'de> for ListWriter<'_> {
    type Value = usize;

    fn deserialize<D: Deserializer<'de>>(self, d: D) -> Result<usize, D::Error> {
        d.deserialize_seq(self)
    }
}

impl<'de> Visitor<'de> for ListWriter<'_> {
    type Value = usize;

    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("a list of attribute values")
    }

    fn visit_seq<A: SeqAccess<'de>>(self, mut s: A) -> Result<usize, A::Error> {
        // The values are written first; the count, known at the end, goes before them.
        let base = self.out.len();
        let mut count = 0;
        let mut size = 3;
        while let Some(v) = s.next_element_seed(ValueWriter { out: &mut *self.out, depth: self.depth })? {
            count += 1;
            size += v + 1;
        }
        let values = self.out.split_off(base);
        put_varint(count, self.out);
        self.out.extend_from_slice(&values);
        Ok(size)
    }
}

#[cfg(test)]
mod tests {
    use proptest::prelude::*;

    use super::*;
    use crate::item_seed::ItemSeed;
    use crate::itemcodec::{decode_item, encode_item};
    use crate::strategies::value;

    fn record(text: &str) -> Option<Vec<u8>> {
        let mut de = serde_json::Deserializer::from_str(text);
        let r = RecordSeed { capacity: 0 }.deserialize(&mut de).ok()?;
        de.end().ok()?;
        Some(r)
    }

    fn via_item(text: &str) -> Option<Vec<u8>> {
        let mut de = serde_json::Deserializer::from_str(text);
        let item = ItemSeed.deserialize(&mut de).ok()?;
        de.end().ok()?;
        Some(encode_item(&item))
    }

    fn agree(text: &str) -> Result<(), TestCaseError> {
        prop_assert_eq!(record(text), via_item(text), "{}", text);
        Ok(())
    }

    proptest! {
        #[test]
        fn records_equal_the_encoding_of_the_item_path(item in proptest::collection::btree_map(".{1,6}", value(), 0..6)) {
            let text = crate::item_to_json(&item).to_string();
            agree(&text)?;
            let has_sets = text.contains("\"SS\"") || text.contains("\"NS\"") || text.contains("\"BS\"");
            if !has_sets {
                let r = record(&text);
                prop_assert!(r.is_some(), "{}", text);
                prop_assert_eq!(decode_item(&r.unwrap_or_default()).ok(), Some(item));
            }
        }

        #[test]
        fn attributes_in_any_order_and_repeated_give_the_same_record(
            item in proptest::collection::btree_map(".{1,6}", value(), 1..6),
            order in any::<u64>(),
            repeat in any::<prop::sample::Index>(),
        ) {
            // The attributes shuffled, one of them written twice (first with another value).
            let mut parts: Vec<String> = item
                .iter()
                .map(|(k, v)| format!("{}:{}", serde_json::to_string(k).unwrap_or_default(), v.to_json()))
                .collect();
            let (k, _) = item.iter().nth(repeat.index(item.len())).expect("non-empty");
            parts.push(format!("{}:{{\"S\":\"earlier\"}}", serde_json::to_string(k).unwrap_or_default()));
            let n = parts.len();
            parts.swap(n - 1, (order % n as u64) as usize);
            parts.rotate_left((order / 7 % n as u64) as usize);
            agree(&format!("{{{}}}", parts.join(",")))?;
        }

        #[test]
        fn mutated_items_are_refused_by_both_or_agree(item in proptest::collection::btree_map(".{1,6}", value(), 1..4), at in any::<prop::sample::Index>(), with in prop::sample::select(vec![
            "", " ", "null", "{}", "[]", "\"", ",", ":", "{\"S\":\"a\"}", "\"N\"", "\"1e400\"", "\"-\"", "true", "{\"NULL\":false}",
            "{\"S\":\"a\",\"S\":\"b\"}", "{\"S\":\"a\",\"N\":null}", "\\u0053", "\"\\/\"", "{\"M\":{\"b\":{\"N\":\"1\"},\"a\":{\"N\":\"2\"}}}",
            "{\"L\":[{\"N\":\"1E+130\"},{\"S\":\"\"}]}",
        ])) {
            let text = crate::item_to_json(&item).to_string();
            let i = at.index(text.len() + 1);
            if text.is_char_boundary(i) {
                agree(&format!("{}{}{}", &text[..i], with, &text[i..]))?;
            }
        }
    }

    #[test]
    fn nested_maps_lists_long_numbers_and_escapes_encode_as_the_item_path_does() {
        let long_lists = format!("[{}]", vec!["{\"N\":\"1\"}"; 200].join(","));
        let long_name = "n".repeat(300);
        for text in [
            r#"{}"#.to_string(),
            r#"{"abcdefghZ":{"N":"1"},"abcdefghA":{"N":"2"},"abcdefgh":{"N":"3"},"abcdefgh\u0000":{"N":"4"},"abcdefghA":{"N":"5"}}"#
                .to_string(),
            r#"{"b":{"S":"1"},"a":{"N":"2"},"b":{"S":"3"}}"#.to_string(),
            r#"{"m":{"M":{"z":{"N":"1"},"a":{"M":{"y":{"BOOL":true},"x":{"NULL":true}}},"z":{"N":"-0.50"}}}}"#
                .to_string(),
            r#"{"l":{"L":[{"M":{"b":{"S":""},"a":{"B":"AAE="}}},{"L":[]},{"BOOL":false}]}}"#.to_string(),
            r#"{"big":{"N":"1E+125"},"small":{"N":"-1E-130"},"plain":{"N":"12345678901234567890123456789012345678"}}"#
                .to_string(),
            r#"{"e\u00e9\n":{"S":"tab\there \"quoted\" \\ \u0001 \ud83d\ude00"}}"#.to_string(),
            format!(r#"{{"l":{{"L":{long_lists}}}}}"#),
            format!(r#"{{"{long_name}":{{"S":"{}"}}}}"#, "v".repeat(200)),
        ] {
            let r = record(&text);
            assert!(r.is_some(), "{text}");
            assert_eq!(r, via_item(&text), "{text}");
        }
    }
}
