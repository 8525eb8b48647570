//! Decoding wire-form items never panics; what decodes re-encodes to JSON that decodes
//! to the same item; and the direct parse (`item_seed`), where it answers at all,
//! answers the same item as the Value path; the direct parse into a stored record
//! (`record_seed`) answers exactly where `item_seed` does, with that item's encoding.
#![no_main]
use libfuzzer_sys::fuzz_target;
use serde::de::DeserializeSeed;

fuzz_target!(|data: &[u8]| {
    let mut de = serde_json::Deserializer::from_slice(data);
    let fast = stator_types::item_seed::ItemSeed.deserialize(&mut de).ok().filter(|_| de.end().is_ok());
    let mut de = serde_json::Deserializer::from_slice(data);
    let record = stator_types::record_seed::RecordSeed { capacity: data.len() }
        .deserialize(&mut de)
        .ok()
        .filter(|_| de.end().is_ok());
    assert_eq!(record, fast.as_ref().map(stator_types::itemcodec::encode_item));
    let Ok(v) = serde_json::from_slice::<serde_json::Value>(data) else {
        assert!(fast.is_none());
        return;
    };
    let slow = stator_types::item_from_json(&v).ok();
    if fast.is_some() {
        assert_eq!(fast, slow);
    }
    if let Some(item) = slow {
        let back = stator_types::item_to_json(&item);
        assert_eq!(stator_types::item_from_json(&back).ok(), Some(item));
    }
});
