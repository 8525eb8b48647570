//! Stator's pure data model: DynamoDB attribute values and numbers, their JSON wire
//! form, item-size accounting, the order-preserving key encoding and the binary item
//! format. Knows nothing of storage, HTTP or expressions.

#![warn(missing_docs)]

pub mod item_seed;
pub mod itemcodec;
pub mod json_write;
pub mod keycodec;
pub mod number;
pub mod record_seed;
pub mod size;
pub mod stored;
#[cfg(test)]
mod strategies;
pub mod value;

pub use number::{Number, NumberError};
pub use value::{item_from_json, item_to_json, AttributeValue, DecodeError, Item, ValueType};
