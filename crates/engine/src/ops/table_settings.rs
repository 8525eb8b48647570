//! Table settings that CreateTable and UpdateTable both take: billing mode and
//! provisioned throughput, streams, SSE, table class, tags.

use stator_protocol::{Constraints, DynamoError, Obj};

use crate::catalog::{SseSettings, StreamSettings};

/// ProvisionedThroughput as given.
#[derive(Debug, Clone, Copy)]
pub struct ThroughputInput {
    pub read: Option<i64>,
    pub write: Option<i64>,
}

/// Reads `ProvisionedThroughput` with Coral's constraints.
pub fn throughput(req: Obj, c: &mut Constraints) -> Result<Option<ThroughputInput>, DynamoError> {
    let Some(pt) = req.obj("ProvisionedThroughput")? else { return Ok(None) };
    let read = pt.i64("ReadCapacityUnits")?;
    let write = pt.i64("WriteCapacityUnits")?;
    c.require(&write, "provisionedThroughput.writeCapacityUnits");
    c.at_least(write, "provisionedThroughput.writeCapacityUnits", 1);
    c.require(&read, "provisionedThroughput.readCapacityUnits");
    c.at_least(read, "provisionedThroughput.readCapacityUnits", 1);
    Ok(Some(ThroughputInput { read, write }))
}

/// Reads `BillingMode`.
pub fn billing_mode<'a>(req: Obj<'a>, c: &mut Constraints) -> Result<Option<&'a str>, DynamoError> {
    let v = req.str("BillingMode")?;
    c.one_of(v, "billingMode", &["PROVISIONED", "PAY_PER_REQUEST"]);
    Ok(v)
}

/// Reads `TableClass`.
pub fn table_class<'a>(req: Obj<'a>, c: &mut Constraints) -> Result<Option<&'a str>, DynamoError> {
    let v = req.str("TableClass")?;
    c.one_of(v, "tableClass", &["STANDARD", "STANDARD_INFREQUENT_ACCESS"]);
    Ok(v)
}

/// StreamSpecification as given.
pub struct StreamInput {
    pub enabled: bool,
    pub view_type: Option<String>,
}

/// Reads and checks `StreamSpecification`.
pub fn stream(req: Obj, c: &mut Constraints) -> Result<Option<StreamInput>, DynamoError> {
    let Some(s) = req.obj("StreamSpecification")? else { return Ok(None) };
    let enabled = s.bool("StreamEnabled")?;
    c.require(&enabled, "streamSpecification.streamEnabled");
    let view = s.str("StreamViewType")?;
    c.one_of(
        view,
        "streamSpecification.streamViewType",
        &["OLD_IMAGE", "KEYS_ONLY", "NEW_AND_OLD_IMAGES", "NEW_IMAGE"],
    );
    Ok(Some(StreamInput { enabled: enabled.unwrap_or(false), view_type: view.map(str::to_string) }))
}

/// Semantic checks of a stream specification, after the Coral constraints passed
/// (CreateTable and UpdateTable word them differently).
pub fn check_stream(s: &StreamInput, creating: bool) -> Result<(), DynamoError> {
    let message = match (s.enabled, s.view_type.is_some(), creating) {
        (true, false, true) => "Table is being created with a stream enabled, UpdateViewType is required",
        (false, true, true) => "Table is being created with a stream disabled, UpdateViewType should not be specified",
        (true, false, false) => "If stream is being enabled then UpdateViewType is required",
        (false, true, false) => "If stream is being disabled, then UpdateViewType must not be specified",
        _ => return Ok(()),
    };
    Err(DynamoError::validation(format!("One or more parameter values were invalid: {message}")))
}

/// The settings of a table's new stream (its number is set when the catalog change
/// commits), or of a table created with a disabled stream.
pub fn new_stream(s: &StreamInput, label_ms: u64) -> StreamSettings {
    StreamSettings {
        enabled: s.enabled,
        view_type: s.view_type.clone(),
        label: s.enabled.then(|| stream_label(label_ms)),
        id: None,
    }
}

