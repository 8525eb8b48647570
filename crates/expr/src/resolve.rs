//! Substitution of `#name` and `:value` placeholders for all the expressions of one
//! request, the reserved-word check on bare names, and the request-level checks on
//! the ExpressionAttributeNames / ExpressionAttributeValues maps themselves.

use std::collections::HashMap;

use stator_types::AttributeValue;

use crate::ast::{Path, PathElem};
use crate::error::{ExprError, ExprKind};
use crate::reserved::is_reserved;
use crate::syntax::{RawElem, RawPath, Ref};

/// Resolves `#names` and `:values` for all expressions of ONE request, and tracks
/// which were used.
#[derive(Debug, Clone)]
pub struct Resolver<'a> {
    names: Option<Table<'a, str>>,
    values: Option<Table<'a, AttributeValue>>,
}

/// One of the request's maps as a list sorted by key, with a used flag per key: a
/// request's maps are small, and a binary search over borrowed keys costs less than
/// hashing each reference (several per expression) with a DoS-resistant hasher.
#[derive(Debug)]
struct Table<'a, V: ?Sized> {
    /// (key, value, used), sorted by key.
    entries: Vec<(&'a str, &'a V, bool)>,
}

impl<V: ?Sized> Clone for Table<'_, V> {
    fn clone(&self) -> Self {
        Table { entries: self.entries.clone() }
    }
}

impl<'a, V: ?Sized> Table<'a, V> {
    fn new(pairs: impl IntoIterator<Item = (&'a str, &'a V)>) -> Self {
        let mut entries: Vec<(&str, &V, bool)> = pairs.into_iter().map(|(k, v)| (k, v, false)).collect();
        entries.sort_unstable_by(|a, b| a.0.cmp(b.0));
        Table { entries }
    }

    fn find(&self, key: &str) -> Option<usize> {
        self.entries.binary_search_by(|(k, _, _)| (*k).cmp(key)).ok()
    }

    fn get(&self, key: &str) -> Option<&'a V> {
        self.find(key).map(|i| self.entries[i].1)
    }

    fn mark(&mut self, key: &str) {
        if let Some(i) = self.find(key) {
            self.entries[i].2 = true;
        }
    }

    /// Keys never marked, in byte order.
    fn unused(&self) -> Vec<&'a str> {
        self.entries.iter().filter(|(_, _, used)| !used).map(|(k, _, _)| *k).collect()
    }

    /// Keys that are not `sigil` followed by letters, digits or `_`, in byte order.
    fn invalid_keys(&self, sigil: char) -> impl Iterator<Item = &'a str> + '_ {
        self.entries.iter().map(|(k, _, _)| *k).filter(move |k| !valid_key(k, sigil))
    }
}

fn valid_key(key: &str, sigil: char) -> bool {
    key.strip_prefix(sigil)
        .is_some_and(|rest| !rest.is_empty() && rest.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'_'))
}

impl<'a> Resolver<'a> {
    /// A resolver over the request's ExpressionAttributeNames and ExpressionAttributeValues.
    pub fn new(
        names: Option<&'a HashMap<String, String>>,
        values: Option<&'a HashMap<String, AttributeValue>>,
    ) -> Self {
        Self::from_pairs(
            names.map(|m| m.iter().map(|(k, v)| (k.as_str(), v.as_str()))),
            values.map(|m| m.iter().map(|(k, v)| (k.as_str(), v))),
        )
    }

    /// [`Resolver::new`] over the maps' entries, borrowed from wherever they are (a
    /// request's JSON); keys are unique, as in a JSON object.
    pub fn from_pairs<N, V>(names: Option<N>, values: Option<V>) -> Self
    where
        N: IntoIterator<Item = (&'a str, &'a str)>,
        V: IntoIterator<Item = (&'a str, &'a AttributeValue)>,
    {
        Resolver { names: names.map(Table::new), values: values.map(Table::new) }
    }

