//! Typed access to a request's JSON members with DynamoDB's SerializationException
//! for members of the wrong JSON type, and Coral-style accumulation of constraint
//! violations ("2 validation errors detected: Value null at 'tableName' ...").

use std::borrow::Cow;

use serde_json::{Map, Value};
use stator_types::Item;

use crate::error::DynamoError;

/// The JSON object of a request or of one of its nested structures.
#[derive(Clone, Copy)]
pub struct Obj<'a>(Members<'a>);

#[derive(Clone, Copy)]
enum Members<'a> {
    /// A nested object (or a body parsed whole into a map).
    Map(&'a Map<String, Value>),
    /// A request body's top-level members ([`crate::Body`]): few, in text order, each
    /// key once.
    List(&'a [(Cow<'a, str>, Value)]),
}

/// The members of an [`Obj`] ([`Obj::iter`]).
pub struct ObjIter<'a>(IterInner<'a>);

enum IterInner<'a> {
    Map(serde_json::map::Iter<'a>),
    List(std::slice::Iter<'a, (Cow<'a, str>, Value)>),
}

impl<'a> Iterator for ObjIter<'a> {
    type Item = (&'a str, &'a Value);

    fn next(&mut self) -> Option<Self::Item> {
        match &mut self.0 {
            IterInner::Map(i) => i.next().map(|(k, v)| (k.as_str(), v)),
            IterInner::List(i) => i.next().map(|(k, v)| (k.as_ref(), v)),
        }
    }
}

fn kind_token(v: &Value) -> &'static str {
    match v {
        Value::Null => "VALUE_NULL",
        Value::Bool(true) => "TRUE_VALUE",
        Value::Bool(false) => "FALSE_VALUE",
        Value::Number(n) if n.is_f64() => "NUMBER_VALUE",
        Value::Number(_) => "NUMBER_VALUE",
        Value::String(_) => "STRING_VALUE",
        Value::Array(_) => "START_ARRAY",
        Value::Object(_) => "START_OBJECT",
    }
}

fn mismatch(v: &Value, want: &str) -> DynamoError {
    DynamoError::Serialization(match v {
        Value::Object(_) => "Start of structure or map found where not expected.".to_string(),
        Value::Array(_) => "Start of list found where not expected".to_string(),
        _ => format!("{} can not be converted to {}", kind_token(v), want),
    })
}

impl<'a> Obj<'a> {
    /// Parses a request body: it must be a JSON object.
    pub fn parse_body(body: &[u8]) -> Result<Map<String, Value>, DynamoError> {
        // Checked as UTF-8 once, in one pass, rather than string by string.
        let parsed = match std::str::from_utf8(body) {
            Ok(text) => serde_json::from_str::<Value>(text),
            Err(_) => serde_json::from_slice::<Value>(body),
        };
        match parsed {
            Ok(Value::Object(m)) => Ok(m),
            Ok(_) => Err(DynamoError::Serialization("Start of list found where not expected".into())),
            Err(_) if body.iter().all(u8::is_ascii_whitespace) => Ok(Map::new()),
            Err(_) => Err(DynamoError::Serialization("Unexpected token received from parser".into())),
        }
    }

    /// A nested object (or a whole body parsed into a map).
    pub fn new(map: &'a Map<String, Value>) -> Self {
        Obj(Members::Map(map))
    }

