//! Reading one data file (Parquet, CSV, JSON lines) into a DataFrame, reading
//! only the columns asked for.

use std::io::{BufRead, BufReader, Cursor, Read};
use std::path::{Path, PathBuf};
use std::sync::Arc;

use polars::io::mmap::MmapBytesReader;
use polars::prelude::*;
use serde::Deserialize;

/// A data file format.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum FileFormat {
    Parquet,
    Csv,
    /// One JSON object per line (`.jsonl`, `.ndjson`).
    Jsonl,
}

impl FileFormat {
    /// The format a file name implies, if any.
    pub fn from_path(path: &Path) -> Option<Self> {
        match path.extension()?.to_str()?.to_ascii_lowercase().as_str() {
            "parquet" | "pq" => Some(FileFormat::Parquet),
            "csv" => Some(FileFormat::Csv),
            "jsonl" | "ndjson" | "json" => Some(FileFormat::Jsonl),
            _ => None,
        }
    }
}

/// Why a file could not be read. Every variant names the file.
#[derive(Debug, thiserror::Error)]
pub enum ReadError {
    #[error("{path}: cannot open: {source}")]
    Open { path: PathBuf, source: std::io::Error },
    #[error("{path}: unknown file format (use .parquet, .csv or .jsonl, or set `format`)")]
    UnknownFormat { path: PathBuf },
    #[error("{path}: column `{column}` not found (the file has: {available})")]
    MissingColumn { path: PathBuf, column: String, available: String },
    #[error("{path}: not a readable {format:?} file: {}", super::polars_text::describe(.source))]
    Corrupt { path: PathBuf, format: FileFormat, source: PolarsError },
    #[error("{path}:{line}: JSON nested deeper than {MAX_JSON_DEPTH} levels; the file is not read")]
    TooDeep { path: PathBuf, line: u64 },
    #[error("{path}:{line}: not a JSON object; a JSON-lines file holds one object per line")]
    NotAnObject { path: PathBuf, line: u64 },
    /// The reader hit a bug of its own on this file (a panic), caught so
    /// that only this file fails.
    #[error("{path}: the {format:?} reader failed on this file ({message}); the file is not read")]
    ReaderFailed { path: PathBuf, format: FileFormat, message: String },
}

/// How deeply a JSON-lines record may nest. Real records (a list of
/// recommended items, a map of features) nest a few levels; the JSON reader
/// recurses per level, so a hostile or broken file could overflow its stack.
pub const MAX_JSON_DEPTH: usize = 64;

/// Refuse a JSON-lines file with a line that is not an object, or a record
/// nested deeper than [`MAX_JSON_DEPTH`], naming the line; one streaming pass
/// over the bytes, strings skipped. (The reader panics on some lines that are
/// not objects, and recurses per level.)
fn check_json_lines(path: &Path, file: impl Read) -> Result<(), ReadError> {
    let (mut depth, mut in_string, mut escaped, mut line) = (0usize, false, false, 1u64);
    let mut buf = [0u8; 64 * 1024];
    let mut reader = BufReader::new(file);
    loop {
        let n = reader.read(&mut buf).map_err(|source| ReadError::Open { path: path.to_path_buf(), source })?;
        if n == 0 {
            return Ok(());
        }
        for &b in &buf[..n] {
            if in_string {
                match (escaped, b) {
                    (true, _) => escaped = false,
                    (false, b'\\') => escaped = true,
                    (false, b'"') => in_string = false,
                    (false, b'\n') => {
                        // A broken string: the line ends it, as the reader will.
                        in_string = false;
                        depth = 0;
                        line += 1;
                    }
                    _ => {}
                }
                continue;
            }
            if depth == 0 && b != b'{' && !b.is_ascii_whitespace() {
                return Err(ReadError::NotAnObject { path: path.to_path_buf(), line });
            }
            match b {
                b'"' => in_string = true,
                b'{' | b'[' => {
                    depth += 1;
                    if depth > MAX_JSON_DEPTH {
                        return Err(ReadError::TooDeep { path: path.to_path_buf(), line });
                    }
                }
                b'}' | b']' => depth = depth.saturating_sub(1),
                b'\n' => {
                    depth = 0;
                    line += 1;
                }
                _ => {}
            }
        }
    }
}

