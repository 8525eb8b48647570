//! The legacy (pre-expression) parameters: `Expected` (PutItem, UpdateItem,
//! DeleteItem), `QueryFilter` and `ScanFilter` (each with `ConditionalOperator`),
//! `KeyConditions` (Query) and `AttributeUpdates` (UpdateItem).
//!
//! They are translated into the crate's own AST ([`Condition`], [`KeyCondition`],
//! [`Update`]), so that they evaluate with exactly the semantics of the equivalent
//! expression. Attribute names are top-level names taken literally (a `.` is part of
//! the name). The values get the placeholders `:v0`, `:v1`, … in the order they
//! appear, so a translated tree prints as readable expression text.
//!
//! The translation of each ComparisonOperator (`a` the attribute, `:v` its values):
//!
//! | operator | arguments (types) | expression |
//! | --- | --- | --- |
//! | EQ, NE | 1 (any) | `a = :v`, `a <> :v` (true when `a` is missing) |
//! | LE, LT, GE, GT | 1 (S, N, B) | `a <= :v`, … |
//! | NOT_NULL, NULL | 0 | `attribute_exists(a)`, `attribute_not_exists(a)` |
//! | CONTAINS | 1 (S, N, B, BOOL, NULL) | `contains(a, :v)` |
//! | NOT_CONTAINS | 1 (S, N, B, BOOL, NULL) | `NOT contains(a, :v)` (true when `a` is missing) |
//! | BEGINS_WITH | 1 (S, B) | `begins_with(a, :v)` |
//! | IN | 1 or more (S, N, B) | `a IN (:v0, :v1, …)` |
//! | BETWEEN | 2 (S, N, B) | `a BETWEEN :v0 AND :v1` |
//!
//! Checks run in DynamoDB's order: first the request's enum members (an unknown
//! ComparisonOperator, ConditionalOperator or Action, a missing ComparisonOperator),
//! all reported together as "N validation error(s) detected: …"; then the use of
//! ConditionalOperator; then each entry in turn: its combination of members, the
//! number of its arguments, that they share one type, that the type suits the
//! operator, and that a BETWEEN range is not reversed.
//!
//! Not checked here, because they need the table: key attributes in a filter or
//! in `AttributeUpdates`, which attributes `KeyConditions` must name, key types.

use std::fmt;

use stator_types::{AttributeValue, ValueType};

use crate::ast::{CmpOp, Condition, Operand, Path, SetValue, Update, UpdateAction, UpdateOperand, ValueRef};
use crate::error::ExprError;
use crate::eval::compare_values;
use crate::keycond::{KeyCondition, KeyOp};

/// One element of `Expected`: an `ExpectedAttributeValue`.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ExpectedEntry {
    /// `Value`.
    pub value: Option<AttributeValue>,
    /// `Exists`.
    pub exists: Option<bool>,
    /// `ComparisonOperator`, as sent.
    pub comparison_operator: Option<String>,
    /// `AttributeValueList`.
    pub attribute_value_list: Option<Vec<AttributeValue>>,
}

/// One element of `QueryFilter`, `ScanFilter` or `KeyConditions`: a `Condition`.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct FilterEntry {
    /// `ComparisonOperator`, as sent (required).
    pub comparison_operator: Option<String>,
    /// `AttributeValueList`.
    pub attribute_value_list: Option<Vec<AttributeValue>>,
}

/// One element of `AttributeUpdates`: an `AttributeValueUpdate`.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct AttributeUpdateEntry {
    /// `Action`, as sent (PUT when absent).
    pub action: Option<String>,
    /// `Value`.
    pub value: Option<AttributeValue>,
}

/// Which legacy parameter a map came from; it names the parameter in messages.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum LegacyKind {
    /// `Expected` (PutItem, UpdateItem, DeleteItem).
    Expected,
    /// `QueryFilter` (Query).
    QueryFilter,
    /// `ScanFilter` (Scan).
    ScanFilter,
    /// `KeyConditions` (Query).
    KeyConditions,
}