    /// A request body's top-level members: each key once.
    pub(crate) fn from_members(members: &'a [(Cow<'a, str>, Value)]) -> Self {
        Obj(Members::List(members))
    }

    /// The number of members (null ones included).
    pub fn len(&self) -> usize {
        match self.0 {
            Members::Map(m) => m.len(),
            Members::List(l) => l.len(),
        }
    }

    /// Whether there are no members at all (not even null ones).
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Every member, null ones included: a nested object's in key order, a request
    /// body's top level in the order of its text.
    pub fn iter(&self) -> ObjIter<'a> {
        ObjIter(match self.0 {
            Members::Map(m) => IterInner::Map(m.iter()),
            Members::List(l) => IterInner::List(l.iter()),
        })
    }

    /// A copy of the members as a map (keys in order).
    pub fn to_map(&self) -> Map<String, Value> {
        match self.0 {
            Members::Map(m) => m.clone(),
            Members::List(l) => l.iter().map(|(k, v)| (k.to_string(), v.clone())).collect(),
        }
    }

    /// A member, treating JSON null as absent.
    pub fn get(&self, key: &str) -> Option<&'a Value> {
        // A request object has a handful of members, and most lookups are of members
        // it does not have: a scan by equality (lengths compared first) settles those
        // without comparing any text, where the map's ordered search compares the text
        // of about half of its keys.
        let found = match self.0 {
            Members::List(l) => l.iter().find(|(k, _)| k.as_ref() == key).map(|(_, v)| v),
            Members::Map(m) if m.len() <= 16 => m.iter().find(|(k, _)| k.as_str() == key).map(|(_, v)| v),
            Members::Map(m) => m.get(key),
        };
        found.filter(|v| !v.is_null())
    }

    /// A string member.
    pub fn str(&self, key: &str) -> Result<Option<&'a str>, DynamoError> {
        match self.get(key) {
            None => Ok(None),
            Some(Value::String(s)) => Ok(Some(s)),
            Some(v) => Err(mismatch(v, "a String")),
        }
    }

    /// A boolean member.
    pub fn bool(&self, key: &str) -> Result<Option<bool>, DynamoError> {
        match self.get(key) {
            None => Ok(None),
            Some(Value::Bool(b)) => Ok(Some(*b)),
            Some(v) => Err(mismatch(v, "Boolean")),
        }
    }

    /// An integer member (Long). Numbers in strings are refused as DynamoDB does.
    pub fn i64(&self, key: &str) -> Result<Option<i64>, DynamoError> {
        match self.get(key) {
            None => Ok(None),
            Some(Value::Number(n)) => match n.as_i64() {
                Some(i) => Ok(Some(i)),
                None => match n.as_f64() {
                    Some(f) if f.fract() == 0.0 && f.abs() < 9.2e18 => Ok(Some(f as i64)),
                    _ => Err(DynamoError::Serialization(format!("{n} can not be converted to Long"))),
                },
            },
            Some(v) => Err(mismatch(v, "Long")),
        }
    }

    /// A nested structure.
    pub fn obj(&self, key: &str) -> Result<Option<Obj<'a>>, DynamoError> {
        match self.get(key) {
            None => Ok(None),
            Some(Value::Object(m)) => Ok(Some(Obj::new(m))),
            Some(Value::Array(_)) => Err(DynamoError::Serialization("Start of list found where not expected".into())),
            Some(v) => {
                Err(DynamoError::Serialization(format!("{} can not be converted to a structure", kind_token(v))))
            }
        }
    }

    /// A list member.
    pub fn list(&self, key: &str) -> Result<Option<&'a Vec<Value>>, DynamoError> {
        match self.get(key) {
            None => Ok(None),
            Some(Value::Array(a)) => Ok(Some(a)),
            Some(Value::Object(_)) => {
                Err(DynamoError::Serialization("Start of structure or map found where not expected.".into()))
            }
            Some(_) => Err(DynamoError::Serialization("Expected list or null".into())),
        }
    }

    /// A list of structures.
    pub fn list_of_obj(&self, key: &str) -> Result<Option<Vec<Obj<'a>>>, DynamoError> {
        let Some(l) = self.list(key)? else { return Ok(None) };
        l.iter()
            .map(|v| match v {
                Value::Object(m) => Ok(Obj::new(m)),
                other => Err(mismatch(other, "a structure")),
            })
            .collect::<Result<Vec<_>, _>>()
            .map(Some)
    }

    /// A list of strings.
    pub fn list_of_str(&self, key: &str) -> Result<Option<Vec<&'a str>>, DynamoError> {
        let Some(l) = self.list(key)? else { return Ok(None) };
        l.iter()
            .map(|v| match v {
                Value::String(s) => Ok(s.as_str()),
                other => Err(mismatch(other, "a String")),
            })
            .collect::<Result<Vec<_>, _>>()
            .map(Some)
    }

    /// A map of strings (ExpressionAttributeNames) as its entries, borrowed; entries
    /// whose value is null are left out.
    pub fn str_map(&self, key: &str) -> Result<Option<Vec<(&'a str, &'a str)>>, DynamoError> {
        let Some(o) = self.obj(key)? else { return Ok(None) };
        let mut out = Vec::with_capacity(o.len());
        for (k, v) in o.iter() {
            match v {
                Value::String(s) => out.push((k, s.as_str())),
                Value::Null => {}
                other => return Err(mismatch(other, "a String")),
            }
        }
        Ok(Some(out))
    }

    /// A map of attribute values (Item, Key, ExpressionAttributeValues).
    pub fn item(&self, key: &str) -> Result<Option<Item>, DynamoError> {
        match self.get(key) {
            None => Ok(None),
            Some(v) => Ok(Some(stator_types::item_from_json(v)?)),
        }
    }
}

