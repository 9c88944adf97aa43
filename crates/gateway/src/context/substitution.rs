//! Substitution templates (access-log formats, gateway response templates): literals and
//! `$context.x` / `$stageVariables.x` references, split once when compiled.

/// A `$context` reference found in a template, for templates compiled once per deployment.
#[derive(Debug, Clone, PartialEq)]
pub enum Piece {
    Literal(String),
    Context(String),
    StageVariable(String),
}

/// Splits a simple substitution template into literals and `$context.x` / `$stageVariables.x`
/// references (also `${context.x}` forms). Used for access-log formats and gateway
/// response templates, which AWS renders by substitution, not full VTL.
pub fn compile_substitution(template: &str) -> Vec<Piece> {
    let mut out = Vec::new();
    let mut lit = String::new();
    let bytes = template.as_bytes();
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'$' {
            let (braced, start) = if bytes.get(i + 1) == Some(&b'{') {
                (true, i + 2)
            } else {
                (false, i + 1)
            };
            let rest = &template[start..];
            let kind = if rest.starts_with("context.") {
                Some(("context.".len(), true))
            } else if rest.starts_with("stageVariables.") {
                Some(("stageVariables.".len(), false))
            } else {
                None
            };
            if let Some((plen, is_ctx)) = kind {
                let name_start = start + plen;
                let mut j = name_start;
                while j < bytes.len()
                    && (bytes[j].is_ascii_alphanumeric()
                        || bytes[j] == b'_'
                        || (is_ctx && bytes[j] == b'.'))
                {
                    j += 1;
                }
                // A trailing dot belongs to the text, not the name.
                while j > name_start && bytes[j - 1] == b'.' {
                    j -= 1;
                }
                let closed = !braced || bytes.get(j) == Some(&b'}');
                if j > name_start && closed {
                    if !lit.is_empty() {
                        out.push(Piece::Literal(std::mem::take(&mut lit)));
                    }
                    let name = template[name_start..j].to_string();
                    out.push(if is_ctx {
                        Piece::Context(name)
                    } else {
                        Piece::StageVariable(name)
                    });
                    i = if braced { j + 1 } else { j };
                    continue;
                }
            }
        }
        let ch_len = template[i..].chars().next().map_or(1, char::len_utf8);
        lit.push_str(&template[i..i + ch_len]);
        i += ch_len;
    }
    if !lit.is_empty() {
        out.push(Piece::Literal(lit));
    }
    out
}
