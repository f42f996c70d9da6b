//! How a column is compared, decided by its type in one place: numbers (any
//! integer or float width, decimals, dates and times) by value, strings,
//! booleans and dictionary-encoded strings by category. Anything else is
//! refused with a reason, never skipped in silence.

use polars::prelude::*;

/// How values of a column are compared.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ColumnKind {
    Numeric,
    Categorical,
}

/// The kind of a column of type `dt`, or why it cannot be compared.
pub fn column_kind(dt: &DataType) -> Result<ColumnKind, String> {
    match dt {
        d if d.is_numeric() || d.is_temporal() => Ok(ColumnKind::Numeric),
        DataType::String | DataType::Boolean => Ok(ColumnKind::Categorical),
        d if d.is_categorical() || d.is_enum() => Ok(ColumnKind::Categorical),
        DataType::List(_) => Err(format!(
            "is a list ({dt}), not one value per row; lists of recommendations are checked by list-aware checks, \
             not compared value by value"
        )),
        DataType::Binary | DataType::BinaryOffset => Err(format!("is binary data ({dt}), which has no order or categories to compare")),
        DataType::Null => Err("has only nulls, so no type could be read from it".into()),
        other => Err(format!("is {other}, which cannot be compared (numbers, dates, times, strings, categories and booleans can)")),
    }
}

/// A numeric column as Float64: numbers as they are (decimals rounded to the
/// nearest double), dates and timestamps as seconds since the Unix epoch,
/// durations and times of day as seconds.
pub fn as_f64(col: &Column) -> PolarsResult<Column> {
    let seconds = |per_second: f64| -> PolarsResult<Column> {
        let raw = col.to_physical_repr().cast(&DataType::Float64)?;
        Ok(raw.f64()?.apply_values(|v| v / per_second).into_column())
    };
    match col.dtype() {
        DataType::Date => seconds(1.0 / 86_400.0),
        DataType::Datetime(tu, _) | DataType::Duration(tu) => seconds(per_second(*tu)),
        DataType::Time => seconds(1e9),
        _ => col.cast(&DataType::Float64),
    }
}

fn per_second(tu: TimeUnit) -> f64 {
    match tu {
        TimeUnit::Milliseconds => 1e3,
        TimeUnit::Microseconds => 1e6,
        TimeUnit::Nanoseconds => 1e9,
    }
}
