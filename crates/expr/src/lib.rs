//! DynamoDB's expression language: parsing condition, filter, key-condition, update
//! and projection expressions, resolving `#name` / `:value` placeholders, evaluating
//! conditions, applying updates and projections. Pure logic: no storage, no I/O.
//!
//! Every error is an [`ExprError`] carrying DynamoDB's exact message; the engine
//! answers it with a `ValidationException`. Checks run in DynamoDB's order: the
//! expression's size, then its syntax, then structural problems (a clause used twice,
//! redundant parentheses, more than 300 operators), then reserved words, undefined
//! `#names`, undefined `:values`, then function and operand checks, and last
//! overlapping document paths. The unused-placeholder check runs once per request,
//! after all its expressions ([`Resolver::check_all_used`]).
//!
//! The legacy parameters (`Expected`, `QueryFilter`, `ScanFilter`, `KeyConditions`,
//! `AttributeUpdates`, with `ConditionalOperator`) translate into the same trees
//! ([`expected_condition`], [`filter_condition`], [`key_conditions_legacy`],
//! [`attribute_updates`]), so they evaluate exactly as the equivalent expressions.
//!
//! ```
//! use std::collections::HashMap;
//! use stator_expr::{parse_condition, parse_update, ExprKind, Resolver};
//! use stator_types::{AttributeValue, Item, Number};
//!
//! let values: HashMap<String, AttributeValue> =
//!     [(":one".to_string(), AttributeValue::N(Number::from_i64(1)))].into();
//! let mut r = Resolver::new(None, Some(&values));
//! let cond = parse_condition("attribute_not_exists(n) OR n < :one", ExprKind::Condition, &mut r).unwrap();
//! let update = parse_update("ADD n :one", &mut r).unwrap();
//! r.check_all_used().unwrap();
//!
//! let mut item = Item::new();
//! assert!(cond.eval(&item).unwrap());
//! update.apply(&mut item).unwrap();
//! assert_eq!(item["n"], AttributeValue::N(Number::from_i64(1)));
//! ```

#![warn(missing_docs)]
#![cfg_attr(test, allow(clippy::unwrap_used))]

mod ast;
mod build;
mod cache;
mod error;
mod eval;
mod keycond;
mod legacy;
mod lexer;
mod projection;
pub mod reserved;
mod resolve;
mod syntax;
mod update;

pub use ast::{
    CmpOp, Condition, Operand, Path, PathElem, PathExpr, SetValue, Update, UpdateAction, UpdateOperand, ValueRef,
};
pub use error::{ExprError, ExprKind, MAX_EXPRESSION_SIZE, MAX_IN_OPERANDS, MAX_OPERATORS};
pub use eval::{compare_values, get_path, size_of, values_equal};
pub use keycond::{key_conditions, KeyCondition, KeyOp};
pub use legacy::{
    attribute_updates, expected_condition, filter_condition, key_conditions_legacy, AttributeUpdateEntry,
    ComparisonOperator, ExpectedEntry, FilterEntry, LegacyKind,
};
pub use projection::project;
pub use resolve::Resolver;

use error::check_text;

/// Parses a ConditionExpression, FilterExpression or KeyConditionExpression (`kind`
/// names it in messages), resolving its placeholders through `r`.
pub fn parse_condition(expr: &str, kind: ExprKind, r: &mut Resolver) -> Result<Condition, ExprError> {
    check_text(expr, kind)?;
    let parsed = cache::condition(expr, kind)?;
    if let Some(e) = &parsed.deferred {
        return Err(e.clone());
    }
    r.check_refs(&parsed.refs, kind)?;
    build::condition(&parsed.tree, r, kind)
}

/// Parses an UpdateExpression, resolving its placeholders through `r`.
pub fn parse_update(expr: &str, r: &mut Resolver) -> Result<Update, ExprError> {
    let kind = ExprKind::Update;
    check_text(expr, kind)?;
    let parsed = cache::update(expr)?;
    if let Some(e) = &parsed.deferred {
        return Err(e.clone());
    }
    r.check_refs(&parsed.refs, kind)?;
    build::update(&parsed.tree, r)
}

/// Parses a ProjectionExpression into its document paths, resolving its `#names`
/// through `r`. Paths that overlap (one is, or is inside, another) or conflict (a
/// step used as map key in one and list index in the other) are refused.
pub fn parse_projection(expr: &str, r: &mut Resolver) -> Result<Vec<Path>, ExprError> {
    let kind = ExprKind::Projection;
    check_text(expr, kind)?;
    let parsed = syntax::parse_projection(expr)?;
    if let Some(e) = parsed.deferred {
        return Err(e);
    }
    r.check_refs(&parsed.refs, kind)?;
    let paths: Vec<Path> = parsed.tree.iter().map(|p| r.path(p)).collect();
    build::check_paths(&paths.iter().collect::<Vec<_>>(), kind)?;
    Ok(paths)
}
