//! Table metadata: what CreateTable stores, what DescribeTable shows, and the
//! in-process cache of it. The store is the source of truth; the cache is filled at
//! start-up and updated by each committed DDL change.

use std::sync::Arc;

use parking_lot::RwLock;
use serde::{Deserialize, Serialize};
use serde_json::{json, Value};
use stator_protocol::DynamoError;
use stator_storage::{decode_counter, Direction, KvStore};

use crate::layout;

/// A key attribute's scalar type.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum ScalarType {
    /// String.
    S,
    /// Number.
    N,
    /// Binary.
    B,
}

impl ScalarType {
    /// The wire name.
    pub fn as_str(self) -> &'static str {
        match self {
            ScalarType::S => "S",
            ScalarType::N => "N",
            ScalarType::B => "B",
        }
    }

    /// Parses a wire name.
    pub fn parse(s: &str) -> Option<ScalarType> {
        match s {
            "S" => Some(ScalarType::S),
            "N" => Some(ScalarType::N),
            "B" => Some(ScalarType::B),
            _ => None,
        }
    }
}

/// A key attribute: name and type.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct KeyAttr {
    /// Attribute name.
    pub name: String,
    /// Scalar type.
    pub ty: ScalarType,
}

/// Billing mode.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum BillingMode {
    /// Provisioned capacity.
    Provisioned,
    /// On demand.
    PayPerRequest,
}

impl BillingMode {
    /// The wire name.
    pub fn as_str(self) -> &'static str {
        match self {
            BillingMode::Provisioned => "PROVISIONED",
            BillingMode::PayPerRequest => "PAY_PER_REQUEST",
        }
    }
}

/// Provisioned throughput and its change history.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Throughput {
    /// Read capacity units (0 on demand).
    pub read: i64,
    /// Write capacity units (0 on demand).
    pub write: i64,
    /// Last increase, epoch seconds.
    pub last_increase: Option<f64>,
    /// Last decrease, epoch seconds.
    pub last_decrease: Option<f64>,
    /// Decreases in the current UTC day.
    pub decreases_today: i64,
}

/// Stream settings.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct StreamSettings {
    /// Whether the stream is on.
    pub enabled: bool,
    /// KEYS_ONLY, NEW_IMAGE, OLD_IMAGE, NEW_AND_OLD_IMAGES.
    pub view_type: Option<String>,
    /// The label of the current stream (a timestamp), when one was ever enabled.
    pub label: Option<String>,
    /// The internal number of the current stream (see `streams`).
    #[serde(default)]
    pub id: Option<u64>,
}

/// Time to Live settings.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct TtlSettings {
    /// The TTL attribute.
    pub attribute: String,
    /// Whether TTL is on.
    pub enabled: bool,
    /// When the setting last changed, ms.
    pub changed_ms: u64,
}

/// Server-side encryption settings.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SseSettings {
    /// SSE type (KMS).
    pub sse_type: String,
    /// The KMS key ARN.
    pub kms_key_arn: String,
}

/// Local or global secondary index.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum IndexKind {
    /// Same partition key as the table, defined at CreateTable only.
    Local,
    /// Any key; can be added and removed online.
    Global,
}

/// Which attributes an index holds.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum ProjectionType {
    /// Every attribute.
    All,
    /// The table and index keys only.
    KeysOnly,
    /// The keys and the listed non-key attributes.
    Include,
}

impl ProjectionType {
    /// The wire name.
    pub fn as_str(self) -> &'static str {
        match self {
            ProjectionType::All => "ALL",
            ProjectionType::KeysOnly => "KEYS_ONLY",
            ProjectionType::Include => "INCLUDE",
        }
    }
}

/// A secondary index.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct IndexMeta {
    /// IndexName.
    pub name: String,
    /// Local or global.
    pub kind: IndexKind,
    /// Internal number (index entry key prefix and counters); never reused.
    pub number: u64,
    /// Index partition key.
    pub pk: KeyAttr,
    /// Index sort key.
    pub sk: Option<KeyAttr>,
    /// Further partition-key attributes of a multi-attribute GSI key (up to 3 more).
    #[serde(default)]
    pub extra_pk: Vec<KeyAttr>,
    /// Further sort-key attributes of a multi-attribute GSI key (up to 3 more).
    #[serde(default)]
    pub extra_sk: Vec<KeyAttr>,
    /// Projection type.
    pub projection: ProjectionType,
    /// NonKeyAttributes of an INCLUDE projection.
    pub non_key: Vec<String>,
    /// ACTIVE, CREATING or DELETING.
    pub status: String,
    /// Whether existing items are still being copied in.
    pub backfilling: bool,
    /// A global index's own throughput (provisioned mode).
    pub throughput: Option<Throughput>,
}

