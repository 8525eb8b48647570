//! The legacy parameters (Expected, QueryFilter, ScanFilter, KeyConditions,
//! AttributeUpdates, ConditionalOperator): translation, DynamoDB's messages, and
//! evaluation that agrees with the equivalent expressions.

#![allow(clippy::unwrap_used)]

mod common;

use common::*;
use proptest::prelude::*;
use stator_expr::{
    attribute_updates, expected_condition, filter_condition, key_conditions_legacy, AttributeUpdateEntry,
    ComparisonOperator, Condition, ExpectedEntry, FilterEntry, KeyCondition, KeyOp, LegacyKind, Path, UpdateAction,
};
use stator_types::{AttributeValue, Item};

const P: &str = "One or more parameter values were invalid: ";
const OPS: [&str; 13] = [
    "EQ",
    "NE",
    "LE",
    "LT",
    "GE",
    "GT",
    "NOT_NULL",
    "NULL",
    "CONTAINS",
    "NOT_CONTAINS",
    "BEGINS_WITH",
    "IN",
    "BETWEEN",
];
const OP_SET: &str = "[IN, NULL, BETWEEN, LT, NOT_CONTAINS, EQ, GT, NOT_NULL, NE, LE, BEGINS_WITH, GE, CONTAINS]";

// ---- helpers ----

fn fe(op: &str, vals: Vec<AttributeValue>) -> FilterEntry {
    FilterEntry { comparison_operator: Some(op.to_string()), attribute_value_list: Some(vals) }
}

fn owned<T: Clone>(entries: &[(&str, T)]) -> Vec<(String, T)> {
    entries.iter().map(|(k, v)| (k.to_string(), v.clone())).collect()
}

fn scan(entries: &[(&str, FilterEntry)], op: Option<&str>) -> Result<Option<Condition>, String> {
    filter_condition(LegacyKind::ScanFilter, &owned(entries), op).map_err(|e| e.0)
}

fn scan_err(entries: &[(&str, FilterEntry)], op: Option<&str>) -> String {
    match scan(entries, op) {
        Ok(c) => panic!("expected an error, got {c:?}"),
        Err(e) => e,
    }
}

/// Evaluates the one-entry ScanFilter `a <op> vals` against `it`.
fn holds(op: &str, vals: Vec<AttributeValue>, it: &Item) -> bool {
    let c = scan(&[("a", fe(op, vals.clone()))], None)
        .unwrap_or_else(|e| panic!("{op} {vals:?}: {e}"))
        .unwrap_or_else(|| panic!("{op}: no condition"));
    c.eval(it).unwrap()
}

fn expected(entries: &[(&str, ExpectedEntry)], op: Option<&str>) -> Result<Option<Condition>, String> {
    expected_condition(&owned(entries), op).map_err(|e| e.0)
}

fn expected_err(entries: &[(&str, ExpectedEntry)]) -> String {
    match expected(entries, None) {
        Ok(c) => panic!("expected an error, got {c:?}"),
        Err(e) => e,
    }
}

fn ex(value: Option<AttributeValue>, exists: Option<bool>) -> ExpectedEntry {
    ExpectedEntry { value, exists, ..Default::default() }
}

fn ex_op(op: &str, vals: Option<Vec<AttributeValue>>, value: Option<AttributeValue>) -> ExpectedEntry {
    ExpectedEntry { value, exists: None, comparison_operator: Some(op.into()), attribute_value_list: vals }
}

fn keys(entries: &[(&str, FilterEntry)]) -> Result<Vec<KeyCondition>, String> {
    key_conditions_legacy(&owned(entries)).map_err(|e| e.0)
}

fn au(action: Option<&str>, value: Option<AttributeValue>) -> AttributeUpdateEntry {
    AttributeUpdateEntry { action: action.map(str::to_string), value }
}

fn updates(entries: &[(&str, AttributeUpdateEntry)]) -> Result<stator_expr::Update, String> {
    attribute_updates(&owned(entries)).map_err(|e| e.0)
}

/// Applies the AttributeUpdates to a copy of `it`.
fn apply_legacy(entries: &[(&str, AttributeUpdateEntry)], it: &Item) -> Result<Item, String> {
    let u = updates(entries).unwrap_or_else(|e| panic!("{e}"));
    let mut out = it.clone();
    u.apply(&mut out).map_err(|e| e.0)?;
    Ok(out)
}

// ---- each ComparisonOperator ----

#[test]
fn eq_and_ne() {
    let it = item(&[("a", n("5")), ("m", m(&[("k", s("v"))]))]);
    assert!(holds("EQ", vec![n("5.0")], &it));
    assert!(!holds("EQ", vec![n("6")], &it));
    assert!(!holds("EQ", vec![s("5")], &it), "types differ");
    assert!(!holds("EQ", vec![ns(&["5"])], &it), "a number is not a number set");
    assert!(!holds("EQ", vec![n("5")], &Item::new()), "missing");
    assert!(!holds("NE", vec![n("5")], &it));
    assert!(holds("NE", vec![n("6")], &it));
    assert!(holds("NE", vec![s("5")], &it), "types differ");
    assert!(holds("NE", vec![n("5")], &Item::new()), "NE is true when the attribute is missing");
    // Sets compare as sets; lists, maps, BOOL and NULL compare by value.
    let it = item(&[("a", ss(&["x", "y"]))]);
    assert!(holds("EQ", vec![ss(&["y", "x"])], &it));
    assert!(!holds("EQ", vec![ss(&["x"])], &it));
    for v in [l(vec![s("x"), n("1")]), m(&[("k", s("v"))]), AttributeValue::Bool(true), AttributeValue::Null] {
        let it = item(&[("a", v.clone())]);
        assert!(holds("EQ", vec![v.clone()], &it), "{v:?}");
        assert!(!holds("NE", vec![v.clone()], &it), "{v:?}");
    }
}

