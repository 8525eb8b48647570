//! Condition expressions through the public API: grammar, DynamoDB's exact error
//! messages, and evaluation semantics.

#![allow(clippy::unwrap_used)]

mod common;

use common::*;
use stator_expr::{CmpOp, Condition, ExprKind, Operand, Path};
use stator_types::{AttributeValue, Item};

const C: &str = "Invalid ConditionExpression: ";

#[test]
fn empty_and_oversized_expressions() {
    assert_eq!(cond_err(""), format!("{C}The expression can not be empty;"));
    assert_eq!(
        cond_kind("", ExprKind::KeyCondition).unwrap_err(),
        "Invalid KeyConditionExpression: The expression can not be empty;"
    );
    assert_eq!(
        cond_kind("", ExprKind::Filter).unwrap_err(),
        "Invalid FilterExpression: The expression can not be empty;"
    );
    assert_eq!(cond_err("   "), format!("{C}Syntax error; token: \"<EOF>\", near: \"\""));
    let long = format!("a = :n1{}", " ".repeat(4090));
    assert_eq!(
        cond_err(&long),
        format!("{C}Expression size has exceeded the maximum allowed size; expression size: 4097")
    );
    let ok = format!("a = :n1{}", " ".repeat(4089));
    assert!(cond(&ok).is_ok());
}

#[test]
fn syntax_errors_name_the_token_and_its_neighbours() {
    for (src, token, near) in [
        ("a =", "<EOF>", "="),
        ("a = :n1 AND", "<EOF>", "AND"),
        ("a-b = :n1", "-", "a-b"),
        ("GI-1-PK = :n1", "-", "GI-1"),
        ("_version = :n1", "_", "_version"),
        ("__typename <> :s", "_", "__"),
        ("a = :n1 b = :n1", "b", ":n1 b ="),
        ("a IN :n1", ":n1", "IN :n1"),
        ("a IN ()", ")", "()"),
        ("a BETWEEN :n1 :n2", ":n2", ":n1 :n2"),
        ("a = :n1)", ")", ":n1)"),
        ("NOT", "<EOF>", "NOT"),
        ("a.1 = :n1", "1", ".1 ="),
        ("a[x] = :n1", "x", "[x]"),
        ("a[1 = :n1", "=", "1 = :n1"),
        ("#a.#s# = :n1", "#", "#s# ="),
        ("a = :", ":", "= :"),
        ("a = 'x'", "'", "= 'x"),
        ("a = \"x\"", "\"", "= \"x"),
        ("a ≠ :n1", "≠", "a ≠ :n1"),
        ("size(a) = :n1 AND and", "and", "AND and"),
    ] {
        assert_eq!(cond_err(src), format!("{C}Syntax error; token: \"{token}\", near: \"{near}\""), "{src}");
    }
}

#[test]
fn keywords_are_case_insensitive_functions_are_not() {
    assert!(cond("a = :n1 and b = :n2 or not c = :n1").is_ok());
    assert!(cond("a between :n1 AnD :n2").is_ok());
    assert!(cond("a in (:n1)").is_ok());
    assert_eq!(cond_err("ATTRIBUTE_EXISTS(a)"), format!("{C}Invalid function name; function: ATTRIBUTE_EXISTS"));
}

#[test]
fn precedence() {
    // NOT binds tighter than AND, AND tighter than OR.
    let c = cond("NOT a = :n1 AND b = :n1 OR c = :n1").unwrap();
    let Condition::Or(l, _) = c else { panic!("OR at the top") };
    let Condition::And(nl, _) = *l else { panic!("AND under OR") };
    assert!(matches!(*nl, Condition::Not(_)));
    let c = cond("a = :n1 AND (b = :n1 OR c = :n1)").unwrap();
    assert!(matches!(c, Condition::And(..)));
    // BETWEEN takes the first AND.
    let c = cond("a BETWEEN :n1 AND :n2 AND b = :n1").unwrap();
    let Condition::And(l, _) = c else { panic!("AND at the top") };
    assert!(matches!(*l, Condition::Between(..)));
}

#[test]
fn redundant_parentheses() {
    assert_eq!(cond_err("((a = :n1))"), format!("{C}The expression has redundant parentheses;"));
    assert_eq!(
        cond_kind("((a = :n1))", ExprKind::Filter).unwrap_err(),
        "Invalid FilterExpression: The expression has redundant parentheses;"
    );
    assert!(cond("(a = :n1)").is_ok());
    assert!(cond("((a = :n1) AND (b = :n1))").is_ok());
    assert!(cond("((a = :n1 AND b = :n1) AND c = :n1)").is_ok());
    assert!(cond("a = :n1 OR (b = :n1 AND c = :n1)").is_ok());
}

