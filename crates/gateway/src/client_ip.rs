//! The caller's address as API Gateway writes it (`$context.identity.sourceIp`,
//! `X-Forwarded-For`, the proxy events' `sourceIp`).

/// An address as `$context.identity.sourceIp` shows it; IPv4 (the common case) without the
/// `Display` machinery.
pub fn ip_string(ip: std::net::IpAddr) -> String {
    let mut out = Vec::with_capacity(15);
    push_ip(&mut out, ip);
    String::from_utf8(out).expect("an address's text is ASCII")
}

/// Appends [`ip_string`]'s text to `out` (an IPv4 address with no allocation).
pub fn push_ip(out: &mut Vec<u8>, ip: std::net::IpAddr) {
    match ip {
        std::net::IpAddr::V4(v4) => push_v4(out, v4),
        v6 => out.extend_from_slice(v6.to_string().as_bytes()),
    }
}

fn push_v4(out: &mut Vec<u8>, v4: std::net::Ipv4Addr) {
    for (i, octet) in v4.octets().into_iter().enumerate() {
        if i > 0 {
            out.push(b'.');
        }
        if octet >= 100 {
            out.push(b'0' + octet / 100);
        }
        if octet >= 10 {
            out.push(b'0' + octet / 10 % 10);
        }
        out.push(b'0' + octet % 10);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ip_strings_match_display() {
        for ip in [
            "0.0.0.0",
            "127.0.0.1",
            "10.20.100.255",
            "192.168.9.99",
            "::1",
            "2001:db8::7",
        ] {
            let ip: std::net::IpAddr = ip.parse().unwrap();
            assert_eq!(ip_string(ip), ip.to_string());
        }
    }
}
