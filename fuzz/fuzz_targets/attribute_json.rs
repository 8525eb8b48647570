//! Decoding wire-form items never panics, and what decodes re-encodes to JSON that
//! decodes to the same item.
#![no_main]
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Ok(v) = serde_json::from_slice::<serde_json::Value>(data) else { return };
    if let Ok(item) = stator_types::item_from_json(&v) {
        let back = stator_types::item_to_json(&item);
        assert_eq!(stator_types::item_from_json(&back).ok(), Some(item));
    }
});