#[test]
fn ordering_operators() {
    let it = item(&[("a", n("5"))]);
    for (op, lo, eq, hi) in
        [("LT", false, false, true), ("LE", false, true, true), ("GT", true, false, false), ("GE", true, true, false)]
    {
        assert_eq!(holds(op, vec![n("4")], &it), lo, "{op} 4");
        assert_eq!(holds(op, vec![n("5")], &it), eq, "{op} 5");
        assert_eq!(holds(op, vec![n("10")], &it), hi, "{op} 10");
        assert!(!holds(op, vec![s("5")], &it), "{op}: types differ");
        assert!(!holds(op, vec![n("5")], &Item::new()), "{op}: missing");
    }
    // Strings by UTF-8 bytes, binaries by unsigned bytes.
    assert!(holds("LT", vec![s("a")], &item(&[("a", s("B"))])));
    assert!(holds("GT", vec![b(&[0x7f])], &item(&[("a", b(&[0x80]))])));
    // A set attribute never orders.
    assert!(!holds("GE", vec![n("1")], &item(&[("a", ns(&["5"]))])));
}

#[test]
fn null_and_not_null() {
    let it = item(&[("a", AttributeValue::Null)]);
    // These test existence, not the NULL type.
    assert!(holds("NOT_NULL", vec![], &it));
    assert!(!holds("NULL", vec![], &it));
    assert!(!holds("NOT_NULL", vec![], &Item::new()));
    assert!(holds("NULL", vec![], &Item::new()));
    // AttributeValueList may be left out.
    let entry = FilterEntry { comparison_operator: Some("NULL".into()), attribute_value_list: None };
    assert_eq!(scan(&[("a", entry)], None).unwrap(), Some(Condition::AttributeNotExists(Path::attr("a"))));
}

#[test]
fn contains_and_not_contains() {
    let cases: Vec<(AttributeValue, AttributeValue, bool)> = vec![
        (s("hello"), s("ell"), true),
        (s("hello"), s("xyz"), false),
        (s("hello"), n("1"), false),
        (b(&[1, 2, 3]), b(&[2, 3]), true),
        (b(&[1, 2, 3]), b(&[3, 2]), false),
        (ss(&["x", "y"]), s("y"), true),
        (ss(&["x", "y"]), s("z"), false),
        (ns(&["1", "2"]), n("2.0"), true),
        (ns(&["1", "2"]), s("2"), false),
        (bs(&[&[1], &[2]]), b(&[2]), true),
        (l(vec![s("x"), n("1")]), n("1"), true),
        (l(vec![s("x"), n("1")]), s("1"), false),
        (l(vec![AttributeValue::Bool(true)]), AttributeValue::Bool(true), true),
        (n("12"), n("1"), false),
    ];
    for (stored, arg, want) in cases {
        let it = item(&[("a", stored.clone())]);
        assert_eq!(holds("CONTAINS", vec![arg.clone()], &it), want, "{stored:?} CONTAINS {arg:?}");
        assert_eq!(holds("NOT_CONTAINS", vec![arg.clone()], &it), !want, "{stored:?} NOT_CONTAINS {arg:?}");
    }
    assert!(!holds("CONTAINS", vec![s("x")], &Item::new()));
    assert!(holds("NOT_CONTAINS", vec![s("x")], &Item::new()), "NOT_CONTAINS is true when missing");
}

#[test]
fn begins_with() {
    assert!(holds("BEGINS_WITH", vec![s("he")], &item(&[("a", s("hello"))])));
    assert!(holds("BEGINS_WITH", vec![s("")], &item(&[("a", s("hello"))])));
    assert!(!holds("BEGINS_WITH", vec![s("lo")], &item(&[("a", s("hello"))])));
    assert!(holds("BEGINS_WITH", vec![b(&[1])], &item(&[("a", b(&[1, 2]))])));
    assert!(!holds("BEGINS_WITH", vec![b(&[1])], &item(&[("a", s("\u{1}"))])), "types differ");
    assert!(!holds("BEGINS_WITH", vec![s("1")], &item(&[("a", n("12"))])));
    assert!(!holds("BEGINS_WITH", vec![s("x")], &item(&[("a", ss(&["xy"]))])));
    assert!(!holds("BEGINS_WITH", vec![s("h")], &Item::new()));
}

#[test]
fn in_operator() {
    let it = item(&[("a", n("2"))]);
    assert!(holds("IN", vec![n("1"), n("2"), n("3")], &it));
    assert!(holds("IN", vec![n("2")], &it));
    assert!(!holds("IN", vec![n("1"), n("3")], &it));
    assert!(!holds("IN", vec![s("2")], &it), "types differ");
    assert!(!holds("IN", vec![n("2")], &Item::new()), "missing");
    assert!(!holds("IN", vec![n("2")], &item(&[("a", ns(&["2"]))])), "a set is not one of its elements");
    assert!(holds("IN", vec![b(&[1]), b(&[2])], &item(&[("a", b(&[2]))])));
}

#[test]
fn between() {
    let it = item(&[("a", n("5"))]);
    assert!(holds("BETWEEN", vec![n("1"), n("10")], &it));
    assert!(holds("BETWEEN", vec![n("5"), n("5")], &it), "bounds are inclusive");
    assert!(!holds("BETWEEN", vec![n("6"), n("10")], &it));
    assert!(!holds("BETWEEN", vec![s("1"), s("9")], &it), "types differ");
    assert!(!holds("BETWEEN", vec![n("1"), n("10")], &Item::new()), "missing");
    assert!(holds("BETWEEN", vec![s("a"), s("c")], &item(&[("a", s("b"))])));
    assert!(holds("BETWEEN", vec![b(&[1]), b(&[3])], &item(&[("a", b(&[2, 9]))])));
}

// ---- messages ----

