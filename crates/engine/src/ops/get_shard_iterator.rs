//! GetShardIterator (DynamoDB Streams API): a position in one shard — its oldest
//! untrimmed record (TRIM_HORIZON), just after its newest (LATEST), at or after a
//! sequence number — valid for 15 minutes.

use serde_json::{json, Value};
use stator_protocol::{Constraints, DynamoError, Obj};

use super::describe_stream::find_stream;
use crate::streams::iterator::ShardIterator;
use crate::streams::parse_seq;
use crate::{Engine, RequestContext};

const TYPES: &[&str] = &["TRIM_HORIZON", "LATEST", "AT_SEQUENCE_NUMBER", "AFTER_SEQUENCE_NUMBER"];

/// The TrimmedDataAccessException.
pub(crate) fn trimmed() -> DynamoError {
    DynamoError::TrimmedDataAccess("The data you are trying to access has been trimmed".into())
}

pub fn execute(engine: &Engine, ctx: &RequestContext, req: Obj) -> Result<Value, DynamoError> {
    let mut c = Constraints::new();
    let arn = req.str("StreamArn")?;
    c.require(&arn, "streamArn");
    c.length(arn, "streamArn", 37, 1024);
    let shard_id = req.str("ShardId")?;
    c.require(&shard_id, "shardId");
    c.length(shard_id, "shardId", 28, 65);
    let ty = req.str("ShardIteratorType")?;
    c.require(&ty, "shardIteratorType");
    c.one_of(ty, "shardIteratorType", TYPES);
    let seq = req.str("SequenceNumber")?;
    c.length(seq, "sequenceNumber", 21, 40);
    c.finish()?;
    let (arn, shard_id, ty) = (arn.unwrap_or_default(), shard_id.unwrap_or_default(), ty.unwrap_or_default());
    let stream = find_stream(engine, ctx, arn)?;
    let (meta, watermark) = stream.view();
    let shard = meta
        .shard(shard_id)
        .ok_or_else(|| DynamoError::ResourceNotFound("Requested resource not found: Shard does not exist".into()))?;
    let at = |after: bool| -> Result<u64, DynamoError> {
        let Some(text) = seq else {
            return Err(DynamoError::validation(format!("SequenceNumber is required when ShardIteratorType is {ty}")));
        };
        let n = parse_seq(text).ok_or_else(|| DynamoError::validation(format!("Invalid SequenceNumber: {text}")))?;
        if n < shard.start || shard.end.is_some_and(|e| n > e) {
            return Err(DynamoError::validation(format!("Invalid SequenceNumber {text} for shard {}", shard.id)));
        }
        if n < meta.trimmed_below {
            return Err(trimmed());
        }
        if after {
            n.checked_add(1).ok_or_else(|| DynamoError::validation(format!("Invalid SequenceNumber: {text}")))
        } else {
            Ok(n)
        }
    };
    let position = match ty {
        "TRIM_HORIZON" => shard.start.max(meta.trimmed_below),
        "LATEST" => match shard.end {
            Some(e) => e + 1,
            None => watermark.max(shard.start),
        },
        "AT_SEQUENCE_NUMBER" => at(false)?,
        _ => at(true)?,
    };
    let it = ShardIterator {
        arn: meta.arn(),
        stream: meta.id,
        shard: shard.number,
        position,
        created_ms: engine.clock().now_ms(),
    };
    Ok(json!({ "ShardIterator": it.encode() }))
}
