//! Item size as DynamoDB bills it (CapacityUnitCalculations in the Developer Guide):
//! names and values in UTF-8 / raw bytes, numbers by significant digit pairs,
//! 3 bytes per map or list plus 1 byte per element, 1 byte for BOOL and NULL.

use crate::value::{AttributeValue, Item};

/// Largest item DynamoDB stores: 400 KB.
pub const MAX_ITEM_SIZE: usize = 400 * 1024;

/// Billed size of a value (without its attribute name).
pub fn value_size(v: &AttributeValue) -> usize {
    match v {
        AttributeValue::S(s) => s.len(),
        AttributeValue::N(n) => n.billed_size(),
        AttributeValue::B(b) => b.len(),
        AttributeValue::Bool(_) | AttributeValue::Null => 1,
        AttributeValue::M(m) => 3 + m.iter().map(|(k, v)| k.len() + value_size(v) + 1).sum::<usize>(),
        AttributeValue::L(l) => 3 + l.iter().map(|v| value_size(v) + 1).sum::<usize>(),
        AttributeValue::SS(s) => s.iter().map(|s| s.len()).sum(),
        AttributeValue::NS(s) => s.iter().map(|n| n.billed_size()).sum(),
        AttributeValue::BS(s) => s.iter().map(|b| b.len()).sum(),
    }
}

/// Billed size of an item: the sum over its attributes of name length + value size.
pub fn item_size(item: &Item) -> usize {
    item.iter().map(|(k, v)| k.len() + value_size(v)).sum()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::number::Number;

    #[test]
    fn documented_sizes() {
        let mut item = Item::new();
        item.insert("ab".into(), AttributeValue::S("héllo".into())); // 2 + 6
        item.insert("n".into(), AttributeValue::N(Number::parse("123").unwrap())); // 1 + 3
        item.insert("t".into(), AttributeValue::Bool(true)); // 1 + 1
        item.insert("l".into(), AttributeValue::L(vec![AttributeValue::Null, AttributeValue::S("xy".into())])); // 1 + 3 + (1+1) + (2+1)
        item.insert("m".into(), AttributeValue::M(Item::new())); // 1 + 3
        item.insert("ss".into(), AttributeValue::SS(vec!["a".into(), "bc".into()])); // 2 + 3
        assert_eq!(item_size(&item), 8 + 4 + 2 + 9 + 4 + 5);
    }

    mod props {
        use super::super::*;
        use crate::number::Number;
        use proptest::prelude::*;

        fn value() -> impl Strategy<Value = AttributeValue> {
            let leaf = prop_oneof![
                ".{0,8}".prop_map(AttributeValue::S),
                (-100000i64..100000).prop_map(|n| AttributeValue::N(Number::from_i64(n))),
                proptest::collection::vec(any::<u8>(), 0..8).prop_map(AttributeValue::B),
                any::<bool>().prop_map(AttributeValue::Bool),
                Just(AttributeValue::Null),
                proptest::collection::btree_set(".{0,4}", 1..4)
                    .prop_map(|s| AttributeValue::SS(s.into_iter().collect())),
            ];
            leaf.prop_recursive(3, 24, 4, |inner| {
                prop_oneof![
                    proptest::collection::vec(inner.clone(), 0..4).prop_map(AttributeValue::L),
                    proptest::collection::btree_map(".{0,4}", inner, 0..4).prop_map(AttributeValue::M),
                ]
            })
        }

        proptest! {
            /// Sizes compose as the Developer Guide describes: an item is the sum of its
            /// attributes; a map nested as an attribute costs its contents plus 3 bytes
            /// plus 1 byte per element; a list the same without names.
            #[test]
            fn sizes_compose(item in proptest::collection::btree_map(".{1,6}", value(), 0..6)) {
                let direct: usize = item.iter().map(|(k, v)| k.len() + value_size(v)).sum();
                prop_assert_eq!(item_size(&item), direct);
                prop_assert_eq!(value_size(&AttributeValue::M(item.clone())), 3 + item_size(&item) + item.len());
                let list: Vec<AttributeValue> = item.values().cloned().collect();
                let elems: usize = list.iter().map(value_size).sum();
                prop_assert_eq!(value_size(&AttributeValue::L(list.clone())), 3 + elems + list.len());
            }

            /// Strings count UTF-8 bytes, not characters.
            #[test]
            fn strings_count_utf8_bytes(s in ".{0,16}") {
                prop_assert_eq!(value_size(&AttributeValue::S(s.clone())), s.len());
            }
        }
    }
}
