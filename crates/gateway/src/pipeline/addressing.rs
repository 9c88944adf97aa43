//! Addressing within a REST API: the stage is the first segment of the stage path (the
//! edge found the API through [`crate::frontend`]).

/// Splits `/{stage}/rest` into the stage name and the routing path (`/rest`). Extra leading
/// slashes before the stage are tolerated, as AWS does.
pub fn split_stage(stage_path: &str) -> Option<(&str, &str)> {
    let p = stage_path.trim_start_matches('/');
    let end = p.find(['/', '?']).unwrap_or(p.len());
    let stage = &p[..end];
    if stage.is_empty() {
        return None;
    }
    let rest = &p[end..];
    Some((stage, if rest.is_empty() { "/" } else { rest }))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn stages() {
        assert_eq!(split_stage("/dev/pets/1"), Some(("dev", "/pets/1")));
        assert_eq!(split_stage("//dev/pets"), Some(("dev", "/pets")));
        assert_eq!(split_stage("/dev"), Some(("dev", "/")));
        assert_eq!(split_stage("/dev/"), Some(("dev", "/")));
        assert_eq!(split_stage("/"), None);
        assert_eq!(split_stage(""), None);
    }
}
