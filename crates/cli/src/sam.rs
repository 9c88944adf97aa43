//! `tollgate sam [TEMPLATE]`: runs a SAM application on a running gateway. Reads the
//! template, creates or updates its functions and APIs through the gateway's own AWS API
//! (the same control plane the aws CLI talks to), deploys each API to its stage and prints
//! its URL. `--watch` redeploys what changed when the template or code changes.

mod auth;
mod client;
mod cloudformation;
mod conditions;
mod cors;
mod deploy;
mod document;
mod intrinsics;
mod package;
mod plan;
mod prune;
mod template;

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};
use std::time::{Duration, SystemTime};

use serde_json::Value;

use crate::error::CliError;
use client::Client;
use deploy::{DeployError, Outcome};
use intrinsics::Scope;
use plan::{ApiKind, Context};

#[derive(clap::Args)]
pub struct SamArgs {
    /// The SAM or CloudFormation template (YAML or JSON).
    #[arg(default_value = "template.yaml")]
    template: PathBuf,
    /// The stage REST APIs are deployed to (HTTP APIs without a StageName use `$default`).
    #[arg(long, default_value = "Prod")]
    stage: String,
    /// The gateway's endpoint; default AWS_ENDPOINT_URL, else http://localhost:4566.
    #[arg(long)]
    endpoint_url: Option<String>,
    /// Default AWS_REGION, else AWS_DEFAULT_REGION, else us-east-1.
    #[arg(long)]
    region: Option<String>,
    /// Prefix of the names of what is created; default the template's directory name.
    #[arg(long)]
    stack_name: Option<String>,
    /// Template parameters, `Name=Value` (repeatable, or several in one argument).
    #[arg(long, num_args = 1..)]
    parameter_overrides: Vec<String>,
    /// Keep running, and redeploy when the template or a function's code changes.
    #[arg(long)]
    watch: bool,
}

fn env(name: &str) -> Option<String> {
    std::env::var(name).ok().filter(|v| !v.is_empty())
}

/// `Name=Value` pairs, also in SAM's `ParameterKey=Name,ParameterValue=Value` form.
fn overrides(list: &[String]) -> Result<BTreeMap<String, String>, CliError> {
    let mut out = BTreeMap::new();
    for item in list.iter().flat_map(|s| s.split_whitespace()) {
        let pair = if let Some(rest) = item.strip_prefix("ParameterKey=") {
            rest.split_once(",ParameterValue=")
        } else {
            item.split_once('=')
        };
        let (k, v) = pair.ok_or_else(|| {
            CliError::Sam(format!("--parameter-overrides: {item} is not Name=Value"))
        })?;
        out.insert(k.to_string(), v.to_string());
    }
    Ok(out)
}

struct Settings {
    template: PathBuf,
    dir: PathBuf,
    stack: String,
    stage: String,
    overrides: BTreeMap<String, String>,
    endpoint: String,
}

pub async fn run(args: SamArgs) -> Result<(), CliError> {
    let endpoint = args
        .endpoint_url
        .clone()
        .or_else(|| env("AWS_ENDPOINT_URL"))
        .unwrap_or_else(|| "http://localhost:4566".into());
    let uri: http::Uri = endpoint
        .parse()
        .map_err(|_| CliError::Sam(format!("--endpoint-url {endpoint} is not a URL")))?;
    let region = args
        .region
        .clone()
        .or_else(|| env("AWS_REGION"))
        .or_else(|| env("AWS_DEFAULT_REGION"))
        .unwrap_or_else(|| "us-east-1".into());
    let dir = args
        .template
        .parent()
        .filter(|p| !p.as_os_str().is_empty())
        .unwrap_or(Path::new("."))
        .to_path_buf();
    let stack = args.stack_name.clone().unwrap_or_else(|| {
        let abs = std::fs::canonicalize(&dir).unwrap_or(dir.clone());
        let name: String = abs
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_default()
            .chars()
            .map(|c| {
                if c.is_ascii_alphanumeric() || c == '-' {
                    c
                } else {
                    '-'
                }
            })
            .collect();
        if name.is_empty() {
            "sam-app".into()
        } else {
            name
        }
    });
    let settings = Settings {
        template: args.template.clone(),
        dir,
        stack,
        stage: args.stage.clone(),
        overrides: overrides(&args.parameter_overrides)?,
        endpoint: endpoint.trim_end_matches('/').to_string(),
    };
    let client = Client::new(uri, region);
    let first = deploy_once(&client, &settings).await;
    if !args.watch {
        return first;
    }
    if let Err(e) = first {
        eprintln!("tollgate sam: {e}");
    }
    eprintln!(
        "tollgate sam: watching {} for changes",
        settings.template.display()
    );
    let mut seen = fingerprint(&settings);
    loop {
        tokio::time::sleep(Duration::from_secs(1)).await;
        let now = fingerprint(&settings);
        if now != seen {
            seen = now;
            if let Err(e) = deploy_once(&client, &settings).await {
                eprintln!("tollgate sam: {e}");
            }
        }
    }
}

