//! DynamoDB Streams: the change log of a table.
//!
//! A stream is a sequence of records numbered by a per-stream, strictly increasing
//! sequence number. A shard is a contiguous range of those numbers; the open shard
//! is the last one, and it rolls over (closes, and a child shard opens with it as
//! parent) after [`Streams::rollover_ms`], as DynamoDB's shards do over time.
//!
//! **Atomicity.** A record is written in the storage transaction of the change it
//! describes (`item_write::store`), so a crash keeps both or neither.
//!
//! **Order.** The sequence number is taken inside the writing transaction, after its
//! reads. Two committed changes of one item are serialized (item lock, and the
//! optimistic check of the item's key), so the later one took its number after the
//! earlier one committed: per-item order is sequence order.
//!
//! **Visibility.** Numbers are taken before commit and commits finish out of order,
//! so a reader must not pass a number whose transaction is still in flight: each
//! taken number is held (`Transaction::hold`) until its transaction ends, and readers
//! see only records below the *watermark* — the lowest number still in flight (or the
//! next number). The watermark is read before the snapshot, so every record below it
//! is either in the snapshot or was never committed.
//!
//! **Retention.** Records older than 24 hours are trimmed by the housekeeping pass;
//! a disabled stream (or a deleted table's stream) stays readable for 24 hours.

pub mod iterator;
pub mod record;

use std::collections::{BTreeMap, BTreeSet};
use std::sync::Arc;

use parking_lot::{Mutex, RwLock};
use serde::{Deserialize, Serialize};
use stator_protocol::DynamoError;
use stator_storage::{Direction, KvStore, Transaction};
use stator_types::Item;

use crate::catalog::TableMeta;
use crate::clock::Clock;
use crate::layout;
use record::{Record, ViewType};

/// How long records stay readable.
pub const RETENTION_MS: u64 = 24 * 3600 * 1000;
/// How long a shard iterator stays valid.
pub const ITERATOR_LIFETIME_MS: u64 = 15 * 60 * 1000;
/// Default shard lifetime before it rolls over (DynamoDB's are about four hours).
pub const DEFAULT_ROLLOVER_MS: u64 = 4 * 3600 * 1000;
/// Most records deleted per stream per housekeeping pass.
const TRIM_BUDGET: usize = 10_000;

/// One shard of a stream.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ShardMeta {
    /// Position in the stream's lineage (0 = first shard); stable.
    pub number: u32,
    /// ShardId.
    pub id: String,
    /// ParentShardId.
    pub parent: Option<String>,
    /// When the shard opened, ms.
    pub created_ms: u64,
    /// StartingSequenceNumber.
    pub start: u64,
    /// EndingSequenceNumber, once closed.
    pub end: Option<u64>,
}

/// Everything stored about a stream.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct StreamMeta {
    /// Internal stream number (record key prefix); never reused.
    pub id: u64,
    /// Owning account.
    pub account: String,
    /// Region.
    pub region: String,
    /// The table's name.
    pub table_name: String,
    /// The table's internal number.
    pub table_number: u64,
    /// StreamLabel.
    pub label: String,
    /// StreamViewType (wire name).
    pub view_type: String,
    /// KeySchema: (attribute name, HASH or RANGE).
    pub key_schema: Vec<(String, String)>,
    /// CreationRequestDateTime, ms.
    pub created_ms: u64,
    /// When the stream was disabled (or its table deleted), ms.
    pub disabled_ms: Option<u64>,
    /// Shards still readable, oldest first.
    pub shards: Vec<ShardMeta>,
    /// Records below this sequence number are trimmed.
    pub trimmed_below: u64,
}

impl StreamMeta {
    /// A new stream of `table`, its first shard open.
    pub fn new(id: u64, table: &TableMeta, view: ViewType, label: String, now_ms: u64) -> StreamMeta {
        let mut key_schema = vec![(table.pk.name.clone(), "HASH".to_string())];
        if let Some(sk) = &table.sk {
            key_schema.push((sk.name.clone(), "RANGE".to_string()));
        }
        // Sequence numbers start from the creation time, so that the numbers of a
        // table's successive streams do not overlap in practice.
        let start = now_ms.saturating_mul(100_000).max(1);
        StreamMeta {
            id,
            account: table.account.clone(),
            region: table.region.clone(),
            table_name: table.name.clone(),
            table_number: table.number,
            label,
            view_type: view.as_str().to_string(),
            key_schema,
            created_ms: now_ms,
            disabled_ms: None,
            shards: vec![ShardMeta {
                number: 0,
                id: shard_id(id, 0, now_ms),
                parent: None,
                created_ms: now_ms,
                start,
                end: None,
            }],
            trimmed_below: start,
        }
    }

