//! Diagnostics: config and rule-file errors that name the file, line and column.
//!
//! Components say *what* is wrong; the loaders attach *where* through these types.
//! Everything is collected so that `mlwatch check` reports all problems at once.

use std::fmt;
use std::path::{Path, PathBuf};

use serde::de::DeserializeOwned;
use serde_saphyr::{DefaultMessageFormatter, Location, MessageFormatter, Spanned};

/// One problem in one file, rendered as `FILE:LINE:COL: message`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Diagnostic {
    pub file: PathBuf,
    /// 1-based; 0 when the position is unknown (the file could not be read, say).
    pub line: u64,
    pub column: u64,
    pub message: String,
}

impl fmt::Display for Diagnostic {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.line == 0 {
            write!(f, "{}: {}", self.file.display(), self.message)
        } else {
            write!(f, "{}:{}:{}: {}", self.file.display(), self.line, self.column, self.message)
        }
    }
}

/// A place in a file, kept by validated values whose errors can only be found
/// later (a baseline profile that is missing, say).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Position {
    pub file: PathBuf,
    pub line: u64,
    pub column: u64,
}

impl Position {
    pub fn new(file: &Path, loc: &Location) -> Self {
        Position { file: file.to_path_buf(), line: loc.line(), column: loc.column() }
    }

    pub fn error(&self, message: impl Into<String>) -> Diagnostic {
        Diagnostic { file: self.file.clone(), line: self.line, column: self.column, message: message.into() }
    }
}

/// Every problem found while loading a config and its rule files.
#[derive(Debug, Default, Clone)]
pub struct Diagnostics(pub Vec<Diagnostic>);

impl Diagnostics {
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    pub fn len(&self) -> usize {
        self.0.len()
    }

    pub fn push(&mut self, d: Diagnostic) {
        self.0.push(d);
    }

    pub fn extend(&mut self, other: Diagnostics) {
        self.0.extend(other.0);
    }

    /// Sort by file and position so output reads top to bottom.
    pub fn sorted(mut self) -> Self {
        self.0.sort_by(|a, b| (&a.file, a.line, a.column).cmp(&(&b.file, b.line, b.column)));
        self
    }
}

impl fmt::Display for Diagnostics {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (i, d) in self.0.iter().enumerate() {
            if i > 0 {
                writeln!(f)?;
            }
            write!(f, "{d}")?;
        }
        Ok(())
    }
}

impl std::error::Error for Diagnostics {}

/// A file under validation: collects diagnostics positioned in that file.
pub struct FileDiag<'a> {
    pub file: &'a Path,
    pub out: &'a mut Diagnostics,
}

impl FileDiag<'_> {
    /// Record an error at a YAML location.
    pub fn at(&mut self, loc: &Location, message: impl Into<String>) {
        self.out.push(Diagnostic {
            file: self.file.to_path_buf(),
            line: loc.line(),
            column: loc.column(),
            message: message.into(),
        });
    }

    /// Record an error at a spanned value.
    pub fn at_value<T>(&mut self, v: &Spanned<T>, message: impl Into<String>) {
        self.at(&v.referenced, message)
    }

    /// Record an error with no position inside the file.
    pub fn whole(&mut self, message: impl Into<String>) {
        self.out.push(Diagnostic { file: self.file.to_path_buf(), line: 0, column: 0, message: message.into() });
    }
}

/// The largest config or rule file read: far above any real one, and small
/// enough that parsing it cannot exhaust memory.
pub const MAX_YAML_BYTES: u64 = 8 << 20;

/// Read and deserialize one YAML file; on failure return its positioned diagnostic.
pub fn load_yaml<T: DeserializeOwned>(file: &Path) -> Result<T, Diagnostic> {
    let text = crate::util::fs::read_text(file, MAX_YAML_BYTES).map_err(|e| Diagnostic {
        file: file.to_path_buf(),
        line: 0,
        column: 0,
        message: format!("cannot read file: {e}"),
    })?;
    parse_yaml(file, &text)
}

/// Deserialize YAML text that came from `file`.
pub fn parse_yaml<T: DeserializeOwned>(file: &Path, text: &str) -> Result<T, Diagnostic> {
    serde_saphyr::from_str(text).map_err(|e| yaml_diagnostic(file, text, &e))
}

fn yaml_diagnostic(file: &Path, text: &str, err: &serde_saphyr::Error) -> Diagnostic {
    let inner = err.without_snippet();
    let mut message = match inner {
        serde_saphyr::Error::Budget { breach, .. } => budget_message(breach),
        _ => DefaultMessageFormatter.format_message(inner).into_owned(),
    };
    if let serde_saphyr::Error::SerdeUnknownField { field, expected, .. }
    | serde_saphyr::Error::SerdeUnknownVariant { variant: field, expected, .. } = inner
    {
        message.push_str(&did_you_mean(field, expected.iter().copied()));
    }
    if message == "invalid boolean" {
        message.push_str(" (expected true or false)");
    }
    let loc = err.location().unwrap_or(Location::UNKNOWN);
    // Type errors point at the value; name the key in front of it.
    if let Some(key) = key_before(text, loc.line(), loc.column())
        && !message.contains(&format!("`{key}`")) {
            message = format!("{key}: {message}");
        }
    Diagnostic { file: file.to_path_buf(), line: loc.line(), column: loc.column(), message }
}

