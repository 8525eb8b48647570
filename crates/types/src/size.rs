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
}
