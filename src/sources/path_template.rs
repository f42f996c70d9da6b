//! Path templates: globs with `{tenant}`, date parts and other `{name}` placeholders.
//!
//! `lake/{tenant}/features/dt={date}/*.parquet` is searched as
//! `lake/*/features/dt=2026-11-30/*.parquet` for each day that can hold rows of
//! the window being read (or as `dt=*` when there is no window), and the
//! tenant is read back from each match. Cost grows with the window, not with
//! the number of partitions in the lake.
//!
//! Date parts: `{date}` (`%Y-%m-%d`), `{year}`, `{month}`, `{day}`, `{hour}`,
//! and any strftime format as `{date:%Y/%m/%d}`. Times are UTC.

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};

use chrono::{DateTime, Datelike, Duration, DurationRound, NaiveDate, TimeZone, Timelike, Utc};
use regex::Regex;

/// Most partitions a window may expand to; a longer window is searched with
/// `*` in place of the date parts (and filtered by timestamp as usual).
const MAX_PARTITIONS: usize = 10_000;

/// A compiled path template.
#[derive(Debug, Clone)]
pub struct PathTemplate {
    template: String,
    parts: Vec<Part>,
    matcher: Regex,
    has_tenant: bool,
    /// The partition step, when the date parts allow pruning.
    step: Option<Step>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
enum Part {
    /// Glob text as written (`*`, `?`, `**` and literal characters).
    Glob(String),
    Tenant,
    /// A strftime format filled in per partition.
    Time(String),
    /// A placeholder that matches anything.
    Any,
}

/// The finest time unit the template's date parts name.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
enum Step {
    Year,
    Month,
    Day,
    Hour,
}

/// One file that matched a template.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub struct Matched {
    pub path: PathBuf,
    pub tenant: Option<String>,
}

/// A path that matched but is not read, and why.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub struct Skipped {
    pub path: PathBuf,
    pub reason: SkipReason,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum SkipReason {
    /// The tenant part of the path is not UTF-8, so it cannot be a label.
    TenantNotUtf8,
    /// A symlink leads out of the template's root (see `follow_symlinks`).
    SymlinkOutsideRoot,
    /// Modified within the source's `settle_time`: still being written.
    Settling,
}

impl SkipReason {
    /// For the `reason` label.
    pub fn as_str(self) -> &'static str {
        match self {
            SkipReason::TenantNotUtf8 => "tenant_not_utf8",
            SkipReason::SymlinkOutsideRoot => "symlink_outside_root",
            SkipReason::Settling => "settling",
        }
    }

    pub fn explain(self) -> &'static str {
        match self {
            SkipReason::TenantNotUtf8 => "its tenant directory's name is not UTF-8, so it cannot be a tenant label",
            SkipReason::SymlinkOutsideRoot => {
                "a symlink leads out of the source's root directory; set `follow_symlinks: true` on the source to read it"
            }
            SkipReason::Settling => "modified within the source's settle_time: still being written, read once it settles",
        }
    }
}

/// What a search found.
#[derive(Debug, Default)]
pub struct Discovered {
    pub files: Vec<Matched>,
    pub skipped: Vec<Skipped>,
}

#[derive(Debug, thiserror::Error)]
pub enum TemplateError {
    #[error("unclosed `{{` in path template")]
    Unclosed,
    #[error("empty placeholder `{{}}` in path template")]
    EmptyPlaceholder,
    #[error("placeholder `{{{0}}}`: invalid date format")]
    DateFormat(String),
    #[error("invalid glob pattern: {0}")]
    Glob(String),
    #[error("cannot list files: {0}")]
    List(String),
}