#[test]
fn argument_counts() {
    // Strings suit every operator, so only the count matters.
    let vals = |k: usize| -> Vec<AttributeValue> { ["a", "b", "c"][..k].iter().map(|x| s(x)).collect() };
    for op in OPS {
        for k in 0..=3 {
            let ok = match op {
                "NULL" | "NOT_NULL" => k == 0,
                "IN" => k >= 1,
                "BETWEEN" => k == 2,
                _ => k == 1,
            };
            let got = scan(&[("a", fe(op, vals(k)))], None);
            if ok {
                assert!(got.is_ok(), "{op} with {k}: {got:?}");
            } else {
                assert_eq!(
                    got.unwrap_err(),
                    format!("{P}Invalid number of argument(s) for the {op} ComparisonOperator"),
                    "{op} with {k}"
                );
            }
        }
    }
    // No AttributeValueList counts as none.
    let bare = FilterEntry { comparison_operator: Some("EQ".into()), attribute_value_list: None };
    assert_eq!(
        scan_err(&[("a", bare)], None),
        format!("{P}Invalid number of argument(s) for the EQ ComparisonOperator")
    );
}

#[test]
fn argument_types() {
    let all = [
        s("x"),
        n("1"),
        b(&[1]),
        AttributeValue::Bool(true),
        AttributeValue::Null,
        ss(&["x"]),
        ns(&["1"]),
        bs(&[&[1]]),
        l(vec![n("1")]),
        m(&[("k", n("1"))]),
    ];
    for op in ["EQ", "NE", "LE", "LT", "GE", "GT", "CONTAINS", "NOT_CONTAINS", "BEGINS_WITH", "IN", "BETWEEN"] {
        for v in &all {
            let t = v.value_type().as_str();
            let ok = match op {
                "EQ" | "NE" => true,
                "LE" | "LT" | "GE" | "GT" | "IN" | "BETWEEN" => matches!(t, "S" | "N" | "B"),
                "BEGINS_WITH" => matches!(t, "S" | "B"),
                _ => matches!(t, "S" | "N" | "B" | "BOOL" | "NULL"),
            };
            let vals = if op == "BETWEEN" { vec![v.clone(), v.clone()] } else { vec![v.clone()] };
            let got = scan(&[("a", fe(op, vals))], None);
            if ok {
                assert!(got.is_ok(), "{op} {t}: {got:?}");
            } else {
                assert_eq!(
                    got.unwrap_err(),
                    format!("{P}ComparisonOperator {op} is not valid for {t} AttributeValue type"),
                    "{op} {t}"
                );
            }
        }
    }
    let op = ComparisonOperator::parse("BETWEEN").unwrap();
    assert_eq!(op.to_string(), "BETWEEN");
    assert!(op.takes(2) && !op.takes(1));
}

#[test]
fn values_must_share_a_type() {
    let same = format!("{P}AttributeValues inside AttributeValueList must be of same type");
    assert_eq!(scan_err(&[("a", fe("BETWEEN", vec![n("1"), s("2")]))], None), same);
    assert_eq!(scan_err(&[("a", fe("IN", vec![n("1"), n("2"), s("2")]))], None), same);
    // Checked before the type suits the operator.
    assert_eq!(scan_err(&[("a", fe("BETWEEN", vec![ss(&["1"]), n("2")]))], None), same);
    // The count is checked first.
    assert_eq!(
        scan_err(&[("a", fe("BETWEEN", vec![n("1"), s("2"), n("3")]))], None),
        format!("{P}Invalid number of argument(s) for the BETWEEN ComparisonOperator")
    );
}

#[test]
fn between_bounds_in_order() {
    let msg = "The BETWEEN condition was provided a range where the lower bound is greater than the upper bound";
    assert_eq!(scan_err(&[("a", fe("BETWEEN", vec![n("10"), n("9")]))], None), msg);
    assert_eq!(scan_err(&[("a", fe("BETWEEN", vec![s("b"), s("a")]))], None), msg);
    assert_eq!(scan_err(&[("a", fe("BETWEEN", vec![b(&[2]), b(&[1, 0])]))], None), msg);
    assert_eq!(keys(&[("k", fe("BETWEEN", vec![n("2"), n("1")]))]).unwrap_err(), msg);
    assert!(scan(&[("a", fe("BETWEEN", vec![n("-1"), n("1")]))], None).is_ok());
}

#[test]
fn unknown_and_missing_operators() {
    assert_eq!(
        scan_err(&[("a", fe("EQUALS", vec![n("1")]))], None),
        format!("1 validation error detected: Value 'EQUALS' at 'scanFilter.a.member.comparisonOperator' failed to satisfy constraint: Member must satisfy enum value set: {OP_SET}")
    );
    // Case matters.
    assert!(scan(&[("a", fe("eq", vec![n("1")]))], None).unwrap_err().contains("Value 'eq' at"));
    let missing = FilterEntry { comparison_operator: None, attribute_value_list: Some(vec![n("1")]) };
    assert_eq!(
        filter_condition(LegacyKind::QueryFilter, &owned(&[("b", missing.clone())]), None).unwrap_err().0,
        "1 validation error detected: Value null at 'queryFilter.b.member.comparisonOperator' failed to satisfy constraint: Member must not be null"
    );
    assert_eq!(
        keys(&[("k", missing)]).unwrap_err(),
        "1 validation error detected: Value null at 'keyConditions.k.member.comparisonOperator' failed to satisfy constraint: Member must not be null"
    );
    // Several are reported together, before any other check.
    let e = scan_err(&[("a", fe("X", vec![])), ("b", fe("EQ", vec![])), ("c", fe("Y", vec![]))], Some("XOR"));
    assert_eq!(
        e,
        format!(
            "3 validation errors detected: \
             Value 'X' at 'scanFilter.a.member.comparisonOperator' failed to satisfy constraint: Member must satisfy enum value set: {OP_SET}; \
             Value 'Y' at 'scanFilter.c.member.comparisonOperator' failed to satisfy constraint: Member must satisfy enum value set: {OP_SET}; \
             Value 'XOR' at 'conditionalOperator' failed to satisfy constraint: Member must satisfy enum value set: [AND, OR]"
        )
    );
    assert_eq!(
        expected(&[("a", ex_op("ZZ", None, Some(n("1"))))], None).unwrap_err(),
        format!("1 validation error detected: Value 'ZZ' at 'expected.a.member.comparisonOperator' failed to satisfy constraint: Member must satisfy enum value set: {OP_SET}")
    );
}