#[test]
fn names_values_and_reserved_words() {
    assert_eq!(cond_err("status = :s"), format!("{C}Attribute name is a reserved keyword; reserved keyword: status"));
    assert_eq!(cond_err("a.Size = :s"), format!("{C}Attribute name is a reserved keyword; reserved keyword: Size"));
    assert_eq!(
        cond_err("#nope = :s"),
        format!("{C}An expression attribute name used in the document path is not defined; attribute name: #nope")
    );
    assert_eq!(
        cond_err("a = :nope"),
        format!("{C}An expression attribute value used in expression is not defined; attribute value: :nope")
    );
    // Reserved words are reported before undefined names, undefined names before values.
    assert_eq!(
        cond_err("a = :nope AND #nope = :s AND name = :s"),
        format!("{C}Attribute name is a reserved keyword; reserved keyword: name")
    );
    assert_eq!(
        cond_err("a = :nope AND #nope = :s"),
        format!("{C}An expression attribute name used in the document path is not defined; attribute name: #nope")
    );
    // A #name stands for the whole attribute name, dots included.
    let c = cond("#dot = :s AND #s.#a[1] = :s").unwrap();
    let Condition::And(l, r) = c else { panic!() };
    assert_eq!(*l, Condition::Compare(CmpOp::Eq, Operand::Path(Path::attr("x.y")), value_operand(":s")));
    let Condition::Compare(_, Operand::Path(p), _) = *r else { panic!() };
    assert_eq!(p.to_string(), "[status, a, [1]]");
}

fn value_operand(name: &str) -> Operand {
    Operand::Value(stator_expr::ValueRef { name: name.into(), value: values()[name].clone() })
}

#[test]
fn function_checks() {
    for (src, msg) in [
        ("foo(a)", "Invalid function name; function: foo"),
        ("list_append(a, :l) = :l", "The function is not allowed in an condition expression; function: list_append"),
        ("if_not_exists(a, :l)", "The function is not allowed in an condition expression; function: if_not_exists"),
        ("size(a)", "The function is not allowed to be used this way in an expression; function: size"),
        ("attribute_exists(a) = :n1", "The function is not allowed to be used this way in an expression; function: attribute_exists"),
        ("size(a) = contains(a, :s)", "The function is not allowed to be used this way in an expression; function: contains"),
        ("attribute_exists(a, b)", "Incorrect number of operands for operator or function; operator or function: attribute_exists, number of operands: 2"),
        ("attribute_not_exists(a, b, c)", "Incorrect number of operands for operator or function; operator or function: attribute_not_exists, number of operands: 3"),
        ("begins_with(a)", "Incorrect number of operands for operator or function; operator or function: begins_with, number of operands: 1"),
        ("size(a, b) = :n1", "Incorrect number of operands for operator or function; operator or function: size, number of operands: 2"),
        ("attribute_type(a)", "Incorrect number of operands for operator or function; operator or function: attribute_type, number of operands: 1"),
        ("contains(a)", "Incorrect number of operands for operator or function; operator or function: contains, number of operands: 1"),
        ("attribute_exists(:s)", "Operator or function requires a document path; operator or function: attribute_exists"),
        ("attribute_type(:s, :t)", "Operator or function requires a document path; operator or function: attribute_type"),
        ("size(:s) = :n1", "Operator or function requires a document path; operator or function: size"),
        ("attribute_type(a, :bad_type)", "Invalid attribute type name found; type: X, valid types: {B,NULL,SS,BOOL,L,BS,N,NS,S,M}"),
        ("attribute_type(a, :n1)", "Incorrect operand type for operator or function; operator or function: attribute_type, operand type: N"),
        ("begins_with(a, :n1)", "Incorrect operand type for operator or function; operator or function: begins_with, operand type: N"),
        ("begins_with(a, :ss)", "Incorrect operand type for operator or function; operator or function: begins_with, operand type: SS"),
        ("contains(a, a)", "The first operand must be distinct from the second operand; operator: contains, first operand: [a]"),
    ] {
        assert_eq!(cond_err(src), format!("{C}{msg}"), "{src}");
    }
    assert!(cond("contains(a, b) AND contains(a, :s) AND begins_with(a, :b) AND attribute_type(a, :tl)").is_ok());
}