    /// StreamArn.
    pub fn arn(&self) -> String {
        format!("arn:aws:dynamodb:{}:{}:table/{}/stream/{}", self.region, self.account, self.table_name, self.label)
    }

    /// The view type.
    pub fn view(&self) -> ViewType {
        ViewType::parse(&self.view_type).unwrap_or(ViewType::KeysOnly)
    }

    /// A shard by ShardId.
    pub fn shard(&self, id: &str) -> Option<&ShardMeta> {
        self.shards.iter().find(|s| s.id == id)
    }

    /// A shard by number.
    pub fn shard_by_number(&self, n: u32) -> Option<&ShardMeta> {
        self.shards.iter().find(|s| s.number == n)
    }

    /// The stored form.
    pub fn to_bytes(&self) -> Vec<u8> {
        serde_json::to_vec(self).unwrap_or_default()
    }

    fn from_bytes(b: &[u8]) -> Result<StreamMeta, DynamoError> {
        serde_json::from_slice(b).map_err(|e| DynamoError::Internal(format!("corrupt stream metadata: {e}")))
    }
}

/// A ShardId shaped like DynamoDB's: `shardId-` ‖ 20-digit creation time ‖ `-` ‖ 8 hex.
fn shard_id(stream: u64, number: u32, created_ms: u64) -> String {
    let h = mix(stream.wrapping_mul(0x9e37_79b9_7f4a_7c15) ^ number as u64);
    format!("shardId-{created_ms:020}-{:08x}", h as u32)
}

/// SplitMix64's finalizer.
fn mix(mut h: u64) -> u64 {
    h ^= h >> 30;
    h = h.wrapping_mul(0xbf58_476d_1ce4_e5b9);
    h ^= h >> 27;
    h = h.wrapping_mul(0x94d0_49bb_1331_11eb);
    h ^ (h >> 31)
}

/// A sequence number on the wire: 21 digits, zero-padded, so that string order is
/// numeric order.
pub fn seq_to_string(seq: u64) -> String {
    format!("{seq:021}")
}

/// Parses a wire sequence number.
pub fn parse_seq(s: &str) -> Option<u64> {
    if s.is_empty() || !s.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    s.trim_start_matches('0').parse::<u64>().ok().or_else(|| s.bytes().all(|b| b == b'0').then_some(0))
}

/// A record's eventID: derived from the stream and the sequence number, so that a
/// record read twice has the same id.
pub fn event_id(stream: u64, seq: u64) -> String {
    let a = mix(stream ^ 0x5bd1_e995_u64.wrapping_mul(seq.wrapping_add(1)));
    let b = mix(seq ^ a.rotate_left(17));
    format!("{a:016x}{b:016x}")
}

struct State {
    meta: StreamMeta,
    /// Bumped on every change of `meta`; see [`Stream::persisted`].
    version: u64,
    /// The next sequence number to hand out.
    next: u64,
    /// The time of the last record (record times never go backwards).
    last_ms: u64,
    /// Sequence numbers whose transactions have not ended.
    in_flight: BTreeSet<u64>,
}

/// One stream's live state.
pub struct Stream {
    id: u64,
    state: Mutex<State>,
    /// The newest `State::version` made durable. Writing the metadata takes this lock;
    /// lock order is `state` then `persisted`, and housekeeping persists without
    /// holding `state`, so that a sync never stalls the writers taking numbers.
    persisted: Mutex<u64>,
}

impl Stream {
    fn new(state: State) -> Arc<Stream> {
        Arc::new(Stream { id: state.meta.id, state: Mutex::new(state), persisted: Mutex::new(0) })
    }
}

/// A sequence number held by a writing transaction until it ends.
struct InFlight {
    stream: Arc<Stream>,
    seq: u64,
}

impl Drop for InFlight {
    fn drop(&mut self) {
        self.stream.state.lock().in_flight.remove(&self.seq);
    }
}