/// How a file's bytes reach the parser.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Access {
    /// Read into memory, then parsed: a file truncated meanwhile (a pipeline
    /// rewriting it in place) is at worst a parse error. What the agent does.
    Copied,
    /// Memory-mapped: no copy, but a file truncated while it is parsed kills
    /// the process (SIGBUS). Only for one-shot commands on the user's own files.
    Mapped,
}

/// Read `columns` (all when `None`) of one file, copied into memory first.
pub fn read_file(path: &Path, format: Option<FileFormat>, columns: Option<&[String]>) -> Result<DataFrame, ReadError> {
    read_file_with(path, format, columns, Access::Copied)
}

/// [`read_file`] with a choice of [`Access`].
pub fn read_file_with(path: &Path, format: Option<FileFormat>, columns: Option<&[String]>, access: Access) -> Result<DataFrame, ReadError> {
    let format = format
        .or_else(|| FileFormat::from_path(path))
        .ok_or_else(|| ReadError::UnknownFormat { path: path.to_path_buf() })?;
    let open = || crate::util::fs::open_regular(path).map_err(|source| ReadError::Open { path: path.to_path_buf(), source });
    guarded(path, format, || match access {
        Access::Copied => {
            let mut bytes = Vec::new();
            open()?.read_to_end(&mut bytes).map_err(|source| ReadError::Open { path: path.to_path_buf(), source })?;
            parse_bytes(path, format, columns, bytes)
        }
        Access::Mapped => {
            if format == FileFormat::Jsonl {
                check_json_lines(path, open()?)?;
            }
            parse(path, format, columns, open)
        }
    })
}

/// Read `columns` (all when `None`) of a file already in memory (an
/// object fetched from a bucket); `path` names it in errors.
pub fn read_bytes(path: &Path, format: Option<FileFormat>, columns: Option<&[String]>, bytes: Vec<u8>) -> Result<DataFrame, ReadError> {
    let format = format
        .or_else(|| FileFormat::from_path(path))
        .ok_or_else(|| ReadError::UnknownFormat { path: path.to_path_buf() })?;
    guarded(path, format, || parse_bytes(path, format, columns, bytes))
}

fn parse_bytes(path: &Path, format: FileFormat, columns: Option<&[String]>, mut bytes: Vec<u8>) -> Result<DataFrame, ReadError> {
    if format == FileFormat::Jsonl {
        check_json_lines(path, bytes.as_slice())?;
        tidy_json_lines(&mut bytes);
    }
    parse(path, format, columns, || Ok(Cursor::new(bytes.as_slice())))
}

/// A file the reader cannot cope with must fail alone, not take the
/// evaluation (or the command) down with it: its panic becomes its error.
fn guarded(path: &Path, format: FileFormat, read: impl FnOnce() -> Result<DataFrame, ReadError>) -> Result<DataFrame, ReadError> {
    std::panic::catch_unwind(std::panic::AssertUnwindSafe(read)).unwrap_or_else(|panic| {
        let message = panic
            .downcast_ref::<&str>()
            .map(|s| s.to_string())
            .or_else(|| panic.downcast_ref::<String>().cloned())
            .unwrap_or_else(|| "panic".into());
        Err(ReadError::ReaderFailed { path: path.to_path_buf(), format, message })
    })
}

