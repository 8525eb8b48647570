//! Secondary-index definitions as CreateTable (and later UpdateTable) take them:
//! Coral constraints, then DynamoDB's semantic checks, producing `IndexMeta`s.

use std::collections::HashSet;

use stator_protocol::{Constraints, DynamoError, Obj};

use super::table_settings;
use crate::catalog::{BillingMode, IndexKind, IndexMeta, KeyAttr, ProjectionType, Throughput};

/// Most local secondary indexes per table.
pub const MAX_LSI: usize = 5;
/// Most global secondary indexes per table.
pub const MAX_GSI: usize = 20;
/// Most partition (and, separately, sort) attributes of a multi-attribute GSI key.
pub const MAX_KEY_ATTRS: usize = 4;
/// Most NonKeyAttributes over all indexes of a table.
pub const MAX_PROJECTED: usize = 100;

/// An index definition after the Coral checks.
pub struct IndexSpec<'a> {
    pub kind: IndexKind,
    pub name: &'a str,
    pub keys: Vec<(&'a str, &'a str)>,
    pub projection: ProjectionType,
    pub non_key: Option<Vec<&'a str>>,
    pub throughput: Option<table_settings::ThroughputInput>,
}

/// Reads `LocalSecondaryIndexes` or `GlobalSecondaryIndexes` with Coral's constraints.
pub fn read<'a>(req: Obj<'a>, kind: IndexKind, c: &mut Constraints) -> Result<Vec<IndexSpec<'a>>, DynamoError> {
    let (member, path) = match kind {
        IndexKind::Local => ("LocalSecondaryIndexes", "localSecondaryIndexes"),
        IndexKind::Global => ("GlobalSecondaryIndexes", "globalSecondaryIndexes"),
    };
    let Some(list) = req.list_of_obj(member)? else { return Ok(Vec::new()) };
    let max_keys = match kind {
        IndexKind::Local => 2,
        IndexKind::Global => 2 * MAX_KEY_ATTRS,
    };
    let mut out = Vec::with_capacity(list.len());
    for (i, o) in list.iter().enumerate() {
        let p = format!("{path}.{}.member", i + 1);
        let name = o.str("IndexName")?;
        c.require(&name, &format!("{p}.indexName"));
        c.table_name(name, &format!("{p}.indexName"));
        let schema = o.list_of_obj("KeySchema")?;
        c.require(&schema, &format!("{p}.keySchema"));
        let mut keys = Vec::new();
        for (j, e) in schema.iter().flatten().enumerate() {
            let an = e.str("AttributeName")?;
            let kt = e.str("KeyType")?;
            let kp = format!("{p}.keySchema.{}.member", j + 1);
            c.require(&an, &format!("{kp}.attributeName"));
            c.length(an, &format!("{kp}.attributeName"), 1, 255);
            c.require(&kt, &format!("{kp}.keyType"));
            c.one_of(kt, &format!("{kp}.keyType"), &["HASH", "RANGE"]);
            if let (Some(an), Some(kt)) = (an, kt) {
                keys.push((an, kt));
            }
        }
        if let Some(s) = &schema {
            if s.is_empty() {
                c.fail("'[]'", &format!("{p}.keySchema"), "Member must have length greater than or equal to 1");
            } else if s.len() > max_keys {
                c.fail(
                    "'[...]'",
                    &format!("{p}.keySchema"),
                    &format!("Member must have length less than or equal to {max_keys}"),
                );
            }
        }
        let proj = o.obj("Projection")?;
        c.require(&proj, &format!("{p}.projection"));
        let (ptype, non_key) = match proj {
            Some(pr) => {
                let t = pr.str("ProjectionType")?;
                c.one_of(t, &format!("{p}.projection.projectionType"), &["ALL", "KEYS_ONLY", "INCLUDE"]);
                let nk = pr.list_of_str("NonKeyAttributes")?;
                let ty = match t {
                    Some("KEYS_ONLY") => ProjectionType::KeysOnly,
                    Some("INCLUDE") => ProjectionType::Include,
                    Some("ALL") => ProjectionType::All,
                    _ => ProjectionType::All,
                };
                if t.is_none() {
                    c.require::<&str>(&None, &format!("{p}.projection.projectionType"));
                }
                (ty, nk)
            }
            None => (ProjectionType::All, None),
        };
        let throughput = match kind {
            IndexKind::Global => table_settings::throughput(*o, c)?,
            IndexKind::Local => None,
        };
        if let Some(n) = name {
            out.push(IndexSpec { kind, name: n, keys, projection: ptype, non_key, throughput });
        }
    }
    Ok(out)
}

