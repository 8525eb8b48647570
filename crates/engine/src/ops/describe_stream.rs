//! DescribeStream (DynamoDB Streams API): a stream's status, view type, key schema
//! and shards with their sequence-number ranges and lineage, paged by
//! ExclusiveStartShardId, optionally only the children of one shard (ShardFilter).

use serde_json::{json, Value};
use stator_protocol::{Constraints, DynamoError, Obj};

use crate::streams::{seq_to_string, Stream, StreamMeta};
use crate::{Engine, RequestContext};

/// Most shards per page (the documented upper limit of Limit).
const MAX_LIMIT: i64 = 100;

/// The stream a request names, if it exists in the caller's account and region.
pub(crate) fn find_stream(
    engine: &Engine,
    ctx: &RequestContext,
    arn: &str,
) -> Result<std::sync::Arc<Stream>, DynamoError> {
    engine
        .streams()
        .by_arn(arn)
        .filter(|s| {
            let (m, _) = s.view();
            m.account == ctx.account && m.region == ctx.region
        })
        .ok_or_else(|| stream_not_found(arn))
}

/// The ResourceNotFoundException of an unknown stream.
pub(crate) fn stream_not_found(arn: &str) -> DynamoError {
    DynamoError::ResourceNotFound(format!("Requested resource not found: Stream: {arn} not found"))
}

/// A shard's wire shape.
fn shard_json(s: &crate::streams::ShardMeta) -> Value {
    let mut range = json!({ "StartingSequenceNumber": seq_to_string(s.start) });
    if let Some(end) = s.end {
        range["EndingSequenceNumber"] = json!(seq_to_string(end));
    }
    let mut out = json!({ "ShardId": s.id, "SequenceNumberRange": range });
    if let Some(p) = &s.parent {
        out["ParentShardId"] = json!(p);
    }
    out
}

fn status(m: &StreamMeta) -> &'static str {
    if m.disabled_ms.is_some() {
        "DISABLED"
    } else {
        "ENABLED"
    }
}

pub fn execute(engine: &Engine, ctx: &RequestContext, req: Obj) -> Result<Value, DynamoError> {
    let mut c = Constraints::new();
    let arn = req.str("StreamArn")?;
    c.require(&arn, "streamArn");
    c.length(arn, "streamArn", 37, 1024);
    let limit = req.i64("Limit")?;
    c.at_least(limit, "limit", 1);
    let start = req.str("ExclusiveStartShardId")?;
    c.length(start, "exclusiveStartShardId", 28, 65);
    let filter = req.obj("ShardFilter")?;
    let mut parent = None;
    if let Some(f) = filter {
        let ty = f.str("Type")?;
        c.one_of(ty, "shardFilter.type", &["CHILD_SHARDS"]);
        let id = f.str("ShardId")?;
        c.length(id, "shardFilter.shardId", 28, 65);
        parent = id;
    }
    c.finish()?;
    let arn = arn.unwrap_or_default();
    let (meta, _) = find_stream(engine, ctx, arn)?.view();
    let limit = limit.unwrap_or(MAX_LIMIT).min(MAX_LIMIT) as usize;
    let shards: Vec<_> = meta
        .shards
        .iter()
        .filter(|s| filter.is_none() || (parent.is_some() && s.parent.as_deref() == parent))
        .collect();
    let from = match start {
        Some(id) => shards.iter().position(|s| s.id == id).map_or(0, |i| i + 1),
        None => 0,
    };
    let page: Vec<_> = shards.iter().skip(from).take(limit).collect();
    let more = from + page.len() < shards.len();
    let key_schema: Vec<Value> =
        meta.key_schema.iter().map(|(n, t)| json!({"AttributeName": n, "KeyType": t})).collect();
    let mut d = json!({
        "CreationRequestDateTime": meta.created_ms as f64 / 1000.0,
        "KeySchema": key_schema,
        "Shards": page.iter().map(|s| shard_json(s)).collect::<Vec<_>>(),
        "StreamArn": meta.arn(),
        "StreamLabel": meta.label,
        "StreamStatus": status(&meta),
        "StreamViewType": meta.view_type,
        "TableName": meta.table_name,
    });
    if let (true, Some(last)) = (more, page.last()) {
        d["LastEvaluatedShardId"] = json!(last.id);
    }
    Ok(json!({ "StreamDescription": d }))
}
