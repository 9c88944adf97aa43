//! The method ARN a request is authorized against,
//! `arn:aws:execute-api:{region}:{account}:{api}/{stage}/{METHOD}/{path}`, formatted only
//! when something reads it whole: a repeated caller answered by the per-thread front cache
//! (`front.rs`) never does.

use std::sync::OnceLock;

pub struct MethodArn<'r> {
    region: &'r str,
    api: &'r str,
    stage: &'r str,
    /// The HTTP method, as in the ARN (`GET`).
    pub method: &'r str,
    /// The path as requested, without its leading `/` (root: empty).
    pub path: &'r str,
    whole: OnceLock<String>,
}

impl<'r> MethodArn<'r> {
    pub fn new(
        region: &'r str,
        api: &'r str,
        stage: &'r str,
        method: &'r str,
        path: &'r str,
    ) -> Self {
        MethodArn {
            region,
            api,
            stage,
            method,
            path: path.trim_start_matches('/'),
            whole: OnceLock::new(),
        }
    }

    /// An ARN the caller formatted, for a route that is no method and path (a WebSocket
    /// API's `{api}/{stage}/$connect`); `route` stands for the method in the front cache.
    pub fn formatted(arn: String, route: &'r str) -> Self {
        MethodArn {
            region: "",
            api: "",
            stage: "",
            method: route,
            path: "",
            whole: OnceLock::from(arn),
        }
    }

    pub fn as_str(&self) -> &str {
        self.whole.get_or_init(|| {
            format!(
                "arn:aws:execute-api:{}:{}:{}/{}/{}/{}",
                self.region,
                tollgate_model::ACCOUNT_ID,
                self.api,
                self.stage,
                self.method,
                self.path
            )
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn formats_aws_method_arns() {
        let a = MethodArn::new("us-east-1", "abc123", "dev", "GET", "/pets/7");
        assert_eq!(
            a.as_str(),
            "arn:aws:execute-api:us-east-1:000000000000:abc123/dev/GET/pets/7"
        );
        let root = MethodArn::new("eu-west-1", "abc123", "dev", "POST", "/");
        assert_eq!(
            root.as_str(),
            "arn:aws:execute-api:eu-west-1:000000000000:abc123/dev/POST/"
        );
    }
}