/// The newest modification time and the file count under the template's directory
/// (template and code together): any save changes it.
fn fingerprint(s: &Settings) -> (Option<SystemTime>, usize) {
    fn walk(dir: &Path, depth: usize, acc: &mut (Option<SystemTime>, usize)) {
        let Ok(entries) = std::fs::read_dir(dir) else {
            return;
        };
        for e in entries.flatten() {
            let Ok(meta) = e.metadata() else { continue };
            let name = e.file_name();
            // Build output and VCS state are not the application.
            if name == ".git" || name == ".aws-sam" || name == "node_modules" {
                continue;
            }
            if meta.is_dir() && depth < 16 {
                walk(&e.path(), depth + 1, acc);
            } else if meta.is_file() {
                acc.1 += 1;
                acc.0 = acc.0.max(meta.modified().ok());
            }
        }
    }
    let mut acc = (None, 0);
    walk(&s.dir, 0, &mut acc);
    acc
}

fn scope(t: &template::Template, s: &Settings, region: &str) -> Result<Scope, CliError> {
    let mut scope = Scope::default();
    for (k, v) in [
        ("AWS::Region", region),
        ("AWS::AccountId", tollgate_model::ACCOUNT_ID),
        ("AWS::StackName", s.stack.as_str()),
        ("AWS::Partition", "aws"),
        ("AWS::URLSuffix", "amazonaws.com"),
    ] {
        scope.values.insert(k.into(), v.into());
    }
    for (name, p) in &t.parameters {
        let default = p.get("Default").and_then(|d| match d {
            Value::String(s) => Some(s.clone()),
            Value::Number(n) => Some(n.to_string()),
            Value::Bool(b) => Some(b.to_string()),
            _ => None,
        });
        if let Some(v) = s.overrides.get(name).cloned().or(default) {
            scope.values.insert(name.clone(), v);
        }
    }
    if let Some(k) = s.overrides.keys().find(|k| !t.parameters.contains_key(*k)) {
        return Err(CliError::Sam(format!(
            "--parameter-overrides: the template has no parameter {k}"
        )));
    }
    scope.mappings = t.mappings.clone();
    scope.conditions = conditions::evaluate(&t.conditions, &scope)
        .map_err(|e| CliError::Sam(format!("Conditions: {e}")))?;
    Ok(scope)
}

