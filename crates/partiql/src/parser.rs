//! The recursive-descent parser: statements, conditions, paths and literals.

use std::collections::BTreeMap;

use stator_expr::{CmpOp, Condition, Operand, Path, PathElem, SetValue, UpdateAction, UpdateOperand, ValueRef};
use stator_types::{AttributeValue, Number};

use crate::lexer::{tokenize, Tok, Token};
use crate::{
    DeleteStatement, Insert, PartiqlError, Returning, Select, Statement, UpdateStatement, MAX_STATEMENT_LENGTH,
};

/// Deepest nesting of parentheses, lists and maps (a bound on recursion).
const MAX_DEPTH: usize = 64;

/// Parses one statement, binding its `?` parameters in order from `params`.
pub fn parse(text: &str, params: &[AttributeValue]) -> Result<Statement, PartiqlError> {
    if text.chars().count() > MAX_STATEMENT_LENGTH {
        return Err(PartiqlError::other(format!(
            "1 validation error detected: Value at 'statement' failed to satisfy constraint: Member must have length less than or equal to {MAX_STATEMENT_LENGTH}"
        )));
    }
    let tokens = tokenize(text)?;
    let mut p = Parser { tokens, pos: 0, params, used: 0, depth: 0 };
    let stmt = p.statement()?;
    if p.peek_sym(";") {
        p.pos += 1;
    }
    if p.peek() != &Tok::End {
        return Err(p.unexpected());
    }
    if p.used != params.len() {
        return Err(PartiqlError::other("Number of parameters in request and statement don't match."));
    }
    Ok(stmt)
}

struct Parser<'a> {
    tokens: Vec<Token>,
    pos: usize,
    params: &'a [AttributeValue],
    used: usize,
    depth: usize,
}

