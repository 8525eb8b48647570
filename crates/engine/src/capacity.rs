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
