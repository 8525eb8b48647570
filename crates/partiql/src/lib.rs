//! DynamoDB's PartiQL dialect: `SELECT`, `INSERT`, `UPDATE`, `DELETE` and `EXISTS`
//! statements parsed into the expression trees of `stator-expr` (conditions, update
//! actions, document paths), with `?` parameters bound at parse time. Pure logic: the
//! engine decides how a statement runs (GetItem, Query or Scan; a single write or a
//! transaction action).
//!
//! ```
//! use stator_partiql::{parse, Statement};
//! use stator_types::AttributeValue;
//!
//! let s = parse(r#"SELECT a, b.c[0] FROM "Music" WHERE Artist = ? AND Year > 1990"#,
//!               &[AttributeValue::S("Acme".into())]).unwrap();
//! let Statement::Select(sel) = s else { panic!() };
//! assert_eq!(sel.table, "Music");
//! assert!(sel.filter.is_some());
//! ```

#![warn(missing_docs)]
#![cfg_attr(test, allow(clippy::unwrap_used))]

pub mod lexer;
mod parser;

use stator_expr::{Condition, Path, UpdateAction};
use stator_types::Item;

pub use parser::parse;

/// Longest statement DynamoDB accepts, in characters.
pub const MAX_STATEMENT_LENGTH: usize = 8192;

/// A statement that cannot be run, with DynamoDB's message (a ValidationException).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PartiqlError {
    /// The message.
    pub message: String,
}

impl PartiqlError {
    /// A syntax error: DynamoDB's "Statement wasn't well formed" prefix and `detail`.
    pub fn syntax(detail: impl std::fmt::Display) -> PartiqlError {
        PartiqlError { message: format!("Statement wasn't well formed, can't be processed: {detail}") }
    }

    /// Any other refusal, with its full message.
    pub fn other(message: impl Into<String>) -> PartiqlError {
        PartiqlError { message: message.into() }
    }
}

impl std::fmt::Display for PartiqlError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.message)
    }
}

impl std::error::Error for PartiqlError {}

/// A parsed statement.
#[derive(Debug, Clone, PartialEq)]
pub enum Statement {
    /// `SELECT`.
    Select(Select),
    /// `INSERT INTO "t" VALUE {...}`.
    Insert(Insert),
    /// `UPDATE "t" SET ... REMOVE ... WHERE ... [RETURNING ...]`.
    Update(UpdateStatement),
    /// `DELETE FROM "t" WHERE ... [RETURNING ALL OLD *]`.
    Delete(DeleteStatement),
    /// `EXISTS(SELECT * FROM "t" WHERE ...)`: a condition check in a transaction.
    Exists(Select),
}

impl Statement {
    /// Whether the statement only reads.
    pub fn is_read(&self) -> bool {
        matches!(self, Statement::Select(_))
    }

    /// The table it names.
    pub fn table(&self) -> &str {
        match self {
            Statement::Select(s) | Statement::Exists(s) => &s.table,
            Statement::Insert(i) => &i.table,
            Statement::Update(u) => &u.table,
            Statement::Delete(d) => &d.table,
        }
    }
}

/// `SELECT`.
#[derive(Debug, Clone, PartialEq)]
pub struct Select {
    /// The projection: `None` for `*`.
    pub projection: Option<Vec<Path>>,
    /// The table.
    pub table: String,
    /// The index, for `FROM "table"."index"`.
    pub index: Option<String>,
    /// The WHERE clause.
    pub filter: Option<Condition>,
    /// ORDER BY: the path and whether descending.
    pub order_by: Option<(Path, bool)>,
}

/// `INSERT`.
#[derive(Debug, Clone, PartialEq)]
pub struct Insert {
    /// The table.
    pub table: String,
    /// The item.
    pub item: Item,
}

/// What a write returns (`RETURNING`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Returning {
    /// `ALL OLD *`.
    AllOld,
    /// `MODIFIED OLD *`.
    ModifiedOld,
    /// `ALL NEW *`.
    AllNew,
    /// `MODIFIED NEW *`.
    ModifiedNew,
}

/// `UPDATE`.
#[derive(Debug, Clone, PartialEq)]
pub struct UpdateStatement {
    /// The table.
    pub table: String,
    /// SET and REMOVE actions, in order.
    pub actions: Vec<UpdateAction>,
    /// The WHERE clause (the key equalities and any further condition).
    pub filter: Condition,
    /// RETURNING.
    pub returning: Option<Returning>,
}

/// `DELETE`.
#[derive(Debug, Clone, PartialEq)]
pub struct DeleteStatement {
    /// The table.
    pub table: String,
    /// The WHERE clause.
    pub filter: Condition,
    /// RETURNING (only `ALL OLD *`).
    pub returning: Option<Returning>,
}
