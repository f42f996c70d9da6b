//! The `email` integration (lettre): SMTP with STARTTLS or implicit TLS,
//! authentication, multipart text and HTML bodies.

use std::path::{Path, PathBuf};
use std::time::Duration;

use lettre::message::{Mailbox, MultiPart};
use lettre::transport::smtp::authentication::Credentials;
use lettre::transport::smtp::client::{Certificate, CertificateStore, Tls, TlsParameters};
use lettre::transport::smtp::extension::ClientId;
use lettre::{AsyncSmtpTransport, AsyncTransport, Message, Tokio1Executor};
use serde::Deserialize;

use super::DeliveryError;
use crate::alerting::notification::GroupNotification;
use crate::alerting::templates::{DEFAULT_EMAIL_HTML, DEFAULT_EMAIL_TEXT, DEFAULT_TITLE, MessageTemplates};
use crate::util::secret::{Redactor, Secret};

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct EmailConfig {
    /// Recipients, comma-separated.
    pub to: String,
    pub from: String,
    /// `host:port` of the SMTP server.
    pub smarthost: String,
    /// Name sent in EHLO. Default: this host's name.
    #[serde(default)]
    pub hello: Option<String>,
    #[serde(default)]
    pub auth_username: Option<String>,
    #[serde(default)]
    pub auth_password: Option<String>,
    #[serde(default)]
    pub auth_password_file: Option<PathBuf>,
    /// Refuse to send without TLS (STARTTLS, or implicit TLS).
    #[serde(default = "super::default_true")]
    pub require_tls: bool,
    /// TLS from the first byte instead of STARTTLS. Default: on for port 465.
    #[serde(default)]
    pub implicit_tls: Option<bool>,
    #[serde(default)]
    pub tls_config: Option<TlsConfig>,
    #[serde(default)]
    pub send_resolved: bool,
    #[serde(default)]
    pub timeout: Option<String>,
    /// Templates: subject (default `[FIRING:2] Alertname labels`), text and html bodies.
    #[serde(default)]
    pub subject: Option<String>,
    #[serde(default)]
    pub text: Option<String>,
    #[serde(default)]
    pub html: Option<String>,
}

/// `tls_config:` (as Alertmanager's).
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TlsConfig {
    /// PEM file of the CA that signed the server's certificate; when set, only
    /// that CA is trusted (an internal mail relay, say).
    #[serde(default)]
    pub ca_file: Option<PathBuf>,
    /// Name to verify the certificate against. Default: the smarthost's host.
    #[serde(default)]
    pub server_name: Option<String>,
}

pub struct EmailNotifier {
    from: Mailbox,
    to: Vec<Mailbox>,
    pub send_resolved: bool,
    templates: MessageTemplates,
    transport: AsyncSmtpTransport<Tokio1Executor>,
    /// The password, kept out of the server's replies we quote.
    redactor: Redactor,
}

impl std::fmt::Debug for EmailNotifier {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("EmailNotifier").field("from", &self.from).field("to", &self.to).finish_non_exhaustive()
    }
}

impl EmailConfig {
    fn templates(&self) -> Result<MessageTemplates, String> {
        MessageTemplates::compile(&[
            ("subject", self.subject.as_deref(), DEFAULT_TITLE),
            ("text", self.text.as_deref(), DEFAULT_EMAIL_TEXT),
            ("html", self.html.as_deref(), DEFAULT_EMAIL_HTML),
        ])
        .map_err(|e| format!("email: {e}"))
    }

    fn addresses(&self) -> Result<(Mailbox, Vec<Mailbox>, String, u16), String> {
        let from: Mailbox = self.from.parse().map_err(|e| format!("email: from: `{}`: {e}", self.from))?;
        let to = self
            .to
            .split(',')
            .map(str::trim)
            .filter(|s| !s.is_empty())
            .map(|s| s.parse::<Mailbox>().map_err(|e| format!("email: to: `{s}`: {e}")))
            .collect::<Result<Vec<_>, _>>()?;
        if to.is_empty() {
            return Err("email: `to` names no recipient".into());
        }
        let (host, port) = self
            .smarthost
            .rsplit_once(':')
            .and_then(|(h, p)| Some((h.trim_matches(['[', ']']).to_string(), p.parse::<u16>().ok()?)))
            .ok_or_else(|| format!("email: smarthost `{}` must be host:port", self.smarthost))?;
        Ok((from, to, host, port))
    }

