//! Attribute values: the ten DynamoDB types, their JSON wire form and validation.

use std::collections::BTreeMap;
use std::fmt;

use base64::Engine as _;
use serde_json::{Map, Value};

use crate::number::Number;

/// An item, or a map attribute: attribute name → value.
pub type Item = BTreeMap<String, AttributeValue>;

/// A DynamoDB attribute value.
#[derive(Clone, PartialEq, Eq)]
pub enum AttributeValue {
    /// String.
    S(String),
    /// Number.
    N(Number),
    /// Binary.
    B(Vec<u8>),
    /// Boolean.
    Bool(bool),
    /// Null (always true on the wire).
    Null,
    /// Map.
    M(Item),
    /// List.
    L(Vec<AttributeValue>),
    /// String set (non-empty, no duplicates).
    SS(Vec<String>),
    /// Number set.
    NS(Vec<Number>),
    /// Binary set.
    BS(Vec<Vec<u8>>),
}

/// The type descriptor of a value, as DynamoDB names it (`S`, `N`, `BOOL`, …).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ValueType {
    /// `S`
    S,
    /// `N`
    N,
    /// `B`
    B,
    /// `BOOL`
    Bool,
    /// `NULL`
    Null,
    /// `M`
    M,
    /// `L`
    L,
    /// `SS`
    SS,
    /// `NS`
    NS,
    /// `BS`
    BS,
}

impl ValueType {
    /// The wire descriptor.
    pub fn as_str(self) -> &'static str {
        match self {
            ValueType::S => "S",
            ValueType::N => "N",
            ValueType::B => "B",
            ValueType::Bool => "BOOL",
            ValueType::Null => "NULL",
            ValueType::M => "M",
            ValueType::L => "L",
            ValueType::SS => "SS",
            ValueType::NS => "NS",
            ValueType::BS => "BS",
        }
    }

    /// Parses a wire descriptor.
    pub fn parse(s: &str) -> Option<ValueType> {
        Some(match s {
            "S" => ValueType::S,
            "N" => ValueType::N,
            "B" => ValueType::B,
            "BOOL" => ValueType::Bool,
            "NULL" => ValueType::Null,
            "M" => ValueType::M,
            "L" => ValueType::L,
            "SS" => ValueType::SS,
            "NS" => ValueType::NS,
            "BS" => ValueType::BS,
            _ => return None,
        })
    }
}

impl fmt::Display for ValueType {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Why a JSON attribute value was refused: DynamoDB answers some of these with a
/// SerializationException (the JSON has the wrong shape) and the rest with a
/// ValidationException (the shape is right, the value is not allowed).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum DecodeError {
    /// Wrong JSON shape → SerializationException.
    Serialization(String),
    /// Invalid value → ValidationException.
    Validation(String),
}

const INVALID: &str = "One or more parameter values were invalid: ";

fn validation(msg: impl fmt::Display) -> DecodeError {
    DecodeError::Validation(format!("{INVALID}{msg}"))
}

fn ser(msg: impl Into<String>) -> DecodeError {
    DecodeError::Serialization(msg.into())
}

/// Maximum nesting depth of maps and lists DynamoDB accepts.
pub const MAX_DEPTH: usize = 32;

impl AttributeValue {
    /// The value's type.
    pub fn value_type(&self) -> ValueType {
        match self {
            AttributeValue::S(_) => ValueType::S,
            AttributeValue::N(_) => ValueType::N,
            AttributeValue::B(_) => ValueType::B,
            AttributeValue::Bool(_) => ValueType::Bool,
            AttributeValue::Null => ValueType::Null,
            AttributeValue::M(_) => ValueType::M,
            AttributeValue::L(_) => ValueType::L,
            AttributeValue::SS(_) => ValueType::SS,
            AttributeValue::NS(_) => ValueType::NS,
            AttributeValue::BS(_) => ValueType::BS,
        }
    }

    /// Decodes one wire-form value (`{"S": "x"}`), validating it as DynamoDB does.
    pub fn from_json(v: &Value) -> Result<AttributeValue, DecodeError> {
        Self::from_json_depth(v, 0)
    }

