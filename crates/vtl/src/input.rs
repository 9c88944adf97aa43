//! The request data a render reads.

/// Request data a template can see through `$input` and `$stageVariables`.
/// Parameter lists keep request order; lookups take the last value of a name.
#[derive(Debug, Clone, Copy, Default)]
pub struct Input<'a> {
    /// Payload as text (binary payloads already converted, e.g. to base64).
    pub body: &'a str,
    pub path: &'a [(String, String)],
    pub querystring: &'a [(String, String)],
    pub header: &'a [(String, String)],
    pub stage_variables: &'a [(String, String)],
}
