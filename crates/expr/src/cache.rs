//! The syntax trees of recently parsed expression texts, kept per thread.
//!
//! Clients send the same few expressions over and over (an application has a fixed
//! set of them, with the values in `ExpressionAttributeValues`), so the text → tree
//! step is done once per text and thread. Only the tree and its placeholder
//! references are kept: names and values are resolved for every request, and a text
//! whose parse fails (or defers an error) is parsed again each time, so that every
//! answer is exactly what parsing it would give.
//!
//! Bounded: texts up to [`MAX_TEXT`] bytes, at most [`MAX_ENTRIES`] per kind and
//! thread; a full table is emptied and refilled by what is used next.

use std::cell::RefCell;
use std::collections::HashMap;
use std::rc::Rc;

use crate::error::{ExprError, ExprKind};
use crate::syntax::{self, Parsed, RawAction, RawCond};

/// Longest text kept.
pub(crate) const MAX_TEXT: usize = 1024;
/// Entries per kind and thread.
pub(crate) const MAX_ENTRIES: usize = 256;

type Table<T> = RefCell<HashMap<String, Rc<Parsed<T>>>>;

thread_local! {
    /// Condition, filter and key-condition texts (one table each).
    static CONDITIONS: [Table<RawCond>; 3] = Default::default();
    static UPDATES: Table<Vec<RawAction>> = Default::default();
}

fn cached<T>(
    table: &Table<T>,
    src: &str,
    parse: impl FnOnce(&str) -> Result<Parsed<T>, ExprError>,
) -> Result<Rc<Parsed<T>>, ExprError> {
    if let Some(hit) = table.borrow().get(src) {
        return Ok(hit.clone());
    }
    let parsed = Rc::new(parse(src)?);
    if parsed.deferred.is_none() && src.len() <= MAX_TEXT {
        let mut t = table.borrow_mut();
        if t.len() >= MAX_ENTRIES {
            t.clear();
        }
        t.insert(src.to_string(), parsed.clone());
    }
    Ok(parsed)
}

/// [`syntax::parse_condition`], through the cache.
pub(crate) fn condition(src: &str, kind: ExprKind) -> Result<Rc<Parsed<RawCond>>, ExprError> {
    let slot = match kind {
        ExprKind::Condition => 0,
        ExprKind::Filter => 1,
        ExprKind::KeyCondition => 2,
        ExprKind::Update | ExprKind::Projection => return syntax::parse_condition(src, kind).map(Rc::new),
    };
    CONDITIONS.with(|tables| cached(&tables[slot], src, |s| syntax::parse_condition(s, kind)))
}

/// [`syntax::parse_update`], through the cache.
pub(crate) fn update(src: &str) -> Result<Rc<Parsed<Vec<RawAction>>>, ExprError> {
    UPDATES.with(|table| cached(table, src, syntax::parse_update))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_text_is_parsed_once_per_thread_and_the_tables_stay_bounded() {
        let a = update("SET a = :v").unwrap();
        let b = update("SET a = :v").unwrap();
        assert!(Rc::ptr_eq(&a, &b), "the second parse is the cached tree");
        // The same text is a different entry for another kind.
        let c = condition("a = :v", ExprKind::Condition).unwrap();
        let f = condition("a = :v", ExprKind::Filter).unwrap();
        assert!(!Rc::ptr_eq(&c, &f));
        // Errors are not kept: the parse runs (and fails) again.
        assert!(update("SET").is_err());
        assert!(UPDATES.with(|t| !t.borrow().contains_key("SET")));
        for i in 0..(2 * MAX_ENTRIES) {
            update(&format!("SET a{i} = :v")).unwrap();
            assert!(UPDATES.with(|t| t.borrow().len()) <= MAX_ENTRIES);
        }
        let long = format!("SET {} = :v", "a".repeat(MAX_TEXT));
        update(&long).unwrap();
        assert!(UPDATES.with(|t| !t.borrow().contains_key(&long)));
    }
}
