//! Events from a table source's rows: checks that count events (an SLO, an
//! A/B split) count the window's rows into buckets, as a log source would
//! have counted its lines.

use std::borrow::Cow;

use polars::prelude::*;

use crate::checks::{CheckError, EvalContext};
use crate::events::{Aggregates, Event, Sli};
use crate::rules::expr::Val;

/// The tenant the rows are counted under (the frame is one tenant's already).
pub const TENANT: &str = "";

/// Buckets of a table's rows: one minute.
const BUCKET_MS: i64 = 60_000;

/// A column's values, typed as filters see them.
enum Values {
    Num(Vec<Option<f64>>),
    Str(Vec<Option<String>>),
    Bool(Vec<Option<bool>>),
}

impl Values {
    fn of(frame: &DataFrame, name: &str) -> Result<Values, CheckError> {
        let err = |message: String| CheckError::Column { column: name.to_string(), message };
        let col = frame.column(name).map_err(|_| err("not in the source data".into()))?;
        let col = col.as_materialized_series();
        Ok(match col.dtype() {
            DataType::Boolean => Values::Bool(col.bool().map_err(|e| err(e.to_string()))?.iter().collect()),
            DataType::String => Values::Str(col.str().map_err(|e| err(e.to_string()))?.iter().map(|s| s.map(String::from)).collect()),
            dt if dt.is_primitive_numeric() => {
                let f = col.cast(&DataType::Float64).map_err(|e| err(e.to_string()))?;
                Values::Num(f.f64().map_err(|e| err(e.to_string()))?.iter().collect())
            }
            dt => return Err(err(format!("has type {dt}; an SLI reads numbers, strings and booleans"))),
        })
    }

    fn get(&self, i: usize) -> Option<Val<'_>> {
        match self {
            Values::Num(v) => v[i].map(Val::Num),
            Values::Str(v) => v[i].as_deref().map(Val::Str),
            Values::Bool(v) => v[i].map(Val::Bool),
        }
    }
}

/// The buckets a counting check reads, and the tenant its series are under:
/// a log source's, or the window's rows counted now.
pub fn buckets<'a>(cx: &EvalContext<'a>, slis: &[&Sli]) -> Result<(Cow<'a, Aggregates>, Option<&'a str>), CheckError> {
    Ok(match cx.events {
        Some(a) => (Cow::Borrowed(a), cx.tenant),
        None => (Cow::Owned(aggregate(cx.frame, slis, cx.timestamp_column)?), Some(TENANT)),
    })
}

/// Count `frame`'s rows for `slis` (the frame's timestamp column holds Unix ms).
pub fn aggregate(frame: &DataFrame, slis: &[&Sli], timestamp: Option<&str>) -> Result<Aggregates, CheckError> {
    let mut agg = Aggregates::new(BUCKET_MS, slis.iter().map(|s| (*s).clone()).collect(), usize::MAX);
    let mut names: Vec<&str> = slis.iter().flat_map(|s| s.fields()).collect();
    names.sort_unstable();
    names.dedup();
    for_each_event(frame, &names, timestamp, &mut |ev| agg.add(ev).expect("no tenant cap"))?;
    agg.settle();
    Ok(agg)
}

/// Call `f` with each row that has a time, as an event with fields `names`.
pub fn for_each_event(frame: &DataFrame, names: &[&str], timestamp: Option<&str>, f: &mut dyn FnMut(&Event<'_>)) -> Result<(), CheckError> {
    if frame.height() == 0 {
        return Ok(());
    }
    let ts_name = timestamp.ok_or(CheckError::Column { column: "timestamp".into(), message: "the source has no timestamp column".into() })?;
    let ts_err = |message: String| CheckError::Column { column: ts_name.to_string(), message };
    let ts = frame.column(ts_name).map_err(|_| ts_err("not in the source data".into()))?;
    let ts = ts.cast(&DataType::Int64).map_err(|e| ts_err(e.to_string()))?;
    let ts: Vec<Option<i64>> = ts.i64().map_err(|e| ts_err(e.to_string()))?.iter().collect();
    let columns: Vec<Values> = names.iter().map(|n| Values::of(frame, n)).collect::<Result<_, _>>()?;
    let mut fields: Vec<(&str, Option<Val<'_>>)> = names.iter().map(|n| (*n, None)).collect();
    for (i, at) in ts.iter().enumerate() {
        let Some(at_ms) = *at else { continue };
        for (slot, col) in fields.iter_mut().zip(&columns) {
            slot.1 = col.get(i);
        }
        f(&Event { at_ms, tenant: TENANT, fields: &fields });
    }
    Ok(())
}
