//! Property tests: printed condition trees parse back to the same tree, and no input
//! string makes parsing, evaluating, updating or projecting panic.

#![allow(clippy::unwrap_used)]

mod common;

use std::collections::HashMap;

use common::*;
use proptest::prelude::*;
use stator_expr::{
    parse_condition, parse_projection, parse_update, project, CmpOp, Condition, ExprKind, Operand, Path, PathElem,
    Resolver, ValueRef,
};
use stator_types::Item;

const NAMES: [&str; 6] = ["a", "b", "c", "x1", "foo_bar", "Z"];

fn path() -> impl Strategy<Value = Path> {
    let elem = prop_oneof![
        prop::sample::select(&NAMES[..]).prop_map(|n| PathElem::Attr(n.to_string())),
        (0usize..20).prop_map(PathElem::Index),
    ];
    (prop::sample::select(&NAMES[..]), prop::collection::vec(elem, 0..3)).prop_map(|(first, rest)| {
        let mut v = vec![PathElem::Attr(first.to_string())];
        v.extend(rest);
        Path(v)
    })
}

fn value(name: &'static str) -> ValueRef {
    ValueRef { name: name.to_string(), value: values()[name].clone() }
}

/// Values of the orderable types, so every comparison is well-typed.
fn value_operand() -> impl Strategy<Value = Operand> {
    prop::sample::select(&[":n1", ":n2", ":s", ":a", ":b"][..]).prop_map(|n| Operand::Value(value(n)))
}

fn operand() -> impl Strategy<Value = Operand> {
    prop_oneof![path().prop_map(Operand::Path), value_operand(), path().prop_map(Operand::Size)]
}

fn cmp_op() -> impl Strategy<Value = CmpOp> {
    prop::sample::select(&[CmpOp::Eq, CmpOp::Ne, CmpOp::Lt, CmpOp::Le, CmpOp::Gt, CmpOp::Ge][..])
}

fn leaf() -> impl Strategy<Value = Condition> {
    // BETWEEN bounds that are both values must be of one type and in order.
    let bounds = prop_oneof![
        Just((Operand::Value(value(":n1")), Operand::Value(value(":n2")))),
        Just((Operand::Value(value(":a")), Operand::Value(value(":s")))),
        (path(), value_operand()).prop_map(|(p, v)| (Operand::Path(p), v)),
        (value_operand(), path()).prop_map(|(v, p)| (v, Operand::Path(p))),
    ];
    let prefix = prop_oneof![
        path().prop_map(Operand::Path),
        prop::sample::select(&[":s", ":a", ":b"][..]).prop_map(|n| Operand::Value(value(n))),
    ];
    prop_oneof![
        (cmp_op(), operand(), operand()).prop_map(|(op, a, b)| Condition::Compare(op, a, b)),
        (operand(), bounds).prop_map(|(a, (lo, hi))| Condition::Between(a, lo, hi)),
        (operand(), prop::collection::vec(operand(), 1..4)).prop_map(|(a, l)| Condition::In(a, l)),
        path().prop_map(Condition::AttributeExists),
        path().prop_map(Condition::AttributeNotExists),
        path().prop_map(|p| Condition::AttributeType(p, Operand::Value(value(":t")))),
        (path(), prefix).prop_map(|(p, v)| Condition::BeginsWith(Operand::Path(p), v)),
        (path(), value_operand()).prop_map(|(p, v)| Condition::Contains(Operand::Path(p), v)),
    ]
}

fn condition() -> impl Strategy<Value = Condition> {
    leaf().prop_recursive(5, 48, 2, |inner| {
        prop_oneof![
            inner.clone().prop_map(|c| Condition::Not(Box::new(c))),
            (inner.clone(), inner.clone()).prop_map(|(l, r)| Condition::And(Box::new(l), Box::new(r))),
            (inner.clone(), inner).prop_map(|(l, r)| Condition::Or(Box::new(l), Box::new(r))),
        ]
    })
}

/// Token-like fragments, so random inputs get past the lexer into the grammar.
fn fragments() -> impl Strategy<Value = String> {
    let frag = prop::sample::select(
        &[
            "a",
            "b.c",
            "#a",
            "#s",
            "#x",
            ":n1",
            ":s",
            ":ss",
            ":l",
            ":zz",
            "status",
            "AND",
            "OR",
            "NOT",
            "BETWEEN",
            "IN",
            "SET",
            "REMOVE",
            "ADD",
            "DELETE",
            "(",
            ")",
            "[",
            "]",
            "0",
            "7",
            ",",
            ".",
            "=",
            "<>",
            "<",
            ">=",
            "+",
            "-",
            "size",
            "contains",
            "attribute_exists",
            "attribute_type",
            "begins_with",
            "list_append",
            "if_not_exists",
            "#",
            ":",
            "_",
            "é",
            " ",
        ][..],
    );
    (prop::collection::vec(frag, 0..40), any::<bool>()).prop_map(|(v, spaced)| v.join(if spaced { " " } else { "" }))
}

fn sample_item() -> Item {
    item(&[
        ("a", n("1")),
        ("b", m(&[("c", l(vec![n("1"), s("x")]))])),
        ("status", s("on")),
        ("x.y", ss(&["a"])),
        ("l", l(vec![m(&[])])),
    ])
}

fn exercise(src: &str) {
    let (nm, vs) = (names(), values());
    let it = sample_item();
    for kind in [ExprKind::Condition, ExprKind::Filter, ExprKind::KeyCondition] {
        let mut r = Resolver::new(Some(&nm), Some(&vs));
        if let Ok(c) = parse_condition(src, kind, &mut r) {
            let _ = c.eval(&it);
            let _ = c.eval(&Item::new());
            let _ = stator_expr::key_conditions(&c);
            let _ = c.to_string();
        }
        let _ = r.check_all_used();
    }
    let mut r = Resolver::new(Some(&nm), Some(&vs));
    if let Ok(u) = parse_update(src, &mut r) {
        let mut copy = it.clone();
        let _ = u.apply(&mut copy);
        let _ = u.apply(&mut Item::new());
        let _ = u.to_string();
    }
    let mut r = Resolver::new(Some(&nm), None);
    if let Ok(p) = parse_projection(src, &mut r) {
        let _ = project(&it, &p);
    }
}

proptest! {
    #[test]
    fn printed_conditions_parse_back(c in condition()) {
        let text = c.to_string();
        let vs = values();
        let mut r = Resolver::new(None, Some(&vs));
        let parsed = parse_condition(&text, ExprKind::Condition, &mut r);
        prop_assert_eq!(parsed, Ok(c), "text: {}", text);
    }

    #[test]
    fn arbitrary_strings_never_panic(src in any::<String>()) {
        exercise(&src);
    }

    #[test]
    fn token_soup_never_panics(src in fragments()) {
        exercise(&src);
    }
}

#[test]
fn resolver_values_are_shared_by_reference() {
    // A request's maps are borrowed, not copied, by the resolver.
    let names: HashMap<String, String> = HashMap::new();
    let r = Resolver::new(Some(&names), None);
    assert_eq!(r.validate().unwrap_err().0, "ExpressionAttributeNames must not be empty");
}
