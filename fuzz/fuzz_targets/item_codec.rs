//! The stored-item decoders never panic on corrupt bytes; the decoder round-trips what
//! it accepts, and a re-encoded item's header holds its billed size.
#![no_main]
use libfuzzer_sys::fuzz_target;
use stator_types::itemcodec::{decode_item, encode_item};
use stator_types::{size, stored};

fuzz_target!(|data: &[u8]| {
    let _ = stored::item_size(data);
    let _ = stored::write_json(data, &mut Vec::new());
    if let Ok(item) = decode_item(data) {
        let encoded = encode_item(&item);
        assert_eq!(stored::item_size(&encoded).ok(), Some(size::item_size(&item)));
        assert_eq!(decode_item(&encoded).ok(), Some(item));
    }
});
