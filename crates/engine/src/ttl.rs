//! Time to Live: the sweep that deletes expired items.
//!
//! An item is expired when its TTL attribute is a top-level Number of epoch seconds
//! that is in the past, but not five or more years in the past (DynamoDB ignores
//! those, as it ignores any other type). Expired items stay readable until the sweep
//! deletes them. A deletion is an ordinary item delete — indexes, item collection,
//! counters — made by the service: its stream record carries the service identity.
//!
//! The sweep walks each TTL-enabled table with a cursor, examining at most
//! [`SCAN_BUDGET`] items and deleting at most [`DELETE_BUDGET`] per table per pass,
//! so one pass is bounded in cost however large the table; a table is covered once
//! every `items / SCAN_BUDGET` passes.

use std::collections::HashMap;
use std::ops::Bound;

use parking_lot::Mutex;
use stator_protocol::DynamoError;
use stator_storage::{Direction, KeyRange};
use stator_types::{AttributeValue, Item};

use crate::catalog::TableMeta;
use crate::ops::item_write;
use crate::{layout, Engine, Outcome};

/// Items examined per table per pass.
pub const SCAN_BUDGET: usize = 10_000;
/// Items deleted per table per pass.
pub const DELETE_BUDGET: usize = 1_000;
/// TTL values this far in the past are ignored, as DynamoDB ignores them.
const MAX_AGE_SECS: f64 = 5.0 * 365.0 * 86_400.0;

/// Whether `item` has expired at `now_ms` under TTL attribute `attribute`.
pub fn is_expired(item: &Item, attribute: &str, now_ms: u64) -> bool {
    let Some(AttributeValue::N(n)) = item.get(attribute) else { return false };
    let expiry = n.to_f64();
    let now = now_ms as f64 / 1000.0;
    expiry.is_finite() && expiry < now && now - expiry < MAX_AGE_SECS
}

/// The sweep's cursors: where each table's walk resumes.
#[derive(Default)]
pub struct Sweeper {
    cursors: Mutex<HashMap<u64, Vec<u8>>>,
    /// Held for a whole housekeeping pass: passes never interleave.
    pub(crate) pass: Mutex<()>,
}

impl Sweeper {
    /// Restarts every table's walk from its beginning.
    pub(crate) fn restart(&self) {
        self.cursors.lock().clear();
    }
}

/// What one pass did.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct SweepReport {
    /// Items examined.
    pub examined: usize,
    /// Items deleted.
    pub deleted: usize,
    /// Whether every TTL-enabled table's walk reached its end in this pass.
    pub complete: bool,
}

impl Engine {
    /// One TTL pass over every TTL-enabled table. A table whose sweep fails does not
    /// stop the others: the first error is returned after every table had its turn.
    pub fn sweep_ttl(&self) -> Result<SweepReport, DynamoError> {
        let mut report = SweepReport { complete: true, ..SweepReport::default() };
        let mut first_error = None;
        let now = self.clock().now_ms();
        for meta in self.catalog.all() {
            let Some(attr) = meta.ttl.as_ref().filter(|t| t.enabled).map(|t| t.attribute.clone()) else {
                self.ttl.cursors.lock().remove(&meta.number);
                continue;
            };
            if let Err(e) = self.sweep_table(&meta, &attr, now, &mut report) {
                tracing::warn!(table = %meta.name, error = %e, "TTL sweep of a table failed; the next pass retries");
                first_error.get_or_insert(e);
            }
        }
        match first_error {
            Some(e) => Err(e),
            None => Ok(report),
        }
    }

    fn sweep_table(&self, meta: &TableMeta, attr: &str, now: u64, report: &mut SweepReport) -> Result<(), DynamoError> {
        let (examined, expired, finished) = self.ttl_candidates(meta, attr, now)?;
        report.examined += examined;
        report.complete &= finished;
        let mut last = None;
        for key in expired {
            match self.ttl_delete(meta, &key, attr, now) {
                Ok((true, commit)) => {
                    report.deleted += 1;
                    last = commit.or(last);
                }
                Ok((false, _)) => {}
                // Held by a transaction, or the schema changed: a later pass retries.
                Err(DynamoError::TransactionConflict(_)) => {}
                Err(DynamoError::Internal(m)) if m == crate::STALE_SCHEMA => {}
                Err(DynamoError::ResourceNotFound(_)) => break,
                Err(e) => return Err(e),
            }
        }
        if let Some(c) = last {
            c.wait_durable().map_err(crate::internal)?;
        }
        Ok(())
    }

