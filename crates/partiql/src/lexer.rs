//! PartiQL tokens. Keywords are bare identifiers compared case-insensitively by the
//! parser; `"double quotes"` make an identifier, `'single quotes'` a string (`''`
//! escapes a quote), `<<` and `>>` delimit sets, `?` is a parameter.

use crate::PartiqlError;

/// A token and where it starts (1-based line and column).
#[derive(Debug, Clone, PartialEq)]
pub struct Token {
    /// What it is.
    pub kind: Tok,
    /// Its line.
    pub line: usize,
    /// Its column.
    pub column: usize,
}

/// Token kinds.
#[derive(Debug, Clone, PartialEq)]
pub enum Tok {
    /// A bare identifier or keyword.
    Word(String),
    /// A `"quoted"` identifier.
    Quoted(String),
    /// A `'string'`.
    Str(String),
    /// A number literal as written.
    Num(String),
    /// `?`.
    Param,
    /// Punctuation and operators.
    Sym(&'static str),
    /// End of input.
    End,
}

impl Tok {
    /// How the token reads in messages.
    pub fn describe(&self) -> String {
        match self {
            Tok::Word(w) => w.clone(),
            Tok::Quoted(q) => format!("\"{q}\""),
            Tok::Str(s) => format!("'{s}'"),
            Tok::Num(n) => n.clone(),
            Tok::Param => "?".into(),
            Tok::Sym(s) => (*s).into(),
            Tok::End => "<EOF>".into(),
        }
    }
}

const SYMS: &[&str] = &[
    "<<", ">>", "<=", ">=", "<>", "!=", "=", "<", ">", ",", ".", "[", "]", "{", "}", "(", ")", ":", "+", "-", "*", ";",
];

/// Splits `text` into tokens, ending with [`Tok::End`].
pub fn tokenize(text: &str) -> Result<Vec<Token>, PartiqlError> {
    let chars: Vec<char> = text.chars().collect();
    let mut out = Vec::new();
    let (mut i, mut line, mut col) = (0usize, 1usize, 1usize);
    // Moves past the current character, keeping line and column.
    macro_rules! bump {
        () => {{
            let c = chars[i];
            i += 1;
            if c == '\n' {
                line += 1;
                col = 1;
            } else {
                col += 1;
            }
        }};
    }
    while i < chars.len() {
        let c = chars[i];
        let (tl, tc) = (line, col);
        if c.is_whitespace() {
            bump!();
            continue;
        }
        // Comments: `--` to the end of the line.
        if c == '-' && chars.get(i + 1) == Some(&'-') {
            while i < chars.len() && chars[i] != '\n' {
                bump!();
            }
            continue;
        }
        let kind = if c == '\'' || c == '"' {
            let quote = c;
            bump!();
            let mut s = String::new();
            loop {
                let Some(&d) = chars.get(i) else {
                    return Err(PartiqlError::syntax(if quote == '\'' {
                        "Unterminated string"
                    } else {
                        "Unterminated quoted identifier"
                    }));
                };
                bump!();
                if d == quote {
                    if chars.get(i) == Some(&quote) {
                        s.push(quote);
                        bump!();
                        continue;
                    }
                    break;
                }
                s.push(d);
            }
            if quote == '\'' {
                Tok::Str(s)
            } else {
                Tok::Quoted(s)
            }
        } else if c.is_ascii_digit() || (c == '.' && chars.get(i + 1).is_some_and(|d| d.is_ascii_digit())) {
            let mut s = String::new();
            while i < chars.len() && (chars[i].is_ascii_digit() || chars[i] == '.') {
                s.push(chars[i]);
                bump!();
            }
            if i < chars.len() && (chars[i] == 'e' || chars[i] == 'E') {
                let save = (i, line, col, s.len());
                s.push(chars[i]);
                bump!();
                if i < chars.len() && (chars[i] == '+' || chars[i] == '-') {
                    s.push(chars[i]);
                    bump!();
                }
                let digits_from = s.len();
                while i < chars.len() && chars[i].is_ascii_digit() {
                    s.push(chars[i]);
                    bump!();
                }
                if s.len() == digits_from {
                    // Not an exponent after all.
                    (i, line, col) = (save.0, save.1, save.2);
                    s.truncate(save.3);
                }
            }
            Tok::Num(s)
        } else if c.is_alphabetic() || c == '_' || c == '$' {
            let mut s = String::new();
            while i < chars.len() && (chars[i].is_alphanumeric() || chars[i] == '_' || chars[i] == '$') {
                s.push(chars[i]);
                bump!();
            }
            Tok::Word(s)
        } else if c == '?' {
            bump!();
            Tok::Param
        } else {
            let rest: String = chars[i..chars.len().min(i + 2)].iter().collect();
            let Some(sym) = SYMS.iter().find(|s| rest.starts_with(**s)) else {
                return Err(PartiqlError::syntax("Unexpected token"));
            };
            for _ in 0..sym.chars().count() {
                bump!();
            }
            Tok::Sym(sym)
        };
        out.push(Token { kind, line: tl, column: tc });
    }
    out.push(Token { kind: Tok::End, line, column: col });
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn kinds(s: &str) -> Vec<Tok> {
        tokenize(s).unwrap().into_iter().map(|t| t.kind).collect()
    }

    #[test]
    fn tokens() {
        assert_eq!(
            kinds(r#"SELECT * FROM "T" WHERE a['x'] <= 1.5e3 AND b <> ? -- note"#),
            vec![
                Tok::Word("SELECT".into()),
                Tok::Sym("*"),
                Tok::Word("FROM".into()),
                Tok::Quoted("T".into()),
                Tok::Word("WHERE".into()),
                Tok::Word("a".into()),
                Tok::Sym("["),
                Tok::Str("x".into()),
                Tok::Sym("]"),
                Tok::Sym("<="),
                Tok::Num("1.5e3".into()),
                Tok::Word("AND".into()),
                Tok::Word("b".into()),
                Tok::Sym("<>"),
                Tok::Param,
                Tok::End,
            ]
        );
        assert_eq!(
            kinds("'it''s' <<1>>"),
            vec![Tok::Str("it's".into()), Tok::Sym("<<"), Tok::Num("1".into()), Tok::Sym(">>"), Tok::End]
        );
        assert_eq!(kinds("1e"), vec![Tok::Num("1".into()), Tok::Word("e".into()), Tok::End]);
    }

    #[test]
    fn positions_and_errors() {
        let t = tokenize("SELECT\n  x").unwrap();
        assert_eq!((t[1].line, t[1].column), (2, 3));
        assert!(tokenize("'open").is_err());
        assert!(tokenize("a # b").is_err());
    }
}