    fn from_json_depth(v: &Value, depth: usize) -> Result<AttributeValue, DecodeError> {
        let obj = match v {
            Value::Object(o) => o,
            Value::Null => {
                return Err(validation(
                    "Supplied AttributeValue is empty, must contain exactly one of the supported datatypes",
                ))
            }
            _ => {
                return Err(ser(format!(
                    "Unexpected value type in payload: expected an AttributeValue structure, found {}",
                    json_kind(v)
                )))
            }
        };
        // Null members are treated as absent, as the SDKs sometimes send them.
        let mut present = obj.iter().filter(|(_, v)| !v.is_null());
        let Some((k, inner)) = present.next() else {
            return Err(validation(
                "Supplied AttributeValue is empty, must contain exactly one of the supported datatypes",
            ));
        };
        if present.next().is_some() {
            return Err(validation(
                "Supplied AttributeValue has more than one datatypes set, must contain exactly one of the supported datatypes",
            ));
        }
        let Some(t) = ValueType::parse(k) else {
            return Err(ser(format!("Unrecognized attribute value type: {k}")));
        };
        Ok(match t {
            ValueType::S => AttributeValue::S(json_str(inner, "S")?.to_string()),
            ValueType::N => AttributeValue::N(parse_number(json_str(inner, "N")?)?),
            ValueType::B => AttributeValue::B(decode_b64(json_str(inner, "B")?)?),
            ValueType::Bool => match inner {
                Value::Bool(b) => AttributeValue::Bool(*b),
                _ => return Err(ser(format!("Unexpected value type for BOOL: {}", json_kind(inner)))),
            },
            ValueType::Null => match inner {
                Value::Bool(true) => AttributeValue::Null,
                Value::Bool(false) => return Err(validation("Null attribute value types must have the value of true")),
                _ => return Err(ser(format!("Unexpected value type for NULL: {}", json_kind(inner)))),
            },
            ValueType::M => {
                let Value::Object(m) = inner else {
                    return Err(ser(format!("Unexpected value type for M: {}", json_kind(inner))));
                };
                if depth + 1 > MAX_DEPTH {
                    return Err(validation("Nesting Levels have exceeded supported limits"));
                }
                let mut out = Item::new();
                for (k, v) in m {
                    out.insert(k.clone(), Self::from_json_depth(v, depth + 1)?);
                }
                AttributeValue::M(out)
            }
            ValueType::L => {
                let Value::Array(a) = inner else {
                    return Err(ser(format!("Unexpected value type for L: {}", json_kind(inner))));
                };
                if depth + 1 > MAX_DEPTH {
                    return Err(validation("Nesting Levels have exceeded supported limits"));
                }
                AttributeValue::L(a.iter().map(|v| Self::from_json_depth(v, depth + 1)).collect::<Result<_, _>>()?)
            }
            ValueType::SS => {
                let items = json_array(inner, "SS")?;
                let mut out = Vec::with_capacity(items.len());
                for it in items {
                    out.push(json_str(it, "SS")?.to_string());
                }
                if out.is_empty() {
                    return Err(validation("An string set  may not be empty"));
                }
                check_dupes(&out, |s| s.clone())?;
                AttributeValue::SS(out)
            }
            ValueType::NS => {
                let items = json_array(inner, "NS")?;
                let mut out = Vec::with_capacity(items.len());
                for it in items {
                    out.push(parse_number(json_str(it, "NS")?)?);
                }
                if out.is_empty() {
                    return Err(validation("An number set  may not be empty"));
                }
                check_dupes(&out, |n| n.to_string())?;
                AttributeValue::NS(out)
            }
            ValueType::BS => {
                let items = json_array(inner, "BS")?;
                let mut out = Vec::with_capacity(items.len());
                for it in items {
                    out.push(decode_b64(json_str(it, "BS")?)?);
                }
                if out.is_empty() {
                    return Err(validation("Binary sets should not be empty"));
                }
                check_dupes(&out, |b| base64::engine::general_purpose::STANDARD.encode(b))?;
                AttributeValue::BS(out)
            }
        })
    }

    /// Encodes the value in its wire form.
    pub fn to_json(&self) -> Value {
        let b64 = |b: &[u8]| Value::String(base64::engine::general_purpose::STANDARD.encode(b));
        let (k, v) = match self {
            AttributeValue::S(s) => ("S", Value::String(s.clone())),
            AttributeValue::N(n) => ("N", Value::String(n.to_string())),
            AttributeValue::B(b) => ("B", b64(b)),
            AttributeValue::Bool(b) => ("BOOL", Value::Bool(*b)),
            AttributeValue::Null => ("NULL", Value::Bool(true)),
            AttributeValue::M(m) => ("M", item_to_json(m)),
            AttributeValue::L(l) => ("L", Value::Array(l.iter().map(|v| v.to_json()).collect())),
            AttributeValue::SS(s) => ("SS", Value::Array(s.iter().map(|s| Value::String(s.clone())).collect())),
            AttributeValue::NS(s) => ("NS", Value::Array(s.iter().map(|n| Value::String(n.to_string())).collect())),
            AttributeValue::BS(s) => ("BS", Value::Array(s.iter().map(|b| b64(b)).collect())),
        };
        let mut m = Map::with_capacity(1);
        m.insert(k.to_string(), v);
        Value::Object(m)
    }
}

