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
        Templates { env: limited_environment() }
    }

    /// Compile a template under `name`; the error says what is wrong, without position.
    pub fn add(&mut self, name: String, source: String) -> Result<(), String> {
        self.env.add_template_owned(name, source).map_err(|e| describe(&e))
    }

    /// Render a template; a failure renders as a visible error string.
    pub fn render(&self, name: &str, ctx: &TemplateContext<'_>) -> String {
        render_limited(&self.env, name, minijinja::value::Serde(ctx))
    }
}

/// Instructions one rendering may run (minijinja's fuel): far more than any
/// annotation or message needs, and a bound on nested loops.
pub const TEMPLATE_FUEL: u64 = 250_000;

/// Bytes one rendering may produce.
pub const TEMPLATE_MAX_OUTPUT: usize = 64 * 1024;

/// A template environment with mlwatch's settings and limits.
pub fn limited_environment() -> Environment<'static> {
    let mut env = Environment::new();
    env.set_undefined_behavior(minijinja::UndefinedBehavior::Lenient);
    env.set_fuel(Some(TEMPLATE_FUEL));
    env.add_filter("duration", duration_filter);
    env
}

/// `{{ values.exhaustion_seconds | duration }}`: seconds as `2d 3h`, the two
/// largest units, for people reading an alert.
fn duration_filter(seconds: f64) -> String {
    if !seconds.is_finite() {
        return if seconds > 0.0 { "forever".into() } else { "-".into() };
    }
    let mut left = seconds.max(0.0).round() as u64;
    let mut parts = Vec::new();
    for (unit, size) in [("d", 86_400), ("h", 3600), ("m", 60), ("s", 1)] {
        if left >= size || (unit == "s" && parts.is_empty()) {
            parts.push(format!("{}{unit}", left / size));
            left %= size;
        }
        if parts.len() == 2 {
            break;
        }
    }
    parts.join(" ")
}

/// Render template `name` within the limits; a failure, or a limit hit,
/// renders as a visible error string, so the notification still goes.
pub fn render_limited(env: &Environment<'_>, name: &str, ctx: impl Into<minijinja::Value>) -> String {
    let template = match env.get_template(name) {
        Ok(t) => t,
        Err(e) => return format!("<template error: {}>", describe(&e)),
    };
    let mut out = Capped { buf: Vec::new(), overflowed: false };
    match template.render_captured_to(ctx, &mut out) {
        Ok(_) => String::from_utf8_lossy(&out.buf).into_owned(),
        Err(_) if out.overflowed => format!("<template error: output longer than {TEMPLATE_MAX_OUTPUT} bytes>"),
        Err(e) => format!("<template error: {}>", describe(&e)),
    }
}

/// A writer that refuses to grow past [`TEMPLATE_MAX_OUTPUT`].
struct Capped {
    buf: Vec<u8>,
    overflowed: bool,
}

impl std::io::Write for Capped {
    fn write(&mut self, data: &[u8]) -> std::io::Result<usize> {
        if self.buf.len() + data.len() > TEMPLATE_MAX_OUTPUT {
            self.overflowed = true;
            return Err(std::io::Error::other("template output limit"));
        }
        self.buf.extend_from_slice(data);
        Ok(data.len())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
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
    fn durations_read_as_the_two_largest_units() {
        assert_eq!(duration_filter(0.4), "0s");
        assert_eq!(duration_filter(90.0), "1m 30s");
        assert_eq!(duration_filter(3.0 * 86_400.0 + 7200.0 + 59.0), "3d 2h");
        assert_eq!(duration_filter(f64::INFINITY), "forever");
    }

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
    fn runaway_templates_hit_a_limit_and_render_a_visible_error() {
        // Regression: nested loops hung a group; a huge output could abort the agent.
        let mut t = Templates::new();
        t.add("loops".into(), "{% for a in range(100000) %}{% for b in range(100000) %}.{% endfor %}{% endfor %}".into()).unwrap();
        t.add("big".into(), "{{ 'x' * 10000000 }}".into()).unwrap();
        t.add("fine".into(), "{% for a in range(100) %}{{ a }}{% endfor %}".into()).unwrap();
        let empty = BTreeMap::new();
        let ctx = TemplateContext { value: None, values: &BTreeMap::new(), labels: &empty };
        let loops = t.render("loops", &ctx);
        assert!(loops.starts_with("<template error:") && loops.contains("fuel"), "{loops}");
        assert_eq!(t.render("big", &ctx), "<template error: output longer than 65536 bytes>");
        assert_eq!(t.render("fine", &ctx).len(), 190);
    }

    #[test]
    fn memory_amplifying_templates_run_out_of_fuel_not_memory() {
        // Regression: a template that doubles a string 40 times asked for a
        // terabyte. minijinja's fuel charges every byte it creates, so the
        // data one rendering makes is bounded by TEMPLATE_FUEL x 64 bytes
        // (16 MiB), and so is its time.
        let doubling = "{% set s = 'xxxxxxxx' %}".to_string() + &"{% set s = s ~ s %}".repeat(40) + "{{ s | length }}";
        let cases = [
            ("unrolled", doubling),
            ("namespace", "{% set ns = namespace(s='xxxxxxxx') %}{% for i in range(40) %}{% set ns.s = ns.s ~ ns.s %}{% endfor %}{{ ns.s | length }}".into()),
            ("macro", "{% macro d(s, n) %}{% if n > 0 %}{{ d(s ~ s, n - 1) }}{% else %}{{ s | length }}{% endif %}{% endmacro %}{{ d('xxxxxxxx', 40) }}".into()),
            ("replace", "{{ 'x' ".to_string() + &"| replace('x', 'xxxxxxxxxxxxxxxx') ".repeat(10) + "| length }}"),
            ("join", "{{ (['xxxxxxxxxxxxxxxx'] * 2000000) | join('') | length }}".into()),
        ];
        let empty = BTreeMap::new();
        let ctx = TemplateContext { value: None, values: &BTreeMap::new(), labels: &empty };
        for (name, source) in cases {
            let mut t = Templates::new();
            t.add(name.into(), source).unwrap();
            let out = t.render(name, &ctx);
            assert!(out.starts_with("<template error:") && out.contains("fuel"), "{name}: {out}");
        }
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
