//! Semantic checks: turns raw trees (names already checked by the resolver) into
//! the resolved AST, refusing what DynamoDB refuses once the syntax is good —
//! unknown functions, functions in the wrong place, wrong operand counts, operands
//! that must be document paths, literal values of the wrong type, BETWEEN bounds out
//! of order, too many IN operands, and overlapping or conflicting document paths.
//! Problems are reported in source order, first one wins.

use stator_types::{AttributeValue, ValueType};

use crate::ast::{Condition, Operand, Path, PathElem, SetValue, Update, UpdateAction, UpdateOperand, ValueRef};
use crate::error::{ExprError, ExprKind, MAX_IN_OPERANDS};
use crate::eval::compare_values;
use crate::resolve::Resolver;
use crate::syntax::{RawAction, RawCall, RawCond, RawOperand, RawSet};

/// Functions a condition may use as a condition.
const CONDITION_FUNCTIONS: [&str; 5] =
    ["attribute_exists", "attribute_not_exists", "attribute_type", "begins_with", "contains"];

/// Functions only an update's SET may use.
const UPDATE_FUNCTIONS: [&str; 2] = ["if_not_exists", "list_append"];

/// The type names attribute_type accepts, in the order DynamoDB lists them.
const VALID_TYPES: &str = "{B,NULL,SS,BOOL,L,BS,N,NS,S,M}";

struct Ctx<'r, 'a> {
    r: &'r Resolver<'a>,
    kind: ExprKind,
}

fn describe(v: &AttributeValue) -> String {
    let body = match v {
        AttributeValue::S(s) => format!("S:{s}"),
        AttributeValue::N(n) => format!("N:{n}"),
        AttributeValue::B(_) => {
            let j = v.to_json();
            format!("B:{}", j.get("B").and_then(|b| b.as_str()).unwrap_or(""))
        }
        other => {
            let j = other.to_json();
            let t = other.value_type().as_str();
            format!("{t}:{}", j.get(t).map(|x| x.to_string()).unwrap_or_default())
        }
    };
    format!("AttributeValue: {{{body}}}")
}

impl Ctx<'_, '_> {
    fn err(&self, msg: impl std::fmt::Display) -> ExprError {
        self.kind.err(msg)
    }

    fn invalid_function(&self, name: &str) -> ExprError {
        self.err(format_args!("Invalid function name; function: {name}"))
    }

    fn misused(&self, name: &str) -> ExprError {
        self.err(format_args!("The function is not allowed to be used this way in an expression; function: {name}"))
    }

    fn not_in_condition(&self, name: &str) -> ExprError {
        // DynamoDB's own wording, "an condition" included.
        self.err(format_args!("The function is not allowed in an condition expression; function: {name}"))
    }

    fn operand_count(&self, name: &str, n: usize) -> ExprError {
        self.err(format_args!(
            "Incorrect number of operands for operator or function; operator or function: {name}, number of operands: {n}"
        ))
    }

    fn need_path(&self, name: &str) -> ExprError {
        self.err(format_args!("Operator or function requires a document path; operator or function: {name}"))
    }

    fn operand_type(&self, name: &str, t: ValueType) -> ExprError {
        self.err(format_args!(
            "Incorrect operand type for operator or function; operator or function: {name}, operand type: {t}"
        ))
    }

    fn value(&self, placeholder: &str) -> Result<ValueRef, ExprError> {
        match self.r.value(placeholder) {
            Some(v) => Ok(ValueRef { name: placeholder.to_string(), value: v.clone() }),
            None => Err(self.err(format_args!(
                "An expression attribute value used in expression is not defined; attribute value: {placeholder}"
            ))),
        }
    }

    fn arity(&self, call: &RawCall, n: usize) -> Result<(), ExprError> {
        if call.args.len() == n {
            Ok(())
        } else {
            Err(self.operand_count(&call.name, call.args.len()))
        }
    }