impl LegacyKind {
    /// The parameter name as the API spells it.
    pub fn label(self) -> &'static str {
        match self {
            LegacyKind::Expected => "Expected",
            LegacyKind::QueryFilter => "QueryFilter",
            LegacyKind::ScanFilter => "ScanFilter",
            LegacyKind::KeyConditions => "KeyConditions",
        }
    }

    /// The member name as constraint messages spell it (`scanFilter`).
    pub fn member(self) -> &'static str {
        match self {
            LegacyKind::Expected => "expected",
            LegacyKind::QueryFilter => "queryFilter",
            LegacyKind::ScanFilter => "scanFilter",
            LegacyKind::KeyConditions => "keyConditions",
        }
    }
}

/// A legacy ComparisonOperator.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ComparisonOperator {
    /// `EQ`
    Eq,
    /// `NE`
    Ne,
    /// `LE`
    Le,
    /// `LT`
    Lt,
    /// `GE`
    Ge,
    /// `GT`
    Gt,
    /// `NOT_NULL`: the attribute exists.
    NotNull,
    /// `NULL`: the attribute does not exist.
    Null,
    /// `CONTAINS`
    Contains,
    /// `NOT_CONTAINS`
    NotContains,
    /// `BEGINS_WITH`
    BeginsWith,
    /// `IN`
    In,
    /// `BETWEEN`
    Between,
}

/// The enum value set DynamoDB lists when a ComparisonOperator is unknown.
const COMPARISON_OPERATORS: &str =
    "[IN, NULL, BETWEEN, LT, NOT_CONTAINS, EQ, GT, NOT_NULL, NE, LE, BEGINS_WITH, GE, CONTAINS]";

/// The enum value set DynamoDB lists when a ConditionalOperator is unknown.
const CONDITIONAL_OPERATORS: &str = "[AND, OR]";

/// The enum value set DynamoDB lists when an AttributeUpdates Action is unknown.
const ACTIONS: &str = "[ADD, PUT, DELETE]";

impl ComparisonOperator {
    /// Parses the wire name (case-sensitive, as DynamoDB's enum check is).
    pub fn parse(s: &str) -> Option<ComparisonOperator> {
        use ComparisonOperator as C;
        Some(match s {
            "EQ" => C::Eq,
            "NE" => C::Ne,
            "LE" => C::Le,
            "LT" => C::Lt,
            "GE" => C::Ge,
            "GT" => C::Gt,
            "NOT_NULL" => C::NotNull,
            "NULL" => C::Null,
            "CONTAINS" => C::Contains,
            "NOT_CONTAINS" => C::NotContains,
            "BEGINS_WITH" => C::BeginsWith,
            "IN" => C::In,
            "BETWEEN" => C::Between,
            _ => return None,
        })
    }

    /// The wire name.
    pub fn as_str(self) -> &'static str {
        use ComparisonOperator as C;
        match self {
            C::Eq => "EQ",
            C::Ne => "NE",
            C::Le => "LE",
            C::Lt => "LT",
            C::Ge => "GE",
            C::Gt => "GT",
            C::NotNull => "NOT_NULL",
            C::Null => "NULL",
            C::Contains => "CONTAINS",
            C::NotContains => "NOT_CONTAINS",
            C::BeginsWith => "BEGINS_WITH",
            C::In => "IN",
            C::Between => "BETWEEN",
        }
    }

    /// Whether the operator takes `n` values.
    pub fn takes(self, n: usize) -> bool {
        use ComparisonOperator as C;
        match self {
            C::NotNull | C::Null => n == 0,
            C::In => n >= 1,
            C::Between => n == 2,
            _ => n == 1,
        }
    }

    /// Whether the operator accepts values of type `t`.
    pub fn accepts(self, t: ValueType) -> bool {
        use ComparisonOperator as C;
        use ValueType as T;
        match self {
            C::Eq | C::Ne | C::NotNull | C::Null => true,
            C::Le | C::Lt | C::Ge | C::Gt | C::Between | C::In => matches!(t, T::S | T::N | T::B),
            C::BeginsWith => matches!(t, T::S | T::B),
            C::Contains | C::NotContains => matches!(t, T::S | T::N | T::B | T::Bool | T::Null),
        }
    }

    /// The key condition the operator makes in `KeyConditions`, if it may be used there.
    fn key_op(self) -> Option<KeyOp> {
        use ComparisonOperator as C;
        Some(match self {
            C::Eq => KeyOp::Eq,
            C::Le => KeyOp::Le,
            C::Lt => KeyOp::Lt,
            C::Ge => KeyOp::Ge,
            C::Gt => KeyOp::Gt,
            C::BeginsWith => KeyOp::BeginsWith,
            C::Between => KeyOp::Between,
            _ => return None,
        })
    }
}

