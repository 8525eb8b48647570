//! Applying a projection: keeps only the selected document paths of an item, with
//! their structure. Elements picked from a list are compacted, in the order of the
//! original list (`a[2], a[0]` gives `a: [a0, a2]`); a path that selects nothing
//! (missing, or running through a value of the wrong type) adds nothing, and a map
//! or list left with nothing selected is dropped. Overlapping paths (which parsing
//! refuses, but a caller may combine several lists) are merged: a whole value wins
//! over parts of it; of two paths that disagree on a step's kind, the first wins.

use std::collections::BTreeMap;

use stator_types::{AttributeValue, Item};

use crate::ast::{Path, PathElem};

/// What is selected of one value.
#[derive(Debug)]
enum Sel {
    /// Not decided yet (a fresh node).
    Empty,
    /// The whole value.
    All,
    /// Some keys of a map.
    Map(BTreeMap<String, Sel>),
    /// Some elements of a list.
    List(BTreeMap<usize, Sel>),
}

fn child<'s>(node: &'s mut Sel, e: &PathElem) -> Option<&'s mut Sel> {
    if let Sel::Empty = node {
        *node = match e {
            PathElem::Attr(_) => Sel::Map(BTreeMap::new()),
            PathElem::Index(_) => Sel::List(BTreeMap::new()),
        };
    }
    match (node, e) {
        (Sel::Map(m), PathElem::Attr(a)) => Some(m.entry(a.clone()).or_insert(Sel::Empty)),
        (Sel::List(l), PathElem::Index(i)) => Some(l.entry(*i).or_insert(Sel::Empty)),
        _ => None,
    }
}

fn insert(node: &mut Sel, rest: &[PathElem]) {
    match rest.split_first() {
        None => *node = Sel::All,
        Some((e, tail)) => {
            if let Some(c) = child(node, e) {
                insert(c, tail);
            }
        }
    }
}

fn select(v: &AttributeValue, sel: &Sel) -> Option<AttributeValue> {
    match (sel, v) {
        (Sel::All, v) => Some(v.clone()),
        (Sel::Map(keys), AttributeValue::M(m)) => {
            let out: Item =
                keys.iter().filter_map(|(k, s)| m.get(k).and_then(|x| select(x, s)).map(|x| (k.clone(), x))).collect();
            (!out.is_empty()).then_some(AttributeValue::M(out))
        }
        (Sel::List(idx), AttributeValue::L(l)) => {
            let out: Vec<AttributeValue> =
                idx.iter().filter_map(|(i, s)| l.get(*i).and_then(|x| select(x, s))).collect();
            (!out.is_empty()).then_some(AttributeValue::L(out))
        }
        _ => None,
    }
}

/// Keeps only the given paths (nested map keys and list indexes), as
/// ProjectionExpression does.
pub fn project(item: &Item, paths: &[Path]) -> Item {
    let mut root: BTreeMap<&str, Sel> = BTreeMap::new();
    for p in paths {
        let Some((PathElem::Attr(top), rest)) = p.0.split_first() else {
            continue;
        };
        insert(root.entry(top.as_str()).or_insert(Sel::Empty), rest);
    }
    root.into_iter().filter_map(|(k, s)| item.get(k).and_then(|v| select(v, &s)).map(|v| (k.to_string(), v))).collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use stator_types::Number;

    fn n(i: i64) -> AttributeValue {
        AttributeValue::N(Number::from_i64(i))
    }

    fn path(s: &[&str]) -> Path {
        Path(
            s.iter()
                .map(|e| match e.parse::<usize>() {
                    Ok(i) => PathElem::Index(i),
                    Err(_) => PathElem::Attr((*e).to_string()),
                })
                .collect(),
        )
    }

    #[test]
    fn keeps_structure_and_compacts_lists() {
        let mut m = Item::new();
        m.insert("x".into(), n(1));
        m.insert("y".into(), n(2));
        let mut item = Item::new();
        item.insert("l".into(), AttributeValue::L(vec![n(10), n(11), n(12), AttributeValue::M(m.clone())]));
        item.insert("m".into(), AttributeValue::M(m));
        item.insert("s".into(), AttributeValue::S("s".into()));
        let out = project(
            &item,
            &[
                path(&["l", "2"]),
                path(&["l", "0"]),
                path(&["l", "3", "y"]),
                path(&["m", "x"]),
                path(&["m", "z"]),
                path(&["q"]),
            ],
        );
        let mut y = Item::new();
        y.insert("y".into(), n(2));
        let mut x = Item::new();
        x.insert("x".into(), n(1));
        assert_eq!(out.get("l"), Some(&AttributeValue::L(vec![n(10), n(12), AttributeValue::M(y)])));
        assert_eq!(out.get("m"), Some(&AttributeValue::M(x)));
        assert_eq!(out.len(), 2);
    }

    #[test]
    fn nothing_selected_drops_parent_and_whole_wins() {
        let mut item = Item::new();
        item.insert("s".into(), AttributeValue::S("v".into()));
        item.insert("l".into(), AttributeValue::L(vec![n(1)]));
        assert!(project(&item, &[path(&["s", "a"]), path(&["l", "5"])]).is_empty());
        let out = project(&item, &[path(&["l", "0"]), path(&["l"]), path(&["s"]), path(&["s"])]);
        assert_eq!(out, item);
    }
}