impl PathTemplate {
    pub fn parse(template: &str) -> Result<Self, TemplateError> {
        let mut parts: Vec<Part> = Vec::new();
        let mut re = String::from("^");
        let mut has_tenant = false;
        let mut glob = String::new();
        let mut chars = template.chars().peekable();
        let flush = |glob: &mut String, parts: &mut Vec<Part>| {
            if !glob.is_empty() {
                parts.push(Part::Glob(std::mem::take(glob)));
            }
        };
        while let Some(c) = chars.next() {
            match c {
                '{' => {
                    let mut name = String::new();
                    loop {
                        match chars.next() {
                            Some('}') => break,
                            Some(ch) => name.push(ch),
                            None => return Err(TemplateError::Unclosed),
                        }
                    }
                    if name.is_empty() {
                        return Err(TemplateError::EmptyPlaceholder);
                    }
                    flush(&mut glob, &mut parts);
                    if name == "tenant" && !has_tenant {
                        has_tenant = true;
                        re.push_str("(?P<tenant>[^/]+)");
                        parts.push(Part::Tenant);
                    } else if let Some(format) = time_format(&name) {
                        check_format(&name, &format)?;
                        let i = parts.iter().filter(|p| matches!(p, Part::Time(_))).count();
                        re.push_str(&format!("(?P<t{i}>.*?)"));
                        parts.push(Part::Time(format));
                    } else {
                        re.push_str("[^/]*");
                        parts.push(Part::Any);
                    }
                }
                '*' if chars.peek() == Some(&'*') => {
                    chars.next();
                    glob.push_str("**");
                    re.push_str(".*");
                }
                '*' => {
                    glob.push('*');
                    re.push_str("[^/]*");
                }
                '?' => {
                    glob.push('?');
                    re.push_str("[^/]");
                }
                _ => {
                    glob.push(c);
                    re.push_str(&regex::escape(&c.to_string()));
                }
            }
        }
        flush(&mut glob, &mut parts);
        re.push('$');
        // Prune only when every date part is understood; a part finer than an
        // hour or in weeks is searched with `*` rather than guessed.
        let steps: Vec<Option<Step>> = parts.iter().filter_map(|p| if let Part::Time(f) = p { Some(step_of(f)) } else { None }).collect();
        let step = if steps.iter().all(Option::is_some) { steps.into_iter().flatten().max() } else { None };
        let t = PathTemplate { template: template.to_string(), parts, matcher: Regex::new(&re).expect("escaped parts"), has_tenant, step };
        glob::Pattern::new(&t.glob_for(None)).map_err(|e| TemplateError::Glob(e.to_string()))?;
        Ok(t)
    }

    /// Whether the template names the tenant.
    pub fn has_tenant(&self) -> bool {
        self.has_tenant
    }

    /// Whether the template's date parts let a window prune partitions.
    pub fn has_date(&self) -> bool {
        self.step.is_some()
    }

    pub fn as_str(&self) -> &str {
        &self.template
    }

    /// The glob for one partition (`at`), or for every partition (`None`).
    fn glob_for(&self, at: Option<DateTime<Utc>>) -> String {
        let mut out = String::new();
        for p in &self.parts {
            match (p, at) {
                (Part::Glob(g), _) => out.push_str(g),
                (Part::Time(f), Some(t)) => out.push_str(&glob::Pattern::escape(&t.format(f).to_string())),
                (Part::Tenant | Part::Any | Part::Time(_), _) => out.push('*'),
            }
        }
        out
    }

    /// The globs to search for rows in `range` (start, end]: one per partition
    /// that can hold them, or the whole lake without a range or date parts.
    pub fn globs(&self, range: Option<(DateTime<Utc>, DateTime<Utc>)>) -> Vec<String> {
        let (Some(step), Some((start, end))) = (self.step, range) else {
            return vec![self.glob_for(None)];
        };
        if (end - start).num_hours() / step.approx_hours() > MAX_PARTITIONS as i64 {
            return vec![self.glob_for(None)];
        }
        let mut globs = BTreeSet::new();
        let mut t = step.floor(start);
        while t <= end {
            if globs.len() >= MAX_PARTITIONS {
                return vec![self.glob_for(None)];
            }
            globs.insert(self.glob_for(Some(t)));
            t = step.next(t);
        }
        globs.into_iter().collect()
    }

    /// Matching files (regular files only), sorted, with the tenant each
    /// belongs to. With a range, only partitions that can hold its rows are
    /// searched. Unless `follow_symlinks`, a file whose real path is outside
    /// the template's root is skipped, as is one whose tenant is not UTF-8.
    pub fn discover(&self, range: Option<(DateTime<Utc>, DateTime<Utc>)>, follow_symlinks: bool) -> Result<Discovered, TemplateError> {
        let (mut files, mut skipped) = (BTreeSet::new(), BTreeSet::new());
        let root = (!follow_symlinks).then(|| self.root().canonicalize().ok()).flatten();
        for pattern in self.globs(range) {
            for entry in glob::glob(&pattern).map_err(|e| TemplateError::Glob(e.to_string()))? {
                let path = entry.map_err(|e| TemplateError::List(e.to_string()))?;
                // Only regular files: a FIFO or a device would block the read for ever.
                if !std::fs::metadata(&path).is_ok_and(|m| m.is_file()) {
                    continue;
                }
                if let Some(root) = &root
                    && !path.canonicalize().is_ok_and(|real| real.starts_with(root))
                {
                    skipped.insert(Skipped { path, reason: SkipReason::SymlinkOutsideRoot });
                    continue;
                }
                let tenant = if self.has_tenant {
                    match self.tenant_of(&path) {
                        Some(t) => Some(t),
                        None => {
                            skipped.insert(Skipped { path, reason: SkipReason::TenantNotUtf8 });
                            continue;
                        }
                    }
                } else {
                    None
                };
                files.insert(Matched { path, tenant });
            }
        }
        skipped.extend(self.non_utf8_tenants());
        Ok(Discovered { files: files.into_iter().collect(), skipped: skipped.into_iter().collect() })
    }

