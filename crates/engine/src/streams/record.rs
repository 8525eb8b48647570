//! One stream record: its stored form and its wire shape.
//!
//! Stored form (version 1): `1` ‖ event (1 = INSERT, 2 = MODIFY, 3 = REMOVE) ‖ flags
//! (bit 0: written by the service, i.e. a TTL delete) ‖ creation time (ms, u64 BE) ‖
//! keys ‖ old image ‖ new image, each image a u32 BE length (0xFFFF_FFFF = absent)
//! and the binary item format. Only the images the stream's view type shows are
//! stored.

use serde_json::{json, Map, Value};
use stator_types::itemcodec::{decode_item, encode_item};
use stator_types::size::item_size;
use stator_types::{item_to_json, Item};

/// What happened to the item.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Event {
    /// A new item.
    Insert,
    /// An item changed.
    Modify,
    /// An item deleted.
    Remove,
}

impl Event {
    /// The eventName.
    pub fn name(self) -> &'static str {
        match self {
            Event::Insert => "INSERT",
            Event::Modify => "MODIFY",
            Event::Remove => "REMOVE",
        }
    }

    fn code(self) -> u8 {
        match self {
            Event::Insert => 1,
            Event::Modify => 2,
            Event::Remove => 3,
        }
    }

    fn from_code(c: u8) -> Option<Event> {
        match c {
            1 => Some(Event::Insert),
            2 => Some(Event::Modify),
            3 => Some(Event::Remove),
            _ => None,
        }
    }
}

/// A stream's StreamViewType.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ViewType {
    /// Only the key attributes.
    KeysOnly,
    /// The item after the change.
    NewImage,
    /// The item before the change.
    OldImage,
    /// Both.
    NewAndOldImages,
}

impl ViewType {
    /// Parses the wire name.
    pub fn parse(s: &str) -> Option<ViewType> {
        match s {
            "KEYS_ONLY" => Some(ViewType::KeysOnly),
            "NEW_IMAGE" => Some(ViewType::NewImage),
            "OLD_IMAGE" => Some(ViewType::OldImage),
            "NEW_AND_OLD_IMAGES" => Some(ViewType::NewAndOldImages),
            _ => None,
        }
    }

    /// The wire name.
    pub fn as_str(self) -> &'static str {
        match self {
            ViewType::KeysOnly => "KEYS_ONLY",
            ViewType::NewImage => "NEW_IMAGE",
            ViewType::OldImage => "OLD_IMAGE",
            ViewType::NewAndOldImages => "NEW_AND_OLD_IMAGES",
        }
    }

    fn shows_old(self) -> bool {
        matches!(self, ViewType::OldImage | ViewType::NewAndOldImages)
    }

    fn shows_new(self) -> bool {
        matches!(self, ViewType::NewImage | ViewType::NewAndOldImages)
    }
}

/// A decoded stream record.
#[derive(Debug, Clone, PartialEq)]
pub struct Record {
    /// What happened.
    pub event: Event,
    /// Written by the service (a TTL delete), not by a user request.
    pub service: bool,
    /// Creation time, ms since the epoch.
    pub time_ms: u64,
    /// The item's key attributes.
    pub keys: Item,
    /// The item before the change, when the view type shows it.
    pub old: Option<Item>,
    /// The item after the change, when the view type shows it.
    pub new: Option<Item>,
}

const ABSENT: u32 = u32::MAX;

impl Record {
    /// The record of a change from `old` to `new` (not both absent), keeping the
    /// images `view` shows; `None` when the change changes nothing.
    pub fn of_change(
        view: ViewType,
        keys: Item,
        old: Option<&Item>,
        new: Option<&Item>,
        service: bool,
        time_ms: u64,
    ) -> Option<Record> {
        let event = match (old, new) {
            (None, Some(_)) => Event::Insert,
            (Some(o), Some(n)) if o == n => return None,
            (Some(_), Some(_)) => Event::Modify,
            (Some(_), None) => Event::Remove,
            (None, None) => return None,
        };
        Some(Record {
            event,
            service,
            time_ms,
            keys,
            old: old.filter(|_| view.shows_old()).cloned(),
            new: new.filter(|_| view.shows_new()).cloned(),
        })
    }

    /// The stored form.
    pub fn encode(&self) -> Vec<u8> {
        let mut out = Vec::with_capacity(64);
        out.push(1);
        out.push(self.event.code());
        out.push(self.service as u8);
        out.extend_from_slice(&self.time_ms.to_be_bytes());
        for part in [Some(&self.keys), self.old.as_ref(), self.new.as_ref()] {
            match part {
                Some(item) => {
                    let b = encode_item(item);
                    out.extend_from_slice(&(b.len() as u32).to_be_bytes());
                    out.extend_from_slice(&b);
                }
                None => out.extend_from_slice(&ABSENT.to_be_bytes()),
            }
        }
        out
    }