impl fmt::Display for ComparisonOperator {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

// ---- messages ----

/// `One or more parameter values were invalid: <msg>`.
fn invalid(msg: impl fmt::Display) -> ExprError {
    ExprError(format!("One or more parameter values were invalid: {msg}"))
}

/// Collects the request's enum-constraint violations, reported together the way
/// DynamoDB's request validation reports them.
#[derive(Default)]
struct Constraints(Vec<String>);

impl Constraints {
    fn enum_value(&mut self, value: &str, at: impl fmt::Display, set: &str) {
        self.0.push(format!(
            "Value '{value}' at '{at}' failed to satisfy constraint: Member must satisfy enum value set: {set}"
        ));
    }

    fn not_null(&mut self, at: impl fmt::Display) {
        self.0.push(format!("Value null at '{at}' failed to satisfy constraint: Member must not be null"));
    }

    fn finish(self) -> Result<(), ExprError> {
        match self.0.len() {
            0 => Ok(()),
            1 => Err(ExprError(format!("1 validation error detected: {}", self.0.join("; ")))),
            n => Err(ExprError(format!("{n} validation errors detected: {}", self.0.join("; ")))),
        }
    }
}

fn wrong_count(op: ComparisonOperator) -> ExprError {
    invalid(format_args!("Invalid number of argument(s) for the {op} ComparisonOperator"))
}

fn operator_use() -> ExprError {
    ExprError("ConditionalOperator can only be used when Filter or Expected has two or more elements".into())
}

/// Parses a ComparisonOperator member, noting a bad or missing one. `required`:
/// a `Condition`'s operator must be present, an `ExpectedAttributeValue`'s may not.
fn comparison_operator(
    raw: Option<&str>,
    kind: LegacyKind,
    name: &str,
    required: bool,
    c: &mut Constraints,
) -> Option<ComparisonOperator> {
    let at = format_args!("{}.{name}.member.comparisonOperator", kind.member());
    match raw {
        None => {
            if required {
                c.not_null(at);
            }
            None
        }
        Some(s) => {
            let op = ComparisonOperator::parse(s);
            if op.is_none() {
                c.enum_value(s, at, COMPARISON_OPERATORS);
            }
            op
        }
    }
}

/// Parses ConditionalOperator: true for OR, false for AND (also the default).
fn parse_conditional_operator(raw: Option<&str>, c: &mut Constraints) -> bool {
    match raw {
        Some("OR") => true,
        None | Some("AND") => false,
        Some(other) => {
            c.enum_value(other, "conditionalOperator", CONDITIONAL_OPERATORS);
            false
        }
    }
}

/// ConditionalOperator only makes sense with two or more conditions.
fn check_operator_use(raw: Option<&str>, entries: usize) -> Result<(), ExprError> {
    if raw.is_some() && entries < 2 {
        return Err(operator_use());
    }
    Ok(())
}

/// Checks an operator's values: their number, that they share one type, that the
/// type suits the operator, and that a BETWEEN range is not reversed.
fn check_values(op: ComparisonOperator, values: &[AttributeValue]) -> Result<(), ExprError> {
    if !op.takes(values.len()) {
        return Err(wrong_count(op));
    }
    let Some(first) = values.first() else {
        return Ok(());
    };
    let t = first.value_type();
    if values.iter().any(|v| v.value_type() != t) {
        return Err(invalid("AttributeValues inside AttributeValueList must be of same type"));
    }
    if !op.accepts(t) {
        return Err(invalid(format_args!("ComparisonOperator {op} is not valid for {t} AttributeValue type")));
    }
    if let [lo, hi] = values {
        if op == ComparisonOperator::Between && compare_values(lo, hi) == Some(std::cmp::Ordering::Greater) {
            return Err(ExprError(
                "The BETWEEN condition was provided a range where the lower bound is greater than the upper bound"
                    .into(),
            ));
        }
    }
    Ok(())
}

// ---- building conditions ----

/// Hands out the placeholders `:v0`, `:v1`, … for the values of one translation.
#[derive(Default)]
struct Placeholders(usize);

impl Placeholders {
    fn value_ref(&mut self, value: AttributeValue) -> ValueRef {
        let name = format!(":v{}", self.0);
        self.0 += 1;
        ValueRef { name, value }
    }

