//! The resolved syntax trees: document paths, condition expressions and update
//! expressions, with names and values already substituted. `Display` prints them
//! back as expression text (paths as `a.b[1]`, values as their `:placeholder`), with
//! only the parentheses precedence needs, so printed text parses to the same tree
//! (as long as the attribute names are plain, non-reserved identifiers).

use std::fmt;

use stator_types::AttributeValue;

/// One step of a document path.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum PathElem {
    /// A map key (or, first, the top-level attribute name).
    Attr(String),
    /// A list index.
    Index(usize),
}

/// A document path such as `a.b[1].c`, its names already resolved.
///
/// `Display` prints it the way DynamoDB's messages do: `[a, b, [1], c]`.
/// [`Path::expr`] prints it as expression text.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Path(pub Vec<PathElem>);

impl Path {
    /// A one-element path naming a top-level attribute.
    pub fn attr(name: impl Into<String>) -> Path {
        Path(vec![PathElem::Attr(name.into())])
    }

    /// The top-level attribute name the path starts with.
    pub fn top(&self) -> Option<&str> {
        match self.0.first() {
            Some(PathElem::Attr(a)) => Some(a),
            _ => None,
        }
    }

    /// Whether the path is just a top-level attribute.
    pub fn is_top_level(&self) -> bool {
        self.0.len() == 1 && self.top().is_some()
    }

    /// A view of the path that displays as expression text (`a.b[1]`).
    pub fn expr(&self) -> PathExpr<'_> {
        PathExpr(self)
    }
}

impl fmt::Display for Path {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("[")?;
        for (i, e) in self.0.iter().enumerate() {
            if i > 0 {
                f.write_str(", ")?;
            }
            match e {
                PathElem::Attr(a) => f.write_str(a)?,
                PathElem::Index(n) => write!(f, "[{n}]")?,
            }
        }
        f.write_str("]")
    }
}

/// Displays a [`Path`] as expression text.
pub struct PathExpr<'a>(&'a Path);

impl fmt::Display for PathExpr<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (i, e) in self.0 .0.iter().enumerate() {
            match e {
                PathElem::Attr(a) if i == 0 => f.write_str(a)?,
                PathElem::Attr(a) => write!(f, ".{a}")?,
                PathElem::Index(n) => write!(f, "[{n}]")?,
            }
        }
        Ok(())
    }
}

/// An expression attribute value: its placeholder (`:v`) and the value it stands for.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ValueRef {
    /// The placeholder, with its colon.
    pub name: String,
    /// The value from ExpressionAttributeValues.
    pub value: AttributeValue,
}

/// An operand of a condition.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Operand {
    /// The value at a document path of the item.
    Path(Path),
    /// An expression attribute value.
    Value(ValueRef),
    /// `size(path)`.
    Size(Path),
}

/// A comparator.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum CmpOp {
    /// `=`
    Eq,
    /// `<>`
    Ne,
    /// `<`
    Lt,
    /// `<=`
    Le,
    /// `>`
    Gt,
    /// `>=`
    Ge,
}

impl CmpOp {
    /// The operator with its operands swapped: `a < b` is `b > a`.
    pub fn flipped(self) -> CmpOp {
        match self {
            CmpOp::Lt => CmpOp::Gt,
            CmpOp::Le => CmpOp::Ge,
            CmpOp::Gt => CmpOp::Lt,
            CmpOp::Ge => CmpOp::Le,
            other => other,
        }
    }

    /// The operator's text.
    pub fn as_str(self) -> &'static str {
        match self {
            CmpOp::Eq => "=",
            CmpOp::Ne => "<>",
            CmpOp::Lt => "<",
            CmpOp::Le => "<=",
            CmpOp::Gt => ">",
            CmpOp::Ge => ">=",
        }
    }
}