/// One deployment of the template; an error when a supported resource failed.
async fn deploy_once(client: &Client, s: &Settings) -> Result<(), CliError> {
    let bytes = std::fs::read(&s.template)
        .map_err(|e| CliError::Sam(format!("{}: {e}", s.template.display())))?;
    let t = template::parse(&bytes)
        .map_err(|e| CliError::Sam(format!("{}: {e}", s.template.display())))?;
    let mut scope = scope(&t, s, client.region())?;
    let ctx = Context {
        stack: &s.stack,
        stage: &s.stage,
        region: client.region(),
        template_dir: &s.dir,
    };
    plan::add_functions_to_scope(&t, &ctx, &mut scope);
    let p = plan::plan(&t, &ctx, &scope);
    for id in &p.skipped_functions {
        scope.resources.remove(id);
    }
    let mut found = BTreeSet::new();
    for (_, r) in &t.resources {
        intrinsics::unsupported(r, &mut found);
    }
    if !found.is_empty() {
        let list: Vec<_> = found.into_iter().collect();
        eprintln!(
            "tollgate sam: unsupported intrinsic functions: {}",
            list.join(", ")
        );
    }
    for sk in &p.skipped {
        eprintln!("tollgate sam: skipped {}: {}", sk.logical_id, sk.what);
    }
    let mut failed = vec![];
    for f in &p.functions {
        let deployed = match deploy::function(client, f, &s.stack).await {
            Ok(o) => deploy::alias(client, f, &o).await.map(|v| (o, v)),
            Err(e) => Err(e),
        };
        match deployed {
            Ok((o, version)) => {
                let mut what = match o {
                    Outcome::Created => "created".to_string(),
                    Outcome::Updated(what) => format!("updated ({})", what.join(", ")),
                    Outcome::Unchanged => "unchanged".to_string(),
                };
                if let (Some(v), Some(a)) = (version, &f.alias) {
                    what.push_str(&format!(", version {v} published as {a}"));
                }
                eprintln!(
                    "tollgate sam: function {} ({}) {what}",
                    f.logical_id, f.name
                );
            }
            Err(e) => {
                eprintln!("tollgate sam: function {} failed: {e}", f.logical_id);
                failed.push(f.logical_id.clone());
            }
        }
    }
    for a in &p.apis {
        let deployed = match deploy::api(client, a, &scope, &s.stack).await {
            Ok(id) => deploy::permissions(client, a, &id, &p.functions, &scope)
                .await
                .map(|()| id),
            Err(e) => Err(e),
        };
        match deployed {
            // A RestApi no Deployment or Stage names is created, not deployed.
            Ok(id) if a.stage.is_empty() => {
                println!("{} {}/_aws/execute-api/{id}/", a.logical_id, s.endpoint);
                scope
                    .resources
                    .insert(a.logical_id.clone(), BTreeMap::from([(String::new(), id)]));
            }
            Ok(id) => {
                let url = match (a.kind, a.stage.as_str()) {
                    (ApiKind::Http, "$default") => {
                        format!("{}/_aws/execute-api/{id}/$default/", s.endpoint)
                    }
                    (_, stage) => format!("{}/_aws/execute-api/{id}/{stage}/", s.endpoint),
                };
                println!("{} {url}", a.logical_id);
                scope
                    .resources
                    .insert(a.logical_id.clone(), BTreeMap::from([(String::new(), id)]));
            }
            // A definition naming what was skipped is skipped in turn.
            Err(DeployError::Definition(why)) => {
                eprintln!("tollgate sam: skipped {}: {why}", a.logical_id);
            }
            Err(e) => {
                eprintln!("tollgate sam: API {} failed: {e}", a.logical_id);
                failed.push(a.logical_id.clone());
            }
        }
    }
    for perm in &p.permissions {
        if let Err(why) = cloudformation::grant(client, perm, &scope).await {
            eprintln!("tollgate sam: permission {} failed: {why}", perm.logical_id);
            failed.push(perm.logical_id.clone());
        }
    }
    // What left the template leaves the gateway (only once everything else deployed).
    if failed.is_empty() {
        // The template's resources, and the implicit APIs its events make.
        let keep: BTreeSet<String> = (t.resources.iter())
            .filter(|(_, r)| plan::active(r, &scope) != Ok(false))
            .map(|(id, _)| id.clone())
            .chain(p.apis.iter().map(|a| a.logical_id.clone()))
            .collect();
        match prune::prune(client, &s.stack, &keep).await {
            Ok(deleted) => {
                for d in deleted {
                    eprintln!("tollgate sam: deleted {d} (no longer in the template)");
                }
            }
            Err(e) => failed.push(format!("deleting what left the template: {e}")),
        }
    }
    if failed.is_empty() {
        Ok(())
    } else {
        Err(CliError::Sam(format!(
            "not deployed: {}",
            failed.join(", ")
        )))
    }
}
