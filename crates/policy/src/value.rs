//! The values condition operators compare: IP addresses against CIDR blocks, numbers, and
//! dates (ISO 8601 or seconds since the epoch, as IAM accepts both).

use std::net::IpAddr;

use tollgate_model::time::{days_from_civil, days_in_month};

/// Whether `ip` lies in `cidr` (`10.0.0.0/8`, `2001:db8::/32`, or a bare address).
pub fn ip_in(ip: &str, cidr: &str) -> bool {
    let Ok(ip) = ip.parse::<IpAddr>() else {
        return false;
    };
    let (net, bits) = match cidr.split_once('/') {
        Some((n, b)) => match b.parse::<u32>() {
            Ok(b) => (n, Some(b)),
            Err(_) => return false,
        },
        None => (cidr, None),
    };
    let Ok(net) = net.parse::<IpAddr>() else {
        return false;
    };
    let (a, b, width) = match (ip, net) {
        (IpAddr::V4(a), IpAddr::V4(b)) => (u32::from(a) as u128, u32::from(b) as u128, 32),
        (IpAddr::V6(a), IpAddr::V6(b)) => (u128::from(a), u128::from(b), 128),
        (IpAddr::V6(a), IpAddr::V4(b)) => match a.to_ipv4_mapped() {
            Some(a) => (u32::from(a) as u128, u32::from(b) as u128, 32),
            None => return false,
        },
        _ => return false,
    };
    let bits = bits.unwrap_or(width);
    if bits > width {
        return false;
    }
    if bits == 0 {
        return true;
    }
    let shift = width - bits;
    (a >> shift) == (b >> shift)
}

/// A number as `Numeric...` operators read it (integer or decimal).
pub fn parse_number(s: &str) -> Option<f64> {
    let s = s.trim();
    if s.is_empty() || !s.bytes().all(|b| b.is_ascii_digit() || b"+-.".contains(&b)) {
        return None;
    }
    s.parse::<f64>().ok().filter(|n| n.is_finite())
}

/// A date as `Date...` operators read it, in milliseconds since the epoch: seconds since
/// the epoch (`1764979200`), or ISO 8601: `2026-12-06`, `2026-12-06T02:30Z`,
/// `2026-12-06T02:30:00.123Z`, `2026-12-06T03:30:00+01:00` (no zone: UTC).
pub fn parse_date(s: &str) -> Option<i64> {
    let s = s.trim();
    if !s.is_empty() && s.bytes().all(|b| b.is_ascii_digit()) {
        return s.parse::<i64>().ok()?.checked_mul(1000);
    }
    let (date, time) = match s.split_once('T') {
        Some((d, t)) => (d, Some(t)),
        None => (s, None),
    };
    let mut d = date.splitn(3, '-');
    let year: i64 = digits(d.next()?, 4)?;
    let month = u32::try_from(digits(d.next()?, 2)?).ok()?;
    let day = u32::try_from(digits(d.next()?, 2)?).ok()?;
    if !(1..=12).contains(&month) || !(1..=days_in_month(year, month)).contains(&day) {
        return None;
    }
    let mut millis = days_from_civil(year, month, day) * 86_400_000;
    if let Some(t) = time {
        millis += time_of_day(t)?;
    }
    Some(millis)
}

/// `hh:mm[:ss[.fff]]` then `Z`, `±hh:mm`, `±hhmm` or nothing, as milliseconds after
/// midnight UTC (negative or past a day when the offset says so).
fn time_of_day(t: &str) -> Option<i64> {
    let (clock, offset) = match t.find(['Z', 'z', '+', '-']) {
        Some(i) => (&t[..i], &t[i..]),
        None => (t, ""),
    };
    let mut c = clock.splitn(3, ':');
    let h = digits(c.next()?, 2)?;
    let m = digits(c.next()?, 2)?;
    let (s, frac) = match c.next() {
        Some(sec) => match sec.split_once('.') {
            Some((s, f)) if !f.is_empty() && f.bytes().all(|b| b.is_ascii_digit()) => {
                let ms = format!("{f:0<3}")[..3].parse::<i64>().ok()?;
                (digits(s, 2)?, ms)
            }
            Some(_) => return None,
            None => (digits(sec, 2)?, 0),
        },
        None => (0, 0),
    };
    if h > 23 || m > 59 || s > 60 {
        return None;
    }
    let offset = match offset {
        "" | "Z" | "z" => 0,
        o => {
            let sign = if o.starts_with('-') { -1 } else { 1 };
            let o = o[1..].replace(':', "");
            // Digits only before slicing: a multi-byte character would split mid-char.
            if o.len() != 4 || !o.bytes().all(|b| b.is_ascii_digit()) {
                return None;
            }
            sign * (digits(&o[..2], 2)? * 60 + digits(&o[2..], 2)?)
        }
    };
    Some(((h * 60 + m - offset) * 60 + s) * 1000 + frac)
}

