//! Update expressions through the public API: grammar, DynamoDB's exact error
//! messages, and how actions change an item.

#![allow(clippy::unwrap_used)]

mod common;

use common::*;
use stator_types::{AttributeValue, Item};

const U: &str = "Invalid UpdateExpression: ";
const MISSING: &str = "The provided expression refers to an attribute that does not exist in the item";
const WRONG_TYPE: &str = "An operand in the update expression has an incorrect data type";
const BAD_PATH: &str = "The document path provided in the update expression is invalid for update";

#[test]
fn syntax() {
    assert_eq!(update_err(""), format!("{U}The expression can not be empty;"));
    for (src, token, near) in [
        ("INVALID SYNTAX HERE", "INVALID", "INVALID SYNTAX"),
        ("ADD hits : incr", ":", "hits : incr"),
        ("SET a", "<EOF>", "a"),
        ("SET a =", "<EOF>", "="),
        ("SET a = :n1,", "<EOF>", ","),
        ("SET a = :n1 +", "<EOF>", "+"),
        ("SET a = :n1 + :n1 + :n1", "+", ":n1 + :n1"),
        ("SET a = (:n1)", "(", "= (:n1"),
        ("REMOVE", "<EOF>", "REMOVE"),
        ("REMOVE a b", "b", "a b"),
        ("ADD a b", "b", "a b"),
        ("ADD a :n1 + :n1", "+", ":n1 + :n1"),
        ("DELETE a", "<EOF>", "a"),
        ("SET a = :n1 WHERE", "WHERE", ":n1 WHERE"),
        ("SET set = :n1", "set", "SET set ="),
        ("SET a-b = :n1", "-", "a-b"),
        ("SET a[-1] = :n1", "-", "[-1"),
        ("SET a = :n1 AND b = :n1", "AND", ":n1 AND b"),
    ] {
        assert_eq!(update_err(src), format!("{U}Syntax error; token: \"{token}\", near: \"{near}\""), "{src}");
    }
    assert!(update("set a = :n1 remove b add c :n1 delete d :ss").is_ok());
    assert!(update("DELETE d :ss ADD c :n1 REMOVE b SET a = :n1").is_ok(), "clauses in any order");
}

#[test]
fn each_clause_only_once() {
    for (src, clause) in [
        ("SET a = :n1 SET b = :n1", "SET"),
        ("REMOVE a REMOVE b", "REMOVE"),
        ("ADD a :n1 REMOVE c ADD b :n1", "ADD"),
        ("DELETE a :ss delete b :ss", "DELETE"),
    ] {
        assert_eq!(
            update_err(src),
            format!("{U}The \"{clause}\" section can only be used once in an update expression;"),
            "{src}"
        );
    }
}

#[test]
fn names_values_and_reserved_words() {
    assert_eq!(
        update_err("SET status = :s"),
        format!("{U}Attribute name is a reserved keyword; reserved keyword: status")
    );
    assert_eq!(
        update_err("SET a = b.#x"),
        format!("{U}An expression attribute name used in the document path is not defined; attribute name: #x")
    );
    assert_eq!(
        update_err("SET a = :x"),
        format!("{U}An expression attribute value used in expression is not defined; attribute value: :x")
    );
    assert_eq!(
        update_err("ADD a :x"),
        format!("{U}An expression attribute value used in expression is not defined; attribute value: :x")
    );
    let u = update("SET #s = :s REMOVE #dot").unwrap();
    assert_eq!(u.touched_attributes(), vec!["status", "x.y"]);
}

#[test]
fn function_and_operand_checks() {
    for (src, msg) in [
        ("SET a = size(b)", "The function is not allowed in an update expression; function: size"),
        ("SET a = attribute_exists(b)", "The function is not allowed in an update expression; function: attribute_exists"),
        ("SET a = contains(b, :s)", "The function is not allowed in an update expression; function: contains"),
        ("SET a = foo(b)", "Invalid function name; function: foo"),
        ("SET a = If_Not_Exists(b, :n1)", "Invalid function name; function: If_Not_Exists"),
        ("SET a = if_not_exists(a)", "Incorrect number of operands for operator or function; operator or function: if_not_exists, number of operands: 1"),
        ("SET a = list_append(a, :l, :l)", "Incorrect number of operands for operator or function; operator or function: list_append, number of operands: 3"),
        ("SET a = if_not_exists(:n1, a)", "Operator or function requires a document path; operator or function: if_not_exists"),
        ("SET a = list_append(:s, a)", "Incorrect operand type for operator or function; operator or function: list_append, operand type: S"),
        ("SET a = list_append(a, :ss)", "Incorrect operand type for operator or function; operator or function: list_append, operand type: SS"),
        ("SET a = :s + :n1", "Incorrect operand type for operator or function; operator or function: +, operand type: S"),
        ("SET a = b - :ss", "Incorrect operand type for operator or function; operator or function: -, operand type: SS"),
        ("ADD a :s", "Incorrect operand type for operator or function; operator or function: ADD, operand type: S"),
        ("ADD a :l", "Incorrect operand type for operator or function; operator or function: ADD, operand type: L"),
        ("DELETE a :n1", "Incorrect operand type for operator or function; operator or function: DELETE, operand type: N"),
        ("DELETE a :s", "Incorrect operand type for operator or function; operator or function: DELETE, operand type: S"),
    ] {
        assert_eq!(update_err(src), format!("{U}{msg}"), "{src}");
    }
    assert!(update("SET a = list_append(if_not_exists(a, :l), :l), b = if_not_exists(b, :n0) + :n1").is_ok());
    let many = vec!["a=b+c"; 301].join(",");
    assert_eq!(
        update_err(&format!("SET {many}")),
        format!("{U}The expression contains too many operators; operator count: 301")
    );
}