    /// Walks the next slice of a table: (items examined, keys of expired items,
    /// whether the walk reached the end of the table).
    fn ttl_candidates(
        &self,
        meta: &TableMeta,
        attr: &str,
        now: u64,
    ) -> Result<(usize, Vec<Vec<u8>>, bool), DynamoError> {
        let prefix = layout::items_prefix(meta.number);
        let start = match self.ttl.cursors.lock().get(&meta.number) {
            Some(c) => Bound::Excluded(c.clone()),
            None => Bound::Included(prefix.clone()),
        };
        let range = KeyRange { start, end: stator_storage::prefix_end(&prefix) };
        let snap = self.store().snapshot();
        let (mut examined, mut expired, mut last) = (0usize, Vec::new(), None);
        for kv in snap.scan(range, Direction::Forward) {
            let (k, v) = kv.map_err(crate::internal)?;
            examined += 1;
            let item = stator_types::itemcodec::decode_item(&v).map_err(crate::internal)?;
            if is_expired(&item, attr, now) {
                expired.push(k.clone());
            }
            last = Some(k);
            if examined >= SCAN_BUDGET || expired.len() >= DELETE_BUDGET {
                break;
            }
        }
        let finished = examined < SCAN_BUDGET && expired.len() < DELETE_BUDGET;
        let mut cursors = self.ttl.cursors.lock();
        match (finished, last) {
            (false, Some(k)) => {
                cursors.insert(meta.number, k);
            }
            _ => {
                cursors.remove(&meta.number);
            }
        }
        Ok((examined, expired, finished))
    }

    /// Deletes one item if it is still expired: (deleted, commit to wait on).
    fn ttl_delete(
        &self,
        meta: &TableMeta,
        key: &[u8],
        attr: &str,
        now: u64,
    ) -> Result<(bool, Option<stator_storage::Commit>), DynamoError> {
        let ((deleted, _), commit) = self.write_item_stored(meta, key, |txn| {
            item_write::ensure_live(txn, meta)?;
            let old = item_write::load(txn, key)?;
            // Re-checked under the item's lock: an update may have moved the expiry.
            if !old.as_ref().is_some_and(|o| is_expired(o, attr, now)) {
                return Ok(Outcome::ReadOnly((false, item_write::Stored::none())));
            }
            let limits = crate::WriteLimits { service: true, ..self.write_limits() };
            let stored = item_write::store(txn, meta, key, old.as_ref(), None, &limits)?;
            Ok(Outcome::Write((true, stored)))
        })?;
        Ok((deleted, commit))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use stator_types::number::Number;

    fn with(attr: AttributeValue) -> Item {
        [("exp".to_string(), attr)].into_iter().collect()
    }

    fn n(s: &str) -> AttributeValue {
        AttributeValue::N(Number::parse(s).unwrap())
    }

    #[test]
    fn expiry_rules() {
        let now_ms = 1_800_000_000_000;
        assert!(is_expired(&with(n("1799999999")), "exp", now_ms));
        assert!(is_expired(&with(n("1799999999.5")), "exp", now_ms));
        assert!(!is_expired(&with(n("1800000000")), "exp", now_ms), "not before the second has passed");
        assert!(!is_expired(&with(n("1800000001")), "exp", now_ms));
        // Five years or more in the past: ignored.
        assert!(!is_expired(&with(n("1600000000")), "exp", now_ms));
        assert!(!is_expired(&with(AttributeValue::S("1".into())), "exp", now_ms));
        assert!(!is_expired(&with(n("1")), "other", now_ms));
    }
}
