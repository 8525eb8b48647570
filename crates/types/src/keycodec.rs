//! Order-preserving encoding of key attribute values (S, N, B) into bytes:
//! comparing the encodings bytewise gives DynamoDB's order, and every encoding is
//! self-delimiting so that a partition key followed by a sort key compares
//! component by component.

use crate::number::Number;
use crate::value::AttributeValue;

/// Appends the order-preserving encoding of a key value to `out`.
/// Returns false (and appends nothing) for a value that cannot be a key.
pub fn encode_key_value(v: &AttributeValue, out: &mut Vec<u8>) -> bool {
    match v {
        AttributeValue::S(s) => encode_bytes(s.as_bytes(), out),
        AttributeValue::B(b) => encode_bytes(b, out),
        AttributeValue::N(n) => encode_number(n, out),
        _ => return false,
    }
    true
}

/// Appends the encoding of every S or B key value that starts with `prefix`'s bytes,
/// up to (not including) the terminator: all such values encode with this prefix.
pub fn encode_key_prefix(prefix: &[u8], out: &mut Vec<u8>) {
    for &c in prefix {
        out.push(c);
        if c == 0 {
            out.push(0xFF);
        }
    }
}

/// Bytes: 0x00 is escaped as 0x00 0xFF and the value ends with 0x00 0x01, so a
/// prefix sorts first and no encoding is a prefix of another.
fn encode_bytes(b: &[u8], out: &mut Vec<u8>) {
    out.reserve(b.len() + 2);
    if b.contains(&0) {
        for &c in b {
            out.push(c);
            if c == 0 {
                out.push(0xFF);
            }
        }
    } else {
        // The common case (every string key): copied whole.
        out.extend_from_slice(b);
    }
    out.extend_from_slice(&[0x00, 0x01]);
}

/// Numbers: a sign byte (0x7F negative, 0x80 zero, 0x81 positive), the adjusted exponent
/// (shifted into 0..=255, complemented for negatives), then the digits as 1..=10
/// (complemented for negatives) and a terminator that sorts a shorter magnitude first.
fn encode_number(n: &Number, out: &mut Vec<u8>) {
    if n.is_zero() {
        out.push(0x80);
        return;
    }
    let e = (n.adjusted_exponent() + 130) as u8;
    if n.is_negative() {
        out.push(0x7F);
        out.push(255 - e);
        out.extend(n.digits().iter().map(|d| 10 - d));
        out.push(0xFF);
    } else {
        out.push(0x81);
        out.push(e);
        out.extend(n.digits().iter().map(|d| d + 1));
        out.push(0x00);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn enc(v: &AttributeValue) -> Vec<u8> {
        let mut out = Vec::new();
        assert!(encode_key_value(v, &mut out));
        out
    }

    fn number() -> impl Strategy<Value = Number> {
        (any::<bool>(), proptest::collection::vec(0u8..10, 1..38), -130i32..=88).prop_map(|(neg, d, e)| {
            let s: String = d.iter().map(|x| (b'0' + x) as char).collect();
            Number::parse(&format!("{}{}e{}", if neg { "-" } else { "" }, s, e)).unwrap()
        })
    }

    proptest! {
        #[test]
        fn number_order_preserved(a in number(), b in number()) {
            prop_assert_eq!(a.cmp(&b), enc(&AttributeValue::N(a.clone())).cmp(&enc(&AttributeValue::N(b.clone()))));
        }

        #[test]
        fn string_order_preserved(a in ".{0,12}", b in ".{0,12}") {
            prop_assert_eq!(a.as_bytes().cmp(b.as_bytes()), enc(&AttributeValue::S(a.clone())).cmp(&enc(&AttributeValue::S(b.clone()))));
        }

        #[test]
        fn binary_order_preserved(a in proptest::collection::vec(0u8..4, 0..8), b in proptest::collection::vec(0u8..4, 0..8)) {
            prop_assert_eq!(a.cmp(&b), enc(&AttributeValue::B(a.clone())).cmp(&enc(&AttributeValue::B(b.clone()))));
        }

        /// A composite key orders by partition key, then sort key.
        #[test]
        fn composite_order(p1 in proptest::collection::vec(0u8..3, 0..4), s1 in number(), p2 in proptest::collection::vec(0u8..3, 0..4), s2 in number()) {
            let mut k1 = enc(&AttributeValue::B(p1.clone()));
            k1.extend(enc(&AttributeValue::N(s1.clone())));
            let mut k2 = enc(&AttributeValue::B(p2.clone()));
            k2.extend(enc(&AttributeValue::N(s2.clone())));
            prop_assert_eq!(p1.cmp(&p2).then(s1.cmp(&s2)), k1.cmp(&k2));
        }
    }
}