// ---- ConditionalOperator ----

#[test]
fn conditional_operator() {
    let entries = [("a", fe("EQ", vec![n("1")])), ("b", fe("EQ", vec![n("2")]))];
    let both = item(&[("a", n("1")), ("b", n("2"))]);
    let one = item(&[("a", n("1")), ("b", n("3"))]);
    let none = item(&[("a", n("0"))]);
    for (op, want) in
        [(None, [true, false, false]), (Some("AND"), [true, false, false]), (Some("OR"), [true, true, false])]
    {
        let c = scan(&entries, op).unwrap().unwrap();
        let got = [&both, &one, &none].map(|it| c.eval(it).unwrap());
        assert_eq!(got, want, "{op:?}");
    }
    let c = scan(&entries, Some("OR")).unwrap().unwrap();
    assert_eq!(c.to_string(), "a = :v0 OR b = :v1");
    let three = [("a", fe("EQ", vec![n("1")])), ("b", fe("NULL", vec![])), ("c", fe("GT", vec![n("1")]))];
    assert_eq!(scan(&three, None).unwrap().unwrap().to_string(), "a = :v0 AND attribute_not_exists(b) AND c > :v1");

    let msg = "ConditionalOperator can only be used when Filter or Expected has two or more elements";
    assert_eq!(scan_err(&entries[..1], Some("OR")), msg);
    assert_eq!(scan_err(&entries[..1], Some("AND")), msg);
    assert_eq!(scan_err(&[], Some("AND")), msg);
    assert_eq!(expected(&[("a", ex(Some(n("1")), None))], Some("OR")).unwrap_err(), msg);
    assert_eq!(expected(&[], Some("OR")).unwrap_err(), msg);
    // Checked before the elements themselves.
    assert_eq!(scan_err(&[("a", fe("EQ", vec![]))], Some("OR")), msg);
    // An empty map is no condition.
    assert_eq!(scan(&[], None).unwrap(), None);
    assert_eq!(expected(&[], None).unwrap(), None);
}

// ---- Expected ----

#[test]
fn expected_exists_combinations() {
    let with_a = item(&[("a", n("1"))]);
    let other_a = item(&[("a", n("2"))]);
    let eval = |e: ExpectedEntry, it: &Item| expected(&[("a", e)], None).unwrap().unwrap().eval(it).unwrap();

    // Value alone, or with Exists: true, means EQ.
    for e in [ex(Some(n("1")), None), ex(Some(n("1")), Some(true))] {
        assert!(eval(e.clone(), &with_a));
        assert!(!eval(e.clone(), &other_a));
        assert!(!eval(e, &Item::new()));
    }
    // Exists: false alone: the attribute must not exist.
    assert!(!eval(ex(None, Some(false)), &with_a));
    assert!(eval(ex(None, Some(false)), &Item::new()));
    assert!(eval(ex(None, Some(false)), &item(&[("b", n("1"))])));

    for (e, msg) in [
        (ex(Some(n("1")), Some(false)), "Value cannot be used when Exists is false for Attribute: a"),
        (ex(None, Some(true)), "Value must be provided when Exists is true for Attribute: a"),
        (ex(None, None), "Value must be provided when Exists is null for Attribute: a"),
        (
            ExpectedEntry { value: Some(n("1")), attribute_value_list: Some(vec![n("1")]), ..Default::default() },
            "Value and AttributeValueList cannot be used together for Attribute: a",
        ),
        (
            ExpectedEntry {
                value: Some(n("1")),
                comparison_operator: Some("EQ".into()),
                attribute_value_list: Some(vec![n("1")]),
                ..Default::default()
            },
            "Value and AttributeValueList cannot be used together for Attribute: a",
        ),
        (
            ExpectedEntry { attribute_value_list: Some(vec![n("1")]), ..Default::default() },
            "AttributeValueList can only be used with a ComparisonOperator for Attribute: a",
        ),
        (
            ExpectedEntry { attribute_value_list: Some(vec![]), exists: Some(false), ..Default::default() },
            "AttributeValueList can only be used with a ComparisonOperator for Attribute: a",
        ),
        (
            ExpectedEntry {
                exists: Some(true),
                comparison_operator: Some("EQ".into()),
                attribute_value_list: Some(vec![n("1")]),
                ..Default::default()
            },
            "Exists and ComparisonOperator cannot be used together for Attribute: a",
        ),
        (
            ExpectedEntry { exists: Some(false), comparison_operator: Some("NULL".into()), ..Default::default() },
            "Exists and ComparisonOperator cannot be used together for Attribute: a",
        ),
    ] {
        assert_eq!(expected_err(&[("a", e.clone())]), format!("{P}{msg}"), "{e:?}");
    }
    // Elements are checked in order; the first problem wins.
    assert_eq!(
        expected_err(&[("ok", ex(Some(n("1")), None)), ("x", ex(None, Some(true))), ("y", ex(None, None))]),
        format!("{P}Value must be provided when Exists is true for Attribute: x")
    );
}

