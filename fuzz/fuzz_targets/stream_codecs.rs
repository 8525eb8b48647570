//! The stream record decoder and the shard-iterator decoder: never panic on arbitrary
//! input, and whatever decodes re-encodes to something that decodes to the same value.

#![no_main]

use libfuzzer_sys::fuzz_target;
use stator_engine::streams::iterator::ShardIterator;
use stator_engine::streams::record::Record;

fuzz_target!(|data: &[u8]| {
    if let Ok(r) = Record::decode(data) {
        assert_eq!(Record::decode(&r.encode()).as_ref(), Ok(&r));
    }
    if let Ok(text) = std::str::from_utf8(data) {
        if let Some(it) = ShardIterator::decode(text) {
            assert_eq!(ShardIterator::decode(&it.encode()), Some(it));
        }
    }
});
