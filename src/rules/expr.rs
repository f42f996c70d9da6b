//! `when` conditions: a small expression language over a check's values.
//!
//! ```text
//! psi > 0.2
//! p_value < 0.01 and statistic > 0.1
//! not (count < 100) or abs(psi) >= 1e-1
//! ```
//! Grammar, loosest first: `or`, `and`, `not`, comparisons (`< <= > >= == !=`),
//! `+ -`, `* /`, unary `-`, then numbers, names, `abs/min/max(...)` and parentheses.
//! A condition must be boolean; names must be values the rule's check produces.

use std::fmt;

/// A parsed expression.
#[derive(Debug, Clone, PartialEq)]
pub enum Expr {
    Num(f64),
    Var(String),
    Neg(Box<Expr>),
    Not(Box<Expr>),
    Bin(Box<Expr>, Op, Box<Expr>),
    Call(Func, Vec<Expr>),
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Op {
    Or,
    And,
    Lt,
    Le,
    Gt,
    Ge,
    Eq,
    Ne,
    Add,
    Sub,
    Mul,
    Div,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Func {
    Abs,
    Min,
    Max,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Type {
    Num,
    Bool,
}

/// A parse or type error, with the character offset it was found at.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ExprError {
    pub offset: usize,
    pub message: String,
}

impl fmt::Display for ExprError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} (at character {})", self.message, self.offset + 1)
    }
}

/// Parse `text` as a condition whose names are all in `known`.
pub fn parse_condition(text: &str, known: &[&str]) -> Result<Expr, ExprError> {
    let tokens = lex(text)?;
    let mut p = Parser { tokens, pos: 0, end: text.chars().count() };
    let expr = p.or()?;
    if let Some((tok, at)) = p.tokens.get(p.pos) {
        return Err(ExprError { offset: *at, message: format!("unexpected `{tok}`") });
    }
    match type_of(&expr, known)? {
        Type::Bool => Ok(expr),
        Type::Num => Err(ExprError { offset: 0, message: "condition is a number; compare it, e.g. `psi > 0.2`".into() }),
    }
}

/// Evaluate a condition. `None` when a value it needs is missing (no data).
pub fn eval_condition(expr: &Expr, lookup: &dyn Fn(&str) -> Option<f64>) -> Option<bool> {
    match eval(expr, lookup)? {
        Val::Bool(b) => Some(b),
        Val::Num(_) => None,
    }
}

#[derive(Debug, Clone, Copy)]
enum Val {
    Num(f64),
    Bool(bool),
}

fn eval(expr: &Expr, lookup: &dyn Fn(&str) -> Option<f64>) -> Option<Val> {
    let num = |e: &Expr| match eval(e, lookup)? {
        Val::Num(x) => Some(x),
        Val::Bool(_) => None,
    };
    let boolean = |e: &Expr| match eval(e, lookup)? {
        Val::Bool(b) => Some(b),
        Val::Num(_) => None,
    };
    Some(match expr {
        Expr::Num(x) => Val::Num(*x),
        Expr::Var(name) => Val::Num(lookup(name)?),
        Expr::Neg(e) => Val::Num(-num(e)?),
        Expr::Not(e) => Val::Bool(!boolean(e)?),
        Expr::Bin(a, Op::And, b) => Val::Bool(boolean(a)? && boolean(b)?),
        Expr::Bin(a, Op::Or, b) => {
            // A missing value on one side does not hide a true other side.
            match (boolean(a), boolean(b)) {
                (Some(true), _) | (_, Some(true)) => Val::Bool(true),
                (Some(false), Some(false)) => Val::Bool(false),
                _ => return None,
            }
        }
        Expr::Bin(a, op, b) => {
            let (x, y) = (num(a)?, num(b)?);
            match op {
                Op::Lt => Val::Bool(x < y),
                Op::Le => Val::Bool(x <= y),
                Op::Gt => Val::Bool(x > y),
                Op::Ge => Val::Bool(x >= y),
                Op::Eq => Val::Bool(x == y),
                Op::Ne => Val::Bool(x != y),
                Op::Add => Val::Num(x + y),
                Op::Sub => Val::Num(x - y),
                Op::Mul => Val::Num(x * y),
                Op::Div => Val::Num(x / y),
                Op::And | Op::Or => unreachable!("handled above"),
            }
        }
        Expr::Call(f, args) => {
            let xs: Option<Vec<f64>> = args.iter().map(num).collect();
            let xs = xs?;
            Val::Num(match f {
                Func::Abs => xs[0].abs(),
                Func::Min => xs.iter().copied().fold(f64::INFINITY, f64::min),
                Func::Max => xs.iter().copied().fold(f64::NEG_INFINITY, f64::max),
            })
        }
    })
}