/// Collects Coral constraint violations and reports them together, as DynamoDB does.
#[derive(Default)]
pub struct Constraints {
    errors: Vec<String>,
}

impl Constraints {
    /// Empty.
    pub fn new() -> Self {
        Self::default()
    }

    /// Records a violation: `Value <shown> at '<path>' failed to satisfy constraint: <rule>`.
    pub fn fail(&mut self, shown: &str, path: &str, rule: &str) {
        self.errors.push(format!("Value {shown} at '{path}' failed to satisfy constraint: {rule}"));
    }

    /// `Member must not be null` for a missing required member.
    pub fn require<T>(&mut self, v: &Option<T>, path: &str) {
        if v.is_none() {
            self.fail("null", path, "Member must not be null");
        }
    }

    /// Length bounds on a string.
    pub fn length(&mut self, v: Option<&str>, path: &str, min: usize, max: usize) {
        if let Some(s) = v {
            let n = s.chars().count();
            if n < min {
                self.fail(&format!("'{s}'"), path, &format!("Member must have length greater than or equal to {min}"));
            } else if n > max {
                self.fail(&format!("'{s}'"), path, &format!("Member must have length less than or equal to {max}"));
            }
        }
    }

    /// Table and index names: `[a-zA-Z0-9_.-]+`, 3 to 255 characters.
    pub fn table_name(&mut self, v: Option<&str>, path: &str) {
        self.length(v, path, 3, 255);
        if let Some(s) = v {
            if !s.bytes().all(|c| c.is_ascii_alphanumeric() || c == b'_' || c == b'.' || c == b'-') {
                self.fail(&format!("'{s}'"), path, "Member must satisfy regular expression pattern: [a-zA-Z0-9_.-]+");
            }
        }
    }

    /// An enum member.
    pub fn one_of(&mut self, v: Option<&str>, path: &str, allowed: &[&str]) {
        if let Some(s) = v {
            if !allowed.contains(&s) {
                self.fail(
                    &format!("'{s}'"),
                    path,
                    &format!("Member must satisfy enum value set: [{}]", allowed.join(", ")),
                );
            }
        }
    }

    /// Bounds on the number of members of a list (`shown` as DynamoDB prints it).
    pub fn count<T>(&mut self, list: Option<&[T]>, path: &str, min: usize, max: usize) {
        match list {
            Some(l) if l.len() < min => {
                let shown = if l.is_empty() { "'[]'" } else { "'[...]'" };
                self.fail(shown, path, &format!("Member must have length greater than or equal to {min}"));
            }
            Some(l) if l.len() > max => {
                self.fail("'[...]'", path, &format!("Member must have length less than or equal to {max}"))
            }
            _ => {}
        }
    }