/// Decodes an item (`{"name": {"S": "x"}, ...}`).
pub fn item_from_json(v: &Value) -> Result<Item, DecodeError> {
    let Value::Object(m) = v else {
        return Err(ser(format!(
            "Unexpected value type in payload: expected a map of AttributeValues, found {}",
            json_kind(v)
        )));
    };
    let mut out = Item::new();
    for (k, v) in m {
        out.insert(k.clone(), AttributeValue::from_json(v)?);
    }
    Ok(out)
}

/// Encodes an item in wire form.
pub fn item_to_json(item: &Item) -> Value {
    Value::Object(item.iter().map(|(k, v)| (k.clone(), v.to_json())).collect())
}

fn json_kind(v: &Value) -> &'static str {
    match v {
        Value::Null => "null",
        Value::Bool(_) => "boolean",
        Value::Number(_) => "number",
        Value::String(_) => "string",
        Value::Array(_) => "list",
        Value::Object(_) => "structure",
    }
}

fn json_str<'a>(v: &'a Value, t: &str) -> Result<&'a str, DecodeError> {
    match v {
        Value::String(s) => Ok(s),
        _ => Err(ser(format!("Unexpected value type for {t}: expected a string, found {}", json_kind(v)))),
    }
}

fn json_array<'a>(v: &'a Value, t: &str) -> Result<&'a Vec<Value>, DecodeError> {
    match v {
        Value::Array(a) => Ok(a),
        _ => Err(ser(format!("Unexpected value type for {t}: expected a list, found {}", json_kind(v)))),
    }
}

fn parse_number(s: &str) -> Result<Number, DecodeError> {
    Number::parse(s).map_err(|e| DecodeError::Validation(e.message().to_string()))
}

fn decode_b64(s: &str) -> Result<Vec<u8>, DecodeError> {
    base64::engine::general_purpose::STANDARD.decode(s).map_err(|_| ser("Base64 encoded value is invalid"))
}

fn check_dupes<T, K: Ord + fmt::Display>(v: &[T], key: impl Fn(&T) -> K) -> Result<(), DecodeError> {
    let mut seen = std::collections::BTreeSet::new();
    for x in v {
        if !seen.insert(key(x)) {
            let shown: Vec<String> = v.iter().map(|x| key(x).to_string()).collect();
            return Err(validation(format!("Input collection [{}] contains duplicates.", shown.join(", "))));
        }
    }
    Ok(())
}

impl fmt::Debug for AttributeValue {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.to_json())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn round_trips_every_type() {
        let v = json!({"M": {
            "s": {"S": ""}, "n": {"N": "1.50"}, "b": {"B": "AAE="}, "t": {"BOOL": true},
            "z": {"NULL": true}, "l": {"L": [{"S": "a"}, {"N": "2"}]},
            "ss": {"SS": ["a", "b"]}, "ns": {"NS": ["1", "2"]}, "bs": {"BS": ["AA=="]}
        }});
        let av = AttributeValue::from_json(&v).unwrap();
        let back = av.to_json();
        assert_eq!(back["M"]["n"], json!({"N": "1.5"}));
        assert_eq!(AttributeValue::from_json(&back).unwrap(), av);
    }

    #[test]
    fn validation_messages() {
        let cases = [
            (json!({}), "One or more parameter values were invalid: Supplied AttributeValue is empty, must contain exactly one of the supported datatypes"),
            (json!({"S": "a", "N": "1"}), "One or more parameter values were invalid: Supplied AttributeValue has more than one datatypes set, must contain exactly one of the supported datatypes"),
            (json!({"SS": []}), "One or more parameter values were invalid: An string set  may not be empty"),
            (json!({"SS": ["a", "a"]}), "One or more parameter values were invalid: Input collection [a, a] contains duplicates."),
            (json!({"NS": ["1", "1.0"]}), "One or more parameter values were invalid: Input collection [1, 1] contains duplicates."),
            (json!({"NULL": false}), "One or more parameter values were invalid: Null attribute value types must have the value of true"),
            (json!({"N": "x"}), "A value provided cannot be converted into a number"),
        ];
        for (v, msg) in cases {
            assert_eq!(AttributeValue::from_json(&v), Err(DecodeError::Validation(msg.into())), "{v}");
        }
        assert!(matches!(AttributeValue::from_json(&json!({"S": 5})), Err(DecodeError::Serialization(_))));
        assert!(matches!(AttributeValue::from_json(&json!({"X": "a"})), Err(DecodeError::Serialization(_))));
    }

    #[test]
    fn depth_limit() {
        let mut v = json!({"S": "leaf"});
        for _ in 0..32 {
            v = json!({"L": [v]});
        }
        assert!(AttributeValue::from_json(&v).is_ok());
        let v = json!({"L": [v]});
        assert!(matches!(AttributeValue::from_json(&v), Err(DecodeError::Validation(_))));
    }
}
