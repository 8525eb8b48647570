//! The one error type of Stator: each variant is a DynamoDB exception, mapped
//! exhaustively to its wire `__type` and HTTP status. Internal failures are masked:
//! the client sees an InternalServerError, the log sees the cause.

use serde_json::{json, Value};
use stator_types::{item_to_json, Item};

/// Why a transaction was cancelled, one entry per action (TransactionCanceledException).
#[derive(Debug, Clone, PartialEq)]
pub struct CancellationReason {
    /// `None`, `ConditionalCheckFailed`, `TransactionConflict`, `ValidationError`, …
    pub code: String,
    /// The reason's message, absent for `None`.
    pub message: Option<String>,
    /// The item, with ReturnValuesOnConditionCheckFailure = ALL_OLD.
    pub item: Option<Item>,
}

/// A DynamoDB error as the client sees it.
#[derive(Debug, Clone, PartialEq)]
pub enum DynamoError {
    /// Invalid parameter values (HTTP 400).
    Validation(String),
    /// The request body is not the JSON shape the operation takes (HTTP 400).
    Serialization(String),
    /// `X-Amz-Target` names no operation (HTTP 400).
    UnknownOperation,
    /// No such table or index (HTTP 400).
    ResourceNotFound(String),
    /// The table exists already, or is being changed (HTTP 400).
    ResourceInUse(String),
    /// A condition evaluated to false; with ReturnValuesOnConditionCheckFailure = ALL_OLD, the item.
    ConditionalCheckFailed {
        /// The message.
        message: String,
        /// The existing item, when asked for.
        item: Option<Item>,
    },
    /// Too many tables / concurrent control-plane operations (HTTP 400).
    LimitExceeded(String),
    /// Throughput over the provisioned limit (HTTP 400).
    ProvisionedThroughputExceeded(String),
    /// Account-level request rate exceeded (HTTP 400).
    RequestLimitExceeded(String),
    /// Control-plane rate exceeded (HTTP 400).
    Throttling(String),
    /// An item collection grew past 10 GB (HTTP 400).
    ItemCollectionSizeLimitExceeded(String),
    /// A transaction was cancelled (HTTP 400).
    TransactionCanceled {
        /// The message, listing the reason codes.
        message: String,
        /// One reason per action.
        reasons: Vec<CancellationReason>,
    },
    /// Another transaction is in progress on an item (HTTP 400).
    TransactionConflict(String),
    /// A transaction with this token is still running (HTTP 400).
    TransactionInProgress(String),
    /// A client token reused with different parameters (HTTP 400).
    IdempotentParameterMismatch(String),
    /// No credentials in the request (HTTP 400).
    MissingAuthenticationToken(String),
    /// The Authorization header is malformed (HTTP 400).
    IncompleteSignature(String),
    /// The signature does not match (HTTP 400).
    InvalidSignature(String),
    /// Unknown access key (HTTP 400).
    UnrecognizedClient(String),
    /// Not authorized (HTTP 400).
    AccessDenied(String),
    /// PartiQL INSERT of an item that exists (HTTP 400).
    DuplicateItem(String),
    /// DynamoDB Streams: the records an iterator points at were trimmed (HTTP 400).
    TrimmedDataAccess(String),
    /// DynamoDB Streams: the shard iterator is older than 15 minutes (HTTP 400).
    ExpiredIterator(String),
    /// The request body exceeds the size limit (HTTP 413).
    RequestEntityTooLarge(String),
    /// An internal failure; the detail is logged, never sent (HTTP 500).
    Internal(String),
}

const DDB: &str = "com.amazonaws.dynamodb.v20120810#";
const CORAL_SERVICE: &str = "com.amazon.coral.service#";
const CORAL_VALIDATE: &str = "com.amazon.coral.validate#";

impl DynamoError {
    /// Shorthand for a ValidationException.
    pub fn validation(msg: impl Into<String>) -> Self {
        DynamoError::Validation(msg.into())
    }