impl Parser<'_> {
    fn peek(&self) -> &Tok {
        &self.tokens[self.pos.min(self.tokens.len() - 1)].kind
    }

    fn peek_at(&self, ahead: usize) -> &Tok {
        &self.tokens[(self.pos + ahead).min(self.tokens.len() - 1)].kind
    }

    fn token(&self) -> &Token {
        &self.tokens[self.pos.min(self.tokens.len() - 1)]
    }

    /// The current token; moves past it (past the end too, so that stepping back
    /// after `next` always returns to the token just read).
    fn next(&mut self) -> Tok {
        let t = self.peek().clone();
        self.pos += 1;
        t
    }

    /// DynamoDB's syntax errors name the kind of the offending token, not its position
    /// (observed: "Unexpected keyword", "Expected data manipulation").
    fn unexpected(&self) -> PartiqlError {
        match &self.token().kind {
            Tok::End => PartiqlError::syntax("Unexpected end of statement"),
            Tok::Word(w) if is_keyword(w) => PartiqlError::syntax("Unexpected keyword"),
            _ => PartiqlError::syntax("Unexpected token"),
        }
    }

    fn is_word(&self, kw: &str) -> bool {
        matches!(self.peek(), Tok::Word(w) if w.eq_ignore_ascii_case(kw))
    }

    fn is_word_at(&self, ahead: usize, kw: &str) -> bool {
        matches!(self.peek_at(ahead), Tok::Word(w) if w.eq_ignore_ascii_case(kw))
    }

    fn eat_word(&mut self, kw: &str) -> bool {
        if self.is_word(kw) {
            self.pos += 1;
            true
        } else {
            false
        }
    }

    fn expect_word(&mut self, kw: &str) -> Result<(), PartiqlError> {
        if self.eat_word(kw) {
            Ok(())
        } else {
            Err(self.unexpected())
        }
    }

    fn peek_sym(&self, s: &str) -> bool {
        matches!(self.peek(), Tok::Sym(x) if *x == s)
    }

    fn eat_sym(&mut self, s: &str) -> bool {
        if self.peek_sym(s) {
            self.pos += 1;
            true
        } else {
            false
        }
    }

    fn expect_sym(&mut self, s: &str) -> Result<(), PartiqlError> {
        if self.eat_sym(s) {
            Ok(())
        } else {
            Err(self.unexpected())
        }
    }

    fn enter(&mut self) -> Result<(), PartiqlError> {
        self.depth += 1;
        if self.depth > MAX_DEPTH {
            return Err(PartiqlError::syntax("Statement nesting is too deep"));
        }
        Ok(())
    }

    // ---- statements ----

    fn statement(&mut self) -> Result<Statement, PartiqlError> {
        if self.eat_word("SELECT") {
            return Ok(Statement::Select(self.select_rest()?));
        }
        if self.eat_word("INSERT") {
            self.expect_word("INTO")?;
            let table = self.name()?;
            self.expect_word("VALUE")?;
            let item = match self.value()? {
                AttributeValue::M(m) => m,
                _ => {
                    return Err(PartiqlError::other(
                        "Unsupported operation: Inserting a non-tuple value is not supported",
                    ))
                }
            };
            return Ok(Statement::Insert(Insert { table, item }));
        }
        if self.eat_word("UPDATE") {
            return self.update_rest();
        }
        if self.eat_word("DELETE") {
            self.expect_word("FROM")?;
            let table = self.name()?;
            self.expect_word("WHERE")?;
            let filter = self.condition()?;
            let returning = self.returning()?;
            if returning.is_some_and(|r| r != Returning::AllOld) {
                return Err(PartiqlError::other("Unsupported operation: Delete supports only RETURNING ALL OLD *"));
            }
            return Ok(Statement::Delete(DeleteStatement { table, filter, returning }));
        }
        if self.eat_word("EXISTS") {
            self.expect_sym("(")?;
            self.expect_word("SELECT")?;
            let s = self.select_rest()?;
            self.expect_sym(")")?;
            return Ok(Statement::Exists(s));
        }
        Err(PartiqlError::syntax("Expected data manipulation"))
    }

    fn select_rest(&mut self) -> Result<Select, PartiqlError> {
        let projection = if self.eat_sym("*") {
            None
        } else {
            let mut paths = vec![self.path()?];
            while self.eat_sym(",") {
                paths.push(self.path()?);
            }
            Some(paths)
        };
        self.expect_word("FROM")?;
        let table = self.name()?;
        let index = if self.eat_sym(".") { Some(self.name()?) } else { None };
        let filter = if self.eat_word("WHERE") { Some(self.condition()?) } else { None };
        let order_by = if self.eat_word("ORDER") {
            self.expect_word("BY")?;
            let path = self.path()?;
            let desc = if self.eat_word("DESC") {
                true
            } else {
                self.eat_word("ASC");
                false
            };
            if self.peek_sym(",") {
                return Err(PartiqlError::other("Unsupported operation: ORDER BY supports only the sort key"));
            }
            Some((path, desc))
        } else {
            None
        };
        Ok(Select { projection, table, index, filter, order_by })
    }

    fn update_rest(&mut self) -> Result<Statement, PartiqlError> {
        let table = self.name()?;
        let mut actions = Vec::new();
        loop {
            if self.eat_word("SET") {
                loop {
                    actions.push(self.set_action()?);
                    if !self.eat_sym(",") {
                        break;
                    }
                }
            } else if self.eat_word("REMOVE") {
                loop {
                    actions.push(UpdateAction::Remove(self.path()?));
                    if !self.eat_sym(",") {
                        break;
                    }
                }
            } else {
                break;
            }
        }
        if actions.is_empty() {
            return Err(self.unexpected());
        }
        self.expect_word("WHERE")?;
        let filter = self.condition()?;
        let returning = self.returning()?;
        Ok(Statement::Update(UpdateStatement { table, actions, filter, returning }))
    }

    fn set_action(&mut self) -> Result<UpdateAction, PartiqlError> {
        let target = self.path()?;
        self.expect_sym("=")?;
        // set_add(path, set) / set_delete(path, set): ADD / DELETE on the target.
        for (func, add) in [("set_add", true), ("set_delete", false)] {
            if self.is_word(func) && matches!(self.peek_at(1), Tok::Sym("(")) {
                self.pos += 2;
                let of = self.path()?;
                self.expect_sym(",")?;
                let v = self.value_ref()?;
                self.expect_sym(")")?;
                if of != target {
                    return Err(PartiqlError::other(format!(
                        "Unsupported operation: {func} must apply to the attribute being set"
                    )));
                }
                return Ok(if add { UpdateAction::Add(target, v) } else { UpdateAction::Delete(target, v) });
            }
        }
        let first = self.update_operand()?;
        let value = if self.eat_sym("+") {
            SetValue::Plus(first, self.update_operand()?)
        } else if self.eat_sym("-") {
            SetValue::Minus(first, self.update_operand()?)
        } else {
            SetValue::Operand(first)
        };
        Ok(UpdateAction::Set(target, value))
    }

    fn update_operand(&mut self) -> Result<UpdateOperand, PartiqlError> {
        if self.is_word("list_append") && matches!(self.peek_at(1), Tok::Sym("(")) {
            self.pos += 2;
            self.enter()?;
            let a = self.update_operand()?;
            self.expect_sym(",")?;
            let b = self.update_operand()?;
            self.expect_sym(")")?;
            self.depth -= 1;
            return Ok(UpdateOperand::ListAppend(Box::new(a), Box::new(b)));
        }
        if self.is_word("if_not_exists") && matches!(self.peek_at(1), Tok::Sym("(")) {
            self.pos += 2;
            self.enter()?;
            let p = self.path()?;
            self.expect_sym(",")?;
            let v = self.update_operand()?;
            self.expect_sym(")")?;
            self.depth -= 1;
            return Ok(UpdateOperand::IfNotExists(p, Box::new(v)));
        }
        if self.starts_path() {
            return Ok(UpdateOperand::Path(self.path()?));
        }
        Ok(UpdateOperand::Value(self.value_ref()?))
    }

    fn returning(&mut self) -> Result<Option<Returning>, PartiqlError> {
        if !self.eat_word("RETURNING") {
            return Ok(None);
        }
        let all = if self.eat_word("ALL") {
            true
        } else if self.eat_word("MODIFIED") {
            false
        } else {
            return Err(self.unexpected());
        };
        let old = if self.eat_word("OLD") {
            true
        } else if self.eat_word("NEW") {
            false
        } else {
            return Err(self.unexpected());
        };
        self.expect_sym("*")?;
        Ok(Some(match (all, old) {
            (true, true) => Returning::AllOld,
            (false, true) => Returning::ModifiedOld,
            (true, false) => Returning::AllNew,
            (false, false) => Returning::ModifiedNew,
        }))
    }

    /// A table or index name: `"quoted"` or a bare identifier.
    fn name(&mut self) -> Result<String, PartiqlError> {
        match self.peek().clone() {
            Tok::Quoted(s) => {
                self.pos += 1;
                Ok(s)
            }
            Tok::Word(w) if !is_keyword(&w) => {
                self.pos += 1;
                Ok(w)
            }
            _ => Err(self.unexpected()),
        }
    }

    // ---- conditions ----

    fn condition(&mut self) -> Result<Condition, PartiqlError> {
        self.enter()?;
        let mut left = self.and_condition()?;
        while self.eat_word("OR") {
            let right = self.and_condition()?;
            left = Condition::Or(Box::new(left), Box::new(right));
        }
        self.depth -= 1;
        Ok(left)
    }

    fn and_condition(&mut self) -> Result<Condition, PartiqlError> {
        let mut left = self.not_condition()?;
        while self.eat_word("AND") {
            let right = self.not_condition()?;
            left = Condition::And(Box::new(left), Box::new(right));
        }
        Ok(left)
    }

    fn not_condition(&mut self) -> Result<Condition, PartiqlError> {
        if self.eat_word("NOT") {
            self.enter()?;
            let c = self.not_condition()?;
            self.depth -= 1;
            return Ok(Condition::Not(Box::new(c)));
        }
        self.predicate()
    }

    fn predicate(&mut self) -> Result<Condition, PartiqlError> {
        if self.peek_sym("(") {
            self.pos += 1;
            let c = self.condition()?;
            self.expect_sym(")")?;
            return Ok(c);
        }
        for func in ["begins_with", "contains", "attribute_type", "attribute_exists", "attribute_not_exists"] {
            if self.is_word(func) && matches!(self.peek_at(1), Tok::Sym("(")) {
                self.pos += 2;
                let c = self.function(func)?;
                self.expect_sym(")")?;
                return Ok(c);
            }
        }
        let left = self.operand()?;
        if self.eat_word("IS") {
            let negated = self.eat_word("NOT");
            let path = match &left {
                Operand::Path(p) => p.clone(),
                _ => return Err(PartiqlError::other("Unsupported operation: IS applies to attribute paths")),
            };
            let positive = if self.eat_word("MISSING") {
                Condition::AttributeNotExists(path)
            } else if self.eat_word("NULL") {
                Condition::AttributeType(path, type_operand("NULL"))
            } else {
                return Err(self.unexpected());
            };
            return Ok(if negated {
                match positive {
                    Condition::AttributeNotExists(p) => Condition::AttributeExists(p),
                    other => Condition::Not(Box::new(other)),
                }
            } else {
                positive
            });
        }
        if self.eat_word("BETWEEN") {
            let lo = self.operand()?;
            self.expect_word("AND")?;
            let hi = self.operand()?;
            return Ok(Condition::Between(left, lo, hi));
        }
        let negated_in = self.is_word("NOT") && self.is_word_at(1, "IN");
        if negated_in {
            self.pos += 1;
        }
        if self.eat_word("IN") {
            let close = if self.eat_sym("[") {
                "]"
            } else if self.eat_sym("(") {
                ")"
            } else {
                return Err(self.unexpected());
            };
            let mut list = vec![self.operand()?];
            while self.eat_sym(",") {
                list.push(self.operand()?);
            }
            self.expect_sym(close)?;
            if list.len() > stator_expr::MAX_IN_OPERANDS {
                return Err(PartiqlError::other(format!(
                    "Unsupported operation: IN supports at most {} values",
                    stator_expr::MAX_IN_OPERANDS
                )));
            }
            let c = Condition::In(left, list);
            return Ok(if negated_in { Condition::Not(Box::new(c)) } else { c });
        }
        let op = match self.peek() {
            Tok::Sym("=") => CmpOp::Eq,
            Tok::Sym("<>") | Tok::Sym("!=") => CmpOp::Ne,
            Tok::Sym("<") => CmpOp::Lt,
            Tok::Sym("<=") => CmpOp::Le,
            Tok::Sym(">") => CmpOp::Gt,
            Tok::Sym(">=") => CmpOp::Ge,
            _ => return Err(self.unexpected()),
        };
        self.pos += 1;
        // `a = MISSING` / `a <> MISSING`.
        if self.is_word("MISSING") && matches!(op, CmpOp::Eq | CmpOp::Ne) {
            self.pos += 1;
            let Operand::Path(p) = left else {
                return Err(PartiqlError::other("Unsupported operation: MISSING compares with attribute paths"));
            };
            return Ok(if op == CmpOp::Eq { Condition::AttributeNotExists(p) } else { Condition::AttributeExists(p) });
        }
        let right = self.operand()?;
        Ok(Condition::Compare(op, left, right))
    }

    fn function(&mut self, func: &str) -> Result<Condition, PartiqlError> {
        let path = self.path()?;
        if func == "attribute_exists" {
            return Ok(Condition::AttributeExists(path));
        }
        if func == "attribute_not_exists" {
            return Ok(Condition::AttributeNotExists(path));
        }
        self.expect_sym(",")?;
        let arg = self.operand()?;
        Ok(match func {
            "begins_with" => Condition::BeginsWith(Operand::Path(path), arg),
            "contains" => Condition::Contains(Operand::Path(path), arg),
            _ => Condition::AttributeType(path, arg),
        })
    }

    fn operand(&mut self) -> Result<Operand, PartiqlError> {
        if self.is_word("size") && matches!(self.peek_at(1), Tok::Sym("(")) {
            self.pos += 2;
            let p = self.path()?;
            self.expect_sym(")")?;
            return Ok(Operand::Size(p));
        }
        if self.starts_path() {
            return Ok(Operand::Path(self.path()?));
        }
        Ok(Operand::Value(self.value_ref()?))
    }

    fn starts_path(&self) -> bool {
        match self.peek() {
            Tok::Quoted(_) => true,
            Tok::Word(w) => !is_keyword(w) && !is_literal_word(w),
            _ => false,
        }
    }

    /// A document path: a name, then `.name`, `[n]` or `['name']` steps.
    fn path(&mut self) -> Result<Path, PartiqlError> {
        let first = match self.peek().clone() {
            Tok::Quoted(s) => s,
            Tok::Word(w) if !is_keyword(&w) => w,
            _ => return Err(self.unexpected()),
        };
        self.pos += 1;
        let mut elems = vec![PathElem::Attr(first)];
        loop {
            if self.peek_sym(".") && matches!(self.peek_at(1), Tok::Word(_) | Tok::Quoted(_)) {
                self.pos += 1;
                match self.next() {
                    Tok::Word(w) | Tok::Quoted(w) => elems.push(PathElem::Attr(w)),
                    _ => return Err(self.unexpected()),
                }
            } else if self.eat_sym("[") {
                match self.next() {
                    Tok::Num(n) => {
                        let i = n.parse::<usize>().map_err(|_| {
                            PartiqlError::syntax(format!("List index must be a non-negative integer: {n}"))
                        })?;
                        elems.push(PathElem::Index(i));
                    }
                    Tok::Str(s) => elems.push(PathElem::Attr(s)),
                    _ => {
                        self.pos -= 1;
                        return Err(self.unexpected());
                    }
                }
                self.expect_sym("]")?;
            } else {
                return Ok(Path(elems));
            }
        }
    }

    // ---- values ----

    fn value_ref(&mut self) -> Result<ValueRef, PartiqlError> {
        let name = match self.peek() {
            Tok::Param => format!("?{}", self.used + 1),
            other => other.describe(),
        };
        Ok(ValueRef { name, value: self.value()? })
    }

    fn value(&mut self) -> Result<AttributeValue, PartiqlError> {
        match self.next() {
            Tok::Param => {
                let v =
                    self.params.get(self.used).cloned().ok_or_else(|| {
                        PartiqlError::other("Number of parameters in request and statement don't match.")
                    })?;
                self.used += 1;
                Ok(v)
            }
            Tok::Str(s) => Ok(AttributeValue::S(s)),
            Tok::Num(n) => number(&n),
            Tok::Sym("-") => match self.next() {
                Tok::Num(n) => number(&format!("-{n}")),
                _ => {
                    self.pos -= 1;
                    Err(self.unexpected())
                }
            },
            Tok::Sym("+") => match self.next() {
                Tok::Num(n) => number(&n),
                _ => {
                    self.pos -= 1;
                    Err(self.unexpected())
                }
            },
            Tok::Word(w) if w.eq_ignore_ascii_case("true") => Ok(AttributeValue::Bool(true)),
            Tok::Word(w) if w.eq_ignore_ascii_case("false") => Ok(AttributeValue::Bool(false)),
            Tok::Word(w) if w.eq_ignore_ascii_case("null") => Ok(AttributeValue::Null),
            Tok::Sym("[") => {
                self.enter()?;
                let mut list = Vec::new();
                if !self.eat_sym("]") {
                    loop {
                        list.push(self.value()?);
                        if self.eat_sym("]") {
                            break;
                        }
                        self.expect_sym(",")?;
                    }
                }
                self.depth -= 1;
                Ok(AttributeValue::L(list))
            }
            Tok::Sym("{") => {
                self.enter()?;
                let mut map = BTreeMap::new();
                if !self.eat_sym("}") {
                    loop {
                        let key = match self.next() {
                            Tok::Str(k) | Tok::Quoted(k) => k,
                            _ => {
                                self.pos -= 1;
                                return Err(self.unexpected());
                            }
                        };
                        self.expect_sym(":")?;
                        let v = self.value()?;
                        map.insert(key, v);
                        if self.eat_sym("}") {
                            break;
                        }
                        self.expect_sym(",")?;
                    }
                }
                self.depth -= 1;
                Ok(AttributeValue::M(map))
            }
            Tok::Sym("<<") => {
                self.enter()?;
                let mut members = Vec::new();
                if !self.eat_sym(">>") {
                    loop {
                        members.push(self.value()?);
                        if self.eat_sym(">>") {
                            break;
                        }
                        self.expect_sym(",")?;
                    }
                }
                self.depth -= 1;
                set_of(members)
            }
            _ => {
                self.pos -= 1;
                Err(self.unexpected())
            }
        }
    }
}

