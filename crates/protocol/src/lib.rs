//! DynamoDB's wire protocol, independent of HTTP and storage: the error type (every
//! DynamoDB exception with its `__type` and status), the operation registry, and typed,
//! validated access to request JSON.

#![warn(missing_docs)]

pub mod body;
pub mod error;
pub mod json;
pub mod ops;

pub use body::Body;
pub use error::{CancellationReason, DynamoError};
pub use json::{Constraints, Obj, ObjIter};
pub use ops::Operation;

/// Result of a DynamoDB operation.
pub type Result<T, E = DynamoError> = std::result::Result<T, E>;
