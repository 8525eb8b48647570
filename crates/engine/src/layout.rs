//! Where everything lives in the ordered key space of the storage interface.
//!
//! | prefix | key | value |
//! |---|---|---|
//! | `0x00` | `format` | on-disk format version (ASCII) |
//! | `0x01` | account `0x00` region `0x00` table name | table metadata (JSON) |
//! | `0x02` | table number (u64 BE) ‖ key-encoded partition key ‖ key-encoded sort key | item (binary item format) |
//! | `0x03` | table number (u64 BE) ‖ `c` or `b` | item count / billed bytes counter |
//! | `0x04` | `next-table` | table-number allocator |
//! | `0x05` | table number (u64 BE) | empty: the table is live (item writes read it, so they conflict with DeleteTable) |
//!
//! Table numbers are never reused, so a deleted table's items (purged in the
//! background) can never show through a new table of the same name.

use stator_storage::KeyRange;
use stator_types::keycodec::encode_key_value;
use stator_types::AttributeValue;

/// Current on-disk format version. Bump on any incompatible change to this layout
/// or to the item format.
pub const FORMAT_VERSION: &str = "1";

/// The format-version key.
pub const FORMAT_KEY: &[u8] = b"\x00format";

/// The table-number allocator key.
pub const NEXT_TABLE_KEY: &[u8] = b"\x04next-table";

const CATALOG: u8 = 0x01;
const ITEMS: u8 = 0x02;
const COUNTERS: u8 = 0x03;
const LIVE: u8 = 0x05;

/// The catalog key of a table.
pub fn catalog_key(account: &str, region: &str, name: &str) -> Vec<u8> {
    let mut k = Vec::with_capacity(2 + account.len() + region.len() + name.len() + 2);
    k.push(CATALOG);
    k.extend_from_slice(account.as_bytes());
    k.push(0);
    k.extend_from_slice(region.as_bytes());
    k.push(0);
    k.extend_from_slice(name.as_bytes());
    k
}

/// All catalog keys.
pub fn catalog_range() -> KeyRange {
    KeyRange::prefix(&[CATALOG])
}

/// The prefix of every item key of a table.
pub fn items_prefix(table: u64) -> Vec<u8> {
    let mut k = Vec::with_capacity(9);
    k.push(ITEMS);
    k.extend_from_slice(&table.to_be_bytes());
    k
}

/// The storage key of an item, from its (validated) key attributes.
pub fn item_key(table: u64, pk: &AttributeValue, sk: Option<&AttributeValue>) -> Vec<u8> {
    let mut k = items_prefix(table);
    encode_key_value(pk, &mut k);
    if let Some(sk) = sk {
        encode_key_value(sk, &mut k);
    }
    k
}

/// The item-count counter of a table.
pub fn count_key(table: u64) -> Vec<u8> {
    counter_key(table, b'c')
}

/// The billed-bytes counter of a table.
pub fn bytes_key(table: u64) -> Vec<u8> {
    counter_key(table, b'b')
}

fn counter_key(table: u64, which: u8) -> Vec<u8> {
    let mut k = Vec::with_capacity(10);
    k.push(COUNTERS);
    k.extend_from_slice(&table.to_be_bytes());
    k.push(which);
    k
}

/// The live marker of a table: present from CreateTable until DeleteTable.
pub fn live_key(table: u64) -> Vec<u8> {
    let mut k = Vec::with_capacity(9);
    k.push(LIVE);
    k.extend_from_slice(&table.to_be_bytes());
    k
}