    /// Checks the maps themselves, before any expression is parsed: a supplied map
    /// must not be empty, and every key must be `#` / `:` followed by letters, digits
    /// or `_` ("ExpressionAttributeNames contains invalid key: Syntax error; key:
    /// \"#a-b\""). When several keys are bad, the first in byte order is reported.
    pub fn validate(&self) -> Result<(), ExprError> {
        if let Some(n) = &self.names {
            if n.entries.is_empty() {
                return Err(ExprError("ExpressionAttributeNames must not be empty".into()));
            }
            if let Some(k) = n.invalid_keys('#').next() {
                return Err(ExprError(format!(
                    "ExpressionAttributeNames contains invalid key: Syntax error; key: \"{k}\""
                )));
            }
        }
        if let Some(v) = &self.values {
            if v.entries.is_empty() {
                return Err(ExprError("ExpressionAttributeValues must not be empty".into()));
            }
            if let Some(k) = v.invalid_keys(':').next() {
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
        if let Some(n) = &self.names {
            let keys = n.unused();
            if !keys.is_empty() {
                return Err(ExprError(format!(
                    "Value provided in ExpressionAttributeNames unused in expressions: keys: {{{}}}",
                    keys.join(", ")
                )));
            }
        }
        if let Some(v) = &self.values {
            let keys = v.unused();
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
                if self.names.as_ref().and_then(|m| m.find(n)).is_none() {
                    return Err(kind.err(format_args!(
                        "An expression attribute name used in the document path is not defined; attribute name: {n}"
                    )));
                }
            }
        }
        for r in refs {
            if let Ref::Value(v) = r {
                if self.values.as_ref().and_then(|m| m.find(v)).is_none() {
                    return Err(kind.err(format_args!(
                        "An expression attribute value used in expression is not defined; attribute value: {v}"
                    )));
                }
            }
        }
        for r in refs {
            match r {
                Ref::Name(n) => {
                    if let Some(m) = &mut self.names {
                        m.mark(n);
                    }
                }
                Ref::Value(v) => {
                    if let Some(m) = &mut self.values {
                        m.mark(v);
                    }
                }
                Ref::Ident(_) => {}
            }
        }
        Ok(())
    }

    /// The value of a `:placeholder` (None when undefined; [`Self::check_refs`] ran first).
    pub(crate) fn value(&self, v: &str) -> Option<&'a AttributeValue> {
        self.values.as_ref().and_then(|m| m.get(v))
    }

    /// Resolves a raw path (its `#names` were checked by [`Self::check_refs`]).
    pub(crate) fn path(&self, raw: &RawPath) -> Path {
        Path(
            raw.0
                .iter()
                .map(|e| match e {
                    RawElem::Ident(s) => PathElem::Attr(s.clone()),
                    RawElem::Name(n) => PathElem::Attr(
                        self.names.as_ref().and_then(|m| m.get(n)).map_or_else(|| n.clone(), str::to_string),
                    ),
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
        // Of several bad keys, the first in byte order is named.
        let names: HashMap<String, String> =
            ["#z-", "#ok", "#b-", "#a-x"].iter().map(|k| (k.to_string(), "n".to_string())).collect();
        assert_eq!(
            Resolver::new(Some(&names), None).validate().unwrap_err().0,
            "ExpressionAttributeNames contains invalid key: Syntax error; key: \"#a-x\""
        );
    }

    #[test]
    fn unused_keys_are_listed_in_byte_order_and_lookups_find_every_key() {
        let names: HashMap<String, String> = (0..40).map(|i| (format!("#n{}", 39 - i), format!("attr{i}"))).collect();
        let values: HashMap<String, AttributeValue> =
            (0..40).map(|i| (format!(":v{i}"), AttributeValue::S(i.to_string()))).collect();
        let mut r = Resolver::new(Some(&names), Some(&values));
        r.validate().unwrap();
        let used: Vec<Ref> = (0..40)
            .filter(|i| i % 3 != 0)
            .flat_map(|i| [Ref::Name(format!("#n{i}")), Ref::Value(format!(":v{i}"))])
            .collect();
        r.check_refs(&used, ExprKind::Update).unwrap();
        for i in 0..40 {
            assert_eq!(r.value(&format!(":v{i}")), Some(&AttributeValue::S(i.to_string())));
        }
        assert_eq!(r.value(":v40"), None);
        let unused: Vec<String> = (0..40).filter(|i| i % 3 == 0).map(|i| format!("#n{i}")).collect();
        let mut sorted = unused.clone();
        sorted.sort();
        assert_eq!(
            r.check_all_used().unwrap_err().0,
            format!(
                "Value provided in ExpressionAttributeNames unused in expressions: keys: {{{}}}",
                sorted.join(", ")
            )
        );
        let rest: Vec<Ref> = unused.iter().map(|n| Ref::Name(n.clone())).collect();
        r.check_refs(&rest, ExprKind::Update).unwrap();
        let mut unused_values: Vec<String> = (0..40).filter(|i| i % 3 == 0).map(|i| format!(":v{i}")).collect();
        unused_values.sort();
        assert_eq!(
            r.check_all_used().unwrap_err().0,
            format!(
                "Value provided in ExpressionAttributeValues unused in expressions: keys: {{{}}}",
                unused_values.join(", ")
            )
        );
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
