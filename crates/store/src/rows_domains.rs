//! Custom domains and certificates as rows, one per entity:
//!
//! | kind | key | body |
//! |---|---|---|
//! | `domainname` | domain name | the domain with its API mappings |
//! | `acmcertificate` | certificate ARN | ACM's imported certificate, key included |
//! | `clientcertificate` | client certificate id | the certificate, key included |
//! | `vpclink` | v1 VPC link id | the link |
//! | `vpclinkv2` | v2 VPC link id | the link |

use std::sync::Arc;

use crate::backend::{Row, RowOp};
use crate::error::StoreError;
use crate::row_ops::{diff_arcs, parse};
use crate::state::DomainsState;

pub const KIND_DOMAIN_NAME: &str = "domainname";
pub const KIND_ACM_CERTIFICATE: &str = "acmcertificate";
pub const KIND_CLIENT_CERTIFICATE: &str = "clientcertificate";

pub const KIND_VPC_LINK: &str = "vpclink";
pub const KIND_VPC_LINK_V2: &str = "vpclinkv2";

pub const KINDS: [&str; 5] = [
    KIND_DOMAIN_NAME,
    KIND_ACM_CERTIFICATE,
    KIND_CLIENT_CERTIFICATE,
    KIND_VPC_LINK,
    KIND_VPC_LINK_V2,
];

/// The row operations that turn `old` into `new` (entities compared by `Arc` identity).
pub(crate) fn diff(
    ops: &mut Vec<RowOp>,
    old: &Arc<DomainsState>,
    new: &Arc<DomainsState>,
) -> Result<(), StoreError> {
    if Arc::ptr_eq(old, new) {
        return Ok(());
    }
    diff_arcs(
        ops,
        KIND_DOMAIN_NAME,
        "",
        Some(&old.domain_names),
        &new.domain_names,
    )?;
    diff_arcs(
        ops,
        KIND_ACM_CERTIFICATE,
        "",
        Some(&old.certificates),
        &new.certificates,
    )?;
    diff_arcs(
        ops,
        KIND_CLIENT_CERTIFICATE,
        "",
        Some(&old.client_certificates),
        &new.client_certificates,
    )?;
    diff_arcs(ops, KIND_VPC_LINK, "", Some(&old.vpc_links), &new.vpc_links)?;
    diff_arcs(
        ops,
        KIND_VPC_LINK_V2,
        "",
        Some(&old.vpc_links_v2),
        &new.vpc_links_v2,
    )
}

/// The domains' state of `rows` (all of these kinds).
pub(crate) fn decode(rows: Vec<Row>) -> Result<DomainsState, StoreError> {
    let mut out = DomainsState::default();
    for Row { kind, key, body } in rows {
        match kind.as_str() {
            KIND_DOMAIN_NAME => {
                let d = Arc::new(parse(&kind, &key, &body)?);
                out.domain_names.insert(key, d);
            }
            KIND_ACM_CERTIFICATE => {
                let c = Arc::new(parse(&kind, &key, &body)?);
                out.certificates.insert(key, c);
            }
            KIND_CLIENT_CERTIFICATE => {
                let c = Arc::new(parse(&kind, &key, &body)?);
                out.client_certificates.insert(key, c);
            }
            KIND_VPC_LINK => {
                let l = Arc::new(parse(&kind, &key, &body)?);
                out.vpc_links.insert(key, l);
            }
            KIND_VPC_LINK_V2 => {
                let l = Arc::new(parse(&kind, &key, &body)?);
                out.vpc_links_v2.insert(key, l);
            }
            _ => {}
        }
    }
    Ok(out)
}
