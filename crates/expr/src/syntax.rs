//! The recursive-descent parser: turns tokens into raw trees whose names and values
//! are still placeholders, for the three grammars (condition, update, projection).
//!
//! Only syntax is judged here; a syntax error is returned at once. A few structural
//! problems DynamoDB reports after the syntax is known good are recorded as
//! "deferred" (the first one wins): a clause used twice in an update, redundant
//! parentheses `((...))`, more than 300 operators. Every bare name, `#name` and
//! `:value` is recorded in source order, for the resolver's checks.
//!
//! Grammar (keywords case-insensitive; precedence from the Developer Guide, loosest
//! first: OR, AND, NOT, parentheses, functions, BETWEEN, IN, comparators):
//! ```text
//! condition := and (OR and)*
//! and       := not (AND not)*
//! not       := NOT not | '(' condition ')' | operand comparator operand
//!            | operand BETWEEN operand AND operand | operand IN '(' operand (',' operand)* ')'
//!            | call
//! operand   := path | :value | call
//! call      := name '(' operand (',' operand)* ')'
//! path      := (name | #name) ('.' (name | #name) | '[' integer ']')*
//! update    := (SET path '=' operand (('+'|'-') operand)? (',' ...)*
//!              | REMOVE path (',' path)* | ADD path :value (',' ...)* | DELETE path :value (',' ...)*)+
//! projection:= path (',' path)*
//! ```

use crate::ast::CmpOp;
use crate::error::{ExprError, ExprKind, MAX_OPERATORS};
use crate::lexer::{lex, syntax_error, Tok, Token};

/// Deepest nesting of parentheses and NOT the parser accepts; past it the expression
/// is refused as a syntax error, to bound the depth of the trees later walked
/// recursively. (Left-nested groups as SDK builders write them, `((a AND b) AND c)`,
/// nest once per condition, and the 300-operator limit allows 300 conditions.)
pub(crate) const MAX_NESTING: usize = 512;

/// Deepest nesting of function calls (`list_append(if_not_exists(...), ...)`); calls
/// are parsed recursively. Real expressions nest two or three deep.
pub(crate) const MAX_CALL_NESTING: usize = 64;

/// Words the lexer makes keywords in every grammar; they are never attribute names.
const KEYWORDS: [&str; 9] = ["AND", "OR", "NOT", "BETWEEN", "IN", "SET", "REMOVE", "ADD", "DELETE"];

/// A path step before resolution.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum RawElem {
    /// A bare name.
    Ident(String),
    /// A `#name` placeholder.
    Name(String),
    /// A list index.
    Index(usize),
}

/// A path before resolution.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct RawPath(pub Vec<RawElem>);

/// An operand before resolution.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum RawOperand {
    Path(RawPath),
    /// A `:value` placeholder.
    Value(String),
    Call(RawCall),
}

/// A function call: any name, any number of operands (checked later).
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct RawCall {
    pub name: String,
    pub args: Vec<RawOperand>,
}

/// A condition before resolution.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum RawCond {
    Cmp(CmpOp, RawOperand, RawOperand),
    Between(RawOperand, RawOperand, RawOperand),
    In(RawOperand, Vec<RawOperand>),
    Call(RawCall),
    Not(Box<RawCond>),
    And(Box<RawCond>, Box<RawCond>),
    Or(Box<RawCond>, Box<RawCond>),
}

/// The right side of a SET action before resolution.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum RawSet {
    One(RawOperand),
    Plus(RawOperand, RawOperand),
    Minus(RawOperand, RawOperand),
}

/// An update action before resolution.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum RawAction {
    Set(RawPath, RawSet),
    Remove(RawPath),
    Add(RawPath, String),
    Delete(RawPath, String),
}

/// A name or value reference, in source order.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Ref {
    Ident(String),
    Name(String),
    Value(String),
}

/// What the parser hands on: the raw tree, its references, and the first deferred error.
#[derive(Debug)]
pub(crate) struct Parsed<T> {
    pub tree: T,
    pub refs: Vec<Ref>,
    pub deferred: Option<ExprError>,
}

struct Parser<'s> {
    src: &'s str,
    toks: Vec<Token>,
    pos: usize,
    depth: usize,
    kind: ExprKind,
    refs: Vec<Ref>,
    ops: usize,
    deferred: Option<ExprError>,
}