    /// The exception's short name (the part of `__type` after `#`).
    pub fn name(&self) -> &'static str {
        match self {
            DynamoError::Validation(_) => "ValidationException",
            DynamoError::Serialization(_) => "SerializationException",
            DynamoError::UnknownOperation => "UnknownOperationException",
            DynamoError::ResourceNotFound(_) => "ResourceNotFoundException",
            DynamoError::ResourceInUse(_) => "ResourceInUseException",
            DynamoError::ConditionalCheckFailed { .. } => "ConditionalCheckFailedException",
            DynamoError::LimitExceeded(_) => "LimitExceededException",
            DynamoError::ProvisionedThroughputExceeded(_) => "ProvisionedThroughputExceededException",
            DynamoError::RequestLimitExceeded(_) => "RequestLimitExceeded",
            DynamoError::Throttling(_) => "ThrottlingException",
            DynamoError::ItemCollectionSizeLimitExceeded(_) => "ItemCollectionSizeLimitExceededException",
            DynamoError::TransactionCanceled { .. } => "TransactionCanceledException",
            DynamoError::TransactionConflict(_) => "TransactionConflictException",
            DynamoError::TransactionInProgress(_) => "TransactionInProgressException",
            DynamoError::IdempotentParameterMismatch(_) => "IdempotentParameterMismatchException",
            DynamoError::MissingAuthenticationToken(_) => "MissingAuthenticationTokenException",
            DynamoError::IncompleteSignature(_) => "IncompleteSignatureException",
            DynamoError::InvalidSignature(_) => "InvalidSignatureException",
            DynamoError::UnrecognizedClient(_) => "UnrecognizedClientException",
            DynamoError::AccessDenied(_) => "AccessDeniedException",
            DynamoError::RequestEntityTooLarge(_) => "RequestEntityTooLarge",
            DynamoError::TrimmedDataAccess(_) => "TrimmedDataAccessException",
            DynamoError::DuplicateItem(_) => "DuplicateItemException",
            DynamoError::ExpiredIterator(_) => "ExpiredIteratorException",
            DynamoError::Internal(_) => "InternalServerError",
        }
    }

    /// The namespace DynamoDB puts before `#` in `__type`.
    fn namespace(&self) -> &'static str {
        match self {
            DynamoError::Validation(_) => CORAL_VALIDATE,
            DynamoError::Serialization(_)
            | DynamoError::UnknownOperation
            | DynamoError::MissingAuthenticationToken(_)
            | DynamoError::IncompleteSignature(_)
            | DynamoError::InvalidSignature(_)
            | DynamoError::UnrecognizedClient(_)
            | DynamoError::AccessDenied(_)
            | DynamoError::RequestEntityTooLarge(_) => CORAL_SERVICE,
            DynamoError::ResourceNotFound(_)
            | DynamoError::ResourceInUse(_)
            | DynamoError::ConditionalCheckFailed { .. }
            | DynamoError::LimitExceeded(_)
            | DynamoError::ProvisionedThroughputExceeded(_)
            | DynamoError::RequestLimitExceeded(_)
            | DynamoError::Throttling(_)
            | DynamoError::ItemCollectionSizeLimitExceeded(_)
            | DynamoError::TransactionCanceled { .. }
            | DynamoError::TransactionConflict(_)
            | DynamoError::TransactionInProgress(_)
            | DynamoError::IdempotentParameterMismatch(_)
            | DynamoError::TrimmedDataAccess(_)
            | DynamoError::ExpiredIterator(_)
            | DynamoError::DuplicateItem(_)
            | DynamoError::Internal(_) => DDB,
        }
    }

    /// The full `__type`.
    pub fn type_name(&self) -> String {
        format!("{}{}", self.namespace(), self.name())
    }

    /// HTTP status DynamoDB answers with.
    pub fn http_status(&self) -> u16 {
        match self {
            DynamoError::Internal(_) => 500,
            DynamoError::RequestEntityTooLarge(_) => 413,
            DynamoError::Validation(_)
            | DynamoError::Serialization(_)
            | DynamoError::UnknownOperation
            | DynamoError::ResourceNotFound(_)
            | DynamoError::ResourceInUse(_)
            | DynamoError::ConditionalCheckFailed { .. }
            | DynamoError::LimitExceeded(_)
            | DynamoError::ProvisionedThroughputExceeded(_)
            | DynamoError::RequestLimitExceeded(_)
            | DynamoError::Throttling(_)
            | DynamoError::ItemCollectionSizeLimitExceeded(_)
            | DynamoError::TransactionCanceled { .. }
            | DynamoError::TransactionConflict(_)
            | DynamoError::TransactionInProgress(_)
            | DynamoError::IdempotentParameterMismatch(_)
            | DynamoError::MissingAuthenticationToken(_)
            | DynamoError::IncompleteSignature(_)
            | DynamoError::InvalidSignature(_)
            | DynamoError::UnrecognizedClient(_)
            | DynamoError::TrimmedDataAccess(_)
            | DynamoError::ExpiredIterator(_)
            | DynamoError::DuplicateItem(_)
            | DynamoError::AccessDenied(_) => 400,
        }
    }

    /// Whether DynamoDB's SDKs retry this error.
    pub fn is_retryable(&self) -> bool {
        match self {
            DynamoError::Internal(_)
            | DynamoError::ProvisionedThroughputExceeded(_)
            | DynamoError::RequestLimitExceeded(_)
            | DynamoError::Throttling(_)
            | DynamoError::TransactionConflict(_) => true,
            DynamoError::Validation(_)
            | DynamoError::Serialization(_)
            | DynamoError::UnknownOperation
            | DynamoError::ResourceNotFound(_)
            | DynamoError::ResourceInUse(_)
            | DynamoError::ConditionalCheckFailed { .. }
            | DynamoError::LimitExceeded(_)
            | DynamoError::ItemCollectionSizeLimitExceeded(_)
            | DynamoError::TransactionCanceled { .. }
            | DynamoError::TransactionInProgress(_)
            | DynamoError::IdempotentParameterMismatch(_)
            | DynamoError::MissingAuthenticationToken(_)
            | DynamoError::IncompleteSignature(_)
            | DynamoError::InvalidSignature(_)
            | DynamoError::UnrecognizedClient(_)
            | DynamoError::AccessDenied(_)
            | DynamoError::TrimmedDataAccess(_)
            | DynamoError::ExpiredIterator(_)
            | DynamoError::DuplicateItem(_)
            | DynamoError::RequestEntityTooLarge(_) => false,
        }
    }

    /// The message sent to the client (internal details masked).
    pub fn message(&self) -> Option<&str> {
        match self {
            DynamoError::UnknownOperation => None,
            DynamoError::Internal(_) => Some("Internal server error"),
            DynamoError::ConditionalCheckFailed { message, .. } | DynamoError::TransactionCanceled { message, .. } => {
                Some(message)
            }
            DynamoError::Validation(m)
            | DynamoError::Serialization(m)
            | DynamoError::ResourceNotFound(m)
            | DynamoError::ResourceInUse(m)
            | DynamoError::LimitExceeded(m)
            | DynamoError::ProvisionedThroughputExceeded(m)
            | DynamoError::RequestLimitExceeded(m)
            | DynamoError::Throttling(m)
            | DynamoError::ItemCollectionSizeLimitExceeded(m)
            | DynamoError::TransactionConflict(m)
            | DynamoError::TransactionInProgress(m)
            | DynamoError::IdempotentParameterMismatch(m)
            | DynamoError::MissingAuthenticationToken(m)
            | DynamoError::IncompleteSignature(m)
            | DynamoError::InvalidSignature(m)
            | DynamoError::UnrecognizedClient(m)
            | DynamoError::AccessDenied(m)
            | DynamoError::TrimmedDataAccess(m)
            | DynamoError::ExpiredIterator(m)
            | DynamoError::DuplicateItem(m)
            | DynamoError::RequestEntityTooLarge(m) => Some(m),
        }
    }

    /// The JSON body of the error response.
    pub fn to_json(&self) -> Value {
        let mut body = json!({ "__type": self.type_name() });
        if let Some(m) = self.message() {
            // Coral's own exceptions spell the member `Message`; DynamoDB's, `message`.
            let key = if self.namespace() == CORAL_SERVICE { "Message" } else { "message" };
            body[key] = Value::String(m.to_string());
        }
        match self {
            DynamoError::ConditionalCheckFailed { item: Some(item), .. } => {
                body["Item"] = item_to_json(item);
            }
            DynamoError::TransactionCanceled { reasons, .. } => {
                body["CancellationReasons"] = Value::Array(
                    reasons
                        .iter()
                        .map(|r| {
                            let mut o = json!({ "Code": r.code });
                            if let Some(m) = &r.message {
                                o["Message"] = Value::String(m.clone());
                            }
                            if let Some(item) = &r.item {
                                o["Item"] = item_to_json(item);
                            }
                            o
                        })
                        .collect(),
                );
            }
            _ => {}
        }
        body
    }
}