impl Stream {
    /// The stream's metadata and its watermark (records below it are readable).
    /// Take the snapshot to read records from *after* this call.
    pub fn view(&self) -> (StreamMeta, u64) {
        let st = self.state.lock();
        let watermark = st.in_flight.first().copied().unwrap_or(st.next);
        (st.meta.clone(), watermark)
    }
}

/// Every stream of the server.
pub struct Streams {
    store: Arc<dyn KvStore>,
    clock: Arc<Clock>,
    /// Shard lifetime before rollover.
    pub rollover_ms: u64,
    by_id: RwLock<BTreeMap<u64, Arc<Stream>>>,
}

impl Streams {
    /// Loads every stream and recovers each one's next sequence number from its
    /// last stored record.
    pub fn open(store: Arc<dyn KvStore>, clock: Arc<Clock>, rollover_ms: u64) -> Result<Streams, DynamoError> {
        let mut by_id = BTreeMap::new();
        {
            let snap = store.snapshot();
            for kv in snap.scan(layout::stream_meta_range(), Direction::Forward) {
                let (_, v) = kv.map_err(crate::internal)?;
                let meta = StreamMeta::from_bytes(&v)?;
                let last =
                    match snap.scan(layout::stream_records_range(meta.id, 0, u64::MAX), Direction::Reverse).next() {
                        Some(kv) => layout::stream_record_seq(&kv.map_err(crate::internal)?.0),
                        None => None,
                    };
                let mut next = meta.trimmed_below;
                if let Some(s) = meta.shards.last() {
                    next = next.max(s.start).max(s.end.map_or(0, |e| e + 1));
                }
                if let Some(l) = last {
                    next = next.max(l + 1);
                }
                let state = State { next, version: 0, last_ms: 0, in_flight: BTreeSet::new(), meta };
                by_id.insert(state.meta.id, Stream::new(state));
            }
        }
        Ok(Streams { store, clock, rollover_ms, by_id: RwLock::new(by_id) })
    }

    /// Makes a stream whose metadata was just committed live.
    pub fn register(&self, meta: StreamMeta) {
        let next = meta.shards.last().map_or(meta.trimmed_below, |s| s.start);
        let id = meta.id;
        let state = State { next, version: 0, last_ms: 0, in_flight: BTreeSet::new(), meta };
        self.by_id.write().insert(id, Stream::new(state));
    }

    /// A stream by number.
    pub fn get(&self, id: u64) -> Option<Arc<Stream>> {
        self.by_id.read().get(&id).cloned()
    }

    /// A stream by StreamArn.
    pub fn by_arn(&self, arn: &str) -> Option<Arc<Stream>> {
        self.by_id.read().values().find(|s| s.state.lock().meta.arn() == arn).cloned()
    }

    /// The metadata of every stream, in creation order.
    pub fn list(&self) -> Vec<StreamMeta> {
        self.by_id.read().values().map(|s| s.state.lock().meta.clone()).collect()
    }

    /// Closes a stream after its table's catalog change (stream disabled, table
    /// deleted) committed: its open shard gets an end, and it stays readable for
    /// [`RETENTION_MS`].
    pub fn close(&self, id: u64) -> Result<(), DynamoError> {
        let Some(stream) = self.get(id) else { return Ok(()) };
        let mut st = stream.state.lock();
        if st.meta.disabled_ms.is_some() {
            return Ok(());
        }
        let now = self.clock.now_ms();
        close_open_shard(&mut st);
        st.meta.disabled_ms = Some(now);
        st.version += 1;
        save(self.store.as_ref(), &stream, &st.meta, st.version)
    }

    /// Closes every open stream the catalog no longer points at (a crash between a
    /// catalog change and [`Streams::close`]).
    pub fn reconcile(&self, live: &dyn Fn(&StreamMeta) -> bool) -> Result<(), DynamoError> {
        let ids: Vec<u64> =
            self.list().into_iter().filter(|m| m.disabled_ms.is_none() && !live(m)).map(|m| m.id).collect();
        for id in ids {
            self.close(id)?;
        }
        Ok(())
    }

