//! A request body's top-level object, parsed without building a map: its members are
//! kept in text order with their names borrowed from the text (where they hold no
//! escapes), and looked up by a scan ([`Obj::get`]). A body has a handful of members
//! and most lookups are of members it does not have; a map would cost a `String` per
//! name, its nodes, and a walk of those nodes per lookup.
//!
//! Anything irregular — text that is not UTF-8, JSON that is not an object, a syntax
//! error — is parsed again by [`Obj::parse_body`], whose path gives DynamoDB's errors;
//! so is an object of more than [`LISTED`] members (into a map: a repeated name then
//! costs no scan).

use std::borrow::Cow;
use std::fmt;

use serde::de::{DeserializeSeed, Deserializer, MapAccess, Visitor};
use serde_json::{Map, Value};
use stator_types::Item;

use crate::error::DynamoError;
use crate::json::Obj;

/// Members kept in a list; a body with more goes into a map.
const LISTED: usize = 16;

/// A request body's top-level object ([`Body::obj`] reads it).
pub struct Body<'t>(Repr<'t>);

enum Repr<'t> {
    /// Each name once (a repeated member keeps its last value, as in a map).
    Listed(Vec<(Cow<'t, str>, Value)>),
    Map(Map<String, Value>),
}

impl From<Map<String, Value>> for Body<'_> {
    fn from(map: Map<String, Value>) -> Self {
        Body(Repr::Map(map))
    }
}

impl<'t> Body<'t> {
    /// Parses a request body: it must be a JSON object (DynamoDB's
    /// SerializationException otherwise; an empty body is an empty object).
    pub fn parse(body: &'t [u8]) -> Result<Body<'t>, DynamoError> {
        // No seeded member (the seed's type only names the parse's).
        match parse_with(body, None::<(&str, stator_types::item_seed::ItemSeed)>) {
            Some((b, _)) => Ok(b),
            None => Obj::parse_body(body).map(Body::from),
        }
    }

    /// Parses a request body whose `member` is an item, converting that item straight
    /// from the JSON text ([`stator_types::item_seed`]); the body holds an empty
    /// object in the member's place. `None` when the body or the item is anything but
    /// regular (including a repeated or missing `member`): the caller then uses
    /// [`Body::parse`], whose path reports DynamoDB's errors.
    pub fn parse_with_item(body: &'t [u8], member: &str) -> Option<(Body<'t>, Item)> {
        let (b, item) = parse_with(body, Some((member, stator_types::item_seed::ItemSeed)))?;
        Some((b, item?))
    }

    /// [`Body::parse_with_item`] yielding the item's stored record
    /// ([`stator_types::record_seed`]) instead of the item: a PutItem's item goes
    /// straight from the text to the bytes the store keeps.
    pub fn parse_with_record(body: &'t [u8], member: &str) -> Option<(Body<'t>, Vec<u8>)> {
        let seed = stator_types::record_seed::RecordSeed { capacity: body.len() };
        let (b, record) = parse_with(body, Some((member, seed)))?;
        Some((b, record?))
    }

    /// The top-level object.
    pub fn obj(&self) -> Obj<'_> {
        match &self.0 {
            Repr::Listed(l) => Obj::from_members(l),
            Repr::Map(m) => Obj::new(m),
        }
    }

    fn insert(&mut self, key: Cow<'t, str>, value: Value) {
        match &mut self.0 {
            Repr::Listed(l) => {
                if let Some(slot) = l.iter_mut().find(|(k, _)| *k == key) {
                    slot.1 = value;
                } else if l.len() < LISTED {
                    l.push((key, value));
                } else {
                    let mut map: Map<String, Value> = l.drain(..).map(|(k, v)| (k.into_owned(), v)).collect();
                    map.insert(key.into_owned(), value);
                    self.0 = Repr::Map(map);
                }
            }
            Repr::Map(m) => {
                m.insert(key.into_owned(), value);
            }
        }
    }
}

/// The body, and the seeded member's value when a seed was given (`None` if the
/// member was missing). `None` for anything irregular.
fn parse_with<'t, S, T>(body: &'t [u8], seeded: Option<(&str, S)>) -> Option<(Body<'t>, Option<T>)>
where
    S: DeserializeSeed<'t, Value = T>,
{
    // Checked as UTF-8 once, in one pass, rather than string by string (a body that
    // is not UTF-8 is left to `Obj::parse_body`).
    let mut de = serde_json::Deserializer::from_str(std::str::from_utf8(body).ok()?);
    let (member, seed) = match seeded {
        Some((m, s)) => (Some(m), Some(s)),
        None => (None, None),
    };
    let parsed = de.deserialize_map(BodyVisitor { member, seed }).ok()?;
    de.end().ok()?;
    Some(parsed)
}

/// A member name, borrowed from the text when it holds no escapes.
struct Name;

impl<'de> DeserializeSeed<'de> for Name {
    type Value = Cow<'de, str>;

    fn deserialize<D: Deserializer<'de>>(self, d: D) -> Result<Cow<'de, str>, D::Error> {
        d.deserialize_str(self)
    }
}

impl<'de> Visitor<'de> for Name {
    type Value = Cow<'de, str>;

    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("a member name")
    }

    fn visit_borrowed_str<E>(self, v: &'de str) -> Result<Cow<'de, str>, E> {
        Ok(Cow::Borrowed(v))
    }

    fn visit_str<E>(self, v: &str) -> Result<Cow<'de, str>, E> {
        Ok(Cow::Owned(v.to_owned()))
    }

    fn visit_string<E>(self, v: String) -> Result<Cow<'de, str>, E> {
        Ok(Cow::Owned(v))
    }
}

