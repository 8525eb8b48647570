//! Reading a parsed KeyConditionExpression as per-attribute key conditions.
//!
//! A key condition may only AND together comparisons of one top-level attribute with
//! a value: `=`, `<`, `<=`, `>`, `>=`, BETWEEN and begins_with. Any other operator is
//! refused with `Invalid operator used in KeyConditionExpression: <op>`; two
//! conditions on one attribute with "KeyConditionExpressions must only contain one
//! condition per key". Whether the attributes are the right key attributes, and how
//! many conditions there may be, depends on the key schema and is the caller's check.

use stator_types::AttributeValue;

use crate::ast::{CmpOp, Condition, Operand, Path};
use crate::error::ExprError;

/// The comparison a key condition makes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum KeyOp {
    /// `=`
    Eq,
    /// `<`
    Lt,
    /// `<=`
    Le,
    /// `>`
    Gt,
    /// `>=`
    Ge,
    /// `BETWEEN lo AND hi` (two values)
    Between,
    /// `begins_with(attr, prefix)`
    BeginsWith,
}

/// One key condition: `attribute op values`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct KeyCondition {
    /// The (top-level) attribute.
    pub attribute: String,
    /// The comparison.
    pub op: KeyOp,
    /// Its values: one, or two for BETWEEN.
    pub values: Vec<AttributeValue>,
}

fn invalid_operator(op: &str) -> ExprError {
    ExprError(format!("Invalid operator used in KeyConditionExpression: {op}"))
}

fn unsupported() -> ExprError {
    ExprError("Query key condition not supported".into())
}

fn attribute(p: &Path) -> Result<String, ExprError> {
    match p.top() {
        Some(a) if p.is_top_level() => Ok(a.to_string()),
        _ => Err(ExprError("KeyConditionExpressions cannot have conditions on nested attributes".into())),
    }
}

fn leaf(c: &Condition) -> Result<KeyCondition, ExprError> {
    match c {
        Condition::Compare(op, a, b) => {
            let (path, value, op) = match (a, b) {
                (Operand::Size(_), _) | (_, Operand::Size(_)) => return Err(invalid_operator("size")),
                (Operand::Path(p), Operand::Value(v)) => (p, v, *op),
                // `:v < k` reads as `k > :v`.
                (Operand::Value(v), Operand::Path(p)) => (p, v, op.flipped()),
                _ if *op == CmpOp::Ne => return Err(invalid_operator("<>")),
                _ => return Err(unsupported()),
            };
            let op = match op {
                CmpOp::Eq => KeyOp::Eq,
                CmpOp::Lt => KeyOp::Lt,
                CmpOp::Le => KeyOp::Le,
                CmpOp::Gt => KeyOp::Gt,
                CmpOp::Ge => KeyOp::Ge,
                CmpOp::Ne => return Err(invalid_operator("<>")),
            };
            Ok(KeyCondition { attribute: attribute(path)?, op, values: vec![value.value.clone()] })
        }
        Condition::Between(Operand::Path(p), Operand::Value(lo), Operand::Value(hi)) => Ok(KeyCondition {
            attribute: attribute(p)?,
            op: KeyOp::Between,
            values: vec![lo.value.clone(), hi.value.clone()],
        }),
        Condition::BeginsWith(Operand::Path(p), Operand::Value(v)) => {
            Ok(KeyCondition { attribute: attribute(p)?, op: KeyOp::BeginsWith, values: vec![v.value.clone()] })
        }
        Condition::Between(..) | Condition::BeginsWith(..) => Err(unsupported()),
        Condition::In(..) => Err(invalid_operator("IN")),
        Condition::AttributeExists(_) => Err(invalid_operator("attribute_exists")),
        Condition::AttributeNotExists(_) => Err(invalid_operator("attribute_not_exists")),
        Condition::AttributeType(..) => Err(invalid_operator("attribute_type")),
        Condition::Contains(..) => Err(invalid_operator("contains")),
        Condition::Not(_) => Err(invalid_operator("NOT")),
        Condition::Or(..) => Err(invalid_operator("OR")),
        Condition::And(..) => Err(unsupported()),
    }
}

fn collect(c: &Condition, out: &mut Vec<KeyCondition>) -> Result<(), ExprError> {
    if let Condition::And(l, r) = c {
        collect(l, out)?;
        return collect(r, out);
    }
    let k = leaf(c)?;
    if out.iter().any(|o| o.attribute == k.attribute) {
        return Err(ExprError("KeyConditionExpressions must only contain one condition per key".into()));
    }
    out.push(k);
    Ok(())
}

/// Splits a parsed KeyConditionExpression into its per-attribute conditions, in
/// source order.
pub fn key_conditions(c: &Condition) -> Result<Vec<KeyCondition>, ExprError> {
    let mut out = Vec::new();
    collect(c, &mut out)?;
    Ok(out)
}
