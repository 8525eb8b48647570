//! The stored-item decoder never panics on corrupt bytes, and round-trips what it accepts.
#![no_main]
use libfuzzer_sys::fuzz_target;
use stator_types::itemcodec::{decode_item, encode_item};

fuzz_target!(|data: &[u8]| {
    if let Ok(item) = decode_item(data) {
        assert_eq!(decode_item(&encode_item(&item)).ok(), Some(item));
    }
});