#[test]
fn overlapping_and_conflicting_paths() {
    let overlap = |one: &str, two: &str| {
        format!("{U}Two document paths overlap with each other; must remove or rewrite one of these paths; path one: {one}, path two: {two}")
    };
    let conflict = |one: &str, two: &str| {
        format!("{U}Two document paths conflict with each other; must remove or rewrite one of these paths; path one: {one}, path two: {two}")
    };
    assert_eq!(update_err("SET a = :n1, a = :n2"), overlap("[a]", "[a]"));
    assert_eq!(update_err("SET a = :n1 REMOVE a.b"), overlap("[a]", "[a, b]"));
    assert_eq!(update_err("REMOVE a[1].b ADD a[1] :n1"), overlap("[a, [1], b]", "[a, [1]]"));
    assert_eq!(update_err("SET #a = :n1 REMOVE a"), overlap("[a]", "[a]"));
    assert_eq!(update_err("REMOVE a[0], a.b"), conflict("[a, [0]]", "[a, b]"));
    assert_eq!(update_err("SET a.b[0] = :n1 DELETE a.b.c :ss"), conflict("[a, b, [0]]", "[a, b, c]"));
    assert!(update("SET a[1] = :n1, a[2] = :n1, b.c = :n1, b.d = :n1 REMOVE c, #dot").is_ok());
    assert!(update("SET a = b, b = a").is_ok(), "only targets are checked");
}

#[test]
fn set_top_level_and_nested() {
    let it = item(&[("a", n("1")), ("m", m(&[("x", n("1"))])), ("s", s("str")), ("l", l(vec![n("1")]))]);
    let out = apply("SET a = :s, b = :n2, m.y = :n5, m.x = :z", &it).unwrap();
    assert_eq!(out["a"], s("abc"));
    assert_eq!(out["b"], n("2"));
    assert_eq!(out["m"], m(&[("x", s("z")), ("y", n("5"))]));
    for bad in
        ["SET nope.x = :n1", "SET s.x = :n1", "SET s[0] = :n1", "SET m[0] = :n1", "SET l.x = :n1", "SET nope[0] = :n1"]
    {
        assert_eq!(apply(bad, &it).unwrap_err(), BAD_PATH, "{bad}");
    }
    assert_eq!(apply("SET m.deep.x = :n1", &it).unwrap_err(), BAD_PATH);
}

#[test]
fn set_list_elements() {
    let it = item(&[("l", l(vec![n("0"), n("1")]))]);
    // Replace in place; past the end appends, in index order.
    let out = apply("SET l[5] = :a, l[0] = :z, l[3] = :s", &it).unwrap();
    assert_eq!(out["l"], l(vec![s("z"), n("1"), s("abc"), s("a")]));
    let nested = item(&[("l", l(vec![m(&[("k", n("1"))])]))]);
    let out = apply("SET l[0].k = :n2, l[0].j = :n5", &nested).unwrap();
    assert_eq!(out["l"], l(vec![m(&[("j", n("5")), ("k", n("2"))])]));
}