/// DynamoDB's semantic checks of a table's index definitions, in its order; returns the
/// index metadata (numbers not yet allocated) and the key attribute names they use.
pub fn build(
    specs: &[IndexSpec],
    table_pk: &KeyAttr,
    table_sk: Option<&KeyAttr>,
    defs: &[KeyAttr],
    billing: BillingMode,
) -> Result<Vec<IndexMeta>, DynamoError> {
    let lsis = specs.iter().filter(|s| s.kind == IndexKind::Local).count();
    let gsis = specs.len() - lsis;
    if lsis > MAX_LSI {
        return Err(DynamoError::validation(format!(
            "One or more parameter values were invalid: Number of LocalSecondaryIndexes exceeds per-table limit of {MAX_LSI}"
        )));
    }
    if gsis > MAX_GSI {
        return Err(DynamoError::validation(format!(
            "One or more parameter values were invalid: GlobalSecondaryIndex count exceeds the per-table limit of {MAX_GSI}"
        )));
    }
    let mut names = HashSet::new();
    let mut projected = 0usize;
    let mut out = Vec::with_capacity(specs.len());
    for s in specs {
        if !names.insert(s.name) {
            return Err(DynamoError::validation(format!(
                "One or more parameter values were invalid: Duplicate index name: {}",
                s.name
            )));
        }
        let hashes: Vec<&str> = s.keys.iter().filter(|(_, t)| *t == "HASH").map(|(n, _)| *n).collect();
        let ranges: Vec<&str> = s.keys.iter().filter(|(_, t)| *t == "RANGE").map(|(n, _)| *n).collect();
        let hash = hashes.first().copied();
        let range = ranges.first().copied();
        if s.keys.first().map(|(_, t)| *t) != Some("HASH") {
            return Err(DynamoError::validation(format!(
                "Invalid KeySchema: The first KeySchemaElement is not a HASH key type for index: {}",
                s.name
            )));
        }
        match s.kind {
            IndexKind::Local => {
                if s.keys.len() == 2 && s.keys[1].1 != "RANGE" {
                    return Err(DynamoError::validation(format!(
                        "Invalid KeySchema: The second KeySchemaElement is not a RANGE key type for index: {}",
                        s.name
                    )));
                }
            }
            IndexKind::Global => {
                // Multi-attribute keys: up to 4 partition and 4 sort attributes, the
                // partition attributes first.
                if hashes.len() > MAX_KEY_ATTRS || ranges.len() > MAX_KEY_ATTRS {
                    return Err(DynamoError::validation(format!(
                        "Invalid KeySchema: A global secondary index key may have at most {MAX_KEY_ATTRS} partition key and {MAX_KEY_ATTRS} sort key attributes; index: {}",
                        s.name
                    )));
                }
                if s.keys.iter().skip_while(|(_, t)| *t == "HASH").any(|(_, t)| *t == "HASH") {
                    return Err(DynamoError::validation(format!(
                        "Invalid KeySchema: HASH KeySchemaElements must come before RANGE KeySchemaElements for index: {}",
                        s.name
                    )));
                }
            }
        }
        let Some(hash) = hash else {
            return Err(DynamoError::validation("Invalid KeySchema: Some index key attribute have no definition"));
        };
        let mut distinct = HashSet::new();
        if !s.keys.iter().all(|(n, _)| distinct.insert(*n)) {
            return Err(DynamoError::validation(
                "Invalid KeySchema: Both the Hash Key and the Range Key element in the KeySchema have the same name",
            ));
        }
        if s.kind == IndexKind::Local {
            if table_sk.is_none() {
                return Err(DynamoError::validation(
                    "One or more parameter values were invalid: Table KeySchema does not have a range key, which is required when specifying a LocalSecondaryIndex",
                ));
            }
            if hash != table_pk.name {
                return Err(DynamoError::validation(format!(
                    "One or more parameter values were invalid: Index KeySchema does not have the same leading hash key as table KeySchema for index: {}. index hash key: {}, table hash key: {}",
                    s.name, hash, table_pk.name
                )));
            }
            if range.is_none() {
                return Err(DynamoError::validation(format!(
                    "One or more parameter values were invalid: Index KeySchema does not have a range key for index: {}",
                    s.name
                )));
            }
        }
        let find = |n: &str| defs.iter().find(|d| d.name == n).cloned();
        let key_names: Vec<&str> = hashes.iter().chain(ranges.iter()).copied().collect();
        if key_names.iter().any(|n| find(n).is_none()) {
            return Err(DynamoError::validation(format!(
                "One or more parameter values were invalid: Some index key attributes are not defined in AttributeDefinitions. Keys: [{}], AttributeDefinitions: [{}]",
                key_names.join(", "),
                defs.iter().map(|d| d.name.as_str()).collect::<Vec<_>>().join(", ")
            )));
        }
        match (s.projection, &s.non_key) {
            (ProjectionType::Include, None) => {
                return Err(DynamoError::validation(
                    "One or more parameter values were invalid: NonKeyAttributes must be specified when ProjectionType is INCLUDE",
                ))
            }
            (ProjectionType::Include, Some(nk)) if nk.is_empty() => {
                return Err(DynamoError::validation(
                    "One or more parameter values were invalid: NonKeyAttributes must be specified when ProjectionType is INCLUDE",
                ))
            }
            (ProjectionType::All | ProjectionType::KeysOnly, Some(_)) => {
                return Err(DynamoError::validation(format!(
                    "One or more parameter values were invalid: ProjectionType is {}, but NonKeyAttributes is specified",
                    s.projection.as_str()
                )))
            }
            _ => {}
        }
        projected += s.non_key.as_ref().map_or(0, Vec::len);
        if projected > MAX_PROJECTED {
            return Err(DynamoError::validation(format!(
                "One or more parameter values were invalid: Number of projected attributes in all indexes exceeds limit of {MAX_PROJECTED}, number of projected attributes:{projected}"
            )));
        }
        let throughput = match (s.kind, billing, s.throughput) {
            (IndexKind::Global, BillingMode::Provisioned, None) => {
                return Err(DynamoError::validation(format!(
                    "One or more parameter values were invalid: ProvisionedThroughput must be specified for index: {}",
                    s.name
                )))
            }
            (IndexKind::Global, BillingMode::PayPerRequest, Some(_)) => {
                return Err(DynamoError::validation(format!(
                    "One or more parameter values were invalid: ProvisionedThroughput should not be specified for index: {} when BillingMode is PAY_PER_REQUEST",
                    s.name
                )))
            }
            (IndexKind::Global, BillingMode::Provisioned, Some(t)) => Some(Throughput {
                read: t.read.unwrap_or(0),
                write: t.write.unwrap_or(0),
                last_increase: None,
                last_decrease: None,
                decreases_today: 0,
            }),
            _ => None,
        };
        let (Some(pk), sk) = (find(hash), range.and_then(find)) else {
            return Err(DynamoError::validation("Invalid KeySchema: Some index key attribute have no definition"));
        };
        let extra_pk: Vec<KeyAttr> = hashes.iter().skip(1).filter_map(|n| find(n)).collect();
        let extra_sk: Vec<KeyAttr> = ranges.iter().skip(1).filter_map(|n| find(n)).collect();
        out.push(IndexMeta {
            name: s.name.to_string(),
            kind: s.kind,
            number: 0,
            pk,
            sk,
            extra_pk,
            extra_sk,
            projection: s.projection,
            non_key: s.non_key.iter().flatten().map(|s| s.to_string()).collect(),
            status: "ACTIVE".into(),
            backfilling: false,
            throughput,
        });
    }
    Ok(out)
}
