//! `when` conditions: a small expression language over a check's values.
//!
//! ```text
//! psi > 0.2
//! p_value < 0.01 and statistic > 0.1
//! not (count < 100) or abs(psi) >= 1e-1
//! ```
//! Grammar, loosest first: `or`, `and`, `not`, comparisons (`< <= > >= == !=`),
//! `+ -`, `* /`, unary `-`, then numbers, strings (`"..."` or `'...'`),
//! `true`/`false`, names, `abs/min/max(...)` and parentheses.
//! A condition must be boolean; names must be values the rule's check produces.
//!
//! The same language filters events by their fields (an SLI's `good` and
//! `valid`: `status < 500 and endpoint != "/health"`), where names are fields
//! and values are numbers, strings or booleans ([`parse_filter`], [`eval_filter`]).

use std::fmt;

/// A parsed expression and the characters of the condition it came from, so
/// an error can point at the part that is wrong.
#[derive(Debug, Clone, PartialEq)]
pub struct Expr {
    pub node: Node,
    pub span: Span,
}

/// Character offsets `[start, end)` in the condition text.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Span {
    pub start: usize,
    pub end: usize,
}

#[derive(Debug, Clone, PartialEq)]
pub enum Node {
    Num(f64),
    Str(String),
    Bool(bool),
    Var(String),
    Neg(Box<Expr>),
    Not(Box<Expr>),
    Bin(Box<Expr>, Op, Box<Expr>),
    Call(Func, Vec<Expr>),
}

/// How deeply parentheses, `not` and `-` may nest. Far beyond any real
/// condition, and low enough that parsing, checking and evaluating (all
/// recursive) stay well inside a thread's stack.
pub const MAX_DEPTH: usize = 64;

/// Most tokens in a condition. A chain like `a + a + ... + a` builds a tree as
/// deep as it is long, so its length is bounded too.
pub const MAX_TOKENS: usize = 1000;

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

/// The type of a name or an expression.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Type {
    Num,
    Bool,
    Str,
    /// A field whose type is only known when events arrive (a table
    /// source's column): it fits wherever it is used.
    Any,
}

impl Type {
    fn name(self) -> &'static str {
        match self {
            Type::Num => "a number",
            Type::Bool => "a boolean",
            Type::Str => "a string",
            Type::Any => "any value",
        }
    }

    fn fits(self, want: Type) -> bool {
        self == want || self == Type::Any || want == Type::Any
    }
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

/// Parse `text` as a condition whose names are all in `known` (numbers).
pub fn parse_condition(text: &str, known: &[&str]) -> Result<Expr, ExprError> {
    let lookup = |name: &str| {
        if known.contains(&name) {
            return Ok(Type::Num);
        }
        let hint = crate::config::diag::did_you_mean(name, known.iter().copied());
        Err(format!("unknown value `{name}`{hint}; this check yields: {}", known.join(", ")))
    };
    parse(text, &lookup, "condition is a number; compare it, e.g. `psi > 0.2`")
}

/// A field resolver for filters parsed before the source's fields are known
/// (a check's config): any name is a field of any type. The source's own
/// resolver checks the names and types later (`fits_source`).
pub fn any_field(_: &str) -> Result<Type, String> {
    Ok(Type::Any)
}

/// Parse `text` as a filter over event fields: `field` gives a field's type,
/// or why the name is not a field.
pub fn parse_filter(text: &str, field: &dyn Fn(&str) -> Result<Type, String>) -> Result<Expr, ExprError> {
    parse(text, field, "a filter must be a condition, e.g. `status < 500`")
}

fn parse(text: &str, lookup: &dyn Fn(&str) -> Result<Type, String>, not_bool: &str) -> Result<Expr, ExprError> {
    let tokens = lex(text)?;
    if let Some((_, at)) = tokens.get(MAX_TOKENS) {
        return Err(ExprError { offset: *at, message: format!("condition is longer than {MAX_TOKENS} tokens") });
    }
    let mut p = Parser { tokens, pos: 0, end: text.chars().count(), depth: 0 };
    let expr = p.or()?;
    if let Some((tok, at)) = p.tokens.get(p.pos) {
        return Err(ExprError { offset: *at, message: format!("unexpected `{tok}`") });
    }
    match type_of(&expr, lookup)? {
        Type::Bool | Type::Any => Ok(expr),
        Type::Num | Type::Str => Err(ExprError { offset: expr.span.start, message: not_bool.into() }),
    }
}