#[test]
fn expected_with_comparison_operator() {
    // AttributeValueList, or Value as a one-element list.
    let it = item(&[("a", n("5")), ("s", ss(&["x"]))]);
    let c = expected(
        &[
            ("a", ex_op("BETWEEN", Some(vec![n("1"), n("9")]), None)),
            ("s", ex_op("CONTAINS", None, Some(s("x")))),
            ("z", ex_op("NULL", None, None)),
            ("a", ex_op("IN", Some(vec![n("4"), n("5")]), None)),
        ],
        None,
    )
    .unwrap()
    .unwrap();
    assert!(c.eval(&it).unwrap());
    assert_eq!(
        c.to_string(),
        "a BETWEEN :v0 AND :v1 AND contains(s, :v2) AND attribute_not_exists(z) AND a IN (:v3, :v4)"
    );
    // Value counts as one argument.
    assert_eq!(
        expected_err(&[("a", ex_op("BETWEEN", None, Some(s("a"))))]),
        format!("{P}Invalid number of argument(s) for the BETWEEN ComparisonOperator")
    );
    assert_eq!(
        expected_err(&[("a", ex_op("NULL", None, Some(s("a"))))]),
        format!("{P}Invalid number of argument(s) for the NULL ComparisonOperator")
    );
    assert_eq!(
        expected_err(&[("a", ex_op("EQ", None, None))]),
        format!("{P}Invalid number of argument(s) for the EQ ComparisonOperator")
    );
    assert_eq!(
        expected_err(&[("a", ex_op("GT", None, Some(ss(&["a"]))))]),
        format!("{P}ComparisonOperator GT is not valid for SS AttributeValue type")
    );
    // NE on a missing attribute passes, as `a <> :v` does.
    let c = expected(&[("a", ex_op("NE", None, Some(n("1"))))], None).unwrap().unwrap();
    assert!(c.eval(&Item::new()).unwrap());
    // OR across elements.
    let c = expected(&[("a", ex(None, Some(false))), ("b", ex(Some(n("1")), None))], Some("OR")).unwrap().unwrap();
    assert!(c.eval(&Item::new()).unwrap());
    assert!(c.eval(&item(&[("a", n("1")), ("b", n("1"))])).unwrap());
    assert!(!c.eval(&item(&[("a", n("1")), ("b", n("2"))])).unwrap());
}

#[test]
fn names_are_taken_literally() {
    let c = scan(&[("a.b[0]", fe("EQ", vec![n("1")]))], None).unwrap().unwrap();
    assert!(c.eval(&item(&[("a.b[0]", n("1"))])).unwrap());
    assert!(!c.eval(&item(&[("a", m(&[("b", l(vec![n("1")]))]))])).unwrap());
    let c = expected(&[("x.y", ex(None, Some(false)))], None).unwrap().unwrap();
    assert_eq!(c, Condition::AttributeNotExists(Path::attr("x.y")));
}

// ---- KeyConditions ----

#[test]
fn key_conditions() {
    let got = keys(&[("pk", fe("EQ", vec![s("p")])), ("sk", fe("BETWEEN", vec![n("1"), n("2")]))]).unwrap();
    assert_eq!(
        got,
        vec![
            KeyCondition { attribute: "pk".into(), op: KeyOp::Eq, values: vec![s("p")] },
            KeyCondition { attribute: "sk".into(), op: KeyOp::Between, values: vec![n("1"), n("2")] },
        ]
    );
    for (op, want) in
        [("LE", KeyOp::Le), ("LT", KeyOp::Lt), ("GE", KeyOp::Ge), ("GT", KeyOp::Gt), ("BEGINS_WITH", KeyOp::BeginsWith)]
    {
        let got = keys(&[("sk", fe(op, vec![s("x")]))]).unwrap();
        assert_eq!(got, vec![KeyCondition { attribute: "sk".into(), op: want, values: vec![s("x")] }], "{op}");
    }
    let msg = "Attempted conditional constraint is not an indexable operation";
    for (op, vals) in [
        ("NE", vec![s("x")]),
        ("IN", vec![s("x")]),
        ("NULL", vec![]),
        ("NOT_NULL", vec![]),
        ("CONTAINS", vec![s("x")]),
        ("NOT_CONTAINS", vec![s("x")]),
    ] {
        assert_eq!(keys(&[("pk", fe(op, vals))]).unwrap_err(), msg, "{op}");
    }
    // Argument checks come first.
    assert_eq!(
        keys(&[("pk", fe("EQ", vec![s("x"), s("y")]))]).unwrap_err(),
        format!("{P}Invalid number of argument(s) for the EQ ComparisonOperator")
    );
    assert_eq!(
        keys(&[("pk", fe("NE", vec![]))]).unwrap_err(),
        format!("{P}Invalid number of argument(s) for the NE ComparisonOperator")
    );
    assert_eq!(
        keys(&[("sk", fe("BEGINS_WITH", vec![n("1")]))]).unwrap_err(),
        format!("{P}ComparisonOperator BEGINS_WITH is not valid for N AttributeValue type")
    );
    assert_eq!(
        keys(&[("pk", fe("BAD", vec![s("x")]))]).unwrap_err(),
        format!("1 validation error detected: Value 'BAD' at 'keyConditions.pk.member.comparisonOperator' failed to satisfy constraint: Member must satisfy enum value set: {OP_SET}")
    );
    assert_eq!(keys(&[]).unwrap(), vec![]);
}

#[test]
fn key_conditions_match_the_expression_form() {
    let vs = values();
    let mut r = stator_expr::Resolver::new(None, Some(&vs));
    let parsed =
        stator_expr::parse_condition("pk = :s AND sk BETWEEN :n1 AND :n2", stator_expr::ExprKind::KeyCondition, &mut r)
            .unwrap();
    let from_expr = stator_expr::key_conditions(&parsed).unwrap();
    let legacy = keys(&[("pk", fe("EQ", vec![s("abc")])), ("sk", fe("BETWEEN", vec![n("1"), n("2")]))]).unwrap();
    assert_eq!(legacy, from_expr);
}

// ---- AttributeUpdates ----

#[test]
fn attribute_updates_put_and_delete() {
    let it = item(&[("a", n("1")), ("b", s("x")), ("c", ss(&["p", "q", "r"]))]);
    // PUT is the default and replaces.
    let out = apply_legacy(&[("a", au(None, Some(s("new")))), ("z", au(Some("PUT"), Some(l(vec![]))))], &it).unwrap();
    assert_eq!(out["a"], s("new"));
    assert_eq!(out["z"], l(vec![]));
    // DELETE without a value removes; a missing attribute is fine.
    let out = apply_legacy(&[("b", au(Some("DELETE"), None)), ("nope", au(Some("DELETE"), None))], &it).unwrap();
    assert!(!out.contains_key("b"));
    assert_eq!(out.len(), 2);
    // DELETE with a set removes those elements; emptied sets disappear.
    let out = apply_legacy(&[("c", au(Some("DELETE"), Some(ss(&["p", "r", "zz"]))))], &it).unwrap();
    assert_eq!(out["c"], ss(&["q"]));
    let out = apply_legacy(&[("c", au(Some("DELETE"), Some(ss(&["p", "q", "r"]))))], &it).unwrap();
    assert!(!out.contains_key("c"));
    let out = apply_legacy(&[("nope", au(Some("DELETE"), Some(ss(&["p"]))))], &it).unwrap();
    assert_eq!(out, it);
    // A set of another type, or a stored non-set.
    let mismatch = "Type mismatch for attribute to update";
    assert_eq!(apply_legacy(&[("c", au(Some("DELETE"), Some(ns(&["1"]))))], &it).unwrap_err(), mismatch);
    assert_eq!(apply_legacy(&[("b", au(Some("DELETE"), Some(ss(&["x"]))))], &it).unwrap_err(), mismatch);
}

