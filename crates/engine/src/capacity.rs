//! Capacity-unit arithmetic as DynamoDB bills it: a read unit is 4 KB (half a unit
//! when eventually consistent), a write unit 1 KB, and every operation consumes at
//! least one unit (half for an eventually consistent read).

use serde_json::{json, Value};

/// ReturnConsumedCapacity.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ReturnCapacity {
    /// Not returned.
    None,
    /// Table total.
    Total,
    /// Total plus the per-table / per-index breakdown.
    Indexes,
}

/// Read units for reading `size` bytes.
pub fn read_units(size: usize, consistent: bool) -> f64 {
    let units = size.div_ceil(4096).max(1) as f64;
    if consistent {
        units
    } else {
        units / 2.0
    }
}

/// Write units for writing an item of `size` bytes.
pub fn write_units(size: usize) -> f64 {
    size.div_ceil(1024).max(1) as f64
}

/// The ConsumedCapacity member for one table, if asked for.
pub fn consumed(table: &str, units: f64, mode: ReturnCapacity) -> Option<Value> {
    match mode {
        ReturnCapacity::None => None,
        ReturnCapacity::Total => Some(json!({"TableName": table, "CapacityUnits": units})),
        ReturnCapacity::Indexes => {
            Some(json!({"TableName": table, "CapacityUnits": units, "Table": {"CapacityUnits": units}}))
        }
    }
}

/// The ConsumedCapacity member for a table and its indexes: the total, and with
/// INDEXES the table's and each index's share.
pub fn consumed_with_indexes(
    meta: &crate::catalog::TableMeta,
    table_units: f64,
    index_units: &[(String, f64)],
    mode: ReturnCapacity,
) -> Option<Value> {
    let total = table_units + index_units.iter().map(|(_, u)| u).sum::<f64>();
    match mode {
        ReturnCapacity::None => None,
        ReturnCapacity::Total => Some(json!({"TableName": meta.name, "CapacityUnits": total})),
        ReturnCapacity::Indexes => {
            let mut v =
                json!({"TableName": meta.name, "CapacityUnits": total, "Table": {"CapacityUnits": table_units}});
            let mut gsi = serde_json::Map::new();
            let mut lsi = serde_json::Map::new();
            for (name, units) in index_units {
                let local = meta.index(name).is_some_and(|i| i.kind == crate::catalog::IndexKind::Local);
                let target = if local { &mut lsi } else { &mut gsi };
                let e = target.entry(name.clone()).or_insert_with(|| json!({"CapacityUnits": 0.0}));
                e["CapacityUnits"] = json!(e["CapacityUnits"].as_f64().unwrap_or(0.0) + units);
            }
            if !gsi.is_empty() {
                v["GlobalSecondaryIndexes"] = Value::Object(gsi);
            }
            if !lsi.is_empty() {
                v["LocalSecondaryIndexes"] = Value::Object(lsi);
            }
            Some(v)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn units() {
        assert_eq!(read_units(0, false), 0.5);
        assert_eq!(read_units(4096, true), 1.0);
        assert_eq!(read_units(4097, true), 2.0);
        assert_eq!(read_units(4097, false), 1.0);
        assert_eq!(write_units(0), 1.0);
        assert_eq!(write_units(1024), 1.0);
        assert_eq!(write_units(1025), 2.0);
    }
}