/// JSON lines without blank lines or whitespace around each line: polars'
/// reader panics on some mixes of them (a line break, spaces and `\r\n`).
/// Our own checks run before this, so their line numbers are the file's.
/// In place: the file's copy is the one buffer read, whatever its size.
fn tidy_json_lines(bytes: &mut Vec<u8>) {
    let (mut read, mut write) = (0, 0);
    let total = bytes.len();
    while read < total {
        let end = bytes[read..].iter().position(|&b| b == b'\n').map_or(total, |i| read + i);
        let line = &bytes[read..end];
        let start = read + line.iter().take_while(|b| b.is_ascii_whitespace()).count();
        let stop = end - line.iter().rev().take_while(|b| b.is_ascii_whitespace()).count();
        if start < stop {
            bytes.copy_within(start..stop, write);
            write += stop - start;
            // The last line may lack its newline, and then has no room for one.
            if write < total { bytes[write] = b'\n' } else { bytes.push(b'\n') }
            write += 1;
        }
        read = end + 1;
    }
    bytes.truncate(write);
}

/// Parse one file whose bytes `input` gives (each call from the start);
/// JSON lines have passed [`check_json_lines`].
fn parse<R: MmapBytesReader>(
    path: &Path,
    format: FileFormat,
    columns: Option<&[String]>,
    input: impl Fn() -> Result<R, ReadError>,
) -> Result<DataFrame, ReadError> {
    let corrupt = |source| ReadError::Corrupt { path: path.to_path_buf(), format, source };
    let df = match format {
        FileFormat::Parquet => {
            let mut reader = ParquetReader::new(input()?);
            if let Some(cols) = columns {
                let schema = reader.schema().map_err(corrupt)?;
                let names: Vec<String> = schema.iter_names().map(|n| n.to_string()).collect();
                require_columns(path, cols, &names)?;
            }
            reader.with_columns(columns.map(|c| c.to_vec())).finish().map_err(corrupt)?
        }
        FileFormat::Csv => {
            if let Some(cols) = columns {
                require_columns(path, cols, &csv_header(path, input()?)?)?;
            }
            CsvReadOptions::default()
                .with_has_header(true)
                .with_columns(columns.map(|c| c.iter().map(|s| PlSmallStr::from(s.as_str())).collect::<Arc<[_]>>()))
                .map_parse_options(|o| o.with_try_parse_dates(true))
                .into_reader_with_file_handle(input()?)
                .finish()
                .map_err(corrupt)?
        }
        FileFormat::Jsonl => {
            let reader = JsonReader::new(input()?).with_json_format(JsonFormat::JsonLines);
            match columns {
                // Only the fields asked for are built into columns: a list of
                // 300 items per line beside them costs parsing, not memory.
                Some(cols) => {
                    let inferred = polars::io::ndjson::infer_schema(&mut BufReader::new(input()?), std::num::NonZeroUsize::new(100))
                        .map_err(corrupt)?;
                    let names: Vec<String> = inferred.iter_names().map(|n| n.to_string()).collect();
                    require_columns(path, cols, &names)?;
                    let schema: Schema = cols
                        .iter()
                        .filter_map(|c| inferred.get(c.as_str()).map(|dt| Field::new(c.as_str().into(), dt.clone())))
                        .collect();
                    reader.with_schema(Arc::new(schema)).finish().map_err(corrupt)?
                }
                None => reader.finish().map_err(corrupt)?,
            }
        }
    };
    Ok(df)
}

fn require_columns(path: &Path, wanted: &[String], available: &[String]) -> Result<(), ReadError> {
    match wanted.iter().find(|w| !available.contains(w)) {
        Some(missing) => Err(ReadError::MissingColumn {
            path: path.to_path_buf(),
            column: missing.clone(),
            available: available.join(", "),
        }),
        None => Ok(()),
    }
}

