//! Annotation templates (minijinja). Compiled when rules are validated, so a
//! syntax error is a config error; a render error is shown in the text instead
//! of dropping the alert.

use std::collections::BTreeMap;

use minijinja::Environment;
use serde::Serialize;

/// All annotation templates of a rule set, by name.
#[derive(Debug)]
pub struct Templates {
    env: Environment<'static>,
}

/// What a template can use.
#[derive(Debug, Serialize)]
pub struct TemplateContext<'a> {
    /// The check's main figure (for drift: the first method's statistic).
    pub value: Option<f64>,
    /// Every value of the series.
    pub values: &'a BTreeMap<&'static str, f64>,
    /// The alert's labels (rule labels, `column`, `tenant`, `alertname`).
    pub labels: &'a BTreeMap<String, String>,
}

// Not derived: minijinja's `Environment::default()` has no builtin filters.
impl Default for Templates {
    fn default() -> Self {
        Self::new()
    }
}

impl Templates {
    pub fn new() -> Self {
        let mut env = Environment::new();
        env.set_undefined_behavior(minijinja::UndefinedBehavior::Lenient);
        Templates { env }
    }

    /// Compile a template under `name`; the error says what is wrong, without position.
    pub fn add(&mut self, name: String, source: String) -> Result<(), String> {
        self.env.add_template_owned(name, source).map_err(|e| describe(&e))
    }

    /// Render a template; a failure renders as a visible error string.
    pub fn render(&self, name: &str, ctx: &TemplateContext<'_>) -> String {
        match self.env.get_template(name).and_then(|t| t.render(minijinja::value::Serde(ctx))) {
            Ok(s) => s,
            Err(e) => format!("<template error: {}>", describe(&e)),
        }
    }
}

/// A template error in one line, with the template line when known.
pub fn describe(e: &minijinja::Error) -> String {
    let mut s = e.detail().map(str::to_string).unwrap_or_else(|| e.kind().to_string());
    if let Some(line) = e.line() {
        s = format!("{s} (template line {line})");
    }
    s
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn renders_values_and_labels() {
        let mut t = Templates::default();
        t.add("s".into(), "PSI {{ value | round(3) }} on {{ labels.column }}".into()).unwrap();
        let values = BTreeMap::from([("psi", 0.123456)]);
        let labels = BTreeMap::from([("column".to_string(), "age".to_string())]);
        let out = t.render("s", &TemplateContext { value: Some(0.123456), values: &values, labels: &labels });
        assert_eq!(out, "PSI 0.123 on age");
    }

    #[test]
    fn syntax_errors_are_reported_and_render_errors_are_visible() {
        let mut t = Templates::new();
        assert!(t.add("bad".into(), "{{ value | round(3) ".into()).is_err());
        t.add("div".into(), "{{ 1 / 0 }}".into()).unwrap();
        let empty = BTreeMap::new();
        let out = t.render("div", &TemplateContext { value: None, values: &BTreeMap::new(), labels: &empty });
        assert!(out.starts_with("<template error:"), "{out}");
    }
}
