//! The stored-item decoders never panic on corrupt bytes; the decoder round-trips what
//! it accepts, a re-encoded item's header holds its billed size, and merging changes
//! into a record equals encoding the changed item.
#![no_main]
use libfuzzer_sys::fuzz_target;
use stator_types::itemcodec::{decode_item, encode_item};
use stator_types::{size, stored};

fuzz_target!(|data: &[u8]| {
    let _ = stored::item_size(data);
    let _ = stored::write_json(data, &mut Vec::new());
    let _ = stored::merge(data, &[("a", None)]);
    let _ = stored::pick(data, &["a", "b"]);
    if let Ok(item) = decode_item(data) {
        let encoded = encode_item(&item);
        assert_eq!(stored::item_size(&encoded).ok(), Some(size::item_size(&item)));
        assert_eq!(decode_item(&encoded).ok(), Some(item.clone()));
        // Remove the first attribute, set the last one to the first's value.
        if let (Some((first, v)), Some((last, _))) = (item.iter().next(), item.iter().last()) {
            let changes = [(first.as_str(), None), (last.as_str(), Some(v))];
            let changes = if first == last { &changes[..1] } else { &changes[..] };
            let mut expected = item.clone();
            for (name, value) in changes {
                match value {
                    Some(v) => expected.insert(name.to_string(), (*v).clone()),
                    None => expected.remove(*name),
                };
            }
            // On the canonical record (the stored bytes need not be: attributes out of
            // order or repeated still decode).
            assert_eq!(stored::merge(&encoded, changes).ok(), Some(encode_item(&expected)));
        }
    }
});
