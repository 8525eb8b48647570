//! The error type of the crate and the labels DynamoDB puts in front of expression
//! messages ("Invalid ConditionExpression: ...").

use std::fmt;

/// An expression problem. The engine answers it with a `ValidationException` whose
/// message is exactly this string.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ExprError(pub String);

impl ExprError {
    /// The message text.
    pub fn message(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for ExprError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for ExprError {}

/// Which request parameter an expression came from: it names the expression in
/// DynamoDB's messages ("Invalid FilterExpression: ...").
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ExprKind {
    /// `ConditionExpression` (PutItem, UpdateItem, DeleteItem, transactions).
    Condition,
    /// `FilterExpression` (Query, Scan).
    Filter,
    /// `KeyConditionExpression` (Query).
    KeyCondition,
    /// `UpdateExpression` (UpdateItem).
    Update,
    /// `ProjectionExpression` (GetItem, Query, Scan, ...).
    Projection,
}

impl ExprKind {
    /// The parameter name as DynamoDB prints it.
    pub fn label(self) -> &'static str {
        match self {
            ExprKind::Condition => "ConditionExpression",
            ExprKind::Filter => "FilterExpression",
            ExprKind::KeyCondition => "KeyConditionExpression",
            ExprKind::Update => "UpdateExpression",
            ExprKind::Projection => "ProjectionExpression",
        }
    }

    /// `Invalid <label>: <msg>`.
    pub(crate) fn err(self, msg: impl fmt::Display) -> ExprError {
        ExprError(format!("Invalid {}: {msg}", self.label()))
    }
}

/// Longest expression string DynamoDB accepts, in bytes.
pub const MAX_EXPRESSION_SIZE: usize = 4096;

/// Most operators and functions one expression may hold.
pub const MAX_OPERATORS: usize = 300;

/// Most operands on the right of `IN`.
pub const MAX_IN_OPERANDS: usize = 100;

/// Checks that apply to every expression string before it is parsed: not empty, not
/// longer than 4 KB.
pub(crate) fn check_text(expr: &str, kind: ExprKind) -> Result<(), ExprError> {
    if expr.is_empty() {
        return Err(kind.err("The expression can not be empty;"));
    }
    if expr.len() > MAX_EXPRESSION_SIZE {
        return Err(kind.err(format_args!(
            "Expression size has exceeded the maximum allowed size; expression size: {}",
            expr.len()
        )));
    }
    Ok(())
}

/// Messages raised while an update is applied to an item; DynamoDB sends them bare,
/// without the "Invalid UpdateExpression:" prefix.
pub(crate) mod runtime {
    use super::ExprError;

    pub(crate) fn missing_attribute() -> ExprError {
        ExprError("The provided expression refers to an attribute that does not exist in the item".into())
    }

    pub(crate) fn wrong_type() -> ExprError {
        ExprError("An operand in the update expression has an incorrect data type".into())
    }

    /// A legacy `AttributeUpdates` ADD or DELETE whose value does not fit the stored one.
    pub(crate) fn legacy_type_mismatch() -> ExprError {
        ExprError("Type mismatch for attribute to update".into())
    }

    pub(crate) fn invalid_path() -> ExprError {
        ExprError("The document path provided in the update expression is invalid for update".into())
    }
}
