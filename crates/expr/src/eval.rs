//! Evaluation of conditions against an item, and the value semantics they rest on:
//! document-path lookup, DynamoDB equality (sets compare as sets) and ordering
//! (numbers by value, strings and binaries by unsigned bytes).
//!
//! What each behaviour pins:
//! - a comparison whose operands have different types, or whose path is missing, is
//!   false, never an error; `<>` is its negation, so `missing <> :v` is true;
//! - `<`, `<=`, `>`, `>=`, BETWEEN order only N, S and B;
//! - `contains` is substring for S, subsequence for B, membership for sets (the
//!   operand of the set's element type) and element equality for lists;
//! - `begins_with` works on S (with an S prefix) and B (with a B prefix);
//! - `size` is the UTF-16 length of a string (as DynamoDB counts it: `size("é𝄞")` is
//!   3), the byte length of a binary, and the element count of sets, lists and maps;
//!   for other types it yields nothing, so the comparison is false.

use std::borrow::Cow;
use std::cmp::Ordering;

use stator_types::{AttributeValue, Item, Number, ValueType};

use crate::ast::{CmpOp, Condition, Operand, Path, PathElem};
use crate::error::ExprError;

/// The value at `path` in `item`, if there is one.
pub fn get_path<'v>(item: &'v Item, path: &Path) -> Option<&'v AttributeValue> {
    let mut elems = path.0.iter();
    let mut cur = match elems.next()? {
        PathElem::Attr(a) => item.get(a)?,
        PathElem::Index(_) => return None,
    };
    for e in elems {
        cur = match (e, cur) {
            (PathElem::Attr(a), AttributeValue::M(m)) => m.get(a)?,
            (PathElem::Index(i), AttributeValue::L(l)) => l.get(*i)?,
            _ => return None,
        };
    }
    Some(cur)
}

fn same_set<T: PartialEq>(a: &[T], b: &[T]) -> bool {
    a.len() == b.len() && a.iter().all(|x| b.contains(x))
}

/// DynamoDB equality: same type and same value; sets are equal regardless of order.
pub fn values_equal(a: &AttributeValue, b: &AttributeValue) -> bool {
    use AttributeValue as V;
    match (a, b) {
        (V::SS(x), V::SS(y)) => same_set(x, y),
        (V::NS(x), V::NS(y)) => same_set(x, y),
        (V::BS(x), V::BS(y)) => same_set(x, y),
        (V::L(x), V::L(y)) => x.len() == y.len() && x.iter().zip(y).all(|(p, q)| values_equal(p, q)),
        (V::M(x), V::M(y)) => x.len() == y.len() && x.iter().all(|(k, v)| y.get(k).is_some_and(|w| values_equal(v, w))),
        _ => a == b,
    }
}

/// Ordering of two values of the same orderable type (N, S or B); None otherwise.
pub fn compare_values(a: &AttributeValue, b: &AttributeValue) -> Option<Ordering> {
    match (a, b) {
        (AttributeValue::N(x), AttributeValue::N(y)) => Some(x.cmp(y)),
        (AttributeValue::S(x), AttributeValue::S(y)) => Some(x.as_bytes().cmp(y.as_bytes())),
        (AttributeValue::B(x), AttributeValue::B(y)) => Some(x.cmp(y)),
        _ => None,
    }
}

/// What `size()` gives for a value.
pub fn size_of(v: &AttributeValue) -> Option<usize> {
    Some(match v {
        AttributeValue::S(s) => s.encode_utf16().count(),
        AttributeValue::B(b) => b.len(),
        AttributeValue::SS(s) => s.len(),
        AttributeValue::NS(s) => s.len(),
        AttributeValue::BS(s) => s.len(),
        AttributeValue::L(l) => l.len(),
        AttributeValue::M(m) => m.len(),
        AttributeValue::N(_) | AttributeValue::Bool(_) | AttributeValue::Null => return None,
    })
}

fn operand<'v>(o: &'v Operand, item: &'v Item) -> Option<Cow<'v, AttributeValue>> {
    match o {
        Operand::Path(p) => get_path(item, p).map(Cow::Borrowed),
        Operand::Value(v) => Some(Cow::Borrowed(&v.value)),
        Operand::Size(p) => {
            let n = size_of(get_path(item, p)?)?;
            let n = i64::try_from(n).ok()?;
            Some(Cow::Owned(AttributeValue::N(Number::from_i64(n))))
        }
    }
}

fn is_subslice<T: PartialEq>(hay: &[T], needle: &[T]) -> bool {
    needle.is_empty() || hay.windows(needle.len()).any(|w| w == needle)
}

fn contains(hay: &AttributeValue, needle: &AttributeValue) -> bool {
    use AttributeValue as V;
    match (hay, needle) {
        (V::S(h), V::S(n)) => h.contains(n.as_str()),
        (V::B(h), V::B(n)) => is_subslice(h, n),
        (V::SS(h), V::S(n)) => h.contains(n),
        (V::NS(h), V::N(n)) => h.contains(n),
        (V::BS(h), V::B(n)) => h.contains(n),
        (V::L(h), n) => h.iter().any(|e| values_equal(e, n)),
        _ => false,
    }
}