#[test]
fn remove() {
    let it = item(&[
        ("l", l(vec![n("0"), n("1"), n("2"), n("3"), n("4")])),
        ("m", m(&[("x", n("1")), ("y", n("2"))])),
        ("s", s("v")),
    ]);
    // Several elements of one list: the original indexes count (the Developer Guide's
    // example removes [1] and [2] of five and keeps [0], [3], [4]).
    let out = apply("REMOVE l[1], l[2]", &it).unwrap();
    assert_eq!(out["l"], l(vec![n("0"), n("3"), n("4")]));
    let out = apply("REMOVE l[3], l[1]", &it).unwrap();
    assert_eq!(out["l"], l(vec![n("0"), n("2"), n("4")]));
    let out = apply("REMOVE m.x, s, nope, l[10], m.nope", &it).unwrap();
    assert_eq!(out["m"], m(&[("y", n("2"))]));
    assert!(!out.contains_key("s"));
    assert_eq!(out["l"], it["l"]);
    // The leaf may be missing, its parent may not.
    for bad in ["REMOVE s.x", "REMOVE m[0]", "REMOVE zz.x", "REMOVE l[9].x", "REMOVE zz[0]"] {
        assert_eq!(apply(bad, &it).unwrap_err(), BAD_PATH, "{bad}");
    }
}

#[test]
fn arithmetic_and_functions() {
    let it = item(&[("a", n("5")), ("s", s("x")), ("l", l(vec![n("1")]))]);
    assert_eq!(apply("SET a = a + :n1", &it).unwrap()["a"], n("6"));
    assert_eq!(apply("SET a = :n2 - a", &it).unwrap()["a"], n("-3"));
    assert_eq!(apply("SET b = a - a", &it).unwrap()["b"], n("0"));
    assert_eq!(apply("SET b = nope + :n1", &it).unwrap_err(), MISSING);
    assert_eq!(apply("SET b = nope", &it).unwrap_err(), MISSING);
    assert_eq!(apply("SET b = s + :n1", &it).unwrap_err(), WRONG_TYPE);
    assert_eq!(apply("SET b = if_not_exists(nope, :n0) + :n1", &it).unwrap()["b"], n("1"));
    assert_eq!(apply("SET a = if_not_exists(a, :n0) + :n1", &it).unwrap()["a"], n("6"));
    assert_eq!(apply("SET b = if_not_exists(nope, nope2)", &it).unwrap_err(), MISSING);
    assert_eq!(apply("SET l = list_append(l, :l)", &it).unwrap()["l"], l(vec![n("1"), s("x"), n("1")]));
    assert_eq!(apply("SET l = list_append(:l, l)", &it).unwrap()["l"], l(vec![s("x"), n("1"), n("1")]));
    assert_eq!(
        apply("SET k = list_append(if_not_exists(k, :l), :l)", &it).unwrap()["k"],
        l(vec![s("x"), n("1"), s("x"), n("1")])
    );
    assert_eq!(apply("SET l = list_append(l, s)", &it).unwrap_err(), WRONG_TYPE);
    assert_eq!(apply("SET l = list_append(nope, :l)", &it).unwrap_err(), MISSING);
    // Every right-hand side reads the item as it was: a swap works.
    let out = apply("SET a = s, s = a", &it).unwrap();
    assert_eq!((out["a"].clone(), out["s"].clone()), (s("x"), n("5")));
}

#[test]
fn number_limits_use_the_numbers_messages() {
    let it = item(&[("big", n("9.9999999999999999999999999999999999999E+125")), ("p", n("1E+30")), ("q", n("1E-10"))]);
    assert_eq!(
        apply("SET c = big + big", &it).unwrap_err(),
        "Number overflow. Attempting to store a number with magnitude larger than supported range"
    );
    assert_eq!(
        apply("SET c = p + q", &it).unwrap_err(),
        "Attempting to store more than 38 significant digits in a Number"
    );
    assert_eq!(
        apply("ADD big :n5", &item(&[("big", n("9.9999999999999999999999999999999999999E+125"))])).unwrap_err(),
        "Attempting to store more than 38 significant digits in a Number"
    );
}

#[test]
fn add() {
    let it = item(&[("n", n("1")), ("tags", ss(&["a", "c"])), ("nums", ns(&["1"])), ("s", s("x"))]);
    let out = apply("ADD n :n5, fresh :n2, tags :ss, nums :ns, newset :bs", &it).unwrap();
    assert_eq!(out["n"], n("6"));
    assert_eq!(out["fresh"], n("2"));
    assert_eq!(out["tags"], ss(&["a", "c", "b"]));
    assert_eq!(out["nums"], ns(&["1", "2"]));
    assert_eq!(out["newset"], bs(&[&[1], &[2]]));
    for bad in ["ADD s :n1", "ADD tags :ns", "ADD n :ss", "ADD nums :n1"] {
        assert_eq!(apply(bad, &it).unwrap_err(), WRONG_TYPE, "{bad}");
    }
    assert_eq!(apply("ADD nope.x :n1", &it).unwrap_err(), BAD_PATH);
    let nested = item(&[("m", m(&[]))]);
    assert_eq!(apply("ADD m.c :n1", &nested).unwrap()["m"], m(&[("c", n("1"))]));
}