#[test]
fn attribute_updates_add() {
    let it = item(&[("n", n("10")), ("s", s("x")), ("ss", ss(&["a"])), ("l", l(vec![n("1")])), ("ns", ns(&["1"]))]);
    let out = apply_legacy(
        &[
            ("n", au(Some("ADD"), Some(n("-3.5")))),
            ("new_n", au(Some("ADD"), Some(n("3")))),
            ("ss", au(Some("ADD"), Some(ss(&["a", "b"])))),
            ("new_ss", au(Some("ADD"), Some(ss(&["z"])))),
            ("l", au(Some("ADD"), Some(l(vec![s("two"), n("1")])))),
            ("new_l", au(Some("ADD"), Some(l(vec![n("9")])))),
            ("ns", au(Some("ADD"), Some(ns(&["2"])))),
        ],
        &it,
    )
    .unwrap();
    assert_eq!(out["n"], n("6.5"));
    assert_eq!(out["new_n"], n("3"));
    assert_eq!(out["ss"], ss(&["a", "b"]));
    assert_eq!(out["new_ss"], ss(&["z"]));
    assert_eq!(out["l"], l(vec![n("1"), s("two"), n("1")]));
    assert_eq!(out["new_l"], l(vec![n("9")]));
    assert_eq!(out["ns"], ns(&["1", "2"]));
    assert_eq!(out["s"], s("x"));

    let mismatch = "Type mismatch for attribute to update";
    for (name, v) in [("s", n("1")), ("n", ss(&["a"])), ("ss", ns(&["1"])), ("l", n("1")), ("n", l(vec![]))] {
        let mut before = it.clone();
        let r = apply_legacy(&[(name, au(Some("ADD"), Some(v.clone())))], &before);
        assert_eq!(r.unwrap_err(), mismatch, "ADD {v:?} to {name}");
        // A failed update leaves the item alone.
        let u = updates(&[(name, au(Some("ADD"), Some(v)))]).unwrap();
        assert!(u.apply(&mut before).is_err());
        assert_eq!(before, it);
    }
    // Number overflow carries the number's own message.
    let big = item(&[("n", n("9.9999999999999999999999999999999999999E+125"))]);
    let e = apply_legacy(&[("n", au(Some("ADD"), Some(n("9.9999999999999999999999999999999999999E+125"))))], &big);
    assert!(e.unwrap_err().contains("Number overflow"));
}

#[test]
fn attribute_updates_messages() {
    let only_delete = format!("{P}Only DELETE action is allowed when no attribute value is specified");
    assert_eq!(updates(&[("a", au(None, None))]).unwrap_err(), only_delete);
    assert_eq!(updates(&[("a", au(Some("PUT"), None))]).unwrap_err(), only_delete);
    assert_eq!(updates(&[("a", au(Some("ADD"), None))]).unwrap_err(), only_delete);
    for v in [s("x"), b(&[1]), AttributeValue::Bool(true), AttributeValue::Null, m(&[])] {
        let t = v.value_type();
        assert_eq!(
            updates(&[("a", au(Some("ADD"), Some(v.clone())))]).unwrap_err(),
            format!("{P}ADD action is not supported for the type {t}")
        );
    }
    for v in [s("x"), n("1"), b(&[1]), AttributeValue::Bool(true), AttributeValue::Null, m(&[]), l(vec![])] {
        let t = v.value_type();
        assert_eq!(
            updates(&[("a", au(Some("DELETE"), Some(v.clone())))]).unwrap_err(),
            format!("{P}DELETE action with value is not supported for the type {t}")
        );
    }
    assert_eq!(
        updates(&[("a", au(Some("put"), Some(n("1")))), ("b", au(Some("REMOVE"), None))]).unwrap_err(),
        "2 validation errors detected: \
         Value 'put' at 'attributeUpdates.a.member.action' failed to satisfy constraint: Member must satisfy enum value set: [ADD, PUT, DELETE]; \
         Value 'REMOVE' at 'attributeUpdates.b.member.action' failed to satisfy constraint: Member must satisfy enum value set: [ADD, PUT, DELETE]"
    );
    // An empty map is an empty update.
    assert!(updates(&[]).unwrap().actions.is_empty());
}

#[test]
fn attribute_updates_tree() {
    let u = updates(&[
        ("p", au(None, Some(n("1")))),
        ("r", au(Some("DELETE"), None)),
        ("a", au(Some("ADD"), Some(l(vec![])))),
        ("d", au(Some("DELETE"), Some(ss(&["x"])))),
    ])
    .unwrap();
    assert!(matches!(&u.actions[0], UpdateAction::Set(p, _) if *p == Path::attr("p")));
    assert_eq!(u.actions[1], UpdateAction::Remove(Path::attr("r")));
    assert!(matches!(&u.actions[2], UpdateAction::LegacyAdd(p, v) if *p == Path::attr("a") && v.name == ":v1"));
    assert!(matches!(&u.actions[3], UpdateAction::LegacyDelete(..)));
    assert_eq!(u.touched_attributes(), vec!["p", "r", "a", "d"]);
    assert_eq!(u.to_string(), "SET p = :v0 REMOVE r ADD a :v1 DELETE d :v2");
}