/// A pending logical operator (or open parenthesis) on the condition parser's stack.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum LogicOp {
    Group,
    Or,
    And,
    Not,
}

impl LogicOp {
    fn binding(self) -> u8 {
        match self {
            LogicOp::Group => 0,
            LogicOp::Or => 1,
            LogicOp::And => 2,
            LogicOp::Not => 3,
        }
    }
}

/// Pops and applies every operator that binds at least as tightly as `incoming`
/// (all the way down to the nearest open group when `incoming` is `Group`).
fn reduce(ops: &mut Vec<LogicOp>, operands: &mut Vec<(RawCond, bool)>, incoming: LogicOp) {
    while let Some(&top) = ops.last() {
        if top == LogicOp::Group || (incoming != LogicOp::Group && top.binding() < incoming.binding()) {
            return;
        }
        ops.pop();
        let Some((right, _)) = operands.pop() else { return };
        let node = match top {
            LogicOp::Not => RawCond::Not(Box::new(right)),
            _ => {
                let Some((left, _)) = operands.pop() else { return };
                if top == LogicOp::And {
                    RawCond::And(Box::new(left), Box::new(right))
                } else {
                    RawCond::Or(Box::new(left), Box::new(right))
                }
            }
        };
        operands.push((node, false));
    }
}

/// Parses a condition (ConditionExpression, FilterExpression, KeyConditionExpression).
pub(crate) fn parse_condition(src: &str, kind: ExprKind) -> Result<Parsed<RawCond>, ExprError> {
    let mut p = Parser::new(src, kind);
    let tree = p.condition()?;
    p.finish(tree)
}

/// Parses an update expression.
pub(crate) fn parse_update(src: &str) -> Result<Parsed<Vec<RawAction>>, ExprError> {
    let mut p = Parser::new(src, ExprKind::Update);
    let tree = p.update()?;
    p.finish(tree)
}

/// Parses a projection expression.
pub(crate) fn parse_projection(src: &str) -> Result<Parsed<Vec<RawPath>>, ExprError> {
    let mut p = Parser::new(src, ExprKind::Projection);
    let mut paths = vec![p.path()?];
    while p.peek() == Tok::Comma {
        p.bump();
        paths.push(p.path()?);
    }
    p.finish(paths)
}

impl<'s> Parser<'s> {
    fn new(src: &'s str, kind: ExprKind) -> Self {
        Parser { src, toks: lex(src), pos: 0, depth: 0, kind, refs: Vec::new(), ops: 0, deferred: None }
    }

    fn finish<T>(self, tree: T) -> Result<Parsed<T>, ExprError> {
        if self.peek() != Tok::Eof {
            return Err(self.error());
        }
        Ok(Parsed { tree, refs: self.refs, deferred: self.deferred })
    }

    fn peek(&self) -> Tok {
        self.toks.get(self.pos).map_or(Tok::Eof, |t| t.kind)
    }

    fn peek_at(&self, ahead: usize) -> Tok {
        self.toks.get(self.pos + ahead).map_or(Tok::Eof, |t| t.kind)
    }