impl IndexMeta {
    /// The index's key attributes in KeySchema order (partition, then sort).
    pub fn key_attrs(&self) -> impl Iterator<Item = &KeyAttr> {
        self.pk_attrs().into_iter().chain(self.sk_attrs())
    }

    /// The partition-key attributes, in order.
    pub fn pk_attrs(&self) -> Vec<&KeyAttr> {
        std::iter::once(&self.pk).chain(self.extra_pk.iter()).collect()
    }

    /// The sort-key attributes, in order.
    pub fn sk_attrs(&self) -> Vec<&KeyAttr> {
        self.sk.iter().chain(self.extra_sk.iter()).collect()
    }

    /// The IndexArn.
    pub fn arn(&self, table: &TableMeta) -> String {
        format!("{}/index/{}", table.arn(), self.name)
    }

    /// The KeySchema member.
    pub fn key_schema_json(&self) -> Value {
        let hash = self.pk_attrs().into_iter().map(|a| json!({"AttributeName": a.name, "KeyType": "HASH"}));
        let range = self.sk_attrs().into_iter().map(|a| json!({"AttributeName": a.name, "KeyType": "RANGE"}));
        Value::Array(hash.chain(range).collect())
    }

    /// The Projection member.
    pub fn projection_json(&self) -> Value {
        let mut p = json!({"ProjectionType": self.projection.as_str()});
        if self.projection == ProjectionType::Include {
            p["NonKeyAttributes"] = json!(self.non_key);
        }
        p
    }
}

/// Everything the catalog knows about a table.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct TableMeta {
    /// Table name.
    pub name: String,
    /// Owning account.
    pub account: String,
    /// Region.
    pub region: String,
    /// Internal table number (item key prefix); never reused.
    pub number: u64,
    /// The TableId (a UUID).
    pub table_id: String,
    /// CreationDateTime, epoch seconds.
    pub created: f64,
    /// Partition key.
    pub pk: KeyAttr,
    /// Sort key.
    pub sk: Option<KeyAttr>,
    /// AttributeDefinitions as given.
    pub attribute_definitions: Vec<KeyAttr>,
    /// Billing mode.
    pub billing: BillingMode,
    /// Whether BillingModeSummary is shown (BillingMode was ever given).
    pub billing_summary: bool,
    /// When the table last switched to on-demand.
    pub last_update_to_ppr: Option<f64>,
    /// Provisioned throughput.
    pub throughput: Throughput,
    /// Stream settings.
    pub stream: Option<StreamSettings>,
    /// SSE settings (absent = AWS-owned key, not shown).
    pub sse: Option<SseSettings>,
    /// Table class, when set.
    pub table_class: Option<String>,
    /// Deletion protection.
    pub deletion_protection: bool,
    /// Tags.
    pub tags: Vec<(String, String)>,
    /// Secondary indexes.
    #[serde(default)]
    pub indexes: Vec<IndexMeta>,
    /// Bumped by every change that alters what an item write must maintain (index
    /// added or removed); stored in the table's live marker, which every item write
    /// reads, so that a write planned with an older schema retries with the new one.
    #[serde(default)]
    pub schema_version: u64,
    /// Time to Live (absent: never enabled).
    #[serde(default)]
    pub ttl: Option<TtlSettings>,
}

impl TableMeta {
    /// The table's ARN.
    pub fn arn(&self) -> String {
        format!("arn:aws:dynamodb:{}:{}:table/{}", self.region, self.account, self.name)
    }

    /// The key attributes in KeySchema order.
    pub fn key_attrs(&self) -> impl Iterator<Item = &KeyAttr> {
        std::iter::once(&self.pk).chain(self.sk.as_ref())
    }

    /// An index by name.
    pub fn index(&self, name: &str) -> Option<&IndexMeta> {
        self.indexes.iter().find(|i| i.name == name)
    }