fn type_of(expr: &Expr, known: &[&str]) -> Result<Type, ExprError> {
    let want = |e: &Expr, t: Type, what: &str| -> Result<(), ExprError> {
        if type_of(e, known)? != t {
            return Err(ExprError { offset: 0, message: what.to_string() });
        }
        Ok(())
    };
    Ok(match expr {
        Expr::Num(_) => Type::Num,
        Expr::Var(name) => {
            if !known.contains(&name.as_str()) {
                let hint = crate::config::diag::did_you_mean(name, known.iter().copied());
                return Err(ExprError {
                    offset: 0,
                    message: format!("unknown value `{name}`{hint}; this check yields: {}", known.join(", ")),
                });
            }
            Type::Num
        }
        Expr::Neg(e) => {
            want(e, Type::Num, "`-` needs a number")?;
            Type::Num
        }
        Expr::Not(e) => {
            want(e, Type::Bool, "`not` needs a condition")?;
            Type::Bool
        }
        Expr::Bin(a, op, b) => match op {
            Op::And | Op::Or => {
                want(a, Type::Bool, "`and`/`or` join conditions, not numbers")?;
                want(b, Type::Bool, "`and`/`or` join conditions, not numbers")?;
                Type::Bool
            }
            Op::Lt | Op::Le | Op::Gt | Op::Ge | Op::Eq | Op::Ne => {
                want(a, Type::Num, "comparisons compare numbers")?;
                want(b, Type::Num, "comparisons compare numbers")?;
                Type::Bool
            }
            _ => {
                want(a, Type::Num, "arithmetic needs numbers")?;
                want(b, Type::Num, "arithmetic needs numbers")?;
                Type::Num
            }
        },
        Expr::Call(f, args) => {
            let ok = match f {
                Func::Abs => args.len() == 1,
                Func::Min | Func::Max => !args.is_empty(),
            };
            if !ok {
                return Err(ExprError { offset: 0, message: format!("wrong number of arguments to {f:?}").to_lowercase() });
            }
            for a in args {
                want(a, Type::Num, "functions take numbers")?;
            }
            Type::Num
        }
    })
}

#[derive(Debug, Clone, PartialEq)]
enum Tok {
    Num(f64),
    Ident(String),
    Op(&'static str),
    LParen,
    RParen,
    Comma,
}

impl fmt::Display for Tok {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Tok::Num(x) => write!(f, "{x}"),
            Tok::Ident(s) => write!(f, "{s}"),
            Tok::Op(s) => write!(f, "{s}"),
            Tok::LParen => write!(f, "("),
            Tok::RParen => write!(f, ")"),
            Tok::Comma => write!(f, ","),
        }
    }
}