fn number(text: &str) -> Result<AttributeValue, PartiqlError> {
    Number::parse(text).map(AttributeValue::N).map_err(|e| PartiqlError::other(e.to_string()))
}

/// A set literal: all strings, all numbers or all binaries, no duplicates.
fn set_of(members: Vec<AttributeValue>) -> Result<AttributeValue, PartiqlError> {
    let bad = || {
        PartiqlError::other(
            "Unsupported operation: a set must be non-empty and of one type: strings, numbers or binaries",
        )
    };
    match members.first() {
        Some(AttributeValue::S(_)) => {
            let mut v = Vec::new();
            for m in members {
                let AttributeValue::S(s) = m else { return Err(bad()) };
                if v.contains(&s) {
                    return Err(PartiqlError::other("Input collection contains duplicates"));
                }
                v.push(s);
            }
            Ok(AttributeValue::SS(v))
        }
        Some(AttributeValue::N(_)) => {
            let mut v: Vec<Number> = Vec::new();
            for m in members {
                let AttributeValue::N(n) = m else { return Err(bad()) };
                if v.contains(&n) {
                    return Err(PartiqlError::other("Input collection contains duplicates"));
                }
                v.push(n);
            }
            Ok(AttributeValue::NS(v))
        }
        Some(AttributeValue::B(_)) => {
            let mut v = Vec::new();
            for m in members {
                let AttributeValue::B(b) = m else { return Err(bad()) };
                if v.contains(&b) {
                    return Err(PartiqlError::other("Input collection contains duplicates"));
                }
                v.push(b);
            }
            Ok(AttributeValue::BS(v))
        }
        _ => Err(bad()),
    }
}