    /// Tenant directories whose names are not UTF-8: globbing passes over
    /// them without a word, so the directories that hold tenants are listed.
    fn non_utf8_tenants(&self) -> Vec<Skipped> {
        let Some(i) = self.parts.iter().position(|p| *p == Part::Tenant) else { return Vec::new() };
        let before = PathTemplate { parts: self.parts[..i].to_vec(), ..self.clone() }.glob_for(None);
        let parents: Vec<PathBuf> = match before.rsplit_once('/') {
            Some(("", _)) => vec![PathBuf::from("/")],
            Some((dir, _)) => glob::glob(dir).map(|g| g.filter_map(Result::ok).collect()).unwrap_or_default(),
            None => vec![PathBuf::from(".")],
        };
        parents
            .iter()
            .filter_map(|dir| std::fs::read_dir(dir).ok())
            .flat_map(|entries| entries.filter_map(Result::ok))
            .filter(|e| e.file_name().to_str().is_none())
            .map(|e| Skipped { path: e.path(), reason: SkipReason::TenantNotUtf8 })
            .collect()
    }

    /// The directory every match is under: the template up to the last `/`
    /// before its first glob character or placeholder.
    fn root(&self) -> PathBuf {
        let literal: String = match self.parts.first() {
            Some(Part::Glob(g)) => g.chars().take_while(|c| !matches!(c, '*' | '?' | '[')).collect(),
            _ => String::new(),
        };
        match literal.rsplit_once('/') {
            Some(("", _)) => PathBuf::from("/"),
            Some((dir, _)) => PathBuf::from(dir),
            None => PathBuf::from("."),
        }
    }

    /// The time a file's partition starts at, from the path's date parts
    /// (missing finer parts are the start of the coarser one).
    pub fn partition_of(&self, path: &Path) -> Option<DateTime<Utc>> {
        let caps = self.matcher.captures(path.to_str()?)?;
        let mut parsed = chrono::format::Parsed::new();
        let formats = self.parts.iter().filter_map(|p| if let Part::Time(f) = p { Some(f) } else { None });
        let mut any = false;
        for (i, f) in formats.enumerate() {
            let text = caps.name(&format!("t{i}"))?.as_str();
            chrono::format::parse(&mut parsed, text, chrono::format::StrftimeItems::new(f)).ok()?;
            any = true;
        }
        if !any {
            return None;
        }
        if parsed.month().is_none() {
            parsed.set_month(1).ok()?;
        }
        if parsed.day().is_none() {
            parsed.set_day(1).ok()?;
        }
        let date = parsed.to_naive_date().ok()?;
        let hour = parsed.hour_div_12().zip(parsed.hour_mod_12()).map_or(0, |(d, m)| d * 12 + m);
        Some(Utc.from_utc_datetime(&date.and_hms_opt(hour, 0, 0)?))
    }

    /// An object of a bucket (a URL) that a listing of [`PathTemplate::globs`]
    /// found, with its tenant; `None` when the template does not match it
    /// after all (a glob is looser than the template's placeholders).
    pub fn matched(&self, url: &str) -> Option<Matched> {
        let caps = self.matcher.captures(url)?;
        let tenant = self.has_tenant.then(|| caps.name("tenant").map(|m| m.as_str().to_string())).flatten();
        Some(Matched { path: PathBuf::from(url), tenant })
    }

    fn tenant_of(&self, path: &Path) -> Option<String> {
        let text = path.to_str()?;
        self.matcher.captures(text).and_then(|c| c.name("tenant")).map(|m| m.as_str().to_string())
    }
}

/// The strftime format a placeholder stands for, if it is a date part.
fn time_format(name: &str) -> Option<String> {
    Some(match name {
        "date" => "%Y-%m-%d".into(),
        "year" => "%Y".into(),
        "month" => "%m".into(),
        "day" => "%d".into(),
        "hour" => "%H".into(),
        _ => name.strip_prefix("date:")?.to_string(),
    })
}