fn lex(text: &str) -> Result<Vec<(Tok, usize)>, ExprError> {
    let chars: Vec<char> = text.chars().collect();
    let mut out = Vec::new();
    let mut i = 0;
    while i < chars.len() {
        let c = chars[i];
        let start = i;
        if c.is_whitespace() {
            i += 1;
            continue;
        }
        if c.is_ascii_digit() || (c == '.' && chars.get(i + 1).is_some_and(|d| d.is_ascii_digit())) {
            while i < chars.len() && (chars[i].is_ascii_alphanumeric() || chars[i] == '.' || chars[i] == '_') {
                // exponent sign: 1e-3
                if (chars[i] == 'e' || chars[i] == 'E') && matches!(chars.get(i + 1), Some('-' | '+')) {
                    i += 1;
                }
                i += 1;
            }
            let s: String = chars[start..i].iter().filter(|&&c| c != '_').collect();
            let x = s.parse::<f64>().map_err(|_| ExprError { offset: start, message: format!("bad number `{s}`") })?;
            out.push((Tok::Num(x), start));
            continue;
        }
        if c.is_alphabetic() || c == '_' {
            while i < chars.len() && (chars[i].is_alphanumeric() || chars[i] == '_') {
                i += 1;
            }
            out.push((Tok::Ident(chars[start..i].iter().collect()), start));
            continue;
        }
        let two: String = chars[i..(i + 2).min(chars.len())].iter().collect();
        let op = match two.as_str() {
            "<=" => Some("<="),
            ">=" => Some(">="),
            "==" => Some("=="),
            "!=" => Some("!="),
            "&&" | "||" => {
                return Err(ExprError {
                    offset: start,
                    message: format!("use `{}` instead of `{two}`", if two == "&&" { "and" } else { "or" }),
                });
            }
            _ => None,
        };
        if let Some(op) = op {
            out.push((Tok::Op(op), start));
            i += 2;
            continue;
        }
        let tok = match c {
            '<' => Tok::Op("<"),
            '>' => Tok::Op(">"),
            '+' => Tok::Op("+"),
            '-' => Tok::Op("-"),
            '*' => Tok::Op("*"),
            '/' => Tok::Op("/"),
            '(' => Tok::LParen,
            ')' => Tok::RParen,
            ',' => Tok::Comma,
            '=' => return Err(ExprError { offset: start, message: "use `==` to compare".into() }),
            _ => return Err(ExprError { offset: start, message: format!("unexpected character `{c}`") }),
        };
        out.push((tok, start));
        i += 1;
    }
    Ok(out)
}

struct Parser {
    tokens: Vec<(Tok, usize)>,
    pos: usize,
    end: usize,
}

impl Parser {
    fn peek(&self) -> Option<&Tok> {
        self.tokens.get(self.pos).map(|(t, _)| t)
    }

    fn offset(&self) -> usize {
        self.tokens.get(self.pos).map(|(_, o)| *o).unwrap_or(self.end)
    }

    fn is_word(&self, w: &str) -> bool {
        matches!(self.peek(), Some(Tok::Ident(s)) if s == w)
    }

    fn or(&mut self) -> Result<Expr, ExprError> {
        let mut lhs = self.and()?;
        while self.is_word("or") {
            self.pos += 1;
            lhs = Expr::Bin(Box::new(lhs), Op::Or, Box::new(self.and()?));
        }
        Ok(lhs)
    }

    fn and(&mut self) -> Result<Expr, ExprError> {
        let mut lhs = self.not()?;
        while self.is_word("and") {
            self.pos += 1;
            lhs = Expr::Bin(Box::new(lhs), Op::And, Box::new(self.not()?));
        }
        Ok(lhs)
    }

    fn not(&mut self) -> Result<Expr, ExprError> {
        if self.is_word("not") {
            self.pos += 1;
            return Ok(Expr::Not(Box::new(self.not()?)));
        }
        self.cmp()
    }

    fn cmp(&mut self) -> Result<Expr, ExprError> {
        let lhs = self.sum()?;
        let op = match self.peek() {
            Some(Tok::Op("<")) => Op::Lt,
            Some(Tok::Op("<=")) => Op::Le,
            Some(Tok::Op(">")) => Op::Gt,
            Some(Tok::Op(">=")) => Op::Ge,
            Some(Tok::Op("==")) => Op::Eq,
            Some(Tok::Op("!=")) => Op::Ne,
            _ => return Ok(lhs),
        };
        self.pos += 1;
        Ok(Expr::Bin(Box::new(lhs), op, Box::new(self.sum()?)))
    }

    fn sum(&mut self) -> Result<Expr, ExprError> {
        let mut lhs = self.product()?;
        loop {
            let op = match self.peek() {
                Some(Tok::Op("+")) => Op::Add,
                Some(Tok::Op("-")) => Op::Sub,
                _ => return Ok(lhs),
            };
            self.pos += 1;
            lhs = Expr::Bin(Box::new(lhs), op, Box::new(self.product()?));
        }
    }

    fn product(&mut self) -> Result<Expr, ExprError> {
        let mut lhs = self.unary()?;
        loop {
            let op = match self.peek() {
                Some(Tok::Op("*")) => Op::Mul,
                Some(Tok::Op("/")) => Op::Div,
                _ => return Ok(lhs),
            };
            self.pos += 1;
            lhs = Expr::Bin(Box::new(lhs), op, Box::new(self.unary()?));
        }
    }