    /// Decodes the stored form.
    pub fn decode(b: &[u8]) -> Result<Record, String> {
        let bad = || "corrupt stream record".to_string();
        if b.len() < 11 || b[0] != 1 {
            return Err(bad());
        }
        let event = Event::from_code(b[1]).ok_or_else(bad)?;
        let service = b[2] & 1 == 1;
        let time_ms = u64::from_be_bytes(b[3..11].try_into().map_err(|_| bad())?);
        let mut rest = &b[11..];
        let mut parts: Vec<Option<Item>> = Vec::with_capacity(3);
        for _ in 0..3 {
            let len_bytes: [u8; 4] = rest.get(..4).ok_or_else(bad)?.try_into().map_err(|_| bad())?;
            let len = u32::from_be_bytes(len_bytes);
            rest = &rest[4..];
            if len == ABSENT {
                parts.push(None);
                continue;
            }
            let body = rest.get(..len as usize).ok_or_else(bad)?;
            parts.push(Some(decode_item(body).map_err(|e| e.to_string())?));
            rest = &rest[len as usize..];
        }
        let new = parts.pop().flatten();
        let old = parts.pop().flatten();
        let keys = parts.pop().flatten().ok_or_else(bad)?;
        Ok(Record { event, service, time_ms, keys, old, new })
    }

    /// SizeBytes: the size of the record's data — its keys and the images it carries,
    /// measured as DynamoDB measures items.
    pub fn size_bytes(&self) -> usize {
        item_size(&self.keys) + self.old.as_ref().map_or(0, item_size) + self.new.as_ref().map_or(0, item_size)
    }

    /// The wire shape of a record, as GetRecords returns it.
    pub fn to_json(&self, event_id: &str, seq: &str, view: ViewType, region: &str) -> Value {
        let mut d = Map::new();
        // ApproximateCreationDateTime: epoch seconds, rounded down to the second.
        d.insert("ApproximateCreationDateTime".into(), json!(self.time_ms / 1000));
        d.insert("Keys".into(), item_to_json(&self.keys));
        if let Some(n) = &self.new {
            d.insert("NewImage".into(), item_to_json(n));
        }
        if let Some(o) = &self.old {
            d.insert("OldImage".into(), item_to_json(o));
        }
        d.insert("SequenceNumber".into(), json!(seq));
        d.insert("SizeBytes".into(), json!(self.size_bytes()));
        d.insert("StreamViewType".into(), json!(view.as_str()));
        let mut r = json!({
            "awsRegion": region,
            "dynamodb": Value::Object(d),
            "eventID": event_id,
            "eventName": self.event.name(),
            "eventSource": "aws:dynamodb",
            "eventVersion": "1.1",
        });
        if self.service {
            r["userIdentity"] = json!({"PrincipalId": "dynamodb.amazonaws.com", "Type": "Service"});
        }
        r
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use stator_types::AttributeValue;

    fn item(pairs: &[(&str, &str)]) -> Item {
        pairs.iter().map(|(k, v)| (k.to_string(), AttributeValue::S(v.to_string()))).collect()
    }

    #[test]
    fn stored_form_round_trips_every_shape() {
        let keys = item(&[("pk", "a")]);
        let old = item(&[("pk", "a"), ("v", "1")]);
        let new = item(&[("pk", "a"), ("v", "2")]);
        for view in [ViewType::KeysOnly, ViewType::NewImage, ViewType::OldImage, ViewType::NewAndOldImages] {
            for (o, n) in [(None, Some(&new)), (Some(&old), Some(&new)), (Some(&old), None)] {
                for service in [false, true] {
                    let r = Record::of_change(view, keys.clone(), o, n, service, 1_700_000_000_123).unwrap();
                    assert_eq!(Record::decode(&r.encode()).unwrap(), r);
                    assert_eq!(r.old.is_some(), o.is_some() && view.shows_old());
                    assert_eq!(r.new.is_some(), n.is_some() && view.shows_new());
                }
            }
        }
    }

    #[test]
    fn a_change_that_changes_nothing_has_no_record() {
        let a = item(&[("pk", "a"), ("v", "1")]);
        assert!(Record::of_change(ViewType::KeysOnly, item(&[("pk", "a")]), Some(&a), Some(&a), false, 0).is_none());
    }

    #[test]
    fn corrupt_records_are_refused() {
        let r =
            Record::of_change(ViewType::NewImage, item(&[("pk", "a")]), None, Some(&item(&[("pk", "a")])), false, 5)
                .unwrap()
                .encode();
        for cut in 0..r.len() {
            assert!(Record::decode(&r[..cut]).is_err(), "prefix of {cut} bytes");
        }
    }

    #[test]
    fn wire_shape() {
        let keys = item(&[("pk", "a")]);
        let new = item(&[("pk", "a"), ("v", "x")]);
        let r = Record::of_change(ViewType::NewAndOldImages, keys, None, Some(&new), true, 1_700_000_000_999).unwrap();
        let j = r.to_json("e1", "000000000000000000001", ViewType::NewAndOldImages, "us-east-1");
        assert_eq!(j["eventName"], "INSERT");
        assert_eq!(j["eventSource"], "aws:dynamodb");
        assert_eq!(j["dynamodb"]["ApproximateCreationDateTime"], 1_700_000_000u64);
        assert_eq!(j["dynamodb"]["NewImage"]["v"]["S"], "x");
        assert!(j["dynamodb"].get("OldImage").is_none());
        assert_eq!(j["dynamodb"]["SizeBytes"], 3 + 5);
        assert_eq!(j["userIdentity"]["Type"], "Service");
    }
}