#[test]
fn attribute_updates_match_update_expressions() {
    // PUT / DELETE / ADD of numbers and sets do what SET / REMOVE / ADD / DELETE do.
    let it = item(&[("a", n("1")), ("b", s("x")), ("ss", ss(&["a", "b"])), ("ns", ns(&["1", "2"]))]);
    let legacy = apply_legacy(
        &[
            ("a", au(Some("ADD"), Some(n("2")))),
            ("b", au(Some("DELETE"), None)),
            ("ss", au(Some("DELETE"), Some(ss(&["a"])))),
            ("ns", au(Some("ADD"), Some(ns(&["5"])))),
            ("c", au(Some("PUT"), Some(s("abc")))),
        ],
        &it,
    )
    .unwrap();
    let mut it2 = it.clone();
    it2.insert("ns".into(), ns(&["1", "2"]));
    let vs: std::collections::HashMap<String, AttributeValue> = [
        (":two".to_string(), n("2")),
        (":a".to_string(), ss(&["a"])),
        (":five".to_string(), ns(&["5"])),
        (":s".to_string(), s("abc")),
    ]
    .into();
    let mut r = stator_expr::Resolver::new(None, Some(&vs));
    let u = stator_expr::parse_update("ADD a :two, ns :five REMOVE b DELETE ss :a SET c = :s", &mut r).unwrap();
    u.apply(&mut it2).unwrap();
    assert_eq!(legacy, it2);
}

// ---- legacy conditions agree with expressions ----

#[test]
fn legacy_and_expression_agree() {
    let items: Vec<Item> = vec![
        Item::new(),
        item(&[("a", n("1"))]),
        item(&[("a", n("2")), ("b", s("abc"))]),
        item(&[("a", n("5")), ("b", s("a"))]),
        item(&[("a", s("abc")), ("b", ss(&["a", "b"]))]),
        item(&[("a", b(&[1, 2])), ("b", l(vec![s("x"), n("1")]))]),
        item(&[("a", ns(&["1", "2"])), ("b", AttributeValue::Null)]),
        item(&[("a", l(vec![s("x"), n("1")])), ("b", AttributeValue::Bool(true))]),
        item(&[("a", m(&[("k", s("v"))])), ("b", s("z"))]),
        item(&[("a", AttributeValue::Bool(true)), ("b", ns(&["1"]))]),
    ];
    // Placeholders refer to common::values().
    type Case<'a> = (Vec<(&'a str, FilterEntry)>, Option<&'a str>, &'a str);
    let cases: Vec<Case> = vec![
        (vec![("a", fe("EQ", vec![n("1")]))], None, "a = :n1"),
        (vec![("a", fe("NE", vec![n("1")]))], None, "a <> :n1"),
        (vec![("a", fe("LE", vec![n("2")]))], None, "a <= :n2"),
        (vec![("a", fe("LT", vec![n("2")]))], None, "a < :n2"),
        (vec![("a", fe("GE", vec![s("abc")]))], None, "a >= :s"),
        (vec![("a", fe("GT", vec![n("1")]))], None, "a > :n1"),
        (vec![("a", fe("NOT_NULL", vec![]))], None, "attribute_exists(a)"),
        (vec![("a", fe("NULL", vec![]))], None, "attribute_not_exists(a)"),
        (vec![("a", fe("CONTAINS", vec![s("x")]))], None, "contains(a, :xs)"),
        (vec![("a", fe("CONTAINS", vec![n("1")]))], None, "contains(a, :n1)"),
        (vec![("a", fe("NOT_CONTAINS", vec![n("1")]))], None, "NOT contains(a, :n1)"),
        (vec![("a", fe("BEGINS_WITH", vec![s("a")]))], None, "begins_with(a, :a)"),
        (vec![("a", fe("BEGINS_WITH", vec![b(&[1])]))], None, "begins_with(a, :b1)"),
        (vec![("a", fe("IN", vec![n("1"), n("5")]))], None, "a IN (:n1, :n5)"),
        (vec![("a", fe("BETWEEN", vec![n("1"), n("2")]))], None, "a BETWEEN :n1 AND :n2"),
        (vec![("b", fe("EQ", vec![ss(&["b", "a"])]))], None, "b = :ss"),
        (vec![("b", fe("EQ", vec![l(vec![s("x"), n("1")])]))], None, "b = :l"),
        (
            vec![("a", fe("GT", vec![n("1")])), ("b", fe("BEGINS_WITH", vec![s("a")]))],
            None,
            "a > :n1 AND begins_with(b, :a)",
        ),
        (
            vec![("a", fe("NULL", vec![])), ("b", fe("CONTAINS", vec![s("a")]))],
            Some("OR"),
            "attribute_not_exists(a) OR contains(b, :a)",
        ),
    ];
    let mut vs = values();
    vs.insert(":xs".into(), s("x"));
    for (entries, op, text) in cases {
        let mut r = stator_expr::Resolver::new(None, Some(&vs));
        let expr = stator_expr::parse_condition(text, stator_expr::ExprKind::Filter, &mut r).unwrap();
        let legacy = scan(&entries, op).unwrap().unwrap();
        for it in &items {
            assert_eq!(legacy.eval(it).unwrap(), expr.eval(it).unwrap(), "{text} on {it:?}");
        }
    }
    // Expected's Exists forms too.
    for (entry, text) in [
        (ex(Some(n("1")), None), "a = :n1"),
        (ex(Some(s("abc")), Some(true)), "a = :s"),
        (ex(None, Some(false)), "attribute_not_exists(a)"),
    ] {
        let mut r = stator_expr::Resolver::new(None, Some(&vs));
        let expr = stator_expr::parse_condition(text, stator_expr::ExprKind::Condition, &mut r).unwrap();
        let legacy = expected(&[("a", entry)], None).unwrap().unwrap();
        for it in &items {
            assert_eq!(legacy.eval(it).unwrap(), expr.eval(it).unwrap(), "{text} on {it:?}");
        }
    }
}

