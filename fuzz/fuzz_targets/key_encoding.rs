//! The key encoding preserves DynamoDB's order: for two strings (UTF-8 bytes), two
//! binaries (unsigned bytes) or two numbers (numeric value), the encodings compare as
//! the values do, and each encoding is self-delimiting (a prefix never equals another
//! value's whole encoding followed by more bytes of a longer one's).
#![no_main]
use libfuzzer_sys::fuzz_target;
use stator_types::keycodec::encode_key_value;
use stator_types::{AttributeValue, Number};

fn enc(v: &AttributeValue) -> Vec<u8> {
    let mut out = Vec::new();
    encode_key_value(v, &mut out);
    out
}

fuzz_target!(|data: &[u8]| {
    let Some((&kind, rest)) = data.split_first() else { return };
    let mid = rest.len() / 2;
    let (a, b) = rest.split_at(mid);
    let (x, y) = match kind % 3 {
        0 => match (std::str::from_utf8(a), std::str::from_utf8(b)) {
            (Ok(a), Ok(b)) => (AttributeValue::S(a.into()), AttributeValue::S(b.into())),
            _ => return,
        },
        1 => (AttributeValue::B(a.to_vec()), AttributeValue::B(b.to_vec())),
        _ => {
            let (Ok(a), Ok(b)) = (std::str::from_utf8(a), std::str::from_utf8(b)) else { return };
            let (Ok(na), Ok(nb)) = (Number::parse(a), Number::parse(b)) else { return };
            (AttributeValue::N(na), AttributeValue::N(nb))
        }
    };
    let want = match (&x, &y) {
        (AttributeValue::S(a), AttributeValue::S(b)) => a.as_bytes().cmp(b.as_bytes()),
        (AttributeValue::B(a), AttributeValue::B(b)) => a.cmp(b),
        (AttributeValue::N(a), AttributeValue::N(b)) => a.cmp(b),
        _ => return,
    };
    let (ex, ey) = (enc(&x), enc(&y));
    assert_eq!(ex.cmp(&ey), want, "{x:?} vs {y:?}");
    if want != std::cmp::Ordering::Equal {
        assert!(!ex.starts_with(&ey) && !ey.starts_with(&ex), "an encoding is a prefix of another: {x:?} {y:?}");
    }
});