    /// Writes the record of a change of one item of `table` into `txn`, when the
    /// table has a stream and the change changes something.
    pub fn record_change(
        &self,
        txn: &mut dyn Transaction,
        table: &TableMeta,
        old: Option<&Item>,
        new: Option<&Item>,
        service: bool,
    ) -> Result<(), DynamoError> {
        let Some(id) = table.stream.as_ref().filter(|s| s.enabled).and_then(|s| s.id) else { return Ok(()) };
        let Some(stream) = self.get(id) else {
            return Err(DynamoError::Internal(format!("stream {id} of table {} is not registered", table.name)));
        };
        let Some(any) = new.or(old) else { return Ok(()) };
        // An unchanged item writes no record and takes no number.
        if matches!((old, new), (Some(o), Some(n)) if o == n) {
            return Ok(());
        }
        let keys: Item =
            table.key_attrs().filter_map(|k| any.get(&k.name).map(|v| (k.name.clone(), v.clone()))).collect();
        let view = ViewType::parse(table.stream.as_ref().and_then(|s| s.view_type.as_deref()).unwrap_or(""))
            .unwrap_or(ViewType::KeysOnly);
        // A stream closed under a write planned before the change: the write's commit
        // fails on the table's live marker and is retried with the new settings.
        let Some((seq, time_ms)) = self.take_seq(&stream)? else { return Ok(()) };
        // The number is released by this guard on every path from here on.
        let in_flight = InFlight { stream, seq };
        let Some(record) = Record::of_change(view, keys, old, new, service, time_ms) else { return Ok(()) };
        txn.put(layout::stream_record_key(id, seq), record.encode());
        txn.hold(Box::new(in_flight));
        Ok(())
    }

    /// Takes the next sequence number (rolling the open shard over when it is due)
    /// and the record's time.
    fn take_seq(&self, stream: &Arc<Stream>) -> Result<Option<(u64, u64)>, DynamoError> {
        let now = self.clock.now_ms();
        let mut st = stream.state.lock();
        if st.meta.disabled_ms.is_some() {
            return Ok(None);
        }
        let due = st.meta.shards.last().is_some_and(|s| {
            s.end.is_none() && now.saturating_sub(s.created_ms) >= self.rollover_ms && st.next > s.start
        });
        if due {
            close_open_shard(&mut st);
            let parent = st.meta.shards.last().map(|s| (s.id.clone(), s.number));
            let number = parent.as_ref().map_or(0, |p| p.1 + 1);
            let shard = ShardMeta {
                number,
                id: shard_id(stream.id, number, now),
                parent: parent.map(|p| p.0),
                created_ms: now,
                start: st.next,
                end: None,
            };
            st.meta.shards.push(shard);
            st.version += 1;
            // Under the state lock: no record lands in the new shard before it is durable.
            save(self.store.as_ref(), stream, &st.meta, st.version)?;
        }
        let seq = st.next;
        st.next += 1;
        st.in_flight.insert(seq);
        st.last_ms = st.last_ms.max(now);
        Ok(Some((seq, st.last_ms)))
    }