/// The top-level object, with `member` (if any) read through `seed`.
struct BodyVisitor<'m, S> {
    member: Option<&'m str>,
    seed: Option<S>,
}

impl<'de, S: DeserializeSeed<'de>> Visitor<'de> for BodyVisitor<'_, S> {
    type Value = (Body<'de>, Option<S::Value>);

    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("a request object")
    }

    fn visit_map<A: MapAccess<'de>>(mut self, mut m: A) -> Result<Self::Value, A::Error> {
        let mut body = Body(Repr::Listed(Vec::with_capacity(m.size_hint().unwrap_or(6).min(LISTED))));
        let mut seeded = None;
        while let Some(key) = m.next_key_seed(Name)? {
            if self.member.is_some_and(|member| key == member) {
                let Some(seed) = self.seed.take() else {
                    return Err(serde::de::Error::custom("repeated item member"));
                };
                seeded = Some(m.next_value_seed(seed)?);
                body.insert(key, Value::Object(Map::new()));
            } else {
                let v = m.next_value::<Value>()?;
                body.insert(key, v);
            }
        }
        Ok((body, seeded))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn same_members(body: &Body, map: &Map<String, Value>) {
        let o = body.obj();
        assert_eq!(o.len(), map.len());
        assert_eq!(&o.to_map(), map);
        for (k, v) in map {
            assert_eq!(o.get(k), (!v.is_null()).then_some(v), "{k}");
        }
    }

    #[test]
    fn a_body_has_the_members_the_map_parse_gives() {
        let mut many = String::from("{");
        for i in 0..40 {
            many.push_str(&format!("\"M{}\":{},", i % 25, i));
        }
        many.push_str("\"Last\":null}");
        for text in [
            r#"{"TableName":"t","Key":{"pk":{"S":"a"}},"ReturnValues":"ALL_OLD"}"#,
            r#"{"TableName":"t","TableName":"u","Limit":3}"#,
            r#"{"Table\u004eame":"t","Escaped\"Name":1,"é":"😀"}"#,
            "{}",
            " { \"A\" : [ 1 , { \"B\" : null } ] } ",
            many.as_str(),
        ] {
            let body = Body::parse(text.as_bytes()).unwrap();
            same_members(&body, &Obj::parse_body(text.as_bytes()).unwrap());
        }
        let b = Body::parse(br#"{"TableName":"t","TableName":"u"}"#).unwrap();
        assert_eq!(b.obj().str("TableName").unwrap(), Some("u"), "the last of a repeated member wins");
        let b = Body::parse(many.as_bytes()).unwrap();
        assert_eq!(b.obj().get("M3"), Some(&json!(28)));
    }

    #[test]
    fn irregular_bodies_get_the_errors_of_the_map_parse() {
        for text in [
            &b""[..],
            b"  \n",
            b"{",
            b"[]",
            b"\"x\"",
            b"{} x",
            b"{\"a\":\"\xff\"}",
            b"{\"a\":1}\xff",
            b"\xef\xbb\xbf{}",
            b"{\"a\":1,}",
        ] {
            let shown = String::from_utf8_lossy(text);
            match (Body::parse(text), Obj::parse_body(text)) {
                (Ok(b), Ok(m)) => same_members(&b, &m),
                (Err(a), Err(b)) => assert_eq!(a, b, "{shown}"),
                (a, b) => panic!("{shown}: {:?} against {:?}", a.err(), b.err()),
            }
        }
    }

    #[test]
    fn a_body_with_a_regular_item_is_parsed_around_it() {
        let body = br#"{"TableName":"t","Item":{"pk":{"S":"a"},"n":{"N":"1.50"}},"ReturnValues":"ALL_OLD"} "#;
        let (rest, item) = Body::parse_with_item(body, "Item").unwrap();
        let full = Obj::parse_body(body).unwrap();
        assert_eq!(Obj::new(&full).item("Item").unwrap(), Some(item));
        let rest = rest.obj();
        assert_eq!(rest.get("Item"), Some(&json!({})));
        assert_eq!(rest.get("TableName"), full.get("TableName"));
        assert_eq!(rest.get("ReturnValues"), full.get("ReturnValues"));
        assert_eq!(rest.len(), full.len());
        // Anything irregular is left to Body::parse.
        for body in [
            &br#"{"TableName":"t"}"#[..],
            br#"{"Item":{"a":{"S":"x"}},"Item":{"a":{"S":"y"}}}"#,
            br#"{"Item":{"a":{"S":"x"}}} x"#,
            br#"{"Item":null}"#,
            br#"{"Item":{"a":{"SS":["x"]}}}"#,
            b"{\"Item\":{\"a\":{\"S\":\"\xff\"}}}",
            b"{\"Item\":{\"a\":{\"S\":\"x\"}},\"TableName\":\"\xc3\"}",
            br#"[]"#,
            b"",
        ] {
            assert!(Body::parse_with_item(body, "Item").is_none(), "{}", String::from_utf8_lossy(body));
        }
    }
}