#[test]
fn operand_type_checks() {
    for (src, msg) in [
        ("a < :bool", "Incorrect operand type for operator or function; operator or function: <, operand type: BOOL"),
        ("a >= :l", "Incorrect operand type for operator or function; operator or function: >=, operand type: L"),
        ("a BETWEEN :null AND :n1", "Incorrect operand type for operator or function; operator or function: BETWEEN, operand type: NULL"),
        (
            "a BETWEEN :n5 AND :n1",
            "The BETWEEN operator requires upper bound to be greater than or equal to lower bound; lower bound operand: AttributeValue: {N:5}, upper bound operand: AttributeValue: {N:1}",
        ),
        (
            "a BETWEEN :z AND :a",
            "The BETWEEN operator requires upper bound to be greater than or equal to lower bound; lower bound operand: AttributeValue: {S:z}, upper bound operand: AttributeValue: {S:a}",
        ),
        (
            "a BETWEEN :n1 AND :s",
            "The BETWEEN operator requires same data type for lower and upper bounds; lower bound operand: AttributeValue: {N:1}, upper bound operand: AttributeValue: {S:abc}",
        ),
    ] {
        assert_eq!(cond_err(src), format!("{C}{msg}"), "{src}");
    }
    // Equality takes any type; bounds from paths are only known per item.
    assert!(cond("a = :bool AND a <> :l AND a BETWEEN b AND :n1 AND a BETWEEN :n1 AND :n1").is_ok());
}

#[test]
fn operator_limits() {
    let list: Vec<String> = (0..100).map(|_| ":n1".to_string()).collect();
    assert!(cond(&format!("a IN ({})", list.join(","))).is_ok());
    let list: Vec<String> = (0..101).map(|_| ":n1".to_string()).collect();
    assert_eq!(
        cond_err(&format!("a IN ({})", list.join(","))),
        format!("{C}The IN operator is provided with too many operands; number of operands: 101")
    );
    let many: Vec<&str> = vec!["a<b"; 301];
    assert_eq!(
        cond_err(&many.join(" AND ")),
        format!("{C}The expression contains too many operators; operator count: 301")
    );
    let ok: Vec<&str> = vec!["a<b"; 300];
    assert!(cond(&ok.join(" AND ")).is_ok());
}

#[test]
fn deep_nesting_never_overflows() {
    // SDK builders nest left: ((((a AND b) AND c) AND d) ...), one group per condition.
    let mut e = "a<b".to_string();
    for _ in 0..299 {
        e = format!("({e} AND a<b)");
    }
    let deep = cond(&e).unwrap();
    assert!(!deep.eval(&Item::new()).unwrap());
    let nots = format!("{}a = :n1", "NOT ".repeat(513));
    assert!(cond_err(&nots).contains("Syntax error; token: \"NOT\""));
    let nots = format!("{}a = :n1", "NOT ".repeat(501));
    assert!(cond(&nots).unwrap().eval(&Item::new()).unwrap());
    let parens = format!("{}a = :n1{}", "(".repeat(2000), ")".repeat(2000));
    assert!(cond_err(&parens).contains("Syntax error"));
    let calls = format!("{}a{} = :n1", "size(".repeat(500), ")".repeat(500));
    assert!(cond_err(&calls).contains("Syntax error"));
    // The deepest tree 4 KB allows: 511 NOTs under a 250-deep AND chain. Evaluating,
    // printing, comparing, cloning and dropping it all fit the test thread's stack.
    let worst = cond(&format!("{}a<b{}", "NOT ".repeat(511), " AND a<b".repeat(250))).unwrap();
    assert!(!worst.eval(&Item::new()).unwrap());
    assert!(worst.to_string().starts_with("NOT NOT"));
    assert_eq!(worst.clone(), worst);
    assert!(!format!("{worst:?}").is_empty());
}

#[test]
fn comparisons() {
    let it = item(&[("a", n("1")), ("s", s("abc")), ("bin", b(&[1, 2])), ("t", AttributeValue::Bool(true))]);
    assert!(check("a = :n1", &it));
    assert!(check("a <> :n2", &it));
    assert!(check("a < :n2 AND a <= :n1 AND a > :n0 AND a >= :n1", &it));
    assert!(!check("a = :s", &it), "different types are unequal");
    assert!(check("a <> :s", &it));
    assert!(!check("a < :s", &it) && !check("a > :s", &it), "different types do not order");
    assert!(check("s > :a AND s < :z", &it));
    assert!(check("bin > :b1 AND bin = :b", &it));
    assert!(!check("gone = :n1", &it) && !check("gone < :n1", &it));
    assert!(check("gone <> :n1", &it), "<> holds when the attribute is missing");
    assert!(check("t = :bool", &it));
    assert!(check("a = a AND :n1 = :n1", &it));
}

