//! Every expression parser never panics, whatever the text; a parsed condition or
//! update evaluates or applies without panicking on a sample item.
#![no_main]
use std::collections::HashMap;

use libfuzzer_sys::fuzz_target;
use stator_expr::{parse_condition, parse_projection, parse_update, ExprKind, Resolver};
use stator_types::{AttributeValue, Item, Number};

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else { return };
    let names: HashMap<String, String> = [("#a", "a"), ("#b", "b")].iter().map(|(k, v)| (k.to_string(), v.to_string())).collect();
    let values: HashMap<String, AttributeValue> = [
        (":n", AttributeValue::N(Number::from_i64(1))),
        (":s", AttributeValue::S("x".into())),
        (":l", AttributeValue::L(vec![AttributeValue::Null])),
        (":ss", AttributeValue::SS(vec!["x".into()])),
    ]
    .into_iter()
    .map(|(k, v)| (k.to_string(), v))
    .collect();
    let mut item = Item::new();
    item.insert("a".into(), AttributeValue::N(Number::from_i64(5)));
    item.insert("b".into(), AttributeValue::L(vec![AttributeValue::S("y".into())]));
    item.insert("m".into(), AttributeValue::M(item.clone()));
    let mut r = Resolver::new(Some(&names), Some(&values));
    if let Ok(c) = parse_condition(text, ExprKind::Condition, &mut r) {
        let _ = c.eval(&item);
    }
    let mut r = Resolver::new(Some(&names), Some(&values));
    if let Ok(u) = parse_update(text, &mut r) {
        let mut copy = item.clone();
        let _ = u.apply(&mut copy);
    }
    let mut r = Resolver::new(Some(&names), Some(&values));
    if let Ok(p) = parse_projection(text, &mut r) {
        let _ = stator_expr::project(&item, &p);
    }
});