impl Expr {
    /// Whether the expression reads the value `name`.
    pub fn uses(&self, name: &str) -> bool {
        self.names().iter().any(|n| *n == name)
    }

    /// The constant each value is compared with (`psi > 0.2`, `age_seconds >
    /// 50 * 3600`), for drawing as a threshold line: (value, constant).
    pub fn thresholds(&self) -> Vec<(String, f64)> {
        let mut out = Vec::new();
        self.collect_thresholds(&mut out);
        out
    }

    fn collect_thresholds(&self, out: &mut Vec<(String, f64)>) {
        match &self.node {
            Node::Bin(a, op, b) if matches!(op, Op::Lt | Op::Le | Op::Gt | Op::Ge) => match (&a.node, b.constant(), a.constant(), &b.node) {
                (Node::Var(v), Some(c), _, _) | (_, _, Some(c), Node::Var(v)) => out.push((v.clone(), c)),
                _ => {}
            },
            Node::Bin(a, _, b) => {
                a.collect_thresholds(out);
                b.collect_thresholds(out);
            }
            Node::Not(e) => e.collect_thresholds(out),
            _ => {}
        }
    }

    /// The value of an expression made of numbers alone.
    fn constant(&self) -> Option<f64> {
        match &self.node {
            Node::Num(n) => Some(*n),
            Node::Neg(e) => e.constant().map(|v| -v),
            Node::Bin(a, op, b) => {
                let (a, b) = (a.constant()?, b.constant()?);
                match op {
                    Op::Add => Some(a + b),
                    Op::Sub => Some(a - b),
                    Op::Mul => Some(a * b),
                    Op::Div => Some(a / b),
                    _ => None,
                }
            }
            _ => None,
        }
    }

    /// Every name the expression reads, in order of appearance, with repeats.
    pub fn names(&self) -> Vec<&str> {
        match &self.node {
            Node::Num(_) | Node::Str(_) | Node::Bool(_) => vec![],
            Node::Var(v) => vec![v.as_str()],
            Node::Neg(e) | Node::Not(e) => e.names(),
            Node::Bin(a, _, b) => {
                let mut v = a.names();
                v.extend(b.names());
                v
            }
            Node::Call(_, args) => args.iter().flat_map(|a| a.names()).collect(),
        }
    }
}

/// Evaluate a condition. `None` when a value it needs is missing (no data).
pub fn eval_condition(expr: &Expr, lookup: &dyn Fn(&str) -> Option<f64>) -> Option<bool> {
    match eval(expr, &|name| lookup(name).map(Val::Num))? {
        Val::Bool(b) => Some(b),
        _ => None,
    }
}

/// Whether an event passes a filter. A comparison with a field the event
/// lacks (or of another type) is not a pass.
pub fn eval_filter<'a>(expr: &'a Expr, lookup: &dyn Fn(&str) -> Option<Val<'a>>) -> bool {
    matches!(eval(expr, lookup), Some(Val::Bool(true)))
}

/// A value during evaluation: a check's figure, or an event's field.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Val<'a> {
    Num(f64),
    Bool(bool),
    Str(&'a str),
}