    pub fn validate(&self) -> Result<Duration, String> {
        self.addresses()?;
        self.templates()?;
        if self.auth_password.is_some() && self.auth_password_file.is_some() {
            return Err("email: set either `auth_password` or `auth_password_file`, not both".into());
        }
        super::timeout("email", self.timeout.as_deref())
    }

    pub fn build(&self, base_dir: &Path) -> Result<EmailNotifier, String> {
        let timeout = self.validate()?;
        let (from, to, host, port) = self.addresses()?;
        let tls_config = self.tls_config.as_ref();
        let server_name = tls_config.and_then(|t| t.server_name.clone()).unwrap_or_else(|| host.clone());
        let mut params = TlsParameters::builder(server_name);
        if let Some(ca) = tls_config.and_then(|t| t.ca_file.as_ref()) {
            let path = crate::util::paths::resolve(base_dir, ca);
            let pem = crate::util::fs::read_text(&path, 1 << 20).map_err(|e| format!("email: tls_config.ca_file: cannot read {}: {e}", path.display()))?;
            let cert = Certificate::from_pem(pem.as_bytes())
                .map_err(|e| format!("email: tls_config.ca_file: {} is not a PEM certificate: {e}", path.display()))?;
            params = params.certificate_store(CertificateStore::None).add_root_certificate(cert);
        }
        let params = params.build().map_err(|e| format!("email: TLS: {e}"))?;
        let tls = if self.implicit_tls.unwrap_or(port == 465) {
            Tls::Wrapper(params)
        } else if self.require_tls {
            Tls::Required(params)
        } else {
            Tls::Opportunistic(params)
        };
        let mut builder =
            AsyncSmtpTransport::<Tokio1Executor>::builder_dangerous(host).port(port).tls(tls).timeout(Some(timeout));
        if let Some(h) = &self.hello {
            builder = builder.hello_name(ClientId::Domain(h.clone()));
        }
        let mut redactor = Redactor::default();
        if let Some(user) = &self.auth_username {
            let file = self.auth_password_file.as_ref().map(|p| crate::util::paths::resolve(base_dir, p));
            let password = Secret::resolve(self.auth_password.as_deref(), file.as_deref(), "auth_password")
                .map_err(|e| format!("email: {e}"))?;
            redactor = Redactor::secret(password.expose());
            builder = builder.credentials(Credentials::new(user.clone(), password.expose().to_string()));
        }
        Ok(EmailNotifier { from, to, send_resolved: self.send_resolved, templates: self.templates()?, transport: builder.build(), redactor })
    }
}

impl EmailNotifier {
    /// The message; its `Message-ID` comes from `key`, so mail clients show
    /// a message re-sent after a lost acknowledgement once.
    pub fn message(&self, n: &GroupNotification, key: &str) -> Result<Message, DeliveryError> {
        let mut b = Message::builder()
            .from(self.from.clone())
            .message_id(Some(format!("<{key}@mlwatch>")))
            .subject(self.templates.render("subject", n).replace('\n', " "));
        for to in &self.to {
            b = b.to(to.clone());
        }
        let body = MultiPart::alternative_plain_html(self.templates.render("text", n), self.templates.render("html", n));
        b.multipart(body).map_err(|e| DeliveryError::permanent(format!("email: cannot build the message: {e}")))
    }

    pub async fn send(&self, n: &GroupNotification, key: &str) -> Result<(), DeliveryError> {
        let message = self.message(n, key)?;
        match self.transport.send(message).await {
            Ok(_) => Ok(()),
            // A rejected message, or TLS that cannot be had (no STARTTLS where
            // required, an untrusted certificate): retrying will not help.
            Err(e) => {
                let message = format!("email: {}", self.redactor.redact(&e.to_string()));
                if e.is_permanent() || e.is_tls() || e.is_client() {
                    Err(DeliveryError::permanent(message))
                } else {
                    Err(DeliveryError::transient(message))
                }
            }
        }
    }
}
