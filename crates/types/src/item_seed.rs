//! A direct parse of an item's wire JSON (`{"name": {"S": "x"}, ...}`) into an
//! [`Item`], without first building a `serde_json::Value` tree (one allocation per
//! string instead of a map, a key and a string per attribute, then copies).
//!
//! It takes only the regular shapes — S, N, B, BOOL, NULL (true), M and L, each value
//! an object with exactly one member — and fails on anything else: sets, JSON nulls,
//! a second member, strings with escapes where it borrows (numbers, base64, type
//! names), invalid numbers or base64, nesting past [`MAX_DEPTH`]. The caller then
//! parses the Value tree and [`crate::item_from_json`] reports DynamoDB's exact error,
//! so this fast path never decides an error and, where it succeeds, yields the same
//! item as that path (a property test checks both).

use std::fmt;

use base64::Engine as _;
use serde::de::{self, DeserializeSeed, Deserializer, MapAccess, SeqAccess, Visitor};

use crate::value::MAX_DEPTH;
use crate::{AttributeValue, Item, Number};

/// Deserializes a top-level item.
pub struct ItemSeed;

impl<'de> DeserializeSeed<'de> for ItemSeed {
    type Value = Item;

    fn deserialize<D: Deserializer<'de>>(self, d: D) -> Result<Item, D::Error> {
        d.deserialize_map(MapVisitor { depth: 0 })
    }
}

/// A map of attribute values whose values sit at `depth`.
struct MapVisitor {
    depth: usize,
}

impl<'de> Visitor<'de> for MapVisitor {
    type Value = Item;

    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("a map of attribute values")
    }

    fn visit_map<A: MapAccess<'de>>(self, mut m: A) -> Result<Item, A::Error> {
        let mut attrs = Vec::new();
        while let Some(name) = m.next_key::<String>()? {
            let v = m.next_value_seed(ValueSeed { depth: self.depth })?;
            attrs.push((name, v));
        }
        Ok(into_item(attrs))
    }
}

/// The item of `attrs`, a later attribute replacing an earlier one of the same name
/// (as inserting them in turn would). Sorted first and built in one pass: cheaper
/// than a tree insert per attribute.
fn into_item(mut attrs: Vec<(String, AttributeValue)>) -> Item {
    // Stable: attributes of one name keep their order.
    attrs.sort_by(|a, b| a.0.cmp(&b.0));
    if attrs.windows(2).any(|w| w[0].0 == w[1].0) {
        let mut out = Item::new();
        for (name, v) in attrs {
            out.insert(name, v);
        }
        return out;
    }
    attrs.into_iter().collect()
}

impl<'de> DeserializeSeed<'de> for MapVisitor {
    type Value = Item;

    fn deserialize<D: Deserializer<'de>>(self, d: D) -> Result<Item, D::Error> {
        d.deserialize_map(self)
    }
}

/// A list of attribute values at `depth`.
struct ListVisitor {
    depth: usize,
}

impl<'de> Visitor<'de> for ListVisitor {
    type Value = Vec<AttributeValue>;

    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("a list of attribute values")
    }

    fn visit_seq<A: SeqAccess<'de>>(self, mut s: A) -> Result<Vec<AttributeValue>, A::Error> {
        let mut out = Vec::with_capacity(s.size_hint().unwrap_or(0));
        while let Some(v) = s.next_element_seed(ValueSeed { depth: self.depth })? {
            out.push(v);
        }
        Ok(out)
    }
}

impl<'de> DeserializeSeed<'de> for ListVisitor {
    type Value = Vec<AttributeValue>;

    fn deserialize<D: Deserializer<'de>>(self, d: D) -> Result<Self::Value, D::Error> {
        d.deserialize_seq(self)
    }
}

/// One attribute value (`{"S": "x"}`) at `depth`.
struct ValueSeed {
    depth: usize,
}

impl<'de> DeserializeSeed<'de> for ValueSeed {
    type Value = AttributeValue;

    fn deserialize<D: Deserializer<'de>>(self, d: D) -> Result<AttributeValue, D::Error> {
        d.deserialize_map(self)
    }
}

fn irregular<E: de::Error>() -> E {
    E::custom("not a regular attribute value")
}

