//! Proptest strategies for attribute values, shared by the crate's property tests.

#![allow(clippy::unwrap_used)]

use proptest::prelude::*;

use crate::{AttributeValue, Number};

pub(crate) fn leaf() -> impl Strategy<Value = AttributeValue> {
    prop_oneof![
        ".{0,12}".prop_map(AttributeValue::S),
        (-100_000i64..100_000, -40i32..40).prop_map(|(m, e)| AttributeValue::N(
            Number::parse(&format!("{m}e{e}")).unwrap_or_else(|_| Number::from_i64(m))
        )),
        proptest::collection::vec(any::<u8>(), 0..9).prop_map(AttributeValue::B),
        any::<bool>().prop_map(AttributeValue::Bool),
        Just(AttributeValue::Null),
        proptest::collection::btree_set(".{0,4}", 1..4).prop_map(|s| AttributeValue::SS(s.into_iter().collect())),
        proptest::collection::btree_set(-1000i64..1000, 1..4)
            .prop_map(|s| AttributeValue::NS(s.into_iter().map(Number::from_i64).collect())),
        proptest::collection::btree_set(proptest::collection::vec(any::<u8>(), 0..4), 1..3)
            .prop_map(|s| AttributeValue::BS(s.into_iter().collect())),
    ]
}

pub(crate) fn value() -> impl Strategy<Value = AttributeValue> {
    leaf().prop_recursive(4, 32, 4, |inner| {
        prop_oneof![
            proptest::collection::vec(inner.clone(), 0..4).prop_map(AttributeValue::L),
            proptest::collection::btree_map(".{0,4}", inner, 0..4).prop_map(AttributeValue::M),
        ]
    })
}
