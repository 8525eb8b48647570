//! The PartiQL parser: never panics or hangs on any input, with or without
//! parameters.

#![no_main]

use libfuzzer_sys::fuzz_target;
use stator_types::AttributeValue;

fuzz_target!(|data: &[u8]| {
    if let Ok(text) = std::str::from_utf8(data) {
        let _ = stator_partiql::parse(text, &[]);
        let _ = stator_partiql::parse(text, &[AttributeValue::S("p".into()), AttributeValue::Null]);
    }
});