    /// A numeric lower bound.
    pub fn at_least(&mut self, v: Option<i64>, path: &str, min: i64) {
        if let Some(n) = v {
            if n < min {
                self.fail(&format!("'{n}'"), path, &format!("Member must have value greater than or equal to {min}"));
            }
        }
    }

    /// A numeric upper bound.
    pub fn at_most(&mut self, v: Option<i64>, path: &str, max: i64) {
        if let Some(n) = v {
            if n > max {
                self.fail(&format!("'{n}'"), path, &format!("Member must have value less than or equal to {max}"));
            }
        }
    }

    /// True if nothing failed so far.
    pub fn is_ok(&self) -> bool {
        self.errors.is_empty()
    }

    /// The accumulated ValidationException, if any.
    pub fn finish(self) -> Result<(), DynamoError> {
        match self.errors.len() {
            0 => Ok(()),
            1 => Err(DynamoError::Validation(format!("1 validation error detected: {}", self.errors[0]))),
            n => Err(DynamoError::Validation(format!("{n} validation errors detected: {}", self.errors.join("; ")))),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn members_are_found_in_small_and_large_objects() {
        for n in [0usize, 1, 5, 16, 17, 40] {
            let mut m = Map::new();
            for i in 0..n {
                m.insert(format!("Member{i}"), json!(i));
            }
            m.insert("Null".into(), Value::Null);
            let o = Obj::new(&m);
            for i in 0..n {
                assert_eq!(o.get(&format!("Member{i}")), Some(&json!(i)));
            }
            assert_eq!(o.get(&format!("Member{n}")), None);
            assert_eq!(o.get("Member"), None);
            assert_eq!(o.get("Null"), None, "null is absent");
        }
    }

    #[test]
    fn wrong_json_types_are_serialization_errors() {
        let v = json!({"TableName": 5, "Limit": "x", "Flag": "y", "L": 3});
        let o = Obj::new(v.as_object().unwrap());
        assert!(matches!(o.str("TableName"), Err(DynamoError::Serialization(_))));
        assert!(matches!(o.i64("Limit"), Err(DynamoError::Serialization(_))));
        assert!(matches!(o.bool("Flag"), Err(DynamoError::Serialization(_))));
        assert!(matches!(o.list("L"), Err(DynamoError::Serialization(_))));
        assert_eq!(o.str("Missing").unwrap(), None);
    }

    #[test]
    fn constraint_messages() {
        let mut c = Constraints::new();
        c.require::<&str>(&None, "tableName");
        c.finish().map(|_| ()).unwrap_err();
        let mut c = Constraints::new();
        c.table_name(Some("a!"), "tableName");
        let e = c.finish().unwrap_err();
        assert_eq!(e, DynamoError::Validation("2 validation errors detected: Value 'a!' at 'tableName' failed to satisfy constraint: Member must have length greater than or equal to 3; Value 'a!' at 'tableName' failed to satisfy constraint: Member must satisfy regular expression pattern: [a-zA-Z0-9_.-]+".into()));
    }

    #[test]
    fn bodies() {
        assert!(Obj::parse_body(b"{").is_err());
        assert!(Obj::parse_body(b"[]").is_err());
        assert!(Obj::parse_body(b"{}").is_ok());
        // Text that is not UTF-8 anywhere, in a string or outside one.
        for body in [&b"{\"a\":\"\xff\"}"[..], b"{\"a\":1}\xff", b"\xef\xbb\xbf{}"] {
            assert!(matches!(Obj::parse_body(body), Err(DynamoError::Serialization(_))), "{body:?}");
        }
        assert_eq!(Obj::parse_body("{\"é\":\"😀\"}".as_bytes()).unwrap()["é"], "😀");
    }
}