#[test]
fn between_and_in() {
    let it = item(&[("a", n("2")), ("s", s("m")), ("lo", n("1")), ("hi", n("5"))]);
    assert!(check("a BETWEEN :n1 AND :n5", &it));
    assert!(check("a BETWEEN :n2 AND :n2", &it));
    assert!(!check("a BETWEEN :n0 AND :n1", &it));
    assert!(check("a BETWEEN lo AND hi", &it));
    assert!(!check("a BETWEEN hi AND lo", &it), "path bounds out of order are just false");
    assert!(check("s BETWEEN :a AND :z", &it));
    assert!(!check("s BETWEEN :n0 AND :n5", &it));
    assert!(!check("gone BETWEEN :n0 AND :n5", &it));
    assert!(check("a IN (:n1, :n2)", &it));
    assert!(!check("a IN (:n1, :s)", &it));
    assert!(check("a IN (lo, a)", &it));
    assert!(!check("gone IN (:n1, gone)", &it));
}

#[test]
fn functions_evaluate() {
    let it = item(&[
        ("s", s("abcdef")),
        ("bin", b(&[1, 2, 3])),
        ("tags", ss(&["a", "b"])),
        ("nums", ns(&["1", "2"])),
        ("bins", bs(&[&[1], &[2]])),
        ("lst", l(vec![s("abc"), n("1"), m(&[("k", s("v"))])])),
        ("mp", m(&[("x", n("1")), ("y", n("2"))])),
        ("num", n("7")),
        ("uni", s("é𝄞")),
    ]);
    assert!(check("attribute_exists(s) AND attribute_not_exists(nope) AND attribute_exists(mp.x)", &it));
    assert!(check("attribute_exists(lst[2].k) AND attribute_not_exists(lst[3])", &it));
    assert!(check("attribute_type(s, :t) OR attribute_type(num, :t)", &it));
    assert!(check("attribute_type(lst, :tl) AND NOT attribute_type(mp, :tl)", &it));
    assert!(!check("attribute_type(nope, :t)", &it));
    assert!(check("begins_with(s, :s) AND begins_with(s, :a) AND begins_with(s, :empty)", &it));
    assert!(!check("begins_with(s, :z)", &it));
    assert!(check("begins_with(bin, :b) AND NOT begins_with(s, :b)", &it));
    assert!(check("contains(s, :s) AND contains(tags, :a) AND NOT contains(tags, :z)", &it));
    assert!(check("contains(nums, :n1) AND NOT contains(nums, :s) AND contains(bins, :b1)", &it));
    assert!(check("contains(lst, :s) AND contains(lst, :n1) AND contains(lst, :m) AND NOT contains(lst, :a)", &it));
    assert!(check("contains(bin, :b) AND NOT contains(num, :n1)", &it));
    assert!(check("size(s) = :n5 OR size(s) > :n5", &it));
    assert!(check("size(tags) = :n2 AND size(mp) = :n2 AND size(lst) > :n2 AND size(bin) > :n2", &it));
    assert!(!check("size(num) = :n1", &it) && !check("size(nope) = :n0", &it));
    // size counts UTF-16 code units, as DynamoDB does: "é𝄞" is 3.
    let three = stator_expr::size_of(&s("é𝄞"));
    assert_eq!(three, Some(3));
    assert!(check("size(uni) > :n2 AND size(uni) < :n5", &it));
}

#[test]
fn logic() {
    let it = item(&[("a", n("1"))]);
    assert!(check("a = :n1 OR a = :n2", &it));
    assert!(!check("a = :n1 AND a = :n2", &it));
    assert!(check("NOT a = :n2", &it));
    assert!(check("NOT NOT a = :n1", &it));
    assert!(check("a = :n2 OR a = :n2 OR NOT (a = :n2 AND a = :n1)", &it));
    assert!(check("attribute_not_exists(a) OR a = :n1", &it));
    assert!(check("attribute_not_exists(a)", &Item::new()), "a missing item is the empty map");
}

#[test]
fn display_reparses() {
    for src in [
        "a = :n1",
        "a.b[1].c <> :s",
        "NOT (a = :n1 OR b < :n2) AND c BETWEEN :n1 AND :n2",
        "a = :n1 AND (b = :n1 AND c = :n1)",
        "(a = :n1 OR b = :n1) AND c IN (:n1, :n2, d)",
        "attribute_type(a, :t) OR begins_with(a, :s) OR contains(a, :s) OR size(a) >= :n1",
        "NOT NOT attribute_exists(x[0][1])",
    ] {
        let c = cond(src).unwrap();
        let printed = c.to_string();
        assert_eq!(cond(&printed).unwrap(), c, "{src} -> {printed}");
    }
}