/// A parser limit in words. The limits keep a hostile or runaway file
/// (an alias bomb, a million entries) from exhausting memory or the stack.
fn budget_message(breach: &serde_saphyr::budget::BudgetBreach) -> String {
    use serde_saphyr::budget::BudgetBreach as B;
    let what = match breach {
        B::Nodes { nodes } => format!("more than {nodes} YAML values"),
        B::Events { events } => format!("more than {events} YAML events"),
        B::Depth { depth } => format!("nested {depth} levels deep"),
        B::Aliases { aliases } => format!("{aliases} aliases (`*name`)"),
        B::Anchors { anchors } => format!("{anchors} anchors (`&name`)"),
        B::Documents { documents } => format!("{documents} YAML documents"),
        B::ScalarBytes { total_scalar_bytes } => format!("{total_scalar_bytes} bytes of text"),
        B::AliasAnchorRatio { aliases, anchors } => format!("{aliases} aliases of {anchors} anchors (an alias bomb?)"),
        other => format!("{other:?}"),
    };
    format!("the file is too large or too deeply nested to be a rule or config file: {what}; split it into several files")
}

/// The `key` of a `key: value` pair whose value starts at (line, column), if any.
fn key_before(text: &str, line: u64, column: u64) -> Option<&str> {
    let row = text.lines().nth(line.checked_sub(1)? as usize)?;
    let before: String = row.chars().take(column.saturating_sub(1) as usize).collect();
    let trimmed = before.trim_end().strip_suffix(':')?;
    let start = trimmed
        .char_indices()
        .rev()
        .find(|&(_, c)| !(c.is_alphanumeric() || c == '_' || c == '-'))
        .map_or(0, |(i, c)| i + c.len_utf8());
    let key = &trimmed[start..];
    if key.is_empty() { None } else { row.find(key).map(|i| &row[i..i + key.len()]) }
}

/// ` (did you mean `x`?)` for the nearest candidate, or nothing.
pub fn did_you_mean<'a>(word: &str, candidates: impl IntoIterator<Item = &'a str>) -> String {
    nearest(word, candidates).map(|n| format!(" (did you mean `{n}`?)")).unwrap_or_default()
}

/// The candidate closest to `word`, if any is close enough to be a plausible typo.
pub fn nearest<'a>(word: &str, candidates: impl IntoIterator<Item = &'a str>) -> Option<&'a str> {
    candidates
        .into_iter()
        .map(|c| (strsim::damerau_levenshtein(word, c), c))
        .filter(|(d, c)| *d <= 2.max(c.len() / 3))
        .min_by_key(|(d, _)| *d)
        .map(|(_, c)| c)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[derive(Debug, serde::Deserialize)]
    #[serde(deny_unknown_fields)]
    #[allow(dead_code)]
    struct Doc {
        interval: String,
        window: Option<String>,
    }

    #[test]
    fn unknown_key_is_positioned_and_suggests_the_nearest_key() {
        let err = parse_yaml::<Doc>(Path::new("r.yaml"), "interval: 1m\nwindwo: 1h\n").unwrap_err();
        assert_eq!((err.line, err.column), (2, 1), "{err}");
        assert!(err.message.contains("unknown field `windwo`"), "{err}");
        assert!(err.message.contains("did you mean `window`?"), "{err}");
    }

    #[test]
    fn type_errors_name_the_key() {
        let err = parse_yaml::<Doc>(Path::new("r.yaml"), "interval: [1, 2]\n").unwrap_err();
        assert_eq!((err.line, err.column), (1, 11), "{err}");
        assert!(err.message.starts_with("interval: "), "{err}");
    }

    #[test]
    fn parser_limits_are_named_in_words() {
        // Regression: the limit surfaced as `budget breached: Nodes {…}`.
        let text = format!("[{}]\n", vec!["1"; 300_000].join(","));
        let err = parse_yaml::<Vec<u32>>(Path::new("r.yaml"), &text).unwrap_err();
        assert!(err.message.contains("too large or too deeply nested") && err.message.contains("YAML values"), "{err}");
        assert!(!err.message.contains("Nodes"), "{err}");
    }

    #[test]
    fn a_key_after_a_multibyte_character_is_found() {
        // Found by fuzzing (`config` target): slicing inside U+0744 panicked.
        assert_eq!(key_before("x\u{744}interval: [1, 2]\n", 1, 13), Some("interval"));
        let err = parse_yaml::<Doc>(Path::new("r.yaml"), "x\u{744}interval: [1, 2]\n").unwrap_err();
        assert!(!err.message.is_empty());
    }

    #[test]
    fn nearest_ignores_unrelated_words() {
        assert_eq!(nearest("zzzzzz", ["interval", "window"]), None);
        assert_eq!(nearest("interval", ["interval", "window"]), Some("interval"));
    }
}