    /// Whether `name` is a key attribute.
    pub fn is_key(&self, name: &str) -> bool {
        self.key_attrs().any(|k| k.name == name)
    }

    /// The TableDescription, with live item count and size read from `store`.
    pub fn describe(&self, store: &dyn KvStore, status: &str) -> Result<Value, DynamoError> {
        let snap = store.snapshot();
        let count = decode_counter(snap.get(&layout::count_key(self.number)).map_err(crate::internal)?.as_deref());
        let bytes = decode_counter(snap.get(&layout::bytes_key(self.number)).map_err(crate::internal)?.as_deref());
        let mut key_schema = vec![json!({"AttributeName": self.pk.name, "KeyType": "HASH"})];
        if let Some(sk) = &self.sk {
            key_schema.push(json!({"AttributeName": sk.name, "KeyType": "RANGE"}));
        }
        let mut pt = json!({
            "NumberOfDecreasesToday": self.throughput.decreases_today,
            "ReadCapacityUnits": self.throughput.read,
            "WriteCapacityUnits": self.throughput.write,
        });
        if let Some(t) = self.throughput.last_increase {
            pt["LastIncreaseDateTime"] = json!(t);
        }
        if let Some(t) = self.throughput.last_decrease {
            pt["LastDecreaseDateTime"] = json!(t);
        }
        let mut d = json!({
            "AttributeDefinitions": self.attribute_definitions.iter()
                .map(|a| json!({"AttributeName": a.name, "AttributeType": a.ty.as_str()}))
                .collect::<Vec<_>>(),
            "TableName": self.name,
            "KeySchema": key_schema,
            "TableStatus": status,
            "CreationDateTime": self.created,
            "ProvisionedThroughput": pt,
            "TableSizeBytes": bytes,
            "ItemCount": count,
            "TableArn": self.arn(),
            "TableId": self.table_id,
            "DeletionProtectionEnabled": self.deletion_protection,
        });
        let counter = |number: u64| -> Result<(i64, i64), DynamoError> {
            Ok((
                decode_counter(snap.get(&layout::count_key(number)).map_err(crate::internal)?.as_deref()),
                decode_counter(snap.get(&layout::bytes_key(number)).map_err(crate::internal)?.as_deref()),
            ))
        };
        let mut lsis = Vec::new();
        let mut gsis = Vec::new();
        for idx in &self.indexes {
            let (items, size) = counter(idx.number)?;
            let mut d = json!({
                "IndexName": idx.name,
                "KeySchema": idx.key_schema_json(),
                "Projection": idx.projection_json(),
                "IndexSizeBytes": size,
                "ItemCount": items,
                "IndexArn": idx.arn(self),
            });
            match idx.kind {
                IndexKind::Local => lsis.push(d),
                IndexKind::Global => {
                    // A new table's indexes are created with it: CREATING in the
                    // CreateTable response, as DynamoDB answers.
                    d["IndexStatus"] = json!(if status == "CREATING" { "CREATING" } else { idx.status.as_str() });
                    if idx.backfilling {
                        d["Backfilling"] = json!(true);
                    }
                    let t = idx.throughput.as_ref();
                    d["ProvisionedThroughput"] = json!({
                        "NumberOfDecreasesToday": t.map_or(0, |t| t.decreases_today),
                        "ReadCapacityUnits": t.map_or(0, |t| t.read),
                        "WriteCapacityUnits": t.map_or(0, |t| t.write),
                    });
                    gsis.push(d);
                }
            }
        }
        if !lsis.is_empty() {
            d["LocalSecondaryIndexes"] = Value::Array(lsis);
        }
        if !gsis.is_empty() {
            d["GlobalSecondaryIndexes"] = Value::Array(gsis);
        }
        if self.billing_summary {
            let mut s = json!({"BillingMode": self.billing.as_str()});
            if let Some(t) = self.last_update_to_ppr {
                s["LastUpdateToPayPerRequestDateTime"] = json!(t);
            }
            d["BillingModeSummary"] = s;
        }
        if let Some(class) = &self.table_class {
            d["TableClassSummary"] = json!({"TableClass": class});
        }
        if let Some(s) = &self.stream {
            if s.enabled {
                d["StreamSpecification"] = json!({"StreamEnabled": true, "StreamViewType": s.view_type});
            }
            if let Some(label) = &s.label {
                d["LatestStreamLabel"] = json!(label);
                d["LatestStreamArn"] = json!(format!("{}/stream/{}", self.arn(), label));
            }
        }
        if let Some(sse) = &self.sse {
            d["SSEDescription"] =
                json!({"Status": "ENABLED", "SSEType": sse.sse_type, "KMSMasterKeyArn": sse.kms_key_arn});
        }
        Ok(d)
    }

