//! The syntax trees of recently parsed expression texts, shared by all threads.
//!
//! Clients send the same few expressions over and over (an application has a fixed
//! set of them, with the values in `ExpressionAttributeValues`), so the text → tree
//! step is done once per text. Only the tree and its placeholder references are kept:
//! names and values are resolved for every request, and a text whose parse fails (or
//! defers an error) is parsed again each time, so that every answer is exactly what
//! parsing it would give.
//!
//! Bounded for the whole process: texts up to [`MAX_TEXT`] bytes, at most
//! [`MAX_ENTRIES`] per kind; a full table is emptied and refilled by what is used
//! next. One lock, held for a lookup or an insert (never while parsing).

use std::collections::HashMap;
use std::sync::{Arc, LazyLock, Mutex, MutexGuard};

use crate::error::{ExprError, ExprKind};
use crate::syntax::{self, Parsed, RawAction, RawCond};

/// Longest text kept.
pub(crate) const MAX_TEXT: usize = 1024;
/// Entries per kind.
pub(crate) const MAX_ENTRIES: usize = 256;

type Table<T> = HashMap<String, Arc<Parsed<T>>>;

#[derive(Default)]
struct Tables {
    /// Condition, filter and key-condition texts (one table each).
    conditions: [Table<RawCond>; 3],
    updates: Table<Vec<RawAction>>,
}

static TABLES: LazyLock<Mutex<Tables>> = LazyLock::new(Mutex::default);

fn tables() -> MutexGuard<'static, Tables> {
    // Entries are inserted whole: a panic elsewhere while the lock was held leaves
    // nothing half-made.
    TABLES.lock().unwrap_or_else(|poisoned| poisoned.into_inner())
}

fn cached<T>(
    src: &str,
    table: fn(&mut Tables) -> &mut Table<T>,
    parse: impl FnOnce(&str) -> Result<Parsed<T>, ExprError>,
) -> Result<Arc<Parsed<T>>, ExprError> {
    if let Some(hit) = table(&mut tables()).get(src) {
        return Ok(hit.clone());
    }
    let parsed = Arc::new(parse(src)?);
    if parsed.deferred.is_none() && src.len() <= MAX_TEXT {
        let mut guard = tables();
        let t = table(&mut guard);
        if t.len() >= MAX_ENTRIES {
            t.clear();
        }
        t.insert(src.to_string(), parsed.clone());
    }
    Ok(parsed)
}

/// [`syntax::parse_condition`], through the cache.
pub(crate) fn condition(src: &str, kind: ExprKind) -> Result<Arc<Parsed<RawCond>>, ExprError> {
    let table: fn(&mut Tables) -> &mut Table<RawCond> = match kind {
        ExprKind::Condition => |t| &mut t.conditions[0],
        ExprKind::Filter => |t| &mut t.conditions[1],
        ExprKind::KeyCondition => |t| &mut t.conditions[2],
        ExprKind::Update | ExprKind::Projection => return syntax::parse_condition(src, kind).map(Arc::new),
    };
    cached(src, table, |s| syntax::parse_condition(s, kind))
}

/// [`syntax::parse_update`], through the cache.
pub(crate) fn update(src: &str) -> Result<Arc<Parsed<Vec<RawAction>>>, ExprError> {
    cached(src, |t| &mut t.updates, syntax::parse_update)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_text_is_parsed_once_and_the_tables_stay_bounded() {
        let a = update("SET cache_test_a = :v").unwrap();
        let b = update("SET cache_test_a = :v").unwrap();
        assert!(Arc::ptr_eq(&a, &b), "the second parse is the cached tree");
        // The same text is a different entry for another kind.
        let c = condition("cache_test_a = :v", ExprKind::Condition).unwrap();
        let f = condition("cache_test_a = :v", ExprKind::Filter).unwrap();
        assert!(!Arc::ptr_eq(&c, &f));
        // Errors are not kept: the parse runs (and fails) again.
        assert!(update("SET").is_err());
        assert!(!tables().updates.contains_key("SET"));
        for i in 0..(2 * MAX_ENTRIES) {
            update(&format!("SET cache_test_{i} = :v")).unwrap();
            assert!(tables().updates.len() <= MAX_ENTRIES);
        }
        let long = format!("SET {} = :v", "a".repeat(MAX_TEXT));
        update(&long).unwrap();
        assert!(!tables().updates.contains_key(&long));
    }
}