fn eval<'a>(expr: &'a Expr, lookup: &dyn Fn(&str) -> Option<Val<'a>>) -> Option<Val<'a>> {
    let num = |e: &'a Expr| match eval(e, lookup)? {
        Val::Num(x) => Some(x),
        _ => None,
    };
    let boolean = |e: &'a Expr| match eval(e, lookup)? {
        Val::Bool(b) => Some(b),
        _ => None,
    };
    Some(match &expr.node {
        Node::Num(x) => Val::Num(*x),
        Node::Str(s) => Val::Str(s),
        Node::Bool(b) => Val::Bool(*b),
        Node::Var(name) => lookup(name)?,
        Node::Neg(e) => Val::Num(-num(e)?),
        Node::Not(e) => Val::Bool(!boolean(e)?),
        // Three-valued logic, symmetric in both operands: a missing value on one
        // side does not hide a decisive other side (`false and missing` is
        // false, and so is `missing and false`).
        Node::Bin(a, Op::And, b) => match (boolean(a), boolean(b)) {
            (Some(false), _) | (_, Some(false)) => Val::Bool(false),
            (Some(true), Some(true)) => Val::Bool(true),
            _ => return None,
        },
        Node::Bin(a, Op::Or, b) => match (boolean(a), boolean(b)) {
            (Some(true), _) | (_, Some(true)) => Val::Bool(true),
            (Some(false), Some(false)) => Val::Bool(false),
            _ => return None,
        },
        // Equality of strings and booleans; of numbers below.
        Node::Bin(a, op @ (Op::Eq | Op::Ne), b) if !matches!(eval(a, lookup)?, Val::Num(_)) => {
            let same = match (eval(a, lookup)?, eval(b, lookup)?) {
                (Val::Str(x), Val::Str(y)) => x == y,
                (Val::Bool(x), Val::Bool(y)) => x == y,
                _ => return None,
            };
            Val::Bool(same == (*op == Op::Eq))
        }
        Node::Bin(a, op, b) => {
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
        Node::Call(f, args) => {
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

fn type_of(expr: &Expr, lookup: &dyn Fn(&str) -> Result<Type, String>) -> Result<Type, ExprError> {
    let want = |e: &Expr, t: Type, what: &str| -> Result<Type, ExprError> {
        let got = type_of(e, lookup)?;
        if !got.fits(t) {
            return Err(ExprError { offset: e.span.start, message: format!("{what} (this is {})", got.name()) });
        }
        Ok(got)
    };
    Ok(match &expr.node {
        Node::Num(_) => Type::Num,
        Node::Str(_) => Type::Str,
        Node::Bool(_) => Type::Bool,
        Node::Var(name) => lookup(name).map_err(|message| ExprError { offset: expr.span.start, message })?,
        Node::Neg(e) => {
            want(e, Type::Num, "`-` needs a number")?;
            Type::Num
        }
        Node::Not(e) => {
            want(e, Type::Bool, "`not` needs a condition")?;
            Type::Bool
        }
        Node::Bin(a, op, b) => match op {
            Op::And | Op::Or => {
                want(a, Type::Bool, "`and`/`or` join conditions, not numbers")?;
                want(b, Type::Bool, "`and`/`or` join conditions, not numbers")?;
                Type::Bool
            }
            Op::Eq | Op::Ne => {
                let left = type_of(a, lookup)?;
                let right = type_of(b, lookup)?;
                if !left.fits(right) {
                    return Err(ExprError {
                        offset: b.span.start,
                        message: format!("`==`/`!=` compare like with like: {} against {}", left.name(), right.name()),
                    });
                }
                Type::Bool
            }
            Op::Lt | Op::Le | Op::Gt | Op::Ge => {
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
        Node::Call(f, args) => {
            let ok = match f {
                Func::Abs => args.len() == 1,
                Func::Min | Func::Max => !args.is_empty(),
            };
            if !ok {
                return Err(ExprError { offset: expr.span.start, message: format!("wrong number of arguments to {f:?}").to_lowercase() });
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
    Str(String),
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
            Tok::Str(s) => write!(f, "{s:?}"),
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
        if c == '"' || c == '\'' {
            // A string, in either quote (YAML makes one of them awkward); `\`
            // escapes the quote and itself.
            let mut text = String::new();
            i += 1;
            loop {
                match chars.get(i) {
                    None => return Err(ExprError { offset: start, message: "string is not closed".into() }),
                    Some(&q) if q == c => break,
                    Some('\\') if chars.get(i + 1).is_some() => {
                        text.push(chars[i + 1]);
                        i += 2;
                    }
                    Some(&other) => {
                        text.push(other);
                        i += 1;
                    }
                }
            }
            i += 1;
            out.push((Tok::Str(text), start));
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
    /// Nesting of the rule being parsed, bounded by [`MAX_DEPTH`].
    depth: usize,
}

fn node(node: Node, start: usize, end: usize) -> Expr {
    Expr { node, span: Span { start, end } }
}

fn bin(a: Expr, op: Op, b: Expr) -> Expr {
    let (start, end) = (a.span.start, b.span.end);
    node(Node::Bin(Box::new(a), op, Box::new(b)), start, end)
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

    /// End offset of the token just consumed.
    fn last_end(&self) -> usize {
        self.tokens.get(self.pos.wrapping_sub(1)).map(|(t, o)| o + t.to_string().chars().count()).unwrap_or(0)
    }

    /// Enter one level of nesting; an error past [`MAX_DEPTH`].
    fn descend(&mut self) -> Result<(), ExprError> {
        self.depth += 1;
        if self.depth > MAX_DEPTH {
            return Err(ExprError { offset: self.offset(), message: format!("condition nests deeper than {MAX_DEPTH} levels") });
        }
        Ok(())
    }

    fn or(&mut self) -> Result<Expr, ExprError> {
        let mut lhs = self.and()?;
        while self.is_word("or") {
            self.pos += 1;
            lhs = bin(lhs, Op::Or, self.and()?);
        }
        Ok(lhs)
    }

    fn and(&mut self) -> Result<Expr, ExprError> {
        let mut lhs = self.not()?;
        while self.is_word("and") {
            self.pos += 1;
            lhs = bin(lhs, Op::And, self.not()?);
        }
        Ok(lhs)
    }

    fn not(&mut self) -> Result<Expr, ExprError> {
        if self.is_word("not") {
            let start = self.offset();
            self.pos += 1;
            self.descend()?;
            let inner = self.not()?;
            self.depth -= 1;
            let end = inner.span.end;
            return Ok(node(Node::Not(Box::new(inner)), start, end));
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
        Ok(bin(lhs, op, self.sum()?))
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
            lhs = bin(lhs, op, self.product()?);
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
            lhs = bin(lhs, op, self.unary()?);
        }
    }

    fn unary(&mut self) -> Result<Expr, ExprError> {
        if self.peek() == Some(&Tok::Op("-")) {
            let start = self.offset();
            self.pos += 1;
            self.descend()?;
            let inner = self.unary()?;
            self.depth -= 1;
            let end = inner.span.end;
            return Ok(node(Node::Neg(Box::new(inner)), start, end));
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
            Tok::Num(x) => Ok(node(Node::Num(x), at, self.last_end())),
            Tok::Str(text) => Ok(node(Node::Str(text), at, self.last_end())),
            Tok::Ident(word) if word == "true" || word == "false" => Ok(node(Node::Bool(word == "true"), at, self.last_end())),
            Tok::LParen => {
                self.descend()?;
                let mut e = self.or()?;
                self.depth -= 1;
                self.expect(Tok::RParen)?;
                // The parentheses belong to the span, so an error points at `(`.
                e.span = Span { start: at, end: self.last_end() };
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
                self.descend()?;
                let mut args = vec![self.or()?];
                while self.peek() == Some(&Tok::Comma) {
                    self.pos += 1;
                    args.push(self.or()?);
                }
                self.depth -= 1;
                self.expect(Tok::RParen)?;
                Ok(node(Node::Call(f, args), at, self.last_end()))
            }
            Tok::Ident(name) => Ok(node(Node::Var(name), at, self.last_end())),
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

    #[test]
    fn thresholds_are_the_constants_values_are_compared_with() {
        let t = |text: &str| parse_condition(text, KNOWN).unwrap().thresholds();
        assert_eq!(t("psi > 0.2"), [("psi".to_string(), 0.2)]);
        assert_eq!(t("p_value < 0.001 and 0.1 < statistic"), [("p_value".to_string(), 0.001), ("statistic".to_string(), 0.1)]);
        assert_eq!(t("count > 50 * 3600 or not (psi >= -1)"), [("count".to_string(), 180000.0), ("psi".to_string(), -1.0)]);
        assert!(t("psi > statistic").is_empty());
        assert!(t("count == 0").is_empty());
    }

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
    fn and_with_a_missing_side_is_symmetric() {
        // Regression: `missing and false` was unknown while `false and missing` was false.
        assert_eq!(eval_with("psi > 0.2 and count > 10", &[("count", 5.0)]), Some(false));
        assert_eq!(eval_with("count > 10 and psi > 0.2", &[("count", 5.0)]), Some(false));
        assert_eq!(eval_with("psi > 0.2 and count > 1", &[("count", 5.0)]), None);
        assert_eq!(eval_with("count > 1 and psi > 0.2", &[("count", 5.0)]), None);
    }

    #[test]
    fn errors_point_at_the_offending_part() {
        // Regression: every error pointed at character 1.
        let err = |t| parse_condition(t, KNOWN).unwrap_err();
        assert_eq!(err("count > 1 and pis > 0.2").offset, 14);
        assert_eq!(err("count > 1 and 2").offset, 14);
        assert_eq!(err("psi > 1 or not count").offset, 15);
        assert_eq!(err("count > 1 and (psi + 1)").offset, 14);
        assert!(err("count > 1 and pis > 0.2").to_string().ends_with("(at character 15)"));
    }

    #[test]
    fn deep_nesting_is_an_error_not_a_stack_overflow() {
        let deep = format!("{}psi > 1{}", "(".repeat(100), ")".repeat(100));
        let e = parse_condition(&deep, KNOWN).unwrap_err();
        assert!(e.message.contains("nests deeper than 64"), "{e}");
        let nots = format!("{}psi > 1", "not ".repeat(100));
        assert!(parse_condition(&nots, KNOWN).unwrap_err().message.contains("nests deeper"));
        let huge = format!("{}psi > 1{}", "(".repeat(10_000), ")".repeat(10_000));
        assert!(parse_condition(&huge, KNOWN).is_err());
        let long = format!("psi{} > 1", " + psi".repeat(100_000));
        assert!(parse_condition(&long, KNOWN).unwrap_err().message.contains("longer than 1000 tokens"));
        let ok = format!("{}psi > 1{}", "(".repeat(60), ")".repeat(60));
        assert_eq!(eval_condition(&parse_condition(&ok, KNOWN).unwrap(), &|_| Some(2.0)), Some(true));
    }

    fn filter(text: &str) -> Result<Expr, ExprError> {
        parse_filter(text, &|name| match name {
            "status" | "latency_ms" => Ok(Type::Num),
            "endpoint" => Ok(Type::Str),
            "fallback" => Ok(Type::Bool),
            "column" => Ok(Type::Any),
            other => Err(format!("no field `{other}`")),
        })
    }

    fn pass(text: &str, fields: &[(&str, Val<'static>)]) -> bool {
        let e = filter(text).unwrap();
        eval_filter(&e, &|n| fields.iter().find(|(k, _)| *k == n).map(|(_, v)| *v))
    }

    #[test]
    fn filters_compare_numbers_strings_and_booleans() {
        let ev = [("status", Val::Num(503.0)), ("endpoint", Val::Str("/recs")), ("fallback", Val::Bool(true))];
        assert!(!pass("status < 500", &ev));
        assert!(pass("status >= 500 and endpoint == \"/recs\"", &ev));
        assert!(pass("endpoint != '/health' and fallback == true", &ev));
        assert!(!pass("fallback == false", &ev));
        assert!(pass("not (fallback == false)", &ev));
        assert!(!pass("latency_ms < 250", &ev), "a missing field passes nothing");
        assert!(!pass("not (latency_ms < 250)", &ev), "nor its negation");
        assert!(pass("column == 'a\\'b'", &[("column", Val::Str("a'b"))]));
        assert!(!pass("column == 1", &[("column", Val::Str("1"))]), "no conversion between types");
    }

    #[test]
    fn filter_errors_point_at_the_field_or_the_mismatch() {
        let e = filter("status < 500 and endpoint < 3").unwrap_err();
        assert_eq!(e.offset, 17);
        assert!(e.message.contains("compare numbers (this is a string)"), "{e}");
        let e = filter("fallback == 'no'").unwrap_err();
        assert!(e.message.contains("a boolean against a string"), "{e}");
        assert_eq!(filter("statis < 1").unwrap_err().message, "no field `statis`");
        assert!(filter("endpoint == 'x").unwrap_err().message.contains("not closed"));
        assert!(filter("status").unwrap_err().message.contains("must be a condition"));
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