    fn value(&mut self, value: AttributeValue) -> Operand {
        Operand::Value(self.value_ref(value))
    }
}

/// The condition `op` makes on the top-level attribute `name` with (already
/// checked) `values`.
fn leaf(
    op: ComparisonOperator,
    name: &str,
    values: Vec<AttributeValue>,
    ph: &mut Placeholders,
) -> Result<Condition, ExprError> {
    use ComparisonOperator as C;
    let path = Path::attr(name);
    let attr = Operand::Path(path.clone());
    let mut vals: Vec<Operand> = values.into_iter().map(|v| ph.value(v)).collect();
    let one = |vals: &mut Vec<Operand>| match (vals.pop(), vals.is_empty()) {
        (Some(v), true) => Ok(v),
        _ => Err(wrong_count(op)),
    };
    Ok(match op {
        C::Eq => Condition::Compare(CmpOp::Eq, attr, one(&mut vals)?),
        C::Ne => Condition::Compare(CmpOp::Ne, attr, one(&mut vals)?),
        C::Le => Condition::Compare(CmpOp::Le, attr, one(&mut vals)?),
        C::Lt => Condition::Compare(CmpOp::Lt, attr, one(&mut vals)?),
        C::Ge => Condition::Compare(CmpOp::Ge, attr, one(&mut vals)?),
        C::Gt => Condition::Compare(CmpOp::Gt, attr, one(&mut vals)?),
        C::NotNull => Condition::AttributeExists(path),
        C::Null => Condition::AttributeNotExists(path),
        C::Contains => Condition::Contains(attr, one(&mut vals)?),
        C::NotContains => Condition::Not(Box::new(Condition::Contains(attr, one(&mut vals)?))),
        C::BeginsWith => Condition::BeginsWith(attr, one(&mut vals)?),
        C::In if !vals.is_empty() => Condition::In(attr, vals),
        C::Between => match <[Operand; 2]>::try_from(vals) {
            Ok([lo, hi]) => Condition::Between(attr, lo, hi),
            Err(_) => return Err(wrong_count(op)),
        },
        C::In => return Err(wrong_count(op)),
    })
}

/// Joins the conditions of a map with AND (or OR), left to right.
fn combine(conditions: Vec<Condition>, or: bool) -> Option<Condition> {
    conditions.into_iter().reduce(|l, r| {
        if or {
            Condition::Or(Box::new(l), Box::new(r))
        } else {
            Condition::And(Box::new(l), Box::new(r))
        }
    })
}

/// One `Expected` element, its ComparisonOperator already parsed.
fn expected_leaf(
    name: &str,
    e: &ExpectedEntry,
    op: Option<ComparisonOperator>,
    ph: &mut Placeholders,
) -> Result<Condition, ExprError> {
    if e.value.is_some() && e.attribute_value_list.is_some() {
        return Err(invalid(format_args!(
            "Value and AttributeValueList cannot be used together for Attribute: {name}"
        )));
    }
    if let Some(op) = op {
        if e.exists.is_some() {
            return Err(invalid(format_args!(
                "Exists and ComparisonOperator cannot be used together for Attribute: {name}"
            )));
        }
        // `Value` with a ComparisonOperator stands for a one-element list.
        let values = match (&e.attribute_value_list, &e.value) {
            (Some(list), _) => list.clone(),
            (None, Some(v)) => vec![v.clone()],
            (None, None) => Vec::new(),
        };
        check_values(op, &values)?;
        return leaf(op, name, values, ph);
    }
    if e.attribute_value_list.is_some() {
        return Err(invalid(format_args!(
            "AttributeValueList can only be used with a ComparisonOperator for Attribute: {name}"
        )));
    }
    match (e.exists, &e.value) {
        (Some(false), Some(_)) => {
            Err(invalid(format_args!("Value cannot be used when Exists is false for Attribute: {name}")))
        }
        (Some(false), None) => Ok(Condition::AttributeNotExists(Path::attr(name))),
        (Some(true), None) => {
            Err(invalid(format_args!("Value must be provided when Exists is true for Attribute: {name}")))
        }
        (None, None) => Err(invalid(format_args!("Value must be provided when Exists is null for Attribute: {name}"))),
        (_, Some(v)) => Ok(Condition::Compare(CmpOp::Eq, Operand::Path(Path::attr(name)), ph.value(v.clone()))),
    }
}

/// Translates `Expected` (with the request's raw `ConditionalOperator`) into a
/// condition; None when the map is empty.
///
/// Per element: `Value` alone (or with `Exists: true`) means EQ; `Exists: false`
/// alone means the attribute must not exist; `ComparisonOperator` takes its values
/// from `AttributeValueList`, or from `Value` as a one-element list.
pub fn expected_condition(
    entries: &[(String, ExpectedEntry)],
    conditional_operator: Option<&str>,
) -> Result<Option<Condition>, ExprError> {
    let kind = LegacyKind::Expected;
    let mut c = Constraints::default();
    let ops: Vec<Option<ComparisonOperator>> = entries
        .iter()
        .map(|(name, e)| comparison_operator(e.comparison_operator.as_deref(), kind, name, false, &mut c))
        .collect();
    let or = parse_conditional_operator(conditional_operator, &mut c);
    c.finish()?;
    check_operator_use(conditional_operator, entries.len())?;
    let mut ph = Placeholders::default();
    let conditions = entries
        .iter()
        .zip(ops)
        .map(|((name, e), op)| expected_leaf(name, e, op, &mut ph))
        .collect::<Result<Vec<_>, _>>()?;
    Ok(combine(conditions, or))
}

/// Parses the operators of a `Condition` map (QueryFilter, ScanFilter,
/// KeyConditions), noting unknown and missing ones.
fn filter_entries(
    kind: LegacyKind,
    entries: &[(String, FilterEntry)],
    c: &mut Constraints,
) -> Vec<Option<ComparisonOperator>> {
    entries.iter().map(|(name, e)| comparison_operator(e.comparison_operator.as_deref(), kind, name, true, c)).collect()
}

/// Translates `QueryFilter` / `ScanFilter` (`kind` names it) with the request's raw
/// `ConditionalOperator` into a condition; None when the map is empty.
pub fn filter_condition(
    kind: LegacyKind,
    entries: &[(String, FilterEntry)],
    conditional_operator: Option<&str>,
) -> Result<Option<Condition>, ExprError> {
    let mut c = Constraints::default();
    let ops = filter_entries(kind, entries, &mut c);
    let or = parse_conditional_operator(conditional_operator, &mut c);
    c.finish()?;
    check_operator_use(conditional_operator, entries.len())?;
    let mut ph = Placeholders::default();
    let mut conditions = Vec::with_capacity(entries.len());
    for ((name, e), op) in entries.iter().zip(ops) {
        // A missing operator was reported above; this is never reached without one.
        let Some(op) = op else { continue };
        let values = e.attribute_value_list.clone().unwrap_or_default();
        check_values(op, &values)?;
        conditions.push(leaf(op, name, values, &mut ph)?);
    }
    Ok(combine(conditions, or))
}

/// Translates `KeyConditions` into key conditions, in the map's order: the same
/// type [`crate::key_conditions`] gives for a KeyConditionExpression. Only EQ, LE,
/// LT, GE, GT, BEGINS_WITH and BETWEEN may be used ("Attempted conditional
/// constraint is not an indexable operation"). Which attributes must appear, and
/// their types, depend on the key schema and are the caller's check.
pub fn key_conditions_legacy(entries: &[(String, FilterEntry)]) -> Result<Vec<KeyCondition>, ExprError> {
    let mut c = Constraints::default();
    let ops = filter_entries(LegacyKind::KeyConditions, entries, &mut c);
    c.finish()?;
    let mut out = Vec::with_capacity(entries.len());
    for ((name, e), op) in entries.iter().zip(ops) {
        let Some(op) = op else { continue };
        let values = e.attribute_value_list.clone().unwrap_or_default();
        check_values(op, &values)?;
        let Some(key_op) = op.key_op() else {
            return Err(ExprError("Attempted conditional constraint is not an indexable operation".into()));
        };
        out.push(KeyCondition { attribute: name.clone(), op: key_op, values });
    }
    Ok(out)
}

// ---- AttributeUpdates ----

#[derive(Clone, Copy, PartialEq, Eq)]
enum Action {
    Put,
    Add,
    Delete,
}

/// Translates `AttributeUpdates` into an update, in the map's order:
/// - PUT (the default) with a value: `SET a = :v`;
/// - DELETE without a value: `REMOVE a`;
/// - DELETE with a set: removes those elements ([`UpdateAction::LegacyDelete`]);
/// - ADD with a number, a set or a list: adds the number (a missing attribute counts
///   as 0), unions the set, appends the list ([`UpdateAction::LegacyAdd`]).
///
/// PUT or ADD without a value, ADD of another type, or DELETE with a value that is
/// not a set are refused up front; a value that does not fit the stored attribute
/// fails when the update is applied.
pub fn attribute_updates(entries: &[(String, AttributeUpdateEntry)]) -> Result<Update, ExprError> {
    let mut c = Constraints::default();
    let actions: Vec<Action> = entries
        .iter()
        .map(|(name, e)| match e.action.as_deref() {
            None | Some("PUT") => Action::Put,
            Some("ADD") => Action::Add,
            Some("DELETE") => Action::Delete,
            Some(other) => {
                c.enum_value(other, format_args!("attributeUpdates.{name}.member.action"), ACTIONS);
                Action::Put
            }
        })
        .collect();
    c.finish()?;
    let mut ph = Placeholders::default();
    let mut out = Vec::with_capacity(entries.len());
    for ((name, e), action) in entries.iter().zip(actions) {
        let path = Path::attr(name.as_str());
        let value = match (&e.value, action) {
            (None, Action::Delete) => {
                out.push(UpdateAction::Remove(path));
                continue;
            }
            (None, _) => return Err(invalid("Only DELETE action is allowed when no attribute value is specified")),
            (Some(v), _) => v,
        };
        let t = value.value_type();
        let v = ph.value_ref(value.clone());
        out.push(match action {
            Action::Put => UpdateAction::Set(path, SetValue::Operand(UpdateOperand::Value(v))),
            Action::Add => {
                if !matches!(t, ValueType::N | ValueType::SS | ValueType::NS | ValueType::BS | ValueType::L) {
                    return Err(invalid(format_args!("ADD action is not supported for the type {t}")));
                }
                UpdateAction::LegacyAdd(path, v)
            }
            Action::Delete => {
                if !matches!(t, ValueType::SS | ValueType::NS | ValueType::BS) {
                    return Err(invalid(format_args!("DELETE action with value is not supported for the type {t}")));
                }
                UpdateAction::LegacyDelete(path, v)
            }
        });
    }
    Ok(Update { actions: out })
}
