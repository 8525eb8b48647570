//! Shared helpers for the integration tests: value builders and one-call parsers
//! over a fixed set of expression attribute values.
#![allow(dead_code)]

use std::collections::HashMap;

use stator_expr::{parse_condition, parse_projection, parse_update, Condition, ExprKind, Path, Resolver, Update};
use stator_types::{AttributeValue, Item, Number};

pub fn n(s: &str) -> AttributeValue {
    AttributeValue::N(Number::parse(s).expect("test number"))
}

pub fn s(x: &str) -> AttributeValue {
    AttributeValue::S(x.to_string())
}

pub fn b(x: &[u8]) -> AttributeValue {
    AttributeValue::B(x.to_vec())
}

pub fn l(v: Vec<AttributeValue>) -> AttributeValue {
    AttributeValue::L(v)
}

pub fn ss(v: &[&str]) -> AttributeValue {
    AttributeValue::SS(v.iter().map(|x| x.to_string()).collect())
}

pub fn ns(v: &[&str]) -> AttributeValue {
    AttributeValue::NS(v.iter().map(|x| Number::parse(x).expect("test number")).collect())
}

pub fn bs(v: &[&[u8]]) -> AttributeValue {
    AttributeValue::BS(v.iter().map(|x| x.to_vec()).collect())
}

pub fn m(pairs: &[(&str, AttributeValue)]) -> AttributeValue {
    AttributeValue::M(item(pairs))
}

pub fn item(pairs: &[(&str, AttributeValue)]) -> Item {
    pairs.iter().map(|(k, v)| (k.to_string(), v.clone())).collect()
}

/// The values every helper parse can use.
pub fn values() -> HashMap<String, AttributeValue> {
    [
        (":n0", n("0")),
        (":n1", n("1")),
        (":n2", n("2")),
        (":n5", n("5")),
        (":s", s("abc")),
        (":a", s("a")),
        (":z", s("z")),
        (":empty", s("")),
        (":b", b(&[1, 2])),
        (":b1", b(&[1])),
        (":t", s("N")),
        (":tl", s("L")),
        (":bad_type", s("X")),
        (":bool", AttributeValue::Bool(true)),
        (":null", AttributeValue::Null),
        (":l", l(vec![s("x"), n("1")])),
        (":ss", ss(&["a", "b"])),
        (":ns", ns(&["1", "2"])),
        (":bs", bs(&[&[1], &[2]])),
        (":m", m(&[("k", s("v"))])),
    ]
    .into_iter()
    .map(|(k, v)| (k.to_string(), v))
    .collect()
}

pub fn names() -> HashMap<String, String> {
    [("#a", "a"), ("#s", "status"), ("#dot", "x.y"), ("#b", "b")]
        .into_iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect()
}

pub fn cond_kind(expr: &str, kind: ExprKind) -> Result<Condition, String> {
    let (nm, vs) = (names(), values());
    let mut r = Resolver::new(Some(&nm), Some(&vs));
    parse_condition(expr, kind, &mut r).map_err(|e| e.0)
}

pub fn cond(expr: &str) -> Result<Condition, String> {
    cond_kind(expr, ExprKind::Condition)
}

pub fn cond_err(expr: &str) -> String {
    match cond(expr) {
        Ok(c) => panic!("expected an error for {expr:?}, got {c:?}"),
        Err(e) => e,
    }
}

/// Evaluates `expr` against `it`.
pub fn check(expr: &str, it: &Item) -> bool {
    cond(expr).unwrap_or_else(|e| panic!("{expr}: {e}")).eval(it).unwrap_or_else(|e| panic!("{expr}: {e}"))
}

pub fn update(expr: &str) -> Result<Update, String> {
    let (nm, vs) = (names(), values());
    let mut r = Resolver::new(Some(&nm), Some(&vs));
    parse_update(expr, &mut r).map_err(|e| e.0)
}

pub fn update_err(expr: &str) -> String {
    match update(expr) {
        Ok(u) => panic!("expected an error for {expr:?}, got {u:?}"),
        Err(e) => e,
    }
}

/// Applies `expr` to a copy of `it`.
pub fn apply(expr: &str, it: &Item) -> Result<Item, String> {
    let u = update(expr).unwrap_or_else(|e| panic!("{expr}: {e}"));
    let mut out = it.clone();
    u.apply(&mut out).map_err(|e| e.0)?;
    Ok(out)
}

pub fn projection(expr: &str) -> Result<Vec<Path>, String> {
    let nm = names();
    let mut r = Resolver::new(Some(&nm), None);
    parse_projection(expr, &mut r).map_err(|e| e.0)
}