    fn unary(&mut self) -> Result<Expr, ExprError> {
        if self.peek() == Some(&Tok::Op("-")) {
            self.pos += 1;
            return Ok(Expr::Neg(Box::new(self.unary()?)));
        }
        self.primary()
    }

    fn primary(&mut self) -> Result<Expr, ExprError> {
        let at = self.offset();
        let Some((tok, _)) = self.tokens.get(self.pos).cloned() else {
            return Err(ExprError { offset: at, message: "unexpected end of condition".into() });
        };
        self.pos += 1;
        match tok {
            Tok::Num(x) => Ok(Expr::Num(x)),
            Tok::LParen => {
                let e = self.or()?;
                self.expect(Tok::RParen)?;
                Ok(e)
            }
            Tok::Ident(name) if matches!(name.as_str(), "and" | "or" | "not") => {
                Err(ExprError { offset: at, message: format!("unexpected `{name}`") })
            }
            Tok::Ident(name) if self.peek() == Some(&Tok::LParen) => {
                let f = match name.as_str() {
                    "abs" => Func::Abs,
                    "min" => Func::Min,
                    "max" => Func::Max,
                    _ => return Err(ExprError { offset: at, message: format!("unknown function `{name}` (abs, min, max)") }),
                };
                self.pos += 1;
                let mut args = vec![self.or()?];
                while self.peek() == Some(&Tok::Comma) {
                    self.pos += 1;
                    args.push(self.or()?);
                }
                self.expect(Tok::RParen)?;
                Ok(Expr::Call(f, args))
            }
            Tok::Ident(name) => Ok(Expr::Var(name)),
            other => Err(ExprError { offset: at, message: format!("unexpected `{other}`") }),
        }
    }

    fn expect(&mut self, want: Tok) -> Result<(), ExprError> {
        if self.peek() == Some(&want) {
            self.pos += 1;
            Ok(())
        } else {
            Err(ExprError { offset: self.offset(), message: format!("expected `{want}`") })
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const KNOWN: &[&str] = &["psi", "statistic", "p_value", "count"];

    fn eval_with(text: &str, vars: &[(&str, f64)]) -> Option<bool> {
        let e = parse_condition(text, KNOWN).unwrap();
        eval_condition(&e, &|n| vars.iter().find(|(k, _)| *k == n).map(|(_, v)| *v))
    }

    #[test]
    fn evaluates_comparisons_and_logic() {
        assert_eq!(eval_with("psi > 0.2", &[("psi", 0.3)]), Some(true));
        assert_eq!(eval_with("psi > 0.2", &[("psi", 0.2)]), Some(false));
        let both = "p_value < 0.01 and statistic > 0.1";
        assert_eq!(eval_with(both, &[("p_value", 0.001), ("statistic", 0.2)]), Some(true));
        assert_eq!(eval_with(both, &[("p_value", 0.001), ("statistic", 0.05)]), Some(false));
        assert_eq!(eval_with("not (count < 100) or abs(-psi) >= 1e-1", &[("count", 10.0), ("psi", 0.5)]), Some(true));
        assert_eq!(eval_with("psi * 2 + 1 == 2", &[("psi", 0.5)]), Some(true));
    }

    #[test]
    fn precedence_binds_and_tighter_than_or() {
        // false and false or true = (false and false) or true
        assert_eq!(eval_with("psi > 1 and psi > 2 or psi < 1", &[("psi", 0.5)]), Some(true));
    }

    #[test]
    fn missing_values_give_none_unless_or_decides() {
        assert_eq!(eval_with("psi > 0.2", &[]), None);
        assert_eq!(eval_with("psi > 0.2 or count > 1", &[("count", 5.0)]), Some(true));
    }

    #[test]
    fn errors_name_the_problem() {
        let err = |t| parse_condition(t, KNOWN).unwrap_err().to_string();
        assert!(err("pis > 0.2").contains("unknown value `pis` (did you mean `psi`?)"));
        assert!(err("psi").contains("condition is a number"));
        assert!(err("psi > ").contains("unexpected end"));
        assert!(err("psi = 1").contains("use `==`"));
        assert!(err("psi > 1 && count > 1").contains("use `and`"));
        assert!(err("(psi > 1").contains("expected `)`"));
        assert!(err("psi > 1 and 2").contains("join conditions"));
    }
}
