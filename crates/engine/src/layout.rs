//! Where everything lives in the ordered key space of the storage interface.
//!
//! | prefix | key | value |
//! |---|---|---|
//! | `0x00` | `format` | on-disk format version (ASCII) |
//! | `0x01` | account `0x00` region `0x00` table name | table metadata (JSON) |
//! | `0x02` | table number (u64 BE) ‖ partition hash (u64 BE) ‖ key-encoded partition key ‖ key-encoded sort key | item (binary item format) |
//! | `0x03` | table number (u64 BE) ‖ `c` or `b` | item count / billed bytes counter |
//! | `0x04` | `next-table` | table-number allocator |
//! | `0x05` | table number (u64 BE) | the table's schema version (u64 BE; empty = 0): the table is live (item writes read it, so they conflict with DeleteTable and index changes) |
//! | `0x06` | index number (u64 BE) ‖ partition hash ‖ key-encoded index partition key ‖ index sort key ‖ the item's table key (hash ‖ pk ‖ sk) | the projected item (binary item format) |
//! | `0x08` | stream number (u64 BE) | stream metadata: table, view type, shards, trim point (JSON) |
//! | `0x09` | stream number (u64 BE) ‖ sequence number (u64 BE) | stream record (see `streams::record`) |
//!
//! Index and stream numbers come from the same allocator as table numbers; the counters of an
//! index live under its number like a table's.
//!
//! Table numbers are never reused, so a deleted table's items (purged in the
//! background) can never show through a new table of the same name.
//!
//! Items are ordered by a stable 64-bit hash of the partition key first, as DynamoDB
//! spreads partitions by hash: a Scan returns partitions in hash order, a Query reads
//! one contiguous range (hash ‖ partition key), and parallel-scan segments are equal,
//! contiguous slices of the hash space.

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
const INDEX: u8 = 0x06;

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
    items_prefix_with_room(table, 0)
}

/// [`items_prefix`] in a buffer with room for `more` bytes after it.
fn items_prefix_with_room(table: u64, more: usize) -> Vec<u8> {
    let mut k = Vec::with_capacity(9 + more);
    k.push(ITEMS);
    k.extend_from_slice(&table.to_be_bytes());
    k
}

/// The stable hash that places a partition: FNV-1a over the encoded partition key,
/// finished with the SplitMix64 mixer so that similar keys spread over the whole space.
/// Part of the on-disk format: changing it needs a format version bump.
pub fn partition_hash(encoded_pk: &[u8]) -> u64 {
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    for b in encoded_pk {
        h ^= *b as u64;
        h = h.wrapping_mul(0x0000_0100_0000_01b3);
    }
    h ^= h >> 30;
    h = h.wrapping_mul(0xbf58_476d_1ce4_e5b9);
    h ^= h >> 27;
    h = h.wrapping_mul(0x94d0_49bb_1331_11eb);
    h ^ (h >> 31)
}

/// The prefix of every item key of one partition.
pub fn partition_prefix(table: u64, pk: &AttributeValue) -> Vec<u8> {
    // Built in place (one allocation, room for a sort key): the items prefix, the
    // hash's eight bytes (filled in once the encoded key after them is known), the key.
    const HASH_AT: usize = 9;
    let mut k = items_prefix_with_room(table, 55);
    k.extend_from_slice(&[0; 8]);
    encode_key_value(pk, &mut k);
    let hash = partition_hash(&k[HASH_AT + 8..]);
    k[HASH_AT..HASH_AT + 8].copy_from_slice(&hash.to_be_bytes());
    k
}

/// The storage key of an item, from its (validated) key attributes.
pub fn item_key(table: u64, pk: &AttributeValue, sk: Option<&AttributeValue>) -> Vec<u8> {
    let mut k = partition_prefix(table, pk);
    if let Some(sk) = sk {
        encode_key_value(sk, &mut k);
    }
    k
}

/// The hash of the partition an item key belongs to.
pub fn hash_of_item_key(key: &[u8]) -> Option<u64> {
    let b: [u8; 8] = key.get(9..17)?.try_into().ok()?;
    Some(u64::from_be_bytes(b))
}

/// The key range of parallel-scan segment `segment` of `total`: an equal, contiguous
/// slice of the partition-hash space.
pub fn segment_range(table: u64, segment: u64, total: u64) -> KeyRange {
    segment_range_in(&items_prefix(table), segment, total)
}

/// The key range of a parallel-scan segment under `prefix` (a table's items or an
/// index's entries: both start with the partition hash).
pub fn segment_range_in(prefix: &[u8], segment: u64, total: u64) -> KeyRange {
    let bound = |i: u64| -> Option<u64> {
        // ceil(i * 2^64 / total): hash h is in segment i exactly when
        // floor(h * total / 2^64) = i, which is what `segment_of` computes.
        let v = ((i as u128) << 64).div_ceil(total as u128);
        u64::try_from(v).ok()
    };
    let mut start = prefix.to_vec();
    start.extend_from_slice(&bound(segment).unwrap_or(0).to_be_bytes());
    let end = match bound(segment + 1) {
        Some(h) if segment + 1 < total => {
            let mut e = prefix.to_vec();
            e.extend_from_slice(&h.to_be_bytes());
            std::ops::Bound::Excluded(e)
        }
        _ => stator_storage::prefix_end(prefix),
    };
    KeyRange { start: std::ops::Bound::Included(start), end }
}