    fn text(&self) -> &'s str {
        let src: &'s str = self.src;
        self.toks.get(self.pos).and_then(|t| src.get(t.start..t.end)).unwrap_or("")
    }

    fn bump(&mut self) {
        if self.pos + 1 < self.toks.len() {
            self.pos += 1;
        }
    }

    fn error(&self) -> ExprError {
        syntax_error(self.src, &self.toks, self.pos, self.kind)
    }

    fn expect(&mut self, t: Tok) -> Result<(), ExprError> {
        if self.peek() == t {
            self.bump();
            Ok(())
        } else {
            Err(self.error())
        }
    }

    /// Whether the current token is the keyword `kw`.
    fn is_kw(&self, kw: &str) -> bool {
        self.peek() == Tok::Ident && self.text().eq_ignore_ascii_case(kw)
    }

    fn is_keyword(&self) -> bool {
        self.peek() == Tok::Ident && KEYWORDS.iter().any(|k| self.text().eq_ignore_ascii_case(k))
    }

    fn enter(&mut self) -> Result<(), ExprError> {
        self.depth += 1;
        if self.depth > MAX_CALL_NESTING {
            return Err(self.error());
        }
        Ok(())
    }

    fn leave(&mut self) {
        self.depth = self.depth.saturating_sub(1);
    }

    fn defer(&mut self, msg: impl std::fmt::Display) {
        if self.deferred.is_none() {
            self.deferred = Some(self.kind.err(msg));
        }
    }

    /// Counts one operator or function against DynamoDB's limit of 300; DynamoDB
    /// stops counting at the first one over (its message says "operator count: 301").
    fn count_op(&mut self) {
        self.ops += 1;
        if self.ops == MAX_OPERATORS + 1 {
            let n = self.ops;
            self.defer(format_args!("The expression contains too many operators; operator count: {n}"));
        }
    }

    // ---- paths and operands ----

    fn path_name(&mut self) -> Result<RawElem, ExprError> {
        let text = self.text().to_string();
        let elem = match self.peek() {
            Tok::Ident if !self.is_keyword() => {
                self.refs.push(Ref::Ident(text.clone()));
                RawElem::Ident(text)
            }
            Tok::Name => {
                self.refs.push(Ref::Name(text.clone()));
                RawElem::Name(text)
            }
            _ => return Err(self.error()),
        };
        self.bump();
        Ok(elem)
    }

    fn path(&mut self) -> Result<RawPath, ExprError> {
        let mut elems = vec![self.path_name()?];
        loop {
            match self.peek() {
                Tok::Dot => {
                    self.bump();
                    elems.push(self.path_name()?);
                }
                Tok::LBracket => {
                    self.bump();
                    if self.peek() != Tok::Int {
                        return Err(self.error());
                    }
                    let Ok(n) = self.text().parse::<usize>() else {
                        return Err(self.error());
                    };
                    self.bump();
                    self.expect(Tok::RBracket)?;
                    elems.push(RawElem::Index(n));
                }
                _ => return Ok(RawPath(elems)),
            }
        }
    }

    fn operand(&mut self) -> Result<RawOperand, ExprError> {
        match self.peek() {
            Tok::Value => {
                let v = self.text().to_string();
                self.refs.push(Ref::Value(v.clone()));
                self.bump();
                Ok(RawOperand::Value(v))
            }
            Tok::Ident if !self.is_keyword() && self.peek_at(1) == Tok::LParen => self.call().map(RawOperand::Call),
            Tok::Ident | Tok::Name => self.path().map(RawOperand::Path),
            _ => Err(self.error()),
        }
    }

    fn call(&mut self) -> Result<RawCall, ExprError> {
        let name = self.text().to_string();
        self.bump();
        self.expect(Tok::LParen)?;
        self.enter()?;
        self.count_op();
        let mut args = vec![self.operand()?];
        while self.peek() == Tok::Comma {
            self.bump();
            args.push(self.operand()?);
        }
        self.expect(Tok::RParen)?;
        self.leave();
        Ok(RawCall { name, args })
    }

    // ---- conditions ----

    /// Parses a condition with explicit operator and operand stacks, so nesting of
    /// parentheses and NOT costs heap, not call stack. Each operand carries whether it
    /// is exactly one parenthesized group, to spot `((x))`.
    fn condition(&mut self) -> Result<RawCond, ExprError> {
        let mut ops: Vec<LogicOp> = Vec::new();
        let mut operands: Vec<(RawCond, bool)> = Vec::new();
        loop {
            // Expecting the start of a condition.
            if self.is_kw("NOT") {
                self.push_op(&mut ops, LogicOp::Not)?;
                continue;
            }
            if self.peek() == Tok::LParen {
                self.push_op(&mut ops, LogicOp::Group)?;
                continue;
            }
            operands.push((self.comparison()?, false));
            // After a complete condition: AND, OR, a closing parenthesis, or the end.
            loop {
                if self.is_kw("AND") || self.is_kw("OR") {
                    let op = if self.is_kw("AND") { LogicOp::And } else { LogicOp::Or };
                    reduce(&mut ops, &mut operands, op);
                    self.bump();
                    ops.push(op);
                    break;
                }
                if self.peek() == Tok::RParen && ops.contains(&LogicOp::Group) {
                    reduce(&mut ops, &mut operands, LogicOp::Group);
                    ops.pop();
                    self.bump();
                    if let Some(top) = operands.last_mut() {
                        // `((x))`: a group whose whole content is another group. DynamoDB
                        // refuses only this shape; `(a AND b) OR (c)` and `a OR (b AND c)` are fine.
                        if top.1 {
                            self.defer("The expression has redundant parentheses;");
                        }
                        top.1 = true;
                    }
                    continue;
                }
                if ops.contains(&LogicOp::Group) {
                    // An open group needs its `)` here.
                    return Err(self.error());
                }
                reduce(&mut ops, &mut operands, LogicOp::Group);
                return match operands.pop() {
                    Some((c, _)) if operands.is_empty() => Ok(c),
                    _ => Err(self.error()),
                };
            }
        }
    }

    fn push_op(&mut self, ops: &mut Vec<LogicOp>, op: LogicOp) -> Result<(), ExprError> {
        if ops.iter().filter(|o| matches!(o, LogicOp::Group | LogicOp::Not)).count() >= MAX_NESTING {
            return Err(self.error());
        }
        self.bump();
        ops.push(op);
        Ok(())
    }

    /// One comparison, BETWEEN, IN or function call.
    fn comparison(&mut self) -> Result<RawCond, ExprError> {
        let left = self.operand()?;
        let op = match self.peek() {
            Tok::Eq => Some(CmpOp::Eq),
            Tok::Ne => Some(CmpOp::Ne),
            Tok::Lt => Some(CmpOp::Lt),
            Tok::Le => Some(CmpOp::Le),
            Tok::Gt => Some(CmpOp::Gt),
            Tok::Ge => Some(CmpOp::Ge),
            _ => None,
        };
        if let Some(op) = op {
            self.bump();
            self.count_op();
            let right = self.operand()?;
            return Ok(RawCond::Cmp(op, left, right));
        }
        if self.is_kw("BETWEEN") {
            self.bump();
            self.count_op();
            let lo = self.operand()?;
            if !self.is_kw("AND") {
                return Err(self.error());
            }
            self.bump();
            let hi = self.operand()?;
            return Ok(RawCond::Between(left, lo, hi));
        }
        if self.is_kw("IN") {
            self.bump();
            self.count_op();
            self.expect(Tok::LParen)?;
            let mut list = vec![self.operand()?];
            while self.peek() == Tok::Comma {
                self.bump();
                list.push(self.operand()?);
            }
            self.expect(Tok::RParen)?;
            return Ok(RawCond::In(left, list));
        }
        match left {
            RawOperand::Call(c) => Ok(RawCond::Call(c)),
            _ => Err(self.error()),
        }
    }

    // ---- updates ----

    fn update(&mut self) -> Result<Vec<RawAction>, ExprError> {
        let mut actions = Vec::new();
        let mut seen: Vec<&'static str> = Vec::new();
        loop {
            let Some(clause) = ["SET", "REMOVE", "ADD", "DELETE"].into_iter().find(|k| self.is_kw(k)) else {
                // Expression start, or after a clause: only a clause keyword (or the end) fits.
                if actions.is_empty() || self.peek() != Tok::Eof {
                    return Err(self.error());
                }
                return Ok(actions);
            };
            if seen.contains(&clause) {
                self.defer(format_args!("The \"{clause}\" section can only be used once in an update expression;"));
            }
            seen.push(clause);
            self.bump();
            loop {
                actions.push(self.action(clause)?);
                if self.peek() != Tok::Comma {
                    break;
                }
                self.bump();
            }
        }
    }

    fn action(&mut self, clause: &str) -> Result<RawAction, ExprError> {
        let path = self.path()?;
        match clause {
            "SET" => {
                self.expect(Tok::Eq)?;
                let a = self.operand()?;
                let v = match self.peek() {
                    Tok::Plus | Tok::Minus => {
                        let plus = self.peek() == Tok::Plus;
                        self.bump();
                        self.count_op();
                        let b = self.operand()?;
                        if plus {
                            RawSet::Plus(a, b)
                        } else {
                            RawSet::Minus(a, b)
                        }
                    }
                    _ => RawSet::One(a),
                };
                Ok(RawAction::Set(path, v))
            }
            "REMOVE" => Ok(RawAction::Remove(path)),
            _ => {
                if self.peek() != Tok::Value {
                    return Err(self.error());
                }
                let v = self.text().to_string();
                self.refs.push(Ref::Value(v.clone()));
                self.bump();
                Ok(if clause == "ADD" { RawAction::Add(path, v) } else { RawAction::Delete(path, v) })
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn cond_err(s: &str) -> String {
        match parse_condition(s, ExprKind::Condition) {
            Err(e) => e.0,
            Ok(p) => p.deferred.map(|e| e.0).unwrap_or_else(|| "ok".into()),
        }
    }

    #[test]
    fn precedence_and_refs() {
        let p = parse_condition("a = :x OR NOT b.c[2] < #n AND size(d) > :y", ExprKind::Condition).unwrap();
        let RawCond::Or(_, right) = p.tree else { panic!("expected OR at the top") };
        assert!(matches!(*right, RawCond::And(..)));
        assert_eq!(
            p.refs,
            vec![
                Ref::Ident("a".into()),
                Ref::Value(":x".into()),
                Ref::Ident("b".into()),
                Ref::Ident("c".into()),
                Ref::Name("#n".into()),
                Ref::Ident("d".into()),
                Ref::Value(":y".into()),
            ]
        );
    }

    #[test]
    fn syntax_errors() {
        let pre = "Invalid ConditionExpression: Syntax error; ";
        for (src, tail) in [
            ("a", "token: \"<EOF>\", near: \"a\""),
            ("a = ", "token: \"<EOF>\", near: \"= \""),
            ("a = b c", "token: \"c\", near: \"b c\""),
            ("a == b", "token: \"=\", near: \"== b\""),
            ("a[-1] = b", "token: \"-\", near: \"[-1\""),
            ("a BETWEEN b OR c", "token: \"OR\", near: \"b OR c\""),
            ("(a = b", "token: \"<EOF>\", near: \"b\""),
            ("and = b", "token: \"and\", near: \"and =\""),
            ("f()", "token: \")\", near: \"()\""),
        ] {
            assert_eq!(cond_err(src), format!("{pre}{tail}"), "{src}");
        }
    }

    #[test]
    fn redundant_parentheses() {
        let msg = "Invalid ConditionExpression: The expression has redundant parentheses;";
        assert_eq!(cond_err("((a = b))"), msg);
        assert_eq!(cond_err("NOT ((a = b))"), msg);
        assert_eq!(cond_err("((((a < b))))"), msg);
        for ok in [
            "(a = b)",
            "((a = b) AND (c = d))",
            "((a = b AND c = d) AND e = f)",
            "a = b OR (c = d AND e = f)",
            "((a = b) OR (c = d) AND (e = f))",
            "(attribute_exists(a)) AND (((b <> c) AND (b <> d)) AND (e = f))",
        ] {
            assert_eq!(cond_err(ok), "ok", "{ok}");
        }
    }

    #[test]
    fn nesting_is_bounded() {
        let deep = format!("{}a = b{}", "(".repeat(100_000), ")".repeat(100_000));
        assert!(cond_err(&deep).starts_with("Invalid ConditionExpression: Syntax error; token: \"(\""));
        let nots = format!("{}a = b", "NOT ".repeat(100_000));
        assert!(cond_err(&nots).contains("Syntax error"));
        let calls = format!("{}a{} = b", "f(".repeat(100_000), ")".repeat(100_000));
        assert!(cond_err(&calls).contains("Syntax error"));
    }

    #[test]
    fn update_clauses() {
        let p = parse_update("SET a = b + :c, d = list_append(d, :e) REMOVE f[1] ADD g :h DELETE i :j").unwrap();
        assert_eq!(p.tree.len(), 5);
        assert!(p.deferred.is_none());
        let p = parse_update("SET a = :b SET c = :d").unwrap();
        assert_eq!(
            p.deferred.unwrap().0,
            "Invalid UpdateExpression: The \"SET\" section can only be used once in an update expression;"
        );
        let e = parse_update("INVALID SYNTAX HERE").unwrap_err();
        assert_eq!(e.0, "Invalid UpdateExpression: Syntax error; token: \"INVALID\", near: \"INVALID SYNTAX\"");
        let e = parse_update("ADD hits : incr").unwrap_err();
        assert_eq!(e.0, "Invalid UpdateExpression: Syntax error; token: \":\", near: \"hits : incr\"");
    }

    #[test]
    fn projection_paths() {
        let p = parse_projection("a, b.c[0][1], #d").unwrap();
        assert_eq!(p.tree.len(), 3);
        let e = parse_projection("dummy-id").unwrap_err();
        assert_eq!(e.0, "Invalid ProjectionExpression: Syntax error; token: \"-\", near: \"dummy-id\"");
    }
}
