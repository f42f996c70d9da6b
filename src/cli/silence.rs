//! `mlwatch silence add|list|expire`: silences of a running agent, through its
//! API. Exit 0 on success, 1 when the agent refused, 2 when it cannot be reached.

use std::process::ExitCode;

use chrono::Utc;
use serde_json::{Value, json};

use super::{AgentArgs, SilenceCommand};
use crate::alerting::matcher::Matcher;
use crate::util::secret::{Redactor, Secret};

pub fn silence(cmd: SilenceCommand) -> ExitCode {
    let runtime = tokio::runtime::Builder::new_current_thread().enable_all().build().expect("tokio runtime");
    match runtime.block_on(run(cmd)) {
        Ok(()) => ExitCode::SUCCESS,
        Err((code, message)) => {
            eprintln!("mlwatch silence: {message}");
            ExitCode::from(code)
        }
    }
}

type Failure = (u8, String);

async fn run(cmd: SilenceCommand) -> Result<(), Failure> {
    match cmd {
        SilenceCommand::Add { agent, matchers, duration, author, comment } => {
            for m in &matchers {
                Matcher::parse(m).map_err(|e| (2, e))?;
            }
            let d = crate::rules::schedule::parse_duration("--duration", &duration).map_err(|e| (2, e))?;
            let ends_at = Utc::now() + chrono::Duration::from_std(d).map_err(|_| (2, "--duration is too long".to_string()))?;
            let body = json!({ "matchers": matchers, "endsAt": ends_at, "createdBy": author, "comment": comment });
            let answer = call(&agent, reqwest::Method::POST, "/api/v1/silences", Some(body)).await?;
            println!("{}", answer["data"]["silenceID"].as_str().unwrap_or_default());
        }
        SilenceCommand::List { agent } => {
            let answer = call(&agent, reqwest::Method::GET, "/api/v1/silences", None).await?;
            println!("{:<17} {:<8} {:<25} {:<12} MATCHERS / COMMENT", "ID", "STATE", "ENDS", "CREATED BY");
            for s in answer["data"].as_array().into_iter().flatten() {
                let matchers: Vec<&str> = s["matchers"].as_array().into_iter().flatten().filter_map(Value::as_str).collect();
                println!(
                    "{:<17} {:<8} {:<25} {:<12} {} / {}",
                    s["id"].as_str().unwrap_or_default(),
                    s["status"]["state"].as_str().unwrap_or_default(),
                    s["endsAt"].as_str().unwrap_or_default(),
                    s["createdBy"].as_str().unwrap_or_default(),
                    matchers.join(", "),
                    s["comment"].as_str().unwrap_or_default(),
                );
            }
        }
        SilenceCommand::Expire { agent, ids } => {
            for id in ids {
                call(&agent, reqwest::Method::DELETE, &format!("/api/v1/silences/{id}"), None).await?;
                println!("expired {id}");
            }
        }
    }
    Ok(())
}

async fn call(agent: &AgentArgs, method: reqwest::Method, path: &str, body: Option<Value>) -> Result<Value, Failure> {
    let url = format!("{}{path}", agent.url.trim_end_matches('/'));
    let mut req = reqwest::Client::new().request(method, &url);
    let mut redactor = Redactor::default();
    if let Some(file) = &agent.token_file {
        let token = Secret::resolve(None, Some(file), "token").map_err(|e| (2, e))?;
        req = req.bearer_auth(token.expose());
        redactor = Redactor::secret(token.expose());
    }
    if let Some(b) = body {
        req = req.json(&b);
    }
    let resp = req.send().await.map_err(|e| (2, format!("cannot reach the agent at {}: {}", agent.url, e.without_url())))?;
    let status = resp.status();
    let text = resp.text().await.unwrap_or_default();
    let value: Value = serde_json::from_str(&text).unwrap_or(Value::String(text.trim().to_string()));
    if !status.is_success() {
        let why = value["error"].as_str().map(String::from).unwrap_or_else(|| value.to_string());
        // A proxy in between may echo the request, token included.
        return Err((1, format!("the agent answered {}: {}", status.as_u16(), redactor.redact(&why))));
    }
    Ok(value)
}