    /// The two operands of a two-operand function.
    fn two<'c>(&self, call: &'c RawCall) -> Result<(&'c RawOperand, &'c RawOperand), ExprError> {
        match call.args.as_slice() {
            [a, b] => Ok((a, b)),
            other => Err(self.operand_count(&call.name, other.len())),
        }
    }

    fn path_arg(&self, call: &RawCall, i: usize) -> Result<Path, ExprError> {
        match call.args.get(i) {
            Some(RawOperand::Path(p)) => Ok(self.r.path(p)),
            _ => Err(self.need_path(&call.name)),
        }
    }

    // ---- conditions ----

    fn operand(&self, raw: &RawOperand) -> Result<Operand, ExprError> {
        match raw {
            RawOperand::Path(p) => Ok(Operand::Path(self.r.path(p))),
            RawOperand::Value(v) => self.value(v).map(Operand::Value),
            RawOperand::Call(c) => {
                if c.name == "size" {
                    self.arity(c, 1)?;
                    return self.path_arg(c, 0).map(Operand::Size);
                }
                if CONDITION_FUNCTIONS.contains(&c.name.as_str()) {
                    return Err(self.misused(&c.name));
                }
                if UPDATE_FUNCTIONS.contains(&c.name.as_str()) {
                    return Err(self.not_in_condition(&c.name));
                }
                Err(self.invalid_function(&c.name))
            }
        }
    }

    /// `<`, `<=`, `>`, `>=` and BETWEEN only order numbers, strings and binaries; a
    /// literal of another type is refused up front (a path's type is only known per item).
    fn orderable(&self, op: &str, o: &Operand) -> Result<(), ExprError> {
        if let Operand::Value(v) = o {
            let t = v.value.value_type();
            if !matches!(t, ValueType::N | ValueType::S | ValueType::B) {
                return Err(self.operand_type(op, t));
            }
        }
        Ok(())
    }

    /// Builds the logical structure iteratively (post-order, left to right, so errors
    /// come in source order); leaves go to [`Self::leaf`]. Nesting depth therefore
    /// never costs call stack here.
    fn condition(&self, raw: &RawCond) -> Result<Condition, ExprError> {
        enum Step<'t> {
            Visit(&'t RawCond),
            Not,
            And,
            Or,
        }
        let mut work = vec![Step::Visit(raw)];
        let mut out: Vec<Condition> = Vec::new();
        while let Some(step) = work.pop() {
            match step {
                Step::Visit(RawCond::Not(c)) => work.extend([Step::Not, Step::Visit(c)]),
                Step::Visit(RawCond::And(l, r)) => work.extend([Step::And, Step::Visit(r), Step::Visit(l)]),
                Step::Visit(RawCond::Or(l, r)) => work.extend([Step::Or, Step::Visit(r), Step::Visit(l)]),
                Step::Visit(leaf) => out.push(self.leaf(leaf)?),
                Step::Not => {
                    let c = out.pop().ok_or_else(|| self.err("Syntax error"))?;
                    out.push(Condition::Not(Box::new(c)));
                }
                Step::And | Step::Or => {
                    let r = out.pop().ok_or_else(|| self.err("Syntax error"))?;
                    let l = out.pop().ok_or_else(|| self.err("Syntax error"))?;
                    out.push(if matches!(step, Step::And) {
                        Condition::And(Box::new(l), Box::new(r))
                    } else {
                        Condition::Or(Box::new(l), Box::new(r))
                    });
                }
            }
        }
        out.pop().ok_or_else(|| self.err("Syntax error"))
    }

    #[inline(never)]
    fn leaf(&self, raw: &RawCond) -> Result<Condition, ExprError> {
        Ok(match raw {
            RawCond::Cmp(op, a, b) => {
                let (a, b) = (self.operand(a)?, self.operand(b)?);
                if !matches!(op, crate::ast::CmpOp::Eq | crate::ast::CmpOp::Ne) {
                    self.orderable(op.as_str(), &a)?;
                    self.orderable(op.as_str(), &b)?;
                }
                Condition::Compare(*op, a, b)
            }
            RawCond::Between(a, lo, hi) => {
                let (a, lo, hi) = (self.operand(a)?, self.operand(lo)?, self.operand(hi)?);
                for o in [&a, &lo, &hi] {
                    self.orderable("BETWEEN", o)?;
                }
                // With both bounds literal DynamoDB checks them up front.
                if let (Operand::Value(l), Operand::Value(h)) = (&lo, &hi) {
                    if l.value.value_type() != h.value.value_type() {
                        return Err(self.err(format_args!(
                            "The BETWEEN operator requires same data type for lower and upper bounds; lower bound operand: {}, upper bound operand: {}",
                            describe(&l.value),
                            describe(&h.value)
                        )));
                    }
                    if compare_values(&l.value, &h.value) == Some(std::cmp::Ordering::Greater) {
                        return Err(self.err(format_args!(
                            "The BETWEEN operator requires upper bound to be greater than or equal to lower bound; lower bound operand: {}, upper bound operand: {}",
                            describe(&l.value),
                            describe(&h.value)
                        )));
                    }
                }
                Condition::Between(a, lo, hi)
            }
            RawCond::In(a, list) => {
                let a = self.operand(a)?;
                let list = list.iter().map(|o| self.operand(o)).collect::<Result<Vec<_>, _>>()?;
                if list.len() > MAX_IN_OPERANDS {
                    return Err(self.err(format_args!(
                        "The IN operator is provided with too many operands; number of operands: {}",
                        list.len()
                    )));
                }
                Condition::In(a, list)
            }
            RawCond::Call(c) => self.condition_call(c)?,
            RawCond::Not(_) | RawCond::And(..) | RawCond::Or(..) => return Err(self.err("Syntax error")),
        })
    }

    fn condition_call(&self, c: &RawCall) -> Result<Condition, ExprError> {
        match c.name.as_str() {
            "attribute_exists" | "attribute_not_exists" => {
                self.arity(c, 1)?;
                let p = self.path_arg(c, 0)?;
                Ok(if c.name == "attribute_exists" {
                    Condition::AttributeExists(p)
                } else {
                    Condition::AttributeNotExists(p)
                })
            }
            "attribute_type" => {
                let (_, t) = self.two(c)?;
                let p = self.path_arg(c, 0)?;
                let t = self.operand(t)?;
                if let Operand::Value(v) = &t {
                    match &v.value {
                        AttributeValue::S(s) if ValueType::parse(s).is_some() => {}
                        AttributeValue::S(s) => {
                            return Err(self.err(format_args!(
                                "Invalid attribute type name found; type: {s}, valid types: {VALID_TYPES}"
                            )))
                        }
                        other => return Err(self.operand_type(&c.name, other.value_type())),
                    }
                }
                Ok(Condition::AttributeType(p, t))
            }
            "begins_with" => {
                let (a, b) = self.two(c)?;
                let (a, b) = (self.operand(a)?, self.operand(b)?);
                for o in [&a, &b] {
                    if let Operand::Value(v) = o {
                        let t = v.value.value_type();
                        if !matches!(t, ValueType::S | ValueType::B) {
                            return Err(self.operand_type(&c.name, t));
                        }
                    }
                }
                Ok(Condition::BeginsWith(a, b))
            }
            "contains" => {
                let (a, b) = self.two(c)?;
                let (a, b) = (self.operand(a)?, self.operand(b)?);
                // Documented: "The path and the operand must be distinct; that is,
                // contains (a, a) will return an error."
                if let (Operand::Path(p), Operand::Path(q)) = (&a, &b) {
                    if p == q {
                        return Err(self.err(format_args!(
                            "The first operand must be distinct from the second operand; operator: contains, first operand: {p}"
                        )));
                    }
                }
                Ok(Condition::Contains(a, b))
            }
            "size" => Err(self.misused(&c.name)),
            name if UPDATE_FUNCTIONS.contains(&name) => Err(self.not_in_condition(name)),
            name => Err(self.invalid_function(name)),
        }
    }

    // ---- updates ----

    fn update_operand(&self, raw: &RawOperand) -> Result<UpdateOperand, ExprError> {
        match raw {
            RawOperand::Path(p) => Ok(UpdateOperand::Path(self.r.path(p))),
            RawOperand::Value(v) => self.value(v).map(UpdateOperand::Value),
            RawOperand::Call(c) => match c.name.as_str() {
                "if_not_exists" => {
                    let (_, v) = self.two(c)?;
                    let p = self.path_arg(c, 0)?;
                    let v = self.update_operand(v)?;
                    Ok(UpdateOperand::IfNotExists(p, Box::new(v)))
                }
                "list_append" => {
                    let (a, b) = self.two(c)?;
                    let (a, b) = (self.update_operand(a)?, self.update_operand(b)?);
                    for o in [&a, &b] {
                        if let UpdateOperand::Value(v) = o {
                            if v.value.value_type() != ValueType::L {
                                return Err(self.operand_type(&c.name, v.value.value_type()));
                            }
                        }
                    }
                    Ok(UpdateOperand::ListAppend(Box::new(a), Box::new(b)))
                }
                name if name == "size" || CONDITION_FUNCTIONS.contains(&name) => {
                    Err(self.err(format_args!("The function is not allowed in an update expression; function: {name}")))
                }
                name => Err(self.invalid_function(name)),
            },
        }
    }

    fn arithmetic(
        &self,
        op: &str,
        a: &RawOperand,
        b: &RawOperand,
    ) -> Result<(UpdateOperand, UpdateOperand), ExprError> {
        let (a, b) = (self.update_operand(a)?, self.update_operand(b)?);
        for o in [&a, &b] {
            if let UpdateOperand::Value(v) = o {
                if v.value.value_type() != ValueType::N {
                    return Err(self.operand_type(op, v.value.value_type()));
                }
            }
        }
        Ok((a, b))
    }

    fn action(&self, raw: &RawAction) -> Result<UpdateAction, ExprError> {
        Ok(match raw {
            RawAction::Set(p, v) => {
                let v = match v {
                    RawSet::One(o) => SetValue::Operand(self.update_operand(o)?),
                    RawSet::Plus(a, b) => {
                        let (a, b) = self.arithmetic("+", a, b)?;
                        SetValue::Plus(a, b)
                    }
                    RawSet::Minus(a, b) => {
                        let (a, b) = self.arithmetic("-", a, b)?;
                        SetValue::Minus(a, b)
                    }
                };
                UpdateAction::Set(self.r.path(p), v)
            }
            RawAction::Remove(p) => UpdateAction::Remove(self.r.path(p)),
            RawAction::Add(p, v) => {
                let v = self.value(v)?;
                let t = v.value.value_type();
                if !matches!(t, ValueType::N | ValueType::SS | ValueType::NS | ValueType::BS) {
                    return Err(self.operand_type("ADD", t));
                }
                UpdateAction::Add(self.r.path(p), v)
            }
            RawAction::Delete(p, v) => {
                let v = self.value(v)?;
                let t = v.value.value_type();
                if !matches!(t, ValueType::SS | ValueType::NS | ValueType::BS) {
                    return Err(self.operand_type("DELETE", t));
                }
                UpdateAction::Delete(self.r.path(p), v)
            }
        })
    }
}