/// Exactly `n` ASCII digits.
fn digits(s: &str, n: usize) -> Option<i64> {
    (s.len() == n && s.bytes().all(|b| b.is_ascii_digit()))
        .then(|| s.parse().ok())
        .flatten()
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn dates_in_every_accepted_form() {
        let day = 1_796_515_200_000; // 2026-12-06T00:00:00Z
        assert_eq!(parse_date("2026-12-06"), Some(day));
        assert_eq!(parse_date("2026-12-06T00:00:00Z"), Some(day));
        assert_eq!(parse_date("1796515200"), Some(day));
        assert_eq!(parse_date("2026-12-06T02:30Z"), Some(day + 9_000_000));
        assert_eq!(
            parse_date("2026-12-06T03:30:00+01:00"),
            Some(day + 9_000_000)
        );
        assert_eq!(parse_date("2026-12-06T02:30:00.5Z"), Some(day + 9_000_500));
        assert_eq!(parse_date("1970-01-01T00:00:00Z"), Some(0));
        // Non-ASCII where the offset's digits belong is refused, never sliced mid-char.
        assert_eq!(parse_date("2026-12-06T00:00+1\u{e9}1"), None);
        assert_eq!(parse_date("2026-12-06T00:00+\u{e9}\u{e9}"), None);
        for bad in [
            "",
            "2026-13-01",
            "2026-02-29",
            "26-12-06",
            "2026-12-06T25:00Z",
            "soon",
        ] {
            assert_eq!(parse_date(bad), None, "{bad}");
        }
        assert_eq!(parse_number("1.5"), Some(1.5));
        assert_eq!(parse_number("-3"), Some(-3.0));
        assert_eq!(parse_number("NaN"), None);
        assert_eq!(parse_number("inf"), None);
    }

    proptest! {
        /// The ISO form and the epoch form of any instant (whole seconds) read the same.
        #[test]
        fn iso_and_epoch_agree(secs in 0i64..8_000_000_000) {
            let iso = tollgate_model::time::iso8601(secs);
            prop_assert_eq!(parse_date(&iso), Some(secs * 1000));
            prop_assert_eq!(parse_date(&secs.to_string()), Some(secs * 1000));
        }

        /// Any text: a date or not, never a panic (policies come from clients).
        #[test]
        fn any_text_parses_without_panicking(s in "\\PC{0,40}", tail in "\\PC{0,8}") {
            let _ = parse_date(&s);
            let _ = parse_date(&format!("2026-12-06T00:00+{tail}"));
            let _ = parse_date(&format!("2026-12-06T{s}"));
        }

        /// Every address is in its own /32 (or /128) and in /0.
        #[test]
        fn addresses_are_in_their_own_networks(a in any::<u32>(), b in any::<u128>()) {
            let v4 = std::net::Ipv4Addr::from(a).to_string();
            let net4 = format!("{v4}/32");
            prop_assert!(ip_in(&v4, &net4));
            prop_assert!(ip_in(&v4, "0.0.0.0/0"));
            let v6 = std::net::Ipv6Addr::from(b).to_string();
            let net6 = format!("{v6}/128");
            prop_assert!(ip_in(&v6, &net6));
            prop_assert!(!ip_in(&v6, "not-an-ip/8"));
        }
    }
}