impl<'de> Visitor<'de> for ValueSeed {
    type Value = AttributeValue;

    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("an attribute value")
    }

    fn visit_map<A: MapAccess<'de>>(self, mut m: A) -> Result<AttributeValue, A::Error> {
        let Some(t) = m.next_key::<&'de str>()? else {
            return Err(irregular());
        };
        let nested = self.depth + 1;
        let v = match t {
            "S" => AttributeValue::S(m.next_value::<String>()?),
            "N" => AttributeValue::N(Number::parse(m.next_value::<&'de str>()?).map_err(|_| irregular())?),
            "B" => AttributeValue::B(
                base64::engine::general_purpose::STANDARD
                    .decode(m.next_value::<&'de str>()?)
                    .map_err(|_| irregular())?,
            ),
            "BOOL" => AttributeValue::Bool(m.next_value::<bool>()?),
            "NULL" if m.next_value::<bool>()? => AttributeValue::Null,
            "M" if nested <= MAX_DEPTH => AttributeValue::M(m.next_value_seed(MapVisitor { depth: nested })?),
            "L" if nested <= MAX_DEPTH => AttributeValue::L(m.next_value_seed(ListVisitor { depth: nested })?),
            _ => return Err(irregular()),
        };
        if m.next_key::<de::IgnoredAny>()?.is_some() {
            return Err(irregular());
        }
        Ok(v)
    }
}

#[cfg(test)]
mod tests {
    use proptest::prelude::*;
    use serde_json::{json, Value};

    use super::*;
    use crate::strategies::value;

    fn fast(text: &str) -> Option<Item> {
        let mut de = serde_json::Deserializer::from_str(text);
        let item = ItemSeed.deserialize(&mut de).ok()?;
        de.end().ok()?;
        Some(item)
    }

    fn slow(text: &str) -> Result<Item, String> {
        let v: Value = serde_json::from_str(text).map_err(|e| e.to_string())?;
        crate::item_from_json(&v).map_err(|e| format!("{e:?}"))
    }

    /// Where the fast path answers, the Value path answers the same item.
    fn agree(text: &str) -> Result<(), TestCaseError> {
        if let Some(item) = fast(text) {
            prop_assert_eq!(Ok(item), slow(text), "{}", text);
        }
        Ok(())
    }

    proptest! {
        #[test]
        fn the_fast_path_takes_every_regular_item_and_agrees(item in proptest::collection::btree_map(".{1,6}", value(), 0..6)) {
            let text = crate::item_to_json(&item).to_string();
            let has_sets = text.contains("\"SS\"") || text.contains("\"NS\"") || text.contains("\"BS\"");
            let parsed = fast(&text);
            if !has_sets {
                prop_assert_eq!(parsed.as_ref(), Some(&item), "{}", text);
            }
            agree(&text)?;
        }

        #[test]
        fn mutated_items_are_refused_or_agree(item in proptest::collection::btree_map(".{1,6}", value(), 1..4), at in any::<prop::sample::Index>(), with in prop::sample::select(vec![
            "", " ", "null", "{}", "[]", "\"", ",", ":", "{\"S\":\"a\"}", "\"N\"", "\"1e400\"", "\"-\"", "true", "{\"NULL\":false}",
            "{\"S\":\"a\",\"S\":\"b\"}", "{\"S\":\"a\",\"N\":null}", "\\u0053", "\"\\/\"",
        ])) {
            let text = crate::item_to_json(&item).to_string();
            let i = at.index(text.len() + 1);
            if text.is_char_boundary(i) {
                agree(&format!("{}{}{}", &text[..i], with, &text[i..]))?;
            }
        }
    }

    #[test]
    fn a_repeated_name_keeps_its_last_value_as_on_the_value_path() {
        for text in [
            r#"{"b":{"S":"1"},"a":{"N":"2"},"b":{"S":"3"}}"#,
            r#"{"a":{"S":"1"},"a":{"S":"2"},"a":{"S":"3"},"c":{"M":{"x":{"N":"1"},"x":{"N":"2"}}}}"#,
        ] {
            let item = fast(text).unwrap();
            assert_eq!(Ok(item.clone()), slow(text), "{text}");
            assert_eq!(item.len(), 2, "{text}");
        }
        assert_eq!(fast(r#"{"b":{"S":"1"},"a":{"N":"2"},"b":{"S":"3"}}"#).unwrap()["b"], AttributeValue::S("3".into()));
    }

    #[test]
    fn irregular_shapes_are_left_to_the_value_path() {
        for text in [
            r#"{"a":{"S":"x","N":null}}"#,
            r#"{"a":{"S":"x","S":"y"}}"#,
            r#"{"a":{"N":"1e400"}}"#,
            r#"{"a":{"N":1}}"#,
            r#"{"a":{"B":"%%"}}"#,
            r#"{"a":{"NULL":false}}"#,
            r#"{"a":{"SS":["x"]}}"#,
            r#"{"a":{}}"#,
            r#"{"a":null}"#,
            r#"{"a":{"\u0053":"x"}}"#,
            r#"[]"#,
        ] {
            assert_eq!(fast(text), None, "{text}");
        }
        let deep = (0..MAX_DEPTH).fold(json!({"S": "x"}), |v, _| json!({ "L": [v] }));
        let text = json!({ "a": deep }).to_string();
        assert!(fast(&text).is_some());
        assert_eq!(fast(&text), slow(&text).ok());
        let deeper = json!({ "L": [deep] });
        assert_eq!(fast(&json!({ "a": deeper }).to_string()), None);
        assert!(slow(&json!({ "a": deeper }).to_string()).is_err());
    }
}