/// The segment of `total` that a partition hash falls in.
pub fn segment_of(hash: u64, total: u64) -> u64 {
    ((hash as u128 * total as u128) >> 64) as u64
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

/// The prefix of every entry of an index.
pub fn index_prefix(index: u64) -> Vec<u8> {
    let mut k = Vec::with_capacity(9);
    k.push(INDEX);
    k.extend_from_slice(&index.to_be_bytes());
    k
}

/// The prefix of one index partition: the hash and encoding of its partition-key
/// values (one, or up to four for a multi-attribute key; each encoding is
/// self-delimiting, so tuples order component by component).
pub fn index_partition_prefix(index: u64, pk: &[&AttributeValue]) -> Vec<u8> {
    let mut enc = Vec::with_capacity(32);
    for v in pk {
        encode_key_value(v, &mut enc);
    }
    let mut k = index_prefix(index);
    k.extend_from_slice(&partition_hash(&enc).to_be_bytes());
    k.extend_from_slice(&enc);
    k
}

/// The key of an index entry: the index key, then the item's table key (without the
/// table prefix) so that entries of items sharing an index key stay distinct and
/// ordered by table key.
pub fn index_entry_key(index: u64, pk: &[&AttributeValue], sk: &[&AttributeValue], item_key: &[u8]) -> Vec<u8> {
    let mut k = index_partition_prefix(index, pk);
    for v in sk {
        encode_key_value(v, &mut k);
    }
    k.extend_from_slice(item_key.get(9..).unwrap_or_default());
    k
}

const STREAM_META: u8 = 0x08;
const STREAM_RECORDS: u8 = 0x09;

/// The metadata key of a stream.
pub fn stream_meta_key(stream: u64) -> Vec<u8> {
    let mut k = Vec::with_capacity(9);
    k.push(STREAM_META);
    k.extend_from_slice(&stream.to_be_bytes());
    k
}

/// All stream metadata keys.
pub fn stream_meta_range() -> KeyRange {
    KeyRange::prefix(&[STREAM_META])
}

/// The key of one stream record.
pub fn stream_record_key(stream: u64, seq: u64) -> Vec<u8> {
    let mut k = Vec::with_capacity(17);
    k.push(STREAM_RECORDS);
    k.extend_from_slice(&stream.to_be_bytes());
    k.extend_from_slice(&seq.to_be_bytes());
    k
}

/// The records of a stream with sequence numbers in `from..=to`.
pub fn stream_records_range(stream: u64, from: u64, to: u64) -> KeyRange {
    KeyRange {
        start: std::ops::Bound::Included(stream_record_key(stream, from)),
        end: std::ops::Bound::Included(stream_record_key(stream, to)),
    }
}

/// The sequence number of a stream record key.
pub fn stream_record_seq(key: &[u8]) -> Option<u64> {
    let b: [u8; 8] = key.get(9..17)?.try_into().ok()?;
    Some(u64::from_be_bytes(b))
}

/// The live marker of a table: present from CreateTable until DeleteTable.
pub fn live_key(table: u64) -> Vec<u8> {
    let mut k = Vec::with_capacity(9);
    k.push(LIVE);
    k.extend_from_slice(&table.to_be_bytes());
    k
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Item keys are part of the on-disk format: these bytes must never change.
    #[test]
    fn item_keys_are_stable() {
        use stator_types::Number;
        let hex = |b: &[u8]| b.iter().map(|x| format!("{x:02x}")).collect::<String>();
        let s = |v: &str| AttributeValue::S(v.into());
        assert_eq!(
            hex(&item_key(7, &s("ab\0c"), Some(&AttributeValue::N(Number::parse("-1.5").unwrap())))),
            "020000000000000007975a6d0c907f71dd616200ff6300017f7d0905ff"
        );
        assert_eq!(
            hex(&item_key(1, &AttributeValue::B(vec![0, 255, 0]), None)),
            "0200000000000000010efc03a160a53ac600ffff00ff0001"
        );
        assert_eq!(hex(&partition_prefix(u64::MAX, &s(""))), "02ffffffffffffffff412ba1049e30032f0001");
        assert_eq!(
            hex(&item_key(2, &s("k00001234"), Some(&s("s\0")))),
            "020000000000000002a8e383ac5e49702f6b303030303132333400017300ff0001"
        );
    }

    #[test]
    fn segments_partition_the_hash_space() {
        for total in [1u64, 2, 3, 7, 1000, 1_000_000] {
            for h in [0u64, 1, u64::MAX / 3, u64::MAX / 2, u64::MAX - 1, u64::MAX, 0x1234_5678_9abc_def0] {
                let seg = segment_of(h, total);
                assert!(seg < total);
                let mut key = items_prefix(1);
                key.extend_from_slice(&h.to_be_bytes());
                let r = segment_range(1, seg, total);
                let inside = match &r.start {
                    std::ops::Bound::Included(s) => key.as_slice() >= s.as_slice(),
                    _ => false,
                } && match &r.end {
                    std::ops::Bound::Excluded(e) => key.as_slice() < e.as_slice(),
                    std::ops::Bound::Unbounded => true,
                    std::ops::Bound::Included(e) => key.as_slice() <= e.as_slice(),
                };
                assert!(inside, "hash {h:#x} total {total} segment {seg}");
            }
        }
    }
}
