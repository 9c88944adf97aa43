//! The in-memory state: an immutable snapshot shared by `Arc`.

use std::collections::BTreeMap;
use std::sync::Arc;

use tollgate_model::domain::{ClientCertificate, DomainName, ImportedCertificate};
use tollgate_model::iam::{ManagedPolicy, Role, RoleSession, User};
use tollgate_model::lambda::Function;
use tollgate_model::portal::PortalConsumer;
use tollgate_model::v2;
use tollgate_model::vpc_link::{VpcLink, VpcLinkV2};
use tollgate_model::{
    Account, ApiKey, Deployment, DocumentationPart, DocumentationVersion, RestApiDefinition, Stage,
    UsagePlan,
};

/// One REST API with its deployments, stages and documentation. Documentation lives
/// beside the definition, not in it, so editing a part never changes what a deployment
/// froze (AWS versions documentation on its own, with DocumentationVersion).
#[derive(Debug, Clone)]
pub struct ApiState {
    pub definition: Arc<RestApiDefinition>,
    pub deployments: BTreeMap<String, Arc<Deployment>>,
    pub stages: BTreeMap<String, Arc<Stage>>,
    /// By part id.
    pub documentation_parts: BTreeMap<String, Arc<DocumentationPart>>,
    /// By version name.
    pub documentation_versions: BTreeMap<String, Arc<DocumentationVersion>>,
}

impl ApiState {
    pub fn new(definition: RestApiDefinition) -> Self {
        ApiState {
            definition: Arc::new(definition),
            deployments: BTreeMap::new(),
            stages: BTreeMap::new(),
            documentation_parts: BTreeMap::new(),
            documentation_versions: BTreeMap::new(),
        }
    }
}

/// One API Gateway v2 API (an HTTP API) with its deployments and stages.
#[derive(Debug, Clone)]
pub struct V2ApiState {
    pub definition: Arc<v2::Definition>,
    pub deployments: BTreeMap<String, Arc<v2::Deployment>>,
    pub stages: BTreeMap<String, Arc<v2::Stage>>,
}

impl V2ApiState {
    pub fn new(definition: v2::Definition) -> Self {
        V2ApiState {
            definition: Arc::new(definition),
            deployments: BTreeMap::new(),
            stages: BTreeMap::new(),
        }
    }
}

/// The account's IAM entities and the temporary credentials STS handed out.
#[derive(Debug, Clone, Default)]
pub struct IamState {
    /// By role name (IAM names are unique case-insensitively; the control plane checks).
    pub roles: BTreeMap<String, Arc<Role>>,
    /// Customer managed policies by ARN.
    pub policies: BTreeMap<String, Arc<ManagedPolicy>>,
    /// By user name.
    pub users: BTreeMap<String, Arc<User>>,
    /// AssumeRole's credentials by access key id, until a later write drops expired ones.
    pub sessions: BTreeMap<String, Arc<RoleSession>>,
}

impl IamState {
    /// The identity policy documents of a role or user with these policies: its inline
    /// ones, then the default version of each managed policy attached (customer or AWS
    /// managed; a vanished one is skipped).
    pub fn documents<'a>(
        &'a self,
        attached: &'a [String],
        inline: &'a BTreeMap<String, String>,
    ) -> impl Iterator<Item = &'a str> + 'a {
        let managed = attached
            .iter()
            .filter_map(|arn| match self.policies.get(arn) {
                Some(p) => p.default_document(),
                None => tollgate_model::iam::aws_managed(arn).map(|a| a.document),
            });
        inline.values().map(String::as_str).chain(managed)
    }

    /// The policies a role session acts with: its role's (none once the role is gone).
    pub fn session_documents<'a>(
        &'a self,
        session: &RoleSession,
    ) -> Box<dyn Iterator<Item = &'a str> + 'a> {
        match self.roles.get(&session.role_name) {
            Some(r) => Box::new(self.documents(&r.attached_policies, &r.inline_policies)),
            None => Box::new(std::iter::empty()),
        }
    }
}

/// The whole control-plane state at one instant.
/// Custom domain names (v1 and v2 alike, with their mappings), ACM's imported
/// certificates, API Gateway's client certificates and VPC links.
#[derive(Debug, Clone, Default)]
pub struct DomainsState {
    /// By domain name (lower case).
    pub domain_names: BTreeMap<String, Arc<DomainName>>,
    /// By certificate ARN.
    pub certificates: BTreeMap<String, Arc<ImportedCertificate>>,
    /// By client certificate id.
    pub client_certificates: BTreeMap<String, Arc<ClientCertificate>>,
    /// v1 VPC links by id (the edge's private side, beside its certificates).
    pub vpc_links: BTreeMap<String, Arc<VpcLink>>,
    /// v2 VPC links by id.
    pub vpc_links_v2: BTreeMap<String, Arc<VpcLinkV2>>,
}

#[derive(Debug, Clone, Default)]
pub struct State {
    pub apis: BTreeMap<String, Arc<ApiState>>,
    /// API Gateway v2 APIs by id (ids are unique across `apis` and `v2_apis`: both are
    /// served at `{apiId}.execute-api.*`).
    pub v2_apis: BTreeMap<String, Arc<V2ApiState>>,
    /// Behind one more `Arc` so the data plane can tell cheaply whether keys or plans changed.
    pub api_keys: Arc<BTreeMap<String, Arc<ApiKey>>>,
    pub usage_plans: Arc<BTreeMap<String, Arc<UsagePlan>>>,
    pub account: Arc<Account>,
    /// Lambda functions by name.
    pub functions: Arc<BTreeMap<String, Arc<Function>>>,
    /// IAM's roles, policies and users, and STS's sessions (behind one `Arc`, so the data
    /// plane recompiles its IAM callers only when it changed).
    pub iam: Arc<IamState>,
    pub domains: Arc<DomainsState>,
    /// The developer portal's consumers by email.
    pub portal_consumers: Arc<BTreeMap<String, Arc<PortalConsumer>>>,
    /// The committed version this state is (persisted: it survives restarts and is shared by
    /// every node of one database).
    pub version: u64,
}

impl State {
    /// Whether any API, REST or v2, has this id.
    pub fn api_id_taken(&self, id: &str) -> bool {
        self.apis.contains_key(id) || self.v2_apis.contains_key(id)
    }

    /// The creation sequence of a REST API created now: after every API's (numbers of
    /// deleted ones may be used again, they are no one's any more).
    pub fn next_api_sequence(&self) -> u64 {
        self.apis
            .values()
            .filter_map(|a| a.definition.created_sequence)
            .max()
            .map_or(1, |n| n + 1)
    }
}
