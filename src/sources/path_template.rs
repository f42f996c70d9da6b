//! Path templates: globs with `{tenant}` and other `{name}` placeholders.
//!
//! `lake/{tenant}/features/dt={date}/*.parquet` is searched as the glob
//! `lake/*/features/dt=*/*.parquet`, and the tenant is read back from each match.

use std::path::{Path, PathBuf};

use regex::Regex;

/// A compiled path template.
#[derive(Debug, Clone)]
pub struct PathTemplate {
    template: String,
    glob: String,
    matcher: Regex,
    has_tenant: bool,
}

/// One file that matched a template.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub struct Matched {
    pub path: PathBuf,
    pub tenant: Option<String>,
}

#[derive(Debug, thiserror::Error)]
pub enum TemplateError {
    #[error("unclosed `{{` in path template")]
    Unclosed,
    #[error("empty placeholder `{{}}` in path template")]
    EmptyPlaceholder,
    #[error("invalid glob pattern: {0}")]
    Glob(String),
    #[error("cannot list files: {0}")]
    List(String),
}

impl PathTemplate {
    pub fn parse(template: &str) -> Result<Self, TemplateError> {
        let mut glob = String::new();
        let mut re = String::from("^");
        let mut has_tenant = false;
        let mut chars = template.chars().peekable();
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
                    glob.push('*');
                    if name == "tenant" && !has_tenant {
                        has_tenant = true;
                        re.push_str("(?P<tenant>[^/]+)");
                    } else {
                        re.push_str("[^/]*");
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
        re.push('$');
        glob::Pattern::new(&glob).map_err(|e| TemplateError::Glob(e.to_string()))?;
        let matcher = Regex::new(&re).expect("template regex is built from escaped parts");
        Ok(PathTemplate { template: template.to_string(), glob, matcher, has_tenant })
    }

    /// Whether the template names the tenant.
    pub fn has_tenant(&self) -> bool {
        self.has_tenant
    }

    pub fn as_str(&self) -> &str {
        &self.template
    }

    /// All matching files, sorted, with the tenant each belongs to.
    pub fn discover(&self) -> Result<Vec<Matched>, TemplateError> {
        let mut out = Vec::new();
        for entry in glob::glob(&self.glob).map_err(|e| TemplateError::Glob(e.to_string()))? {
            let path = entry.map_err(|e| TemplateError::List(e.to_string()))?;
            if path.is_dir() {
                continue;
            }
            let tenant = if self.has_tenant { self.tenant_of(&path) } else { None };
            out.push(Matched { path, tenant });
        }
        out.sort();
        Ok(out)
    }

    fn tenant_of(&self, path: &Path) -> Option<String> {
        let text = path.to_str()?;
        self.matcher.captures(text).and_then(|c| c.name("tenant")).map(|m| m.as_str().to_string())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

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
        assert!(t.has_tenant());
        let found = t.discover().unwrap();
        let tenants: Vec<_> = found.iter().map(|m| m.tenant.clone().unwrap()).collect();
        assert_eq!(tenants, ["acme", "globex"]);
    }

    #[test]
    fn unclosed_placeholder_is_an_error() {
        assert!(matches!(PathTemplate::parse("a/{tenant/b"), Err(TemplateError::Unclosed)));
    }
}