fn begins_with(v: &AttributeValue, prefix: &AttributeValue) -> bool {
    match (v, prefix) {
        (AttributeValue::S(s), AttributeValue::S(p)) => s.starts_with(p.as_str()),
        (AttributeValue::B(b), AttributeValue::B(p)) => b.starts_with(p),
        _ => false,
    }
}

impl Condition {
    /// Evaluates the condition against `item` (a missing item is the empty map).
    pub fn eval(&self, item: &Item) -> Result<bool, ExprError> {
        // Logical nodes recurse here; leaves are evaluated out of line so the
        // recursive frame stays small.
        Ok(match self {
            Condition::Not(c) => !c.eval(item)?,
            Condition::And(l, r) => l.eval(item)? && r.eval(item)?,
            Condition::Or(l, r) => l.eval(item)? || r.eval(item)?,
            leaf => leaf.eval_leaf(item),
        })
    }

    #[inline(never)]
    fn eval_leaf(&self, item: &Item) -> bool {
        match self {
            Condition::Compare(op, a, b) => {
                let (a, b) = (operand(a, item), operand(b, item));
                let (Some(a), Some(b)) = (a, b) else {
                    return *op == CmpOp::Ne;
                };
                match op {
                    CmpOp::Eq => values_equal(&a, &b),
                    CmpOp::Ne => !values_equal(&a, &b),
                    _ => match compare_values(&a, &b) {
                        None => false,
                        Some(ord) => match op {
                            CmpOp::Lt => ord == Ordering::Less,
                            CmpOp::Le => ord != Ordering::Greater,
                            CmpOp::Gt => ord == Ordering::Greater,
                            _ => ord != Ordering::Less,
                        },
                    },
                }
            }
            Condition::Between(a, lo, hi) => match (operand(a, item), operand(lo, item), operand(hi, item)) {
                (Some(a), Some(lo), Some(hi)) => {
                    compare_values(&a, &lo).is_some_and(|o| o != Ordering::Less)
                        && compare_values(&a, &hi).is_some_and(|o| o != Ordering::Greater)
                }
                _ => false,
            },
            Condition::In(a, list) => match operand(a, item) {
                Some(a) => list.iter().any(|o| operand(o, item).is_some_and(|v| values_equal(&a, &v))),
                None => false,
            },
            Condition::AttributeExists(p) => get_path(item, p).is_some(),
            Condition::AttributeNotExists(p) => get_path(item, p).is_none(),
            Condition::AttributeType(p, t) => match (get_path(item, p), operand(t, item).as_deref()) {
                (Some(v), Some(AttributeValue::S(t))) => ValueType::parse(t) == Some(v.value_type()),
                _ => false,
            },
            Condition::BeginsWith(a, b) => match (operand(a, item), operand(b, item)) {
                (Some(a), Some(b)) => begins_with(&a, &b),
                _ => false,
            },
            Condition::Contains(a, b) => match (operand(a, item), operand(b, item)) {
                (Some(a), Some(b)) => contains(&a, &b),
                _ => false,
            },
            Condition::Not(_) | Condition::And(..) | Condition::Or(..) => self.eval(item).unwrap_or(false),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn n(s: &str) -> AttributeValue {
        AttributeValue::N(Number::parse(s).unwrap())
    }

    #[test]
    fn equality_and_order() {
        assert!(values_equal(
            &AttributeValue::SS(vec!["a".into(), "b".into()]),
            &AttributeValue::SS(vec!["b".into(), "a".into()])
        ));
        assert!(!values_equal(
            &AttributeValue::SS(vec!["a".into()]),
            &AttributeValue::SS(vec!["a".into(), "b".into()])
        ));
        assert!(values_equal(&n("1.0"), &n("1")));
        assert!(!values_equal(&n("1"), &AttributeValue::S("1".into())));
        assert_eq!(compare_values(&n("-2"), &n("10")), Some(Ordering::Less));
        assert_eq!(
            compare_values(&AttributeValue::S("Z".into()), &AttributeValue::S("a".into())),
            Some(Ordering::Less)
        );
        assert_eq!(
            compare_values(&AttributeValue::B(vec![0x80]), &AttributeValue::B(vec![0x7f])),
            Some(Ordering::Greater)
        );
        assert_eq!(compare_values(&n("1"), &AttributeValue::S("1".into())), None);
    }

    #[test]
    fn sizes() {
        assert_eq!(size_of(&AttributeValue::S("é𝄞".into())), Some(3));
        assert_eq!(size_of(&AttributeValue::B(vec![1, 2])), Some(2));
        assert_eq!(size_of(&AttributeValue::M(Item::new())), Some(0));
        assert_eq!(size_of(&n("12")), None);
    }

    #[test]
    fn path_lookup() {
        let mut inner = Item::new();
        inner.insert("b".into(), AttributeValue::L(vec![n("1"), n("2")]));
        let mut item = Item::new();
        item.insert("a".into(), AttributeValue::M(inner));
        let p = |e: Vec<PathElem>| Path(e);
        assert_eq!(
            get_path(&item, &p(vec![PathElem::Attr("a".into()), PathElem::Attr("b".into()), PathElem::Index(1)])),
            Some(&n("2"))
        );
        assert_eq!(get_path(&item, &p(vec![PathElem::Attr("a".into()), PathElem::Index(0)])), None);
        assert_eq!(get_path(&item, &p(vec![PathElem::Index(0)])), None);
    }
}