/// A condition (ConditionExpression, FilterExpression, KeyConditionExpression).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Condition {
    /// `a <op> b`
    Compare(CmpOp, Operand, Operand),
    /// `a BETWEEN lo AND hi`
    Between(Operand, Operand, Operand),
    /// `a IN (b, c, ...)`
    In(Operand, Vec<Operand>),
    /// `attribute_exists(path)`
    AttributeExists(Path),
    /// `attribute_not_exists(path)`
    AttributeNotExists(Path),
    /// `attribute_type(path, type)`
    AttributeType(Path, Operand),
    /// `begins_with(a, prefix)`
    BeginsWith(Operand, Operand),
    /// `contains(a, b)`
    Contains(Operand, Operand),
    /// `NOT c`
    Not(Box<Condition>),
    /// `l AND r`
    And(Box<Condition>, Box<Condition>),
    /// `l OR r`
    Or(Box<Condition>, Box<Condition>),
}

/// An operand on the right of a SET action.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum UpdateOperand {
    /// The value at a path of the item before the update.
    Path(Path),
    /// An expression attribute value.
    Value(ValueRef),
    /// `if_not_exists(path, operand)`
    IfNotExists(Path, Box<UpdateOperand>),
    /// `list_append(a, b)`
    ListAppend(Box<UpdateOperand>, Box<UpdateOperand>),
}

/// The right-hand side of a SET action.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SetValue {
    /// `operand`
    Operand(UpdateOperand),
    /// `a + b`
    Plus(UpdateOperand, UpdateOperand),
    /// `a - b`
    Minus(UpdateOperand, UpdateOperand),
}

/// One action of an update expression.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum UpdateAction {
    /// `SET path = value`
    Set(Path, SetValue),
    /// `REMOVE path`
    Remove(Path),
    /// `ADD path :value`
    Add(Path, ValueRef),
    /// `DELETE path :value`
    Delete(Path, ValueRef),
    /// A legacy `AttributeUpdates` ADD: like [`UpdateAction::Add`], but a list value
    /// is appended to a stored list, and a value whose type does not fit the stored
    /// one fails with "Type mismatch for attribute to update". Printed as an ADD.
    LegacyAdd(Path, ValueRef),
    /// A legacy `AttributeUpdates` DELETE with a value: like
    /// [`UpdateAction::Delete`], but a set of another type than the stored value fails
    /// with "Type mismatch for attribute to update". Printed as a DELETE.
    LegacyDelete(Path, ValueRef),
}

impl UpdateAction {
    /// The path the action modifies.
    pub fn target(&self) -> &Path {
        match self {
            UpdateAction::Set(p, _)
            | UpdateAction::Remove(p)
            | UpdateAction::Add(p, _)
            | UpdateAction::Delete(p, _)
            | UpdateAction::LegacyAdd(p, _)
            | UpdateAction::LegacyDelete(p, _) => p,
        }
    }

    fn clause(&self) -> &'static str {
        match self {
            UpdateAction::Set(..) => "SET",
            UpdateAction::Remove(_) => "REMOVE",
            UpdateAction::Add(..) | UpdateAction::LegacyAdd(..) => "ADD",
            UpdateAction::Delete(..) | UpdateAction::LegacyDelete(..) => "DELETE",
        }
    }
}

/// A parsed update expression: its actions, clause by clause, in source order.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Update {
    /// The actions.
    pub actions: Vec<UpdateAction>,
}

impl fmt::Display for Operand {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Operand::Path(p) => write!(f, "{}", p.expr()),
            Operand::Value(v) => f.write_str(&v.name),
            Operand::Size(p) => write!(f, "size({})", p.expr()),
        }
    }
}

impl Condition {
    /// Binding strength, for printing parentheses: OR < AND < NOT < the rest.
    fn precedence(&self) -> u8 {
        match self {
            Condition::Or(..) => 1,
            Condition::And(..) => 2,
            Condition::Not(_) => 3,
            _ => 4,
        }
    }

    fn write_child(&self, f: &mut fmt::Formatter<'_>, parens: bool) -> fmt::Result {
        if parens {
            write!(f, "({self})")
        } else {
            write!(f, "{self}")
        }
    }
}