fn check_format(name: &str, format: &str) -> Result<(), TemplateError> {
    use chrono::format::{Item, StrftimeItems};
    if format.is_empty() || StrftimeItems::new(format).any(|i| matches!(i, Item::Error)) {
        return Err(TemplateError::DateFormat(name.to_string()));
    }
    Ok(())
}

/// The partition step a strftime format names, or `None` when it has a part
/// this pruning does not understand (minutes, seconds, weeks, ...).
fn step_of(format: &str) -> Option<Step> {
    let mut step = Step::Year;
    let mut chars = format.chars();
    while let Some(c) = chars.next() {
        if c != '%' {
            continue;
        }
        let mut spec = chars.next()?;
        if matches!(spec, '-' | '_' | '0') {
            spec = chars.next()?;
        }
        let this = match spec {
            'Y' | 'y' | 'C' | '%' => Step::Year,
            'm' | 'b' | 'B' | 'h' => Step::Month,
            'd' | 'e' | 'j' | 'F' | 'D' | 'x' | 'a' | 'A' | 'u' | 'w' => Step::Day,
            'H' | 'k' | 'I' | 'l' | 'p' | 'P' => Step::Hour,
            _ => return None,
        };
        step = step.max(this);
    }
    Some(step)
}

impl Step {
    /// About how many hours one step spans (to bound a window's partitions).
    fn approx_hours(self) -> i64 {
        match self {
            Step::Hour => 1,
            Step::Day => 24,
            Step::Month => 28 * 24,
            Step::Year => 365 * 24,
        }
    }

    fn floor(self, t: DateTime<Utc>) -> DateTime<Utc> {
        match self {
            Step::Hour => t.duration_trunc(Duration::hours(1)).unwrap_or(t),
            Step::Day => t.duration_trunc(Duration::days(1)).unwrap_or(t),
            Step::Month => day_start(t.year(), t.month()),
            Step::Year => day_start(t.year(), 1),
        }
    }

    fn next(self, t: DateTime<Utc>) -> DateTime<Utc> {
        match self {
            Step::Hour => t + Duration::hours(1),
            Step::Day => t + Duration::days(1),
            Step::Month if t.month() == 12 => day_start(t.year() + 1, 1),
            Step::Month => day_start(t.year(), t.month() + 1),
            Step::Year => day_start(t.year() + 1, 1),
        }
    }
}

