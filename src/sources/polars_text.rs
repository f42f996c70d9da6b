//! Polars' error text, made ours. Its hints are written for Python users
//! (`infer_schema_length=10000`, `schema_overrides`, `ignore_errors=True`):
//! options our users cannot set. They are replaced by what is true here, and
//! the message is put on one line, for logs.

use polars::prelude::PolarsError;

/// Words that only make sense in polars' Python API.
const PYTHON_ONLY: &[&str] =
    &["infer_schema_length", "schema_overrides", "ignore_errors", "null_values", "strict=False", "pl.", "Hint:", "hint:"];

/// What to say instead of polars' "You might want to try" list.
const INSTEAD: &str = "(a CSV column's type is inferred from the file's first 100 rows, and a later value that does not fit \
                       fails the file: fix the value, leave it empty for a null, or write Parquet or JSON lines, which carry types)";

/// `e` as one line, without Python advice.
pub fn describe(e: &PolarsError) -> String {
    let text = e.to_string();
    let mut kept: Vec<String> = Vec::new();
    let (mut in_advice, mut dropped_advice) = (false, false);
    for line in text.lines().map(str::trim) {
        if line.starts_with("You might want to try") {
            in_advice = true;
            dropped_advice = true;
            continue;
        }
        if in_advice && !line.starts_with("Original error:") {
            continue;
        }
        in_advice = false;
        if line.is_empty() || PYTHON_ONLY.iter().any(|w| line.contains(w)) {
            continue;
        }
        kept.push(line.replace("```", ""));
    }
    if dropped_advice {
        kept.push(INSTEAD.to_string());
    }
    kept.join(" ")
}

#[cfg(test)]
mod tests {
    use super::*;
    use polars::prelude::*;

    #[test]
    fn python_advice_is_replaced_and_the_message_is_one_line() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("late.csv");
        let mut body = String::from("x,y\n");
        for i in 0..200 {
            body.push_str(&format!("{i},1\n"));
        }
        body.push_str("zz,1\n");
        std::fs::write(&p, body).unwrap();
        let err = CsvReadOptions::default().try_into_reader_with_file_path(Some(p)).and_then(|r| r.finish()).unwrap_err();
        assert!(err.to_string().contains("infer_schema_length"), "the case this is for: {err}");
        let text = describe(&err);
        assert!(!text.contains('\n') && !text.contains("infer_schema_length") && !text.contains("```"), "{text}");
        assert!(text.starts_with("could not parse `zz` as dtype `i64` at column 'x'"), "{text}");
        assert!(text.contains("Original error: invalid primitive value") && text.ends_with("which carry types)"), "{text}");
    }
}
