//! Projection expressions, the per-request resolver (unused placeholders) and key
//! conditions, through the public API.

#![allow(clippy::unwrap_used)]

mod common;

use std::collections::HashMap;

use common::*;
use stator_expr::{
    key_conditions, parse_condition, parse_projection, parse_update, project, ExprKind, KeyOp, Path, PathElem, Resolver,
};
use stator_types::AttributeValue;

const P: &str = "Invalid ProjectionExpression: ";

#[test]
fn projection_parsing() {
    assert_eq!(projection("").unwrap_err(), format!("{P}The expression can not be empty;"));
    let paths = projection("a, b.c[0][2], #dot, #b.#a").unwrap();
    assert_eq!(
        paths.iter().map(|p| p.to_string()).collect::<Vec<_>>(),
        vec!["[a]", "[b, c, [0], [2]]", "[x.y]", "[b, a]"]
    );
    for (src, token, near) in [
        ("a,", "<EOF>", ","),
        ("a b", "b", "a b"),
        ("a.b.", "<EOF>", "."),
        (":v", ":v", ":v"),
        ("size(a)", "(", "size(a"),
        ("dummy-id", "-", "dummy-id"),
        ("a[]", "]", "[]"),
        (", a", ",", ", a"),
    ] {
        assert_eq!(
            projection(src).unwrap_err(),
            format!("{P}Syntax error; token: \"{token}\", near: \"{near}\""),
            "{src}"
        );
    }
    assert_eq!(
        projection("a, status").unwrap_err(),
        format!("{P}Attribute name is a reserved keyword; reserved keyword: status")
    );
    assert_eq!(
        projection("a, #zz").unwrap_err(),
        format!("{P}An expression attribute name used in the document path is not defined; attribute name: #zz")
    );
}

#[test]
fn projection_paths_must_not_overlap() {
    let overlap = |one: &str, two: &str| {
        format!("{P}Two document paths overlap with each other; must remove or rewrite one of these paths; path one: {one}, path two: {two}")
    };
    assert_eq!(projection("a, a").unwrap_err(), overlap("[a]", "[a]"));
    assert_eq!(projection("a, #a").unwrap_err(), overlap("[a]", "[a]"));
    assert_eq!(projection("a.b, a").unwrap_err(), overlap("[a, b]", "[a]"));
    assert_eq!(projection("x, a[1], a[1].c").unwrap_err(), overlap("[a, [1]]", "[a, [1], c]"));
    assert_eq!(
        projection("a[0], a.b").unwrap_err(),
        format!("{P}Two document paths conflict with each other; must remove or rewrite one of these paths; path one: [a, [0]], path two: [a, b]")
    );
    assert!(projection("a.b, a.c, a.d[0], a.d[1]").is_ok());
}

#[test]
fn projecting_items() {
    let it =
        item(&[("a", m(&[("b", n("1")), ("c", l(vec![s("x"), s("y"), s("z")]))])), ("d", s("keep")), ("e", n("9"))]);
    let paths = projection("a.c[2], a.c[0], d, nope, a.zz").unwrap();
    assert_eq!(project(&it, &paths), item(&[("a", m(&[("c", l(vec![s("x"), s("z")]))])), ("d", s("keep"))]));
    assert_eq!(project(&it, &projection("e").unwrap()), item(&[("e", n("9"))]));
    assert!(project(&it, &projection("d.x, e[0], a.b.c").unwrap()).is_empty());
    assert!(project(&item(&[]), &projection("a").unwrap()).is_empty());
    // A caller may merge several lists itself: the whole value wins over its parts.
    let merged = [Path::attr("a"), Path(vec![PathElem::Attr("a".into()), PathElem::Attr("b".into())])];
    assert_eq!(project(&it, &merged)["a"], it["a"]);
}

#[test]
fn unused_placeholders_are_checked_across_the_request() {
    let names: HashMap<String, String> =
        [("#a", "a"), ("#b", "b"), ("#c", "c")].into_iter().map(|(k, v)| (k.into(), v.into())).collect();
    let values: HashMap<String, AttributeValue> =
        [(":x", n("1")), (":y", n("2")), (":z", n("3"))].into_iter().map(|(k, v)| (k.to_string(), v)).collect();
    let mut r = Resolver::new(Some(&names), Some(&values));
    r.validate().unwrap();
    parse_condition("#a = :x", ExprKind::Condition, &mut r).unwrap();
    parse_update("SET #b = :y", &mut r).unwrap();
    assert_eq!(
        r.check_all_used().unwrap_err().0,
        "Value provided in ExpressionAttributeNames unused in expressions: keys: {#c}"
    );
    parse_projection("#c", &mut r).unwrap();
    assert_eq!(
        r.check_all_used().unwrap_err().0,
        "Value provided in ExpressionAttributeValues unused in expressions: keys: {:z}"
    );
    let mut r = Resolver::new(Some(&names), Some(&values));
    parse_condition("a = :x", ExprKind::Filter, &mut r).unwrap();
    assert_eq!(
        r.check_all_used().unwrap_err().0,
        "Value provided in ExpressionAttributeNames unused in expressions: keys: {#a, #b, #c}"
    );
    let none = Resolver::new(None, None);
    assert!(none.check_all_used().is_ok());
}

#[test]
fn key_conditions_split_by_attribute() {
    let k = key_conditions(&cond_kind("a = :s AND begins_with(b, :a)", ExprKind::KeyCondition).unwrap()).unwrap();
    assert_eq!(k.len(), 2);
    assert_eq!((k[0].attribute.as_str(), k[0].op, k[0].values.clone()), ("a", KeyOp::Eq, vec![s("abc")]));
    assert_eq!((k[1].attribute.as_str(), k[1].op), ("b", KeyOp::BeginsWith));
    let k = key_conditions(&cond_kind(":n1 < b AND #a = :s", ExprKind::KeyCondition).unwrap()).unwrap();
    assert_eq!((k[0].attribute.as_str(), k[0].op), ("b", KeyOp::Gt), "a value on the left flips the comparison");
    let k =
        key_conditions(&cond_kind("(a = :s) AND (b BETWEEN :n1 AND :n2)", ExprKind::KeyCondition).unwrap()).unwrap();
    assert_eq!((k[1].op, k[1].values.clone()), (KeyOp::Between, vec![n("1"), n("2")]));
    for (src, msg) in [
        ("a = :s OR b = :s", "Invalid operator used in KeyConditionExpression: OR"),
        ("NOT a = :s", "Invalid operator used in KeyConditionExpression: NOT"),
        ("a IN (:s)", "Invalid operator used in KeyConditionExpression: IN"),
        ("a <> :s", "Invalid operator used in KeyConditionExpression: <>"),
        ("a = :s AND attribute_exists(b)", "Invalid operator used in KeyConditionExpression: attribute_exists"),
        ("contains(a, :s)", "Invalid operator used in KeyConditionExpression: contains"),
        ("size(a) = :n1", "Invalid operator used in KeyConditionExpression: size"),
        ("a = :s AND a = :a", "KeyConditionExpressions must only contain one condition per key"),
        ("a.b = :s", "KeyConditionExpressions cannot have conditions on nested attributes"),
        ("a = b", "Query key condition not supported"),
    ] {
        let c = cond_kind(src, ExprKind::KeyCondition).unwrap();
        assert_eq!(key_conditions(&c).unwrap_err().0, msg, "{src}");
    }
}