impl fmt::Display for Condition {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Condition::Compare(op, a, b) => write!(f, "{a} {} {b}", op.as_str()),
            Condition::Between(a, lo, hi) => write!(f, "{a} BETWEEN {lo} AND {hi}"),
            Condition::In(a, list) => {
                write!(f, "{a} IN (")?;
                for (i, o) in list.iter().enumerate() {
                    if i > 0 {
                        f.write_str(", ")?;
                    }
                    write!(f, "{o}")?;
                }
                f.write_str(")")
            }
            Condition::AttributeExists(p) => write!(f, "attribute_exists({})", p.expr()),
            Condition::AttributeNotExists(p) => write!(f, "attribute_not_exists({})", p.expr()),
            Condition::AttributeType(p, t) => write!(f, "attribute_type({}, {t})", p.expr()),
            Condition::BeginsWith(a, b) => write!(f, "begins_with({a}, {b})"),
            Condition::Contains(a, b) => write!(f, "contains({a}, {b})"),
            Condition::Not(c) => {
                f.write_str("NOT ")?;
                c.write_child(f, c.precedence() < 3)
            }
            Condition::And(l, r) => {
                l.write_child(f, l.precedence() < 2)?;
                f.write_str(" AND ")?;
                r.write_child(f, r.precedence() <= 2)
            }
            Condition::Or(l, r) => {
                l.write_child(f, false)?;
                f.write_str(" OR ")?;
                r.write_child(f, r.precedence() <= 1)
            }
        }
    }
}

impl fmt::Display for UpdateOperand {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            UpdateOperand::Path(p) => write!(f, "{}", p.expr()),
            UpdateOperand::Value(v) => f.write_str(&v.name),
            UpdateOperand::IfNotExists(p, v) => write!(f, "if_not_exists({}, {v})", p.expr()),
            UpdateOperand::ListAppend(a, b) => write!(f, "list_append({a}, {b})"),
        }
    }
}

impl fmt::Display for SetValue {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            SetValue::Operand(o) => write!(f, "{o}"),
            SetValue::Plus(a, b) => write!(f, "{a} + {b}"),
            SetValue::Minus(a, b) => write!(f, "{a} - {b}"),
        }
    }
}

impl fmt::Display for UpdateAction {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            UpdateAction::Set(p, v) => write!(f, "{} = {v}", p.expr()),
            UpdateAction::Remove(p) => write!(f, "{}", p.expr()),
            UpdateAction::Add(p, v)
            | UpdateAction::Delete(p, v)
            | UpdateAction::LegacyAdd(p, v)
            | UpdateAction::LegacyDelete(p, v) => write!(f, "{} {}", p.expr(), v.name),
        }
    }
}

impl fmt::Display for Update {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut clause = "";
        for a in &self.actions {
            if a.clause() != clause {
                if !clause.is_empty() {
                    f.write_str(" ")?;
                }
                clause = a.clause();
                write!(f, "{clause} {a}")?;
            } else {
                write!(f, ", {a}")?;
            }
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn path_display() {
        let p =
            Path(vec![PathElem::Attr("a".into()), PathElem::Index(1), PathElem::Attr("b".into()), PathElem::Index(0)]);
        assert_eq!(p.to_string(), "[a, [1], b, [0]]");
        assert_eq!(p.expr().to_string(), "a[1].b[0]");
        assert_eq!(p.top(), Some("a"));
        assert!(!p.is_top_level());
        assert!(Path::attr("x").is_top_level());
    }

    #[test]
    fn condition_display_parenthesizes_by_precedence() {
        let c = |n: &str| Condition::AttributeExists(Path::attr(n));
        let and = |l, r| Condition::And(Box::new(l), Box::new(r));
        let or = |l, r| Condition::Or(Box::new(l), Box::new(r));
        let e = and(or(c("a"), c("b")), and(c("c"), c("d")));
        assert_eq!(
            e.to_string(),
            "(attribute_exists(a) OR attribute_exists(b)) AND (attribute_exists(c) AND attribute_exists(d))"
        );
        let e = Condition::Not(Box::new(or(and(c("a"), c("b")), c("c"))));
        assert_eq!(e.to_string(), "NOT (attribute_exists(a) AND attribute_exists(b) OR attribute_exists(c))");
    }
}