    /// One housekeeping pass: trims records older than the retention period, drops
    /// shards with nothing left to read, and forgets streams disabled longer than the
    /// retention period. Bounded: at most [`TRIM_BUDGET`] records per stream.
    pub fn trim(&self) -> Result<(), DynamoError> {
        let now = self.clock.now_ms();
        let cutoff = now.saturating_sub(RETENTION_MS);
        let streams: Vec<Arc<Stream>> = self.by_id.read().values().cloned().collect();
        for stream in streams {
            let (meta, watermark) = stream.view();
            // Records to delete: from the trim point, while older than the cutoff.
            let mut doomed: Vec<Vec<u8>> = Vec::new();
            let mut new_trim = meta.trimmed_below;
            {
                let snap = self.store.snapshot();
                let range = layout::stream_records_range(meta.id, meta.trimmed_below, watermark.saturating_sub(1));
                for kv in snap.scan(range, Direction::Forward).take(TRIM_BUDGET) {
                    let (k, v) = kv.map_err(crate::internal)?;
                    let r = Record::decode(&v).map_err(DynamoError::Internal)?;
                    if r.time_ms >= cutoff {
                        break;
                    }
                    new_trim = layout::stream_record_seq(&k).map_or(new_trim, |s| s + 1);
                    doomed.push(k);
                }
            }
            let expired = meta.disabled_ms.is_some_and(|d| d < cutoff);
            if doomed.is_empty() && !expired && !meta.shards.iter().any(|s| s.end.is_some_and(|e| e < new_trim)) {
                continue;
            }
            let mut txn = self.store.begin();
            for k in doomed {
                txn.delete(k);
            }
            txn.commit().map_err(crate::internal)?.wait_durable().map_err(crate::internal)?;
            let (meta, version) = {
                let mut st = stream.state.lock();
                st.meta.trimmed_below = st.meta.trimmed_below.max(new_trim);
                // A closed shard whose every record is trimmed, and that closed more
                // than the retention period ago, is gone.
                let trimmed = st.meta.trimmed_below;
                let keep_from = st
                    .meta
                    .shards
                    .iter()
                    .position(|s| s.end.is_none_or(|e| e >= trimmed) || s.created_ms >= cutoff)
                    .unwrap_or(st.meta.shards.len());
                st.meta.shards.drain(..keep_from);
                st.version += 1;
                (st.meta.clone(), st.version)
            };
            // A disabled stream takes no more records, so what is left cannot grow.
            let gone = expired && self.records_left(meta.id, meta.trimmed_below)? == 0;
            if gone {
                let _persisted = stream.persisted.lock();
                let mut txn = self.store.begin();
                txn.delete(layout::stream_meta_key(meta.id));
                txn.commit().map_err(crate::internal)?.wait_durable().map_err(crate::internal)?;
                self.by_id.write().remove(&meta.id);
            } else {
                save(self.store.as_ref(), &stream, &meta, version)?;
            }
        }
        Ok(())
    }

    fn records_left(&self, id: u64, from: u64) -> Result<usize, DynamoError> {
        let snap = self.store.snapshot();
        let first = snap.scan(layout::stream_records_range(id, from, u64::MAX), Direction::Forward).next();
        match first {
            Some(kv) => kv.map(|_| 1).map_err(crate::internal),
            None => Ok(0),
        }
    }
}

/// Closes the open shard; an empty shard still covers one (unused) number, so that
/// its range is never empty.
fn close_open_shard(st: &mut State) {
    let next = st.next;
    if let Some(s) = st.meta.shards.last_mut().filter(|s| s.end.is_none()) {
        let end = next.saturating_sub(1).max(s.start);
        s.end = Some(end);
        st.next = end + 1;
    }
}

/// Makes `meta` (at `version`) durable, unless a newer version already is.
fn save(store: &dyn KvStore, stream: &Stream, meta: &StreamMeta, version: u64) -> Result<(), DynamoError> {
    let mut persisted = stream.persisted.lock();
    if *persisted >= version {
        return Ok(());
    }
    persist(store, meta)?;
    *persisted = version;
    Ok(())
}

fn persist(store: &dyn KvStore, meta: &StreamMeta) -> Result<(), DynamoError> {
    let mut txn = store.begin();
    txn.put(layout::stream_meta_key(meta.id), meta.to_bytes());
    txn.commit().map_err(crate::internal)?.wait_durable().map_err(crate::internal)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sequence_numbers_round_trip_and_sort_as_strings() {
        for (a, b) in [(0u64, 1u64), (9, 10), (99_999, 100_000), (u64::MAX - 1, u64::MAX)] {
            let (sa, sb) = (seq_to_string(a), seq_to_string(b));
            assert_eq!(sa.len(), 21);
            assert!(sa < sb);
            assert_eq!(parse_seq(&sa), Some(a));
            assert_eq!(parse_seq(&sb), Some(b));
        }
        assert_eq!(parse_seq(""), None);
        assert_eq!(parse_seq("12a"), None);
        assert_eq!(parse_seq("99999999999999999999999999"), None);
    }

    #[test]
    fn shard_ids_and_event_ids_are_stable_and_distinct() {
        assert_eq!(shard_id(1, 0, 5), shard_id(1, 0, 5));
        assert_ne!(shard_id(1, 0, 5), shard_id(1, 1, 5));
        assert_eq!(shard_id(1, 0, 5).len(), "shardId-00000000000000000005-".len() + 8);
        assert_eq!(event_id(3, 4), event_id(3, 4));
        assert_ne!(event_id(3, 4), event_id(3, 5));
        assert_eq!(event_id(3, 4).len(), 32);
    }
}