fn day_start(year: i32, month: u32) -> DateTime<Utc> {
    let d = NaiveDate::from_ymd_opt(year, month, 1).unwrap_or(NaiveDate::MAX);
    Utc.from_utc_datetime(&d.and_hms_opt(0, 0, 0).expect("midnight")).with_nanosecond(0).expect("valid")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(s: &str) -> DateTime<Utc> {
        DateTime::parse_from_rfc3339(s).unwrap().with_timezone(&Utc)
    }

    #[test]
    fn placeholders_become_globs_and_tenants_are_read_back() {
        let dir = tempfile::tempdir().unwrap();
        for (t, d) in [("acme", "2026-11-01"), ("globex", "2026-11-02")] {
            let p = dir.path().join(t).join("features").join(format!("dt={d}"));
            std::fs::create_dir_all(&p).unwrap();
            std::fs::write(p.join("part-0.parquet"), b"x").unwrap();
        }
        let template = format!("{}/{{tenant}}/features/dt={{date}}/*.parquet", dir.path().display());
        let t = PathTemplate::parse(&template).unwrap();
        assert!(t.has_tenant() && t.has_date());
        let found = t.discover(None, false).unwrap().files;
        let tenants: Vec<_> = found.iter().map(|m| m.tenant.clone().unwrap()).collect();
        assert_eq!(tenants, ["acme", "globex"]);
        // A window on 2 November opens only that day's partitions.
        let nov2 = t.discover(Some((at("2026-11-02T10:00:00Z"), at("2026-11-02T11:00:00Z"))), false).unwrap().files;
        assert_eq!(nov2.len(), 1);
        assert_eq!(nov2[0].tenant.as_deref(), Some("globex"));
    }

    #[test]
    fn symlinks_out_of_the_root_and_non_utf8_tenants_are_skipped_by_name() {
        use std::os::unix::ffi::OsStrExt;
        let dir = tempfile::tempdir().unwrap();
        let (lake, outside) = (dir.path().join("lake"), dir.path().join("secrets"));
        for d in [lake.join("acme"), lake.join("globex"), outside.clone()] {
            std::fs::create_dir_all(&d).unwrap();
        }
        std::fs::write(lake.join("acme/a.csv"), "x\n1\n").unwrap();
        std::fs::write(outside.join("passwd.csv"), "x\n1\n").unwrap();
        // A link out of the lake (a tenant directory is often tenant-writable),
        // and one inside it, which is fine.
        std::os::unix::fs::symlink(outside.join("passwd.csv"), lake.join("globex/a.csv")).unwrap();
        std::os::unix::fs::symlink(lake.join("acme/a.csv"), lake.join("globex/b.csv")).unwrap();
        let bad_name = lake.join(std::ffi::OsStr::from_bytes(b"caf\xe9"));
        std::fs::create_dir_all(&bad_name).unwrap();
        std::fs::write(bad_name.join("a.csv"), "x\n1\n").unwrap();

        let t = PathTemplate::parse(&format!("{}/{{tenant}}/*.csv", lake.display())).unwrap();
        let found = t.discover(None, false).unwrap();
        let files: Vec<_> = found.files.iter().map(|m| m.path.strip_prefix(&lake).unwrap().to_path_buf()).collect();
        assert_eq!(files, [PathBuf::from("acme/a.csv"), PathBuf::from("globex/b.csv")]);
        let skipped: Vec<_> = found.skipped.iter().map(|s| (s.path.file_name().unwrap().to_owned(), s.reason)).collect();
        assert_eq!(skipped.len(), 2);
        assert!(skipped.contains(&("a.csv".into(), SkipReason::SymlinkOutsideRoot)));
        assert!(skipped.contains(&(std::ffi::OsStr::from_bytes(b"caf\xe9").to_owned(), SkipReason::TenantNotUtf8)));
        // Following symlinks is a choice the source makes explicitly.
        let followed = t.discover(None, true).unwrap();
        assert_eq!(followed.files.len(), 3);
        assert_eq!(followed.skipped.len(), 1);
    }

    #[test]
    fn a_window_expands_to_the_partitions_it_touches() {
        let t = PathTemplate::parse("lake/{tenant}/dt={date}/h={hour}/*.parquet").unwrap();
        let g = t.globs(Some((at("2026-11-30T22:30:00Z"), at("2026-12-01T00:10:00Z"))));
        assert_eq!(
            g,
            ["lake/*/dt=2026-11-30/h=22/*.parquet", "lake/*/dt=2026-11-30/h=23/*.parquet", "lake/*/dt=2026-12-01/h=00/*.parquet"]
        );
        let t = PathTemplate::parse("lake/{date:%Y/%m/%d}/{month}.csv").unwrap();
        assert_eq!(t.globs(Some((at("2026-12-31T23:00:00Z"), at("2027-01-01T01:00:00Z")))), ["lake/2026/12/31/12.csv", "lake/2027/01/01/01.csv"]);
        let monthly = PathTemplate::parse("m/{year}-{month}.csv").unwrap();
        assert_eq!(monthly.globs(Some((at("2026-11-15T00:00:00Z"), at("2027-01-02T00:00:00Z")))), ["m/2026-11.csv", "m/2026-12.csv", "m/2027-01.csv"]);
        assert_eq!(t.globs(None), ["lake/*/*.csv"]);
    }

    #[test]
    fn date_parts_it_cannot_step_through_are_searched_whole() {
        let w = Some((at("2026-11-30T10:00:00Z"), at("2026-11-30T11:00:00Z")));
        for template in ["l/{date:%Y-%m-%dT%H%M}/*.csv", "l/{date:%G-W%V}/*.csv", "l/{date:%s}/*.csv"] {
            let t = PathTemplate::parse(template).unwrap();
            assert!(!t.has_date(), "{template}");
            assert_eq!(t.globs(w), ["l/*/*.csv"], "{template}");
        }
        let t = PathTemplate::parse("l/dt={date}/*.csv").unwrap();
        assert_eq!(t.globs(Some((DateTime::<Utc>::MIN_UTC, at("2026-11-30T11:00:00Z")))), ["l/dt=*/*.csv"], "an unbounded start reads all");
    }

    #[test]
    fn unclosed_placeholder_and_bad_date_format_are_errors() {
        assert!(matches!(PathTemplate::parse("a/{tenant/b"), Err(TemplateError::Unclosed)));
        assert!(matches!(PathTemplate::parse("a/{date:%Q}/b"), Err(TemplateError::DateFormat(_))));
    }
}
