//! Substitution of `#name` and `:value` placeholders for all the expressions of one
//! request, the reserved-word check on bare names, and the request-level checks on
//! the ExpressionAttributeNames / ExpressionAttributeValues maps themselves.

use std::collections::{BTreeSet, HashMap};

use stator_types::AttributeValue;

use crate::ast::{Path, PathElem};
use crate::error::{ExprError, ExprKind};
use crate::reserved::is_reserved;
use crate::syntax::{RawElem, RawPath, Ref};

/// Resolves `#names` and `:values` for all expressions of ONE request, and tracks
/// which were used.
#[derive(Debug, Clone)]
pub struct Resolver<'a> {
    names: Option<&'a HashMap<String, String>>,
    values: Option<&'a HashMap<String, AttributeValue>>,
    /// The supplied names and values referenced so far (borrowed from the maps: no
    /// copies per reference).
    used_names: BTreeSet<&'a str>,
    used_values: BTreeSet<&'a str>,
}

fn valid_key(key: &str, sigil: char) -> bool {
    key.strip_prefix(sigil)
        .is_some_and(|rest| !rest.is_empty() && rest.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'_'))
}

fn unused<'k>(keys: impl Iterator<Item = &'k String>, used: &BTreeSet<&str>) -> Vec<&'k str> {
    let mut out: Vec<&str> = keys.filter(|k| !used.contains(k.as_str())).map(String::as_str).collect();
    out.sort_unstable();
    out
}

impl<'a> Resolver<'a> {
    /// A resolver over the request's ExpressionAttributeNames and ExpressionAttributeValues.
    pub fn new(
        names: Option<&'a HashMap<String, String>>,
        values: Option<&'a HashMap<String, AttributeValue>>,
    ) -> Self {
        Resolver { names, values, used_names: BTreeSet::new(), used_values: BTreeSet::new() }
    }

    /// Checks the maps themselves, before any expression is parsed: a supplied map
    /// must not be empty, and every key must be `#` / `:` followed by letters, digits
    /// or `_` ("ExpressionAttributeNames contains invalid key: Syntax error; key:
    /// \"#a-b\""). When several keys are bad, the first in byte order is reported.
    pub fn validate(&self) -> Result<(), ExprError> {
        if let Some(n) = self.names {
            if n.is_empty() {
                return Err(ExprError("ExpressionAttributeNames must not be empty".into()));
            }
            let mut keys: Vec<&String> = n.keys().filter(|k| !valid_key(k, '#')).collect();
            keys.sort_unstable();
            if let Some(k) = keys.first() {
                return Err(ExprError(format!(
                    "ExpressionAttributeNames contains invalid key: Syntax error; key: \"{k}\""
                )));
            }
        }
        if let Some(v) = self.values {
            if v.is_empty() {
                return Err(ExprError("ExpressionAttributeValues must not be empty".into()));
            }
            let mut keys: Vec<&String> = v.keys().filter(|k| !valid_key(k, ':')).collect();
            keys.sort_unstable();
            if let Some(k) = keys.first() {
                return Err(ExprError(format!(
                    "ExpressionAttributeValues contains invalid key: Syntax error; key: \"{k}\""
                )));
            }
        }
        Ok(())
    }

    /// After all expressions of the request were parsed: an error if a supplied name or
    /// value was never used ("Value provided in ExpressionAttributeNames unused in
    /// expressions: keys: {#a, #b}"; keys listed in byte order). Names are checked first.
    pub fn check_all_used(&self) -> Result<(), ExprError> {
        if let Some(n) = self.names {
            let keys = unused(n.keys(), &self.used_names);
            if !keys.is_empty() {
                return Err(ExprError(format!(
                    "Value provided in ExpressionAttributeNames unused in expressions: keys: {{{}}}",
                    keys.join(", ")
                )));
            }
        }
        if let Some(v) = self.values {
            let keys = unused(v.keys(), &self.used_values);
            if !keys.is_empty() {
                return Err(ExprError(format!(
                    "Value provided in ExpressionAttributeValues unused in expressions: keys: {{{}}}",
                    keys.join(", ")
                )));
            }
        }
        Ok(())
    }

