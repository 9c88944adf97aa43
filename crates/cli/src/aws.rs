//! `--aws-*`: where AWS service integrations send their calls and the credentials they
//! sign them with.

use tollgate_gateway::integrations::aws::config::AwsServices;
use tollgate_sigv4::endpoint::{AwsCredentials, Endpoint, Endpoints};

use crate::error::CliError;

#[derive(clap::Args)]
pub struct AwsArgs {
    /// An AWS-compatible endpoint (LocalStack, moto) that AWS service integrations send
    /// every service's calls to (default: each service's regional AWS endpoint).
    #[arg(long, env = "TOLLGATE_AWS_ENDPOINT")]
    pub aws_endpoint: Option<String>,
    /// `SERVICE=URL`: one service's endpoint (e.g. `s3=http://localhost:9000`), before
    /// --aws-endpoint; repeatable (env: comma-separated).
    #[arg(
        long = "aws-service-endpoint",
        env = "TOLLGATE_AWS_SERVICE_ENDPOINTS",
        value_delimiter = ','
    )]
    pub aws_service_endpoints: Vec<String>,
    /// Access key id AWS service integrations sign with.
    #[arg(long, env = "TOLLGATE_AWS_ACCESS_KEY_ID")]
    pub aws_access_key_id: Option<String>,
    /// Secret access key for --aws-access-key-id.
    #[arg(long, env = "TOLLGATE_AWS_SECRET_ACCESS_KEY", hide_env_values = true)]
    pub aws_secret_access_key: Option<String>,
    /// Session token for --aws-access-key-id (temporary credentials).
    #[arg(long, env = "TOLLGATE_AWS_SESSION_TOKEN", hide_env_values = true)]
    pub aws_session_token: Option<String>,
    /// Sign an integration's calls as its `credentials` role: temporary credentials from
    /// STS AssumeRole (called with the --aws-* credentials), cached until shortly before
    /// they expire. Without it the role is only recorded.
    #[arg(long, env = "TOLLGATE_AWS_ASSUME_ROLE")]
    pub aws_assume_role: bool,
    /// `ID_OR_ARN=host:port[,host:port...]`: where a VPC link's traffic goes (a link id or
    /// ARN, or one of a v1 link's target ARNs), before its `tollgate:target` tag;
    /// repeatable (env: separated by `;`).
    #[arg(
        long = "vpc-link-target",
        env = "TOLLGATE_VPC_LINK_TARGETS",
        value_delimiter = ';'
    )]
    pub vpc_link_targets: Vec<String>,
}

fn endpoint(flag: &str, url: &str) -> Result<Endpoint, CliError> {
    Endpoint::parse(url).map_err(|e| CliError::AwsEndpoint(format!("{flag}: {e}")))
}

impl AwsArgs {
    /// `--vpc-link-target` entries, checked.
    pub fn vpc_link_targets(&self) -> Result<Vec<(String, Vec<String>)>, CliError> {
        self.vpc_link_targets
            .iter()
            .map(|entry| {
                entry
                    .split_once('=')
                    .and_then(|(link, targets)| {
                        Some((
                            link.trim().to_string(),
                            tollgate_model::vpc_link::parse_targets(targets)?,
                        ))
                    })
                    .ok_or_else(|| {
                        CliError::AwsEndpoint(format!(
                            "--vpc-link-target takes ID_OR_ARN=host:port[,host:port...], not {entry}"
                        ))
                    })
            })
            .collect()
    }

    /// The control plane's front door: calls for services Tollgate does not serve go to
    /// their endpoint (`None` without any endpoint).
    pub fn front_door(
        &self,
        region: &str,
    ) -> Result<Option<tollgate_admin::core::front_door::FrontDoor>, CliError> {
        let services = self.services(region)?;
        Ok((!services.endpoints.is_empty()).then(|| {
            tollgate_admin::core::front_door::FrontDoor::new(
                services.endpoints,
                services.credentials,
            )
        }))
    }

    /// The gateway's view of the flags; `region` is `--region`.
    pub fn services(&self, region: &str) -> Result<AwsServices, CliError> {
        let credentials = match (&self.aws_access_key_id, &self.aws_secret_access_key) {
            (Some(id), Some(secret)) => Some(AwsCredentials {
                access_key_id: id.clone(),
                credential: tollgate_sigv4::Credential {
                    secret_access_key: secret.clone(),
                    session_token: self.aws_session_token.clone(),
                },
            }),
            (None, None) => None,
            _ => {
                return Err(CliError::AwsEndpoint(
                    "--aws-access-key-id and --aws-secret-access-key must be given together".into(),
                ))
            }
        };
        let mut service_endpoints = Vec::new();
        for entry in &self.aws_service_endpoints {
            let Some((service, url)) = entry.split_once('=') else {
                return Err(CliError::AwsEndpoint(format!(
                    "--aws-service-endpoint takes SERVICE=URL, not {entry}"
                )));
            };
            service_endpoints.push((
                service.trim().to_ascii_lowercase(),
                endpoint("--aws-service-endpoint", url.trim())?,
            ));
        }
        Ok(AwsServices {
            endpoints: Endpoints {
                default: self
                    .aws_endpoint
                    .as_deref()
                    .map(|u| endpoint("--aws-endpoint", u))
                    .transpose()?,
                per_service: service_endpoints,
            },
            credentials,
            region: region.to_string(),
            roles: self.aws_assume_role.then(Default::default),
        })
    }
}
