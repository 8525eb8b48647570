//! GetRecords (DynamoDB Streams API): the records of one shard from an iterator's
//! position, up to Limit records or 1 MB, and the iterator to continue with — none
//! once a closed shard has been read to its end.

use serde_json::{json, Value};
use stator_protocol::{Constraints, DynamoError, Obj};
use stator_storage::Direction;

use super::describe_stream::stream_not_found;
use super::get_shard_iterator::trimmed;
use crate::streams::iterator::ShardIterator;
use crate::streams::record::Record;
use crate::streams::{event_id, seq_to_string, ITERATOR_LIFETIME_MS};
use crate::{layout, Engine, RequestContext};

/// Most records per call.
const MAX_LIMIT: i64 = 1000;
/// Most record bytes per call.
const MAX_BYTES: usize = 1024 * 1024;

pub fn execute(engine: &Engine, ctx: &RequestContext, req: Obj) -> Result<Value, DynamoError> {
    let mut c = Constraints::new();
    let token = req.str("ShardIterator")?;
    c.require(&token, "shardIterator");
    c.length(token, "shardIterator", 1, 2048);
    let limit = req.i64("Limit")?;
    c.at_least(limit, "limit", 1);
    c.at_most(limit, "limit", MAX_LIMIT);
    c.finish()?;
    let token = token.unwrap_or_default();
    let it = ShardIterator::decode(token).ok_or_else(|| DynamoError::validation("Invalid ShardIterator"))?;
    let now = engine.clock().now_ms();
    if now.saturating_sub(it.created_ms) > ITERATOR_LIFETIME_MS {
        return Err(DynamoError::ExpiredIterator("The provided iterator exceeds the maximum age allowed.".into()));
    }
    let stream = engine.streams().get(it.stream).ok_or_else(|| stream_not_found(&it.arn))?;
    // The watermark before the snapshot: every record below it is in the snapshot
    // or was never committed.
    let (meta, watermark) = stream.view();
    if meta.arn() != it.arn || meta.account != ctx.account {
        return Err(stream_not_found(&it.arn));
    }
    let shard = meta.shard_by_number(it.shard).ok_or_else(trimmed)?;
    if it.position < meta.trimmed_below {
        return Err(trimmed());
    }
    let limit = limit.unwrap_or(MAX_LIMIT) as usize;
    let readable_to = shard.end.unwrap_or(u64::MAX).min(watermark.saturating_sub(1));
    let view = meta.view();
    let mut records = Vec::new();
    let mut next = it.position;
    if watermark > 0 && it.position <= readable_to {
        let snap = engine.store().snapshot();
        let range = layout::stream_records_range(meta.id, it.position, readable_to);
        let mut bytes = 0usize;
        let mut exhausted = true;
        for kv in snap.scan(range, Direction::Forward) {
            let (k, v) = kv.map_err(crate::internal)?;
            let seq = layout::stream_record_seq(&k).ok_or_else(|| crate::internal("bad stream record key"))?;
            let r = Record::decode(&v).map_err(DynamoError::Internal)?;
            let size = r.size_bytes();
            if records.len() >= limit || (!records.is_empty() && bytes + size > MAX_BYTES) {
                exhausted = false;
                break;
            }
            bytes += size;
            records.push(r.to_json(&event_id(meta.id, seq), &seq_to_string(seq), view, &meta.region));
            next = seq + 1;
        }
        if exhausted {
            next = readable_to + 1;
        }
    }
    let mut out = json!({ "Records": records });
    // A closed shard read past its end (with nothing below it still in flight) is done.
    let done = shard.end.is_some_and(|e| next > e);
    if !done {
        let it = ShardIterator { position: next, created_ms: now, ..it };
        out["NextShardIterator"] = json!(it.encode());
    }
    Ok(out)
}