/// The time a new stream of a table is labelled with: now, or just after the table's
/// latest stream when that is as recent (labels must differ: they name the stream).
pub fn stream_label_ms(engine: &crate::Engine, account: &str, region: &str, table: &str) -> u64 {
    let latest = engine
        .streams()
        .list()
        .into_iter()
        .filter(|m| m.account == account && m.region == region && m.table_name == table)
        .map(|m| m.created_ms + 1)
        .max()
        .unwrap_or(0);
    engine.clock().now_ms().max(latest)
}

/// A stream label: the creation time, ISO-8601 with milliseconds, as DynamoDB's.
pub fn stream_label(ms: u64) -> String {
    let ms = ms as i64;
    let (secs, milli) = (ms.div_euclid(1000), ms.rem_euclid(1000));
    let days = secs.div_euclid(86_400);
    let rem = secs.rem_euclid(86_400);
    let (y, m, d) = civil_from_days(days);
    format!("{y:04}-{m:02}-{d:02}T{:02}:{:02}:{:02}.{milli:03}", rem / 3600, (rem % 3600) / 60, rem % 60)
}

/// Days since 1970-01-01 → (year, month, day), proleptic Gregorian.
fn civil_from_days(z: i64) -> (i64, i64, i64) {
    let z = z + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let y = yoe + era * 400;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = doy - (153 * mp + 2) / 5 + 1;
    let m = if mp < 10 { mp + 3 } else { mp - 9 };
    (if m <= 2 { y + 1 } else { y }, m, d)
}

/// Reads `SSESpecification`; returns the settings to store when SSE with a KMS key is on.
pub fn sse(
    req: Obj,
    c: &mut Constraints,
    account: &str,
    region: &str,
) -> Result<Option<Option<SseSettings>>, DynamoError> {
    let Some(s) = req.obj("SSESpecification")? else { return Ok(None) };
    let enabled = s.bool("Enabled")?;
    let ty = s.str("SSEType")?;
    c.one_of(ty, "sSESpecification.sSEType", &["AES256", "KMS"]);
    let key = s.str("KMSMasterKeyId")?;
    if enabled == Some(false) {
        if key.is_some() || ty.is_some() {
            return Err(DynamoError::validation(
                "One or more parameter values were invalid: SSEType is only allowed when SSE is enabled",
            ));
        }
        return Ok(Some(None));
    }
    if enabled != Some(true) && ty.is_none() && key.is_none() {
        return Ok(Some(None));
    }
    let key_arn = match key {
        Some(k) if k.starts_with("arn:") => k.to_string(),
        Some(k) => format!("arn:aws:kms:{region}:{account}:key/{k}"),
        None => format!("arn:aws:kms:{region}:{account}:key/{}", uuid::Uuid::new_v4()),
    };
    Ok(Some(Some(SseSettings { sse_type: "KMS".into(), kms_key_arn: key_arn })))
}

/// Reads `Tags` (CreateTable): keys 1–128 characters, values 0–256.
pub fn tags(req: Obj, c: &mut Constraints) -> Result<Vec<(String, String)>, DynamoError> {
    let Some(list) = req.list_of_obj("Tags")? else { return Ok(Vec::new()) };
    let mut out = Vec::with_capacity(list.len());
    for (i, t) in list.iter().enumerate() {
        let k = t.str("Key")?;
        let v = t.str("Value")?;
        c.require(&k, &format!("tags.{}.member.key", i + 1));
        c.length(k, &format!("tags.{}.member.key", i + 1), 1, 128);
        c.require(&v, &format!("tags.{}.member.value", i + 1));
        c.length(v, &format!("tags.{}.member.value", i + 1), 0, 256);
        if let (Some(k), Some(v)) = (k, v) {
            out.push((k.to_string(), v.to_string()));
        }
    }
    Ok(out)
}