fn type_operand(t: &str) -> Operand {
    Operand::Value(ValueRef { name: format!("'{t}'"), value: AttributeValue::S(t.to_string()) })
}

/// Words that are never attribute names when bare.
fn is_keyword(w: &str) -> bool {
    const KEYWORDS: &[&str] = &[
        "SELECT",
        "FROM",
        "WHERE",
        "AND",
        "OR",
        "NOT",
        "BETWEEN",
        "IN",
        "IS",
        "MISSING",
        "ORDER",
        "BY",
        "ASC",
        "DESC",
        "SET",
        "REMOVE",
        "RETURNING",
        "VALUE",
        "VALUES",
        "INTO",
        "INSERT",
        "UPDATE",
        "DELETE",
        "EXISTS",
    ];
    KEYWORDS.iter().any(|k| k.eq_ignore_ascii_case(w))
}

/// Bare words that are literals.
fn is_literal_word(w: &str) -> bool {
    ["true", "false", "null"].iter().any(|k| k.eq_ignore_ascii_case(w))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn s(v: &str) -> AttributeValue {
        AttributeValue::S(v.into())
    }

    fn n(v: &str) -> AttributeValue {
        AttributeValue::N(Number::parse(v).unwrap())
    }

    #[test]
    fn select_forms() {
        let Statement::Select(sel) = parse(
            r#"SELECT a, "b c".d[2], m['k'] FROM "T"."idx" WHERE pk = 'x' AND sk BETWEEN 1 AND 5 ORDER BY sk DESC"#,
            &[],
        )
        .unwrap() else {
            panic!()
        };
        assert_eq!(sel.table, "T");
        assert_eq!(sel.index.as_deref(), Some("idx"));
        let proj = sel.projection.unwrap();
        assert_eq!(proj[1], Path(vec![PathElem::Attr("b c".into()), PathElem::Attr("d".into()), PathElem::Index(2)]));
        assert_eq!(proj[2], Path(vec![PathElem::Attr("m".into()), PathElem::Attr("k".into())]));
        assert_eq!(sel.order_by, Some((Path::attr("sk"), true)));
        assert!(matches!(sel.filter, Some(Condition::And(..))));
        let Statement::Select(all) = parse("select * from t", &[]).unwrap() else { panic!() };
        assert!(all.projection.is_none() && all.filter.is_none());
    }

    #[test]
    fn predicates() {
        let cond = |w: &str| -> Condition {
            let Statement::Select(s) = parse(&format!("SELECT * FROM t WHERE {w}"), &[s("p")]).unwrap() else {
                panic!()
            };
            s.filter.unwrap()
        };
        assert!(matches!(cond("a IN [1, 2, ?]"), Condition::In(_, l) if l.len() == 3));
        assert!(matches!(cond("a NOT IN (1, 2) OR b = ?"), Condition::Or(..)));
        assert_eq!(
            cond("a IS MISSING OR b = ?"),
            Condition::Or(
                Box::new(Condition::AttributeNotExists(Path::attr("a"))),
                Box::new(Condition::Compare(
                    CmpOp::Eq,
                    Operand::Path(Path::attr("b")),
                    Operand::Value(ValueRef { name: "?1".into(), value: s("p") })
                )),
            )
        );
        assert_eq!(
            cond("a IS NOT MISSING AND b = ?"),
            Condition::And(
                Box::new(Condition::AttributeExists(Path::attr("a"))),
                Box::new(Condition::Compare(
                    CmpOp::Eq,
                    Operand::Path(Path::attr("b")),
                    Operand::Value(ValueRef { name: "?1".into(), value: s("p") })
                )),
            )
        );
        assert!(matches!(cond("begins_with(a, ?)"), Condition::BeginsWith(..)));
        assert!(matches!(cond("NOT contains(a.b, ?)"), Condition::Not(_)));
        assert!(matches!(cond("size(a) > 3 AND attribute_type(b, ?)"), Condition::And(..)));
        assert!(matches!(cond("(a = 1 OR b = 2) AND c <> ?"), Condition::And(..)));
    }

    #[test]
    fn literals_of_every_type() {
        let Statement::Insert(i) = parse(
            "INSERT INTO t VALUE {'pk': 'a', 'n': -1.5e2, 'b': true, 'z': null, 'ss': <<'x', 'y'>>, 'ns': <<1, 2>>, 'l': [1, 'two', [3]], 'm': {'k': {}}, 'bin': ?}",
            &[AttributeValue::B(vec![1, 2])],
        )
        .unwrap() else {
            panic!()
        };
        assert_eq!(i.item["pk"], s("a"));
        assert_eq!(i.item["n"], n("-150"));
        assert_eq!(i.item["b"], AttributeValue::Bool(true));
        assert_eq!(i.item["z"], AttributeValue::Null);
        assert_eq!(i.item["ss"], AttributeValue::SS(vec!["x".into(), "y".into()]));
        assert_eq!(i.item["ns"], AttributeValue::NS(vec![Number::parse("1").unwrap(), Number::parse("2").unwrap()]));
        assert_eq!(i.item["l"], AttributeValue::L(vec![n("1"), s("two"), AttributeValue::L(vec![n("3")])]));
        assert_eq!(i.item["bin"], AttributeValue::B(vec![1, 2]));
        assert!(parse("INSERT INTO t VALUE {'s': <<'a', 'a'>>}", &[]).is_err());
        assert!(parse("INSERT INTO t VALUE {'s': <<'a', 1>>}", &[]).is_err());
        assert!(parse("INSERT INTO t VALUE {'s': <<>>}", &[]).is_err());
        assert!(parse("INSERT INTO t VALUE 'x'", &[]).is_err());
    }

    #[test]
    fn updates_and_deletes() {
        let Statement::Update(u) = parse(
            "UPDATE t SET a = a + 1, b = list_append(b, [1]) SET c = set_add(c, <<'x'>>) REMOVE d, e[0] WHERE pk = 'k' RETURNING ALL NEW *",
            &[],
        )
        .unwrap() else {
            panic!()
        };
        assert_eq!(u.actions.len(), 5);
        assert!(matches!(&u.actions[0], UpdateAction::Set(_, SetValue::Plus(..))));
        assert!(matches!(&u.actions[2], UpdateAction::Add(..)));
        assert!(matches!(&u.actions[4], UpdateAction::Remove(_)));
        assert_eq!(u.returning, Some(Returning::AllNew));
        assert!(parse("UPDATE t SET c = set_add(x, <<'a'>>) WHERE pk = 1", &[]).is_err());
        let Statement::Delete(d) = parse("DELETE FROM \"t\" WHERE pk = 1 RETURNING ALL OLD *", &[]).unwrap() else {
            panic!()
        };
        assert_eq!(d.returning, Some(Returning::AllOld));
        assert!(parse("DELETE FROM t WHERE pk = 1 RETURNING ALL NEW *", &[]).is_err());
        assert!(matches!(parse("EXISTS(SELECT * FROM t WHERE pk = 1)", &[]).unwrap(), Statement::Exists(_)));
    }

    #[test]
    fn parameters_must_match() {
        let e = parse("SELECT * FROM t WHERE a = ?", &[]).unwrap_err();
        assert_eq!(e.message, "Number of parameters in request and statement don't match.");
        let e = parse("SELECT * FROM t WHERE a = 1", &[s("x")]).unwrap_err();
        assert_eq!(e.message, "Number of parameters in request and statement don't match.");
    }

    #[test]
    fn syntax_errors_name_the_token() {
        let e = parse("SELECT * FROM t WHERE", &[]).unwrap_err();
        assert!(e.message.starts_with("Statement wasn't well formed, can't be processed: "), "{}", e.message);
        let e = parse("SELECT * FRM t", &[]).unwrap_err();
        assert_eq!(e.message, "Statement wasn't well formed, can't be processed: Unexpected token");
        let e = parse("INSERT INTO t (a) VALUES (1)", &[]).unwrap_err();
        assert_eq!(e.message, "Statement wasn't well formed, can't be processed: Unexpected token");
        let e = parse("INSERT INTO t VALUES {'a': 1}", &[]).unwrap_err();
        assert_eq!(e.message, "Statement wasn't well formed, can't be processed: Unexpected keyword");
        let e = parse("UPDATE t SET a = 1 WHERE pk = 1 SET b = 2", &[]).unwrap_err();
        assert_eq!(e.message, "Statement wasn't well formed, can't be processed: Unexpected keyword");
        let e = parse("SELEC * FROM t", &[]).unwrap_err();
        assert_eq!(e.message, "Statement wasn't well formed, can't be processed: Expected data manipulation");
        assert!(parse("SELECT * FROM t WHERE ((((a = 1", &[]).is_err());
        let deep = format!("SELECT * FROM t WHERE {}a = 1{}", "(".repeat(200), ")".repeat(200));
        assert!(parse(&deep, &[]).is_err());
        let sets = format!("INSERT INTO t VALUE {{'a': {}1{}}}", "<<".repeat(4000), ">>".repeat(4000));
        assert!(parse(&sets, &[]).is_err());
    }
}