#[test]
fn translated_trees_print_as_expressions() {
    let c = scan(
        &[
            ("a", fe("NOT_CONTAINS", vec![s("x")])),
            ("b", fe("IN", vec![n("1"), n("2")])),
            ("c", fe("NOT_NULL", vec![])),
        ],
        Some("OR"),
    )
    .unwrap()
    .unwrap();
    assert_eq!(c.to_string(), "NOT contains(a, :v0) OR b IN (:v1, :v2) OR attribute_exists(c)");
    assert_eq!(LegacyKind::QueryFilter.label(), "QueryFilter");
    assert_eq!(LegacyKind::ScanFilter.member(), "scanFilter");
}

// ---- properties ----

fn any_value() -> impl Strategy<Value = AttributeValue> {
    prop_oneof![
        prop::sample::select(vec!["", "a", "ab", "b", "x"]).prop_map(s),
        (-3i64..4).prop_map(|i| n(&i.to_string())),
        prop::collection::vec(0u8..3, 0..3).prop_map(|v| b(&v)),
        any::<bool>().prop_map(AttributeValue::Bool),
        Just(AttributeValue::Null),
        Just(ss(&["a", "x"])),
        Just(ns(&["1", "2"])),
        Just(bs(&[&[1]])),
        Just(l(vec![s("a"), n("1")])),
        Just(m(&[("k", s("a"))])),
    ]
}

fn any_op() -> impl Strategy<Value = Option<String>> {
    let mut ops: Vec<Option<String>> = OPS.iter().map(|o| Some(o.to_string())).collect();
    ops.extend([None, Some("eq".into()), Some(String::new())]);
    prop::sample::select(ops)
}

fn any_filter() -> impl Strategy<Value = FilterEntry> {
    (any_op(), prop::option::of(prop::collection::vec(any_value(), 0..4))).prop_map(
        |(comparison_operator, attribute_value_list)| FilterEntry { comparison_operator, attribute_value_list },
    )
}

fn any_expected() -> impl Strategy<Value = ExpectedEntry> {
    (
        prop::option::of(any_value()),
        prop::option::of(any::<bool>()),
        any_op(),
        prop::option::of(prop::collection::vec(any_value(), 0..3)),
    )
        .prop_map(|(value, exists, comparison_operator, attribute_value_list)| ExpectedEntry {
            value,
            exists,
            comparison_operator,
            attribute_value_list,
        })
}

fn any_conditional() -> impl Strategy<Value = Option<String>> {
    prop::sample::select(vec![None, Some("AND".to_string()), Some("OR".to_string()), Some("NOR".to_string())])
}

fn entries<T: std::fmt::Debug + Clone>(s: impl Strategy<Value = T>) -> impl Strategy<Value = Vec<(String, T)>> {
    prop::collection::vec((prop::sample::select(vec!["a", "b", "c"]), s), 0..4).prop_map(|v| {
        let mut out: Vec<(String, T)> = Vec::new();
        for (k, e) in v {
            if !out.iter().any(|(o, _)| o == k) {
                out.push((k.to_string(), e));
            }
        }
        out
    })
}

/// The values a translated condition holds, by placeholder.
fn collect_values(c: &Condition, out: &mut std::collections::HashMap<String, AttributeValue>) {
    use stator_expr::Operand;
    let mut op = |o: &Operand| {
        if let Operand::Value(v) = o {
            out.insert(v.name.clone(), v.value.clone());
        }
    };
    match c {
        Condition::Compare(_, a, b) | Condition::BeginsWith(a, b) | Condition::Contains(a, b) => {
            op(a);
            op(b);
        }
        Condition::Between(a, lo, hi) => {
            op(a);
            op(lo);
            op(hi);
        }
        Condition::In(a, list) => {
            op(a);
            list.iter().for_each(op);
        }
        Condition::AttributeType(_, t) => op(t),
        Condition::AttributeExists(_) | Condition::AttributeNotExists(_) => {}
        Condition::Not(x) => collect_values(x, out),
        Condition::And(l, r) | Condition::Or(l, r) => {
            collect_values(l, out);
            collect_values(r, out);
        }
    }
}

fn sample_items() -> Vec<Item> {
    vec![
        Item::new(),
        item(&[("a", s("ab")), ("b", n("1")), ("c", ss(&["a"]))]),
        item(&[("a", n("2")), ("b", b(&[1, 2])), ("c", l(vec![s("a"), n("1")]))]),
        item(&[("a", AttributeValue::Null), ("c", AttributeValue::Bool(true))]),
    ]
}

proptest! {
    /// No input panics; whatever translates evaluates, and prints as expression
    /// text that parses back to the same tree.
    #[test]
    fn filters_never_panic_and_round_trip(es in entries(any_filter()), op in any_conditional()) {
        let r = filter_condition(LegacyKind::ScanFilter, &es, op.as_deref());
        if let Ok(Some(c)) = r {
            let mut vs = std::collections::HashMap::new();
            collect_values(&c, &mut vs);
            let mut res = stator_expr::Resolver::new(None, Some(&vs));
            let text = c.to_string();
            let back = stator_expr::parse_condition(&text, stator_expr::ExprKind::Filter, &mut res);
            prop_assert_eq!(back.as_ref(), Ok(&c), "{}", text);
            for it in sample_items() {
                prop_assert!(c.eval(&it).is_ok());
            }
        }
        let _ = key_conditions_legacy(&es);
    }

    #[test]
    fn expected_never_panics(es in entries(any_expected()), op in any_conditional()) {
        if let Ok(Some(c)) = expected_condition(&es, op.as_deref()) {
            for it in sample_items() {
                prop_assert!(c.eval(&it).is_ok());
            }
        }
    }

    #[test]
    fn attribute_updates_never_panic(
        es in entries((prop::sample::select(vec![None, Some("PUT"), Some("ADD"), Some("DELETE"), Some("X")]), prop::option::of(any_value()))
            .prop_map(|(a, v)| au(a, v)))
    ) {
        if let Ok(u) = attribute_updates(&es) {
            for it in sample_items() {
                let mut copy = it.clone();
                if u.apply(&mut copy).is_err() {
                    prop_assert_eq!(copy, it);
                }
            }
        }
    }
}