    /// Checks one expression's references and marks them used. DynamoDB reports, in
    /// this order: a bare name that is a reserved word, then an undefined `#name`, then
    /// an undefined `:value` (each time the first in source order).
    pub(crate) fn check_refs(&mut self, refs: &[Ref], kind: ExprKind) -> Result<(), ExprError> {
        for r in refs {
            if let Ref::Ident(s) = r {
                if is_reserved(s) {
                    return Err(kind.err(format_args!("Attribute name is a reserved keyword; reserved keyword: {s}")));
                }
            }
        }
        for r in refs {
            if let Ref::Name(n) = r {
                if self.names.and_then(|m| m.get(n)).is_none() {
                    return Err(kind.err(format_args!(
                        "An expression attribute name used in the document path is not defined; attribute name: {n}"
                    )));
                }
            }
        }
        for r in refs {
            if let Ref::Value(v) = r {
                if self.values.and_then(|m| m.get(v)).is_none() {
                    return Err(kind.err(format_args!(
                        "An expression attribute value used in expression is not defined; attribute value: {v}"
                    )));
                }
            }
        }
        for r in refs {
            match r {
                Ref::Name(n) => {
                    if let Some((k, _)) = self.names.and_then(|m| m.get_key_value(n)) {
                        self.used_names.insert(k);
                    }
                }
                Ref::Value(v) => {
                    if let Some((k, _)) = self.values.and_then(|m| m.get_key_value(v)) {
                        self.used_values.insert(k);
                    }
                }
                Ref::Ident(_) => {}
            }
        }
        Ok(())
    }

    /// The value of a `:placeholder` (None when undefined; [`Self::check_refs`] ran first).
    pub(crate) fn value(&self, v: &str) -> Option<&'a AttributeValue> {
        self.values.and_then(|m| m.get(v))
    }

    /// Resolves a raw path (its `#names` were checked by [`Self::check_refs`]).
    pub(crate) fn path(&self, raw: &RawPath) -> Path {
        Path(
            raw.0
                .iter()
                .map(|e| match e {
                    RawElem::Ident(s) => PathElem::Attr(s.clone()),
                    RawElem::Name(n) => {
                        PathElem::Attr(self.names.and_then(|m| m.get(n)).cloned().unwrap_or_else(|| n.clone()))
                    }
                    RawElem::Index(i) => PathElem::Index(*i),
                })
                .collect(),
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn key_syntax() {
        let names: HashMap<String, String> =
            [("#ok_1".to_string(), "a".to_string()), ("#bad-".into(), "b".into())].into();
        let r = Resolver::new(Some(&names), None);
        assert_eq!(
            r.validate().unwrap_err().0,
            "ExpressionAttributeNames contains invalid key: Syntax error; key: \"#bad-\""
        );
        let values: HashMap<String, AttributeValue> = [("x".to_string(), AttributeValue::Null)].into();
        let r = Resolver::new(None, Some(&values));
        assert_eq!(
            r.validate().unwrap_err().0,
            "ExpressionAttributeValues contains invalid key: Syntax error; key: \"x\""
        );
        let empty = HashMap::new();
        assert_eq!(
            Resolver::new(Some(&empty), None).validate().unwrap_err().0,
            "ExpressionAttributeNames must not be empty"
        );
        let empty_v = HashMap::new();
        assert_eq!(
            Resolver::new(None, Some(&empty_v)).validate().unwrap_err().0,
            "ExpressionAttributeValues must not be empty"
        );
        assert!(Resolver::new(None, None).validate().is_ok());
    }

    #[test]
    fn reference_checks_in_priority_order() {
        let names: HashMap<String, String> = [("#a".to_string(), "x".to_string())].into();
        let mut r = Resolver::new(Some(&names), None);
        let refs = vec![Ref::Value(":v".into()), Ref::Name("#b".into()), Ref::Ident("Status".into())];
        assert_eq!(
            r.check_refs(&refs, ExprKind::Filter).unwrap_err().0,
            "Invalid FilterExpression: Attribute name is a reserved keyword; reserved keyword: Status"
        );
        assert_eq!(
            r.check_refs(&refs[..2], ExprKind::Filter).unwrap_err().0,
            "Invalid FilterExpression: An expression attribute name used in the document path is not defined; attribute name: #b"
        );
        assert_eq!(
            r.check_refs(&refs[..1], ExprKind::Filter).unwrap_err().0,
            "Invalid FilterExpression: An expression attribute value used in expression is not defined; attribute value: :v"
        );
        assert_eq!(
            r.check_all_used().unwrap_err().0,
            "Value provided in ExpressionAttributeNames unused in expressions: keys: {#a}"
        );
        r.check_refs(&[Ref::Name("#a".into())], ExprKind::Filter).unwrap();
        assert!(r.check_all_used().is_ok());
    }
}
