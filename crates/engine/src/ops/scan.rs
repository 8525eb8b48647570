//! Scan: every item of the table (or of one parallel-scan segment), in partition-hash
//! order, filtered, projected and paged. Segments are equal, contiguous slices of the
//! hash space, so together they cover the table exactly once, stable across pages.

use stator_expr::ExprKind;
use stator_protocol::{Constraints, DynamoError, Obj};
use stator_storage::{Direction, KeyRange};

use super::read_page::{self, PageSpec};
use crate::request::{self, expr_err};
use crate::{layout, Engine, RequestContext};

/// Most segments a parallel scan may have.
pub const MAX_SEGMENTS: i64 = 1_000_000;

pub fn execute(engine: &Engine, ctx: &RequestContext, req: Obj) -> Result<crate::Reply, DynamoError> {
    let mut c = Constraints::new();
    let read_page::ReadCommon { table, index, limit, select, capacity: cap, consistent } =
        read_page::read_common(req, &mut c)?;
    let segment = req.i64("Segment")?;
    c.at_least(segment, "segment", 0);
    c.at_most(segment, "segment", MAX_SEGMENTS - 1);
    let total = req.i64("TotalSegments")?;
    c.at_least(total, "totalSegments", 1);
    c.at_most(total, "totalSegments", MAX_SEGMENTS);
    let filter_text = req.str("FilterExpression")?;
    let projection_text = req.str("ProjectionExpression")?;
    let to_get = req.list_of_str("AttributesToGet")?;
    c.finish()?;
    let esk = req.item("ExclusiveStartKey")?;
    crate::legacy::refuse_mixing(
        req,
        &["AttributesToGet", "ScanFilter", "ConditionalOperator"],
        &["ProjectionExpression", "FilterExpression"],
    )?;
    let segment = match (segment, total) {
        (Some(_), None) => {
            return Err(DynamoError::validation(
                "The TotalSegments parameter is required but was not present in the request when Segment parameter is present",
            ))
        }
        (None, Some(_)) => {
            return Err(DynamoError::validation(
                "The Segment parameter is required but was not present in the request when parameter TotalSegments is present",
            ))
        }
        (Some(s), Some(t)) if s >= t => {
            return Err(DynamoError::validation(format!(
                "The Segment parameter is zero-based and must be less than parameter TotalSegments: Segment: {s} is not less than TotalSegments: {t}"
            )))
        }
        (Some(s), Some(t)) => Some((s as u64, t as u64)),
        (None, None) => None,
    };
    let params = request::expr_params(req, filter_text.is_some() || projection_text.is_some())?;
    let mut resolver = params.resolver()?;
    let filter = match filter_text {
        Some(t) => Some(stator_expr::parse_condition(t, ExprKind::Filter, &mut resolver).map_err(expr_err)?),
        None => None,
    };
    let projection = match projection_text {
        Some(t) => Some(stator_expr::parse_projection(t, &mut resolver).map_err(expr_err)?),
        None => None,
    };
    resolver.check_all_used().map_err(expr_err)?;
    let filter = read_page::filter_or_legacy(req, filter, stator_expr::LegacyKind::ScanFilter, "ScanFilter")?;
    let shape =
        read_page::shape(select, projection, to_get.map(|v| v.into_iter().map(str::to_string).collect()), index)?;

    let table = table.ok_or_else(|| DynamoError::Internal("required member checked above".into()))?;
    let meta = engine.table(ctx, &table)?;
    let idx = read_page::resolve_index(&meta, index, consistent, select)?;
    let start_after = read_page::start_key(&meta, idx, esk)?;
    let prefix = match idx {
        Some(i) => layout::index_prefix(i.number),
        None => layout::items_prefix(meta.number),
    };
    let range = match segment {
        Some((s, t)) => {
            if let Some(h) = start_after.as_deref().and_then(layout::hash_of_item_key) {
                if layout::segment_of(h, t) != s {
                    return Err(DynamoError::validation(
                        "The provided starting key is invalid: The provided key does not belong to the requested segment",
                    ));
                }
            }
            layout::segment_range_in(&prefix, s, t)
        }
        None => KeyRange::prefix(&prefix),
    };
    let fetch_from_table = read_page::fetch_from_table(idx, select);
    let snap = engine.store().snapshot();
    let page = read_page::read_page(
        snap.as_ref(),
        PageSpec {
            meta: &meta,
            key_names: read_page::key_names(&meta, idx),
            fetch_from_table,
            range,
            direction: Direction::Forward,
            start_after,
            limit,
            filter: filter.as_ref(),
            shape: &shape,
        },
    )?;
    read_page::response(&meta, idx, page, &shape, consistent, cap)
}