impl std::fmt::Display for DynamoError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            DynamoError::Internal(detail) => write!(f, "InternalServerError: {detail}"),
            _ => write!(f, "{}: {}", self.name(), self.message().unwrap_or("")),
        }
    }
}

impl std::error::Error for DynamoError {}

impl From<stator_types::DecodeError> for DynamoError {
    fn from(e: stator_types::DecodeError) -> Self {
        match e {
            stator_types::DecodeError::Serialization(m) => DynamoError::Serialization(m),
            stator_types::DecodeError::Validation(m) => DynamoError::Validation(m),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn wire_shapes() {
        let e = DynamoError::validation("bad");
        assert_eq!(e.http_status(), 400);
        assert_eq!(e.to_json(), json!({"__type": "com.amazon.coral.validate#ValidationException", "message": "bad"}));
        let e = DynamoError::ResourceNotFound("Requested resource not found".into());
        assert_eq!(e.to_json()["__type"], "com.amazonaws.dynamodb.v20120810#ResourceNotFoundException");
        let e = DynamoError::UnknownOperation;
        assert_eq!(e.to_json(), json!({"__type": "com.amazon.coral.service#UnknownOperationException"}));
        let e = DynamoError::Internal("disk on fire".into());
        assert_eq!(e.http_status(), 500);
        assert_eq!(e.to_json()["message"], "Internal server error");
        let e = DynamoError::Serialization("x".into());
        assert_eq!(e.to_json(), json!({"__type": "com.amazon.coral.service#SerializationException", "Message": "x"}));
    }

    #[test]
    fn conditional_check_failed_carries_item() {
        let mut item = Item::new();
        item.insert("a".into(), stator_types::AttributeValue::Bool(true));
        let e =
            DynamoError::ConditionalCheckFailed { message: "The conditional request failed".into(), item: Some(item) };
        assert_eq!(e.to_json()["Item"], json!({"a": {"BOOL": true}}));
    }
}