/// Column names from a CSV header line (simple quoting only: the header, not the data).
fn csv_header(path: &Path, file: impl Read) -> Result<Vec<String>, ReadError> {
    let mut line = String::new();
    BufReader::new(file)
        .read_line(&mut line)
        .map_err(|source| ReadError::Open { path: path.to_path_buf(), source })?;
    Ok(line
        .trim_end_matches(['\r', '\n'])
        .split(',')
        .map(|s| s.trim().trim_matches('"').to_string())
        .collect())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn csv_missing_column_names_file_and_column() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("a.csv");
        std::fs::write(&p, "x,y\n1,2\n").unwrap();
        let err = read_file(&p, None, Some(&["z".to_string()])).unwrap_err().to_string();
        assert!(err.contains("a.csv: column `z` not found (the file has: x, y)"), "{err}");
    }

    #[test]
    fn corrupt_parquet_is_a_named_error() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("bad.parquet");
        std::fs::write(&p, b"this is not parquet").unwrap();
        let err = read_file(&p, None, Some(&["x".to_string()])).unwrap_err().to_string();
        assert!(err.contains("bad.parquet: not a readable Parquet file"), "{err}");
    }

    #[test]
    fn deeply_nested_json_is_refused_by_name_not_a_stack_overflow() {
        // Regression: about 1,000 levels overflowed the stack and killed the agent.
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("deep.jsonl");
        let deep = format!("{{\"x\": {}1{}}}", "[".repeat(5000), "]".repeat(5000));
        std::fs::write(&p, format!("{{\"x\": 1}}\n{deep}\n")).unwrap();
        let err = read_file(&p, None, Some(&["x".to_string()])).unwrap_err().to_string();
        assert!(err.contains("deep.jsonl:2: JSON nested deeper than 64 levels"), "{err}");
        // Brackets inside strings do not count, and normal nesting reads.
        std::fs::write(&p, "{\"x\": 1, \"s\": \"[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[\", \"l\": [[1, 2], [3]]}\n").unwrap();
        assert_eq!(read_file(&p, None, Some(&["x".to_string()])).unwrap().height(), 1);
    }

    #[test]
    fn a_line_that_is_not_an_object_is_named_not_a_reader_panic() {
        // Found by fuzzing (`jsonl` target): a bare number on its own line
        // panicked polars' reader.
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("odd.jsonl");
        std::fs::write(&p, "{\"h\": \"ac\"}\n\n6\n{\"x\": 1}\n{\"2x\": null, \"+\": [3, [2, {\"g\": \"b\"}]]}\n").unwrap();
        for columns in [None, Some(&["x".to_string()][..])] {
            let err = read_file(&p, None, columns).unwrap_err().to_string();
            assert!(err.contains("odd.jsonl:3: not a JSON object"), "{err}");
        }
        for bad in ["[1, 2]\n", "\"text\"\n", "{\"x\": 1} 7\n", "null\n"] {
            std::fs::write(&p, bad).unwrap();
            assert!(read_file(&p, None, None).unwrap_err().to_string().contains("odd.jsonl:1: not a JSON object"), "{bad}");
        }
        // Blank lines and spaces around objects are fine.
        std::fs::write(&p, "\n  {\"x\": 1}  \r\n\n{\"x\": 2}\n").unwrap();
        assert_eq!(read_file(&p, None, Some(&["x".to_string()])).unwrap().height(), 2);
    }

    #[test]
    fn json_lines_are_tidied_in_place() {
        for (raw, tidy) in [
            ("\n  {\"x\": 1}  \r\n\n{\"x\": 2}\n", "{\"x\": 1}\n{\"x\": 2}\n"),
            ("{\"x\": 1}", "{\"x\": 1}\n"),
            ("{\"x\": 1}\n{\"x\": 2}", "{\"x\": 1}\n{\"x\": 2}\n"),
            ("  \n\n", ""),
        ] {
            let mut bytes = raw.as_bytes().to_vec();
            tidy_json_lines(&mut bytes);
            assert_eq!(String::from_utf8(bytes).unwrap(), tidy, "{raw:?}");
        }
    }

    #[test]
    fn reads_only_requested_columns() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("a.jsonl");
        std::fs::write(&p, "{\"x\": 1.5, \"y\": \"a\"}\n{\"x\": 2.5, \"y\": \"b\"}\n").unwrap();
        let df = read_file(&p, None, Some(&["x".to_string()])).unwrap();
        assert_eq!(df.get_column_names(), ["x"]);
        assert_eq!(df.height(), 2);
    }
}
