//! Splits an expression string into tokens, and builds DynamoDB's syntax-error
//! message from the token where parsing failed.
//!
//! The token rules follow what DynamoDB's own messages reveal:
//! - a bare name starts with a letter and goes on with letters, digits and `_`
//!   (`_version` fails on `_`);
//! - `#name` and `:value` take letters, digits and `_` after the sigil; a lone `#` or
//!   `:` is a token of its own (`ADD hits : incr` fails on `:`);
//! - an integer is `0` or a digit run not starting with `0` (`#a_2021-03` fails
//!   with near `"#a_2021-0"`, so `03` lexes as `0` then `3`);
//! - any other character is a one-character token the grammar never accepts.

use crate::error::{ExprError, ExprKind};

/// Token kinds.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Tok {
    /// Bare name or keyword.
    Ident,
    /// `#name`
    Name,
    /// `:value`
    Value,
    /// Non-negative integer.
    Int,
    LParen,
    RParen,
    LBracket,
    RBracket,
    Comma,
    Dot,
    Eq,
    Ne,
    Lt,
    Le,
    Gt,
    Ge,
    Plus,
    Minus,
    /// A character no rule accepts.
    Unknown,
    /// End of input.
    Eof,
}

/// One token: its kind and byte span in the source.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Token {
    pub kind: Tok,
    pub start: usize,
    pub end: usize,
}

fn is_word_byte(b: u8) -> bool {
    b.is_ascii_alphanumeric() || b == b'_'
}

/// Tokenizes `src`. Always ends with an [`Tok::Eof`] token; never fails (unknown
/// characters become [`Tok::Unknown`] tokens, refused later by the grammar).
pub(crate) fn lex(src: &str) -> Vec<Token> {
    let b = src.as_bytes();
    let mut out = Vec::new();
    let mut i = 0;
    while i < b.len() {
        let c = b[i];
        if matches!(c, b' ' | b'\t' | b'\n' | b'\r') {
            i += 1;
            continue;
        }
        let start = i;
        let kind = match c {
            b'a'..=b'z' | b'A'..=b'Z' => {
                i += 1;
                while i < b.len() && is_word_byte(b[i]) {
                    i += 1;
                }
                Tok::Ident
            }
            b'#' | b':' => {
                i += 1;
                let body = i;
                while i < b.len() && is_word_byte(b[i]) {
                    i += 1;
                }
                match (c, i > body) {
                    (b'#', true) => Tok::Name,
                    (b':', true) => Tok::Value,
                    _ => Tok::Unknown,
                }
            }
            b'0' => {
                i += 1;
                Tok::Int
            }
            b'1'..=b'9' => {
                i += 1;
                while i < b.len() && b[i].is_ascii_digit() {
                    i += 1;
                }
                Tok::Int
            }
            b'<' => {
                i += 1;
                match b.get(i) {
                    Some(b'>') => {
                        i += 1;
                        Tok::Ne
                    }
                    Some(b'=') => {
                        i += 1;
                        Tok::Le
                    }
                    _ => Tok::Lt,
                }
            }
            b'>' => {
                i += 1;
                if b.get(i) == Some(&b'=') {
                    i += 1;
                    Tok::Ge
                } else {
                    Tok::Gt
                }
            }
            _ => {
                i += 1;
                match c {
                    b'(' => Tok::LParen,
                    b')' => Tok::RParen,
                    b'[' => Tok::LBracket,
                    b']' => Tok::RBracket,
                    b',' => Tok::Comma,
                    b'.' => Tok::Dot,
                    b'=' => Tok::Eq,
                    b'+' => Tok::Plus,
                    b'-' => Tok::Minus,
                    _ => {
                        // One whole character, even when it takes several bytes.
                        while i < b.len() && !src.is_char_boundary(i) {
                            i += 1;
                        }
                        Tok::Unknown
                    }
                }
            }
        };
        out.push(Token { kind, start, end: i });
    }
    out.push(Token { kind: Tok::Eof, start: b.len(), end: b.len() });
    out
}

/// DynamoDB's syntax error for the token at `at`:
/// `Syntax error; token: "<tok>", near: "<prev tok next>"`, where near is the source
/// text from the start of the previous token to the end of the next one.
pub(crate) fn syntax_error(src: &str, toks: &[Token], at: usize, kind: ExprKind) -> ExprError {
    let Some(tok) = toks.get(at) else {
        return kind.err("Syntax error; token: \"<EOF>\", near: \"\"");
    };
    let text = if tok.kind == Tok::Eof { "<EOF>" } else { src.get(tok.start..tok.end).unwrap_or("") };
    let from = if at > 0 { toks.get(at - 1).map_or(tok.start, |t| t.start) } else { tok.start };
    let to = match toks.get(at + 1) {
        Some(next) if next.kind != Tok::Eof => next.end,
        _ => tok.end,
    };
    let near = src.get(from..to).unwrap_or("");
    kind.err(format_args!("Syntax error; token: \"{text}\", near: \"{near}\""))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn kinds(s: &str) -> Vec<(Tok, &str)> {
        lex(s).iter().map(|t| (t.kind, &s[t.start..t.end])).collect()
    }

    #[test]
    fn tokens() {
        assert_eq!(
            kinds("a.b[10] <> #n_1 AND :v0>=0"),
            vec![
                (Tok::Ident, "a"),
                (Tok::Dot, "."),
                (Tok::Ident, "b"),
                (Tok::LBracket, "["),
                (Tok::Int, "10"),
                (Tok::RBracket, "]"),
                (Tok::Ne, "<>"),
                (Tok::Name, "#n_1"),
                (Tok::Ident, "AND"),
                (Tok::Value, ":v0"),
                (Tok::Ge, ">="),
                (Tok::Int, "0"),
                (Tok::Eof, ""),
            ]
        );
        assert_eq!(kinds("03")[..2], [(Tok::Int, "0"), (Tok::Int, "3")]);
        assert_eq!(kinds("_x")[..2], [(Tok::Unknown, "_"), (Tok::Ident, "x")]);
        assert_eq!(kinds("# :")[..2], [(Tok::Unknown, "#"), (Tok::Unknown, ":")]);
        assert_eq!(kinds("é<")[..2], [(Tok::Unknown, "é"), (Tok::Lt, "<")]);
    }

    #[test]
    fn near_text() {
        let src = "GI-1-PK = :v";
        let toks = lex(src);
        assert_eq!(
            syntax_error(src, &toks, 1, ExprKind::KeyCondition).0,
            "Invalid KeyConditionExpression: Syntax error; token: \"-\", near: \"GI-1\""
        );
        let src = "__typename <> :t";
        let toks = lex(src);
        assert_eq!(
            syntax_error(src, &toks, 0, ExprKind::Condition).0,
            "Invalid ConditionExpression: Syntax error; token: \"_\", near: \"__\""
        );
        let src = "a =";
        let toks = lex(src);
        assert_eq!(
            syntax_error(src, &toks, 2, ExprKind::Condition).0,
            "Invalid ConditionExpression: Syntax error; token: \"<EOF>\", near: \"=\""
        );
    }
}