#[test]
fn delete() {
    let it = item(&[("tags", ss(&["a", "b", "c"])), ("nums", ns(&["1", "2"])), ("s", s("x"))]);
    assert_eq!(apply("DELETE zz.x :ss", &it).unwrap_err(), BAD_PATH);
    let out = apply("DELETE tags :ss, nums :ns, nope :ss", &it).unwrap();
    assert_eq!(out["tags"], ss(&["c"]));
    assert!(!out.contains_key("nums"), "a set emptied by DELETE is removed");
    assert!(!out.contains_key("nope"));
    for bad in ["DELETE tags :ns", "DELETE s :ss", "DELETE nums :bs"] {
        assert_eq!(apply(bad, &it).unwrap_err(), WRONG_TYPE, "{bad}");
    }
}

#[test]
fn failed_update_leaves_item_unchanged() {
    let it = item(&[("a", n("1")), ("s", s("x"))]);
    let u = update("SET a = :n5, b = :n1 REMOVE c ADD s2 :n1 DELETE s :ss").unwrap();
    let mut copy = it.clone();
    assert_eq!(u.apply(&mut copy).unwrap_err().0, WRONG_TYPE);
    assert_eq!(copy, it);
    let mut empty = Item::new();
    update("SET a.b = :n1").unwrap().apply(&mut empty).unwrap_err();
    assert!(empty.is_empty());
}

#[test]
fn touched_paths() {
    let u = update("SET a.b = :n1, c = :n1 REMOVE d[0], a.e ADD f :n1 DELETE g :ss").unwrap();
    let paths: Vec<String> = u.touched_paths().iter().map(|p| p.to_string()).collect();
    assert_eq!(paths, vec!["[a, b]", "[c]", "[d, [0]]", "[a, e]", "[f]", "[g]"]);
    assert_eq!(u.touched_attributes(), vec!["a", "c", "d", "f", "g"]);
}

#[test]
fn display_reparses() {
    for src in [
        "SET a = :n1",
        "SET a.b[1] = if_not_exists(c, :n0) + :n1, d = list_append(d, :l) REMOVE e, f[2] ADD g :n1 DELETE h :ss",
        "DELETE h :ss SET x = y - :n1",
    ] {
        let u = update(src).unwrap();
        assert_eq!(update(&u.to_string()).unwrap(), u, "{src} -> {u}");
    }
}

#[test]
fn apply_on_missing_item_creates_attributes() {
    let out = apply("SET a = :n1 ADD c :ns REMOVE b", &Item::new()).unwrap();
    assert_eq!(out, item(&[("a", n("1")), ("c", ns(&["1", "2"]))]));
    let _unused: AttributeValue = n("0");
}

#[test]
fn an_update_applied_to_its_referenced_attributes_alone_changes_them_as_on_the_whole_item() {
    let it = item(&[
        ("a", n("1")),
        ("b", s("x")),
        ("c", l(vec![n("1"), n("2")])),
        ("m", m(&[("k", n("1")), ("j", s("y"))])),
        ("ss", ss(&["a", "b"])),
        ("other", s("untouched")),
    ]);
    for (src, referenced) in [
        ("SET a = :n1", vec!["a"]),
        ("SET z = :n1, b = a + :n2 REMOVE c", vec!["z", "b", "c", "a"]),
        ("SET m.k = :n5, c[0] = m.j", vec!["m", "c"]),
        ("SET z = if_not_exists(q, :n1), y = list_append(c, :l)", vec!["z", "y", "q", "c"]),
        ("ADD a :n1 DELETE ss :ss", vec!["a", "ss"]),
        ("ADD nothing :n1", vec!["nothing"]),
        ("REMOVE m.k, c[5]", vec!["m", "c"]),
        ("SET b.x = :n1", vec!["b"]),
        ("ADD b :n1", vec!["b"]),
        ("SET a = b - :n1", vec!["a", "b"]),
    ] {
        let u = update(src).unwrap();
        assert_eq!(u.referenced_attributes(), referenced, "{src}");
        let part: Item =
            it.iter().filter(|(k, _)| referenced.contains(&k.as_str())).map(|(k, v)| (k.clone(), v.clone())).collect();
        let whole = apply(src, &it);
        let partial = apply(src, &part);
        match (whole, partial) {
            (Ok(whole), Ok(partial)) => {
                let touched: Item = whole
                    .iter()
                    .filter(|(k, _)| referenced.contains(&k.as_str()))
                    .map(|(k, v)| (k.clone(), v.clone()))
                    .collect();
                assert_eq!(touched, partial, "{src}");
                assert_eq!(whole.get("other"), Some(&s("untouched")), "{src}");
            }
            (Err(a), Err(b)) => assert_eq!(a, b, "{src}"),
            (a, b) => panic!("{src}: {a:?} vs {b:?}"),
        }
    }
}