    /// Stored form.
    pub fn to_bytes(&self) -> Vec<u8> {
        serde_json::to_vec(self).unwrap_or_default()
    }

    /// Reads the stored form.
    pub fn from_bytes(b: &[u8]) -> Result<TableMeta, DynamoError> {
        serde_json::from_slice(b).map_err(|e| DynamoError::Internal(format!("corrupt table metadata: {e}")))
    }
}

/// Catalog cache key: account, region, table name.
pub type TableKey = (String, String, String);

/// A [`TableKey`] made of borrowed parts: hashes as the owned key does (fields in
/// order, as a tuple's), so that every request finds its table without first copying
/// three strings.
#[derive(Hash)]
struct Lookup<'a>(&'a str, &'a str, &'a str);

impl hashbrown::Equivalent<TableKey> for Lookup<'_> {
    fn equivalent(&self, key: &TableKey) -> bool {
        self.0 == key.0 && self.1 == key.1 && self.2 == key.2
    }
}

type Tables = hashbrown::HashMap<TableKey, Arc<TableMeta>, foldhash::fast::RandomState>;

/// The in-process view of the catalog.
#[derive(Default)]
pub struct Catalog {
    tables: RwLock<Tables>,
}

impl Catalog {
    /// Loads every table from the store.
    pub fn load(store: &dyn KvStore) -> Result<Catalog, DynamoError> {
        let snap = store.snapshot();
        let mut tables = Tables::default();
        for kv in snap.scan(layout::catalog_range(), Direction::Forward) {
            let (_, v) = kv.map_err(crate::internal)?;
            let meta = TableMeta::from_bytes(&v)?;
            tables.insert((meta.account.clone(), meta.region.clone(), meta.name.clone()), Arc::new(meta));
        }
        Ok(Catalog { tables: RwLock::new(tables) })
    }

    /// A table, if it exists.
    pub fn get(&self, account: &str, region: &str, name: &str) -> Option<Arc<TableMeta>> {
        self.tables.read().get(&Lookup(account, region, name)).cloned()
    }

    /// Table names of one account and region, sorted.
    pub fn names(&self, account: &str, region: &str) -> Vec<String> {
        let mut v: Vec<String> = self
            .tables
            .read()
            .keys()
            .filter(|(a, r, _)| a == account && r == region)
            .map(|(_, _, n)| n.clone())
            .collect();
        v.sort();
        v
    }

    /// Every table.
    pub fn all(&self) -> Vec<Arc<TableMeta>> {
        self.tables.read().values().cloned().collect()
    }

    /// Number of tables in one account and region.
    pub fn count(&self, account: &str, region: &str) -> usize {
        self.tables.read().keys().filter(|(a, r, _)| a == account && r == region).count()
    }

    /// Records a committed create or update.
    pub fn put(&self, meta: Arc<TableMeta>) {
        self.tables.write().insert((meta.account.clone(), meta.region.clone(), meta.name.clone()), meta);
    }

    /// Records a committed delete.
    pub fn remove(&self, account: &str, region: &str, name: &str) {
        self.tables.write().remove(&Lookup(account, region, name));
    }
}

#[cfg(test)]
mod tests {
    use std::hash::BuildHasher;

    use super::*;

    #[test]
    fn a_borrowed_lookup_hashes_and_compares_as_its_owned_key() {
        let state = foldhash::fast::RandomState::default();
        let owned: TableKey = ("123456789012".into(), "us-east-1".into(), "Music".into());
        let same = Lookup("123456789012", "us-east-1", "Music");
        assert_eq!(state.hash_one(&same), state.hash_one(&owned));
        assert!(hashbrown::Equivalent::equivalent(&same, &owned));
        // Parts are kept apart: moving a character from one part to the next differs.
        for other in [Lookup("123456789012", "us-east-", "1Music"), Lookup("123456789012", "us-east-1", "music")] {
            assert!(!hashbrown::Equivalent::equivalent(&other, &owned));
        }
    }
}