/// Builds a condition from its raw tree.
pub(crate) fn condition(raw: &RawCond, r: &Resolver, kind: ExprKind) -> Result<Condition, ExprError> {
    Ctx { r, kind }.condition(raw)
}

/// Builds an update from its raw actions, then checks that no two targets overlap or
/// conflict.
pub(crate) fn update(raw: &[RawAction], r: &Resolver) -> Result<Update, ExprError> {
    let ctx = Ctx { r, kind: ExprKind::Update };
    let actions = raw.iter().map(|a| ctx.action(a)).collect::<Result<Vec<_>, _>>()?;
    let targets: Vec<&Path> = actions.iter().map(UpdateAction::target).collect();
    check_paths(&targets, ExprKind::Update)?;
    Ok(Update { actions })
}

/// Refuses two paths of which one is a prefix of the other, or equal ("overlap"), and
/// two paths that use the same step once as a map key and once as a list index
/// ("conflict"). Paths are compared pairwise in source order.
pub(crate) fn check_paths(paths: &[&Path], kind: ExprKind) -> Result<(), ExprError> {
    for (i, one) in paths.iter().enumerate() {
        for two in &paths[i + 1..] {
            let mut diverged = false;
            for (a, b) in one.0.iter().zip(two.0.iter()) {
                match (a, b) {
                    (PathElem::Attr(x), PathElem::Attr(y)) if x == y => continue,
                    (PathElem::Index(x), PathElem::Index(y)) if x == y => continue,
                    (PathElem::Attr(_), PathElem::Attr(_)) | (PathElem::Index(_), PathElem::Index(_)) => {
                        diverged = true;
                        break;
                    }
                    _ => {
                        return Err(kind.err(format_args!(
                            "Two document paths conflict with each other; must remove or rewrite one of these paths; path one: {one}, path two: {two}"
                        )))
                    }
                }
            }
            if !diverged {
                return Err(kind.err(format_args!(
                    "Two document paths overlap with each other; must remove or rewrite one of these paths; path one: {one}, path two: {two}"
                )));
            }
        }
    }
    Ok(())
}
