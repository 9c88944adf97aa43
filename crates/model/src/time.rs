//! Clock helpers and the date formats AWS uses, without a date-time dependency.

use std::time::{SystemTime, UNIX_EPOCH};

/// Seconds since the Unix epoch (v1 control-plane timestamps are epoch seconds).
pub fn now_epoch() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_secs() as i64)
        .unwrap_or(0)
}

/// Milliseconds since the Unix epoch (`$context.requestTimeEpoch`).
pub fn now_epoch_millis() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_millis() as i64)
        .unwrap_or(0)
}

/// Calendar date of a day count since 1970-01-01 (Howard Hinnant's civil_from_days).
pub fn civil_from_days(days: i64) -> (i64, u32, u32) {
    let z = days + 719_468;
    let era = if z >= 0 { z } else { z - 146_096 } / 146_097;
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let y = yoe + era * 400;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = (doy - (153 * mp + 2) / 5 + 1) as u32;
    let m = if mp < 10 { mp + 3 } else { mp - 9 } as u32;
    (if m <= 2 { y + 1 } else { y }, m, d)
}

/// Days since 1970-01-01 of a calendar date.
pub fn days_from_civil(y: i64, m: u32, d: u32) -> i64 {
    let y = if m <= 2 { y - 1 } else { y };
    let era = if y >= 0 { y } else { y - 399 } / 400;
    let yoe = y - era * 400;
    let m = m as i64;
    let doy = (153 * (if m > 2 { m - 3 } else { m + 9 }) + 2) / 5 + d as i64 - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
}

/// Days in a month of the proleptic Gregorian calendar.
pub fn days_in_month(year: i64, month: u32) -> u32 {
    let leap = year % 4 == 0 && (year % 100 != 0 || year % 400 == 0);
    match month {
        2 if leap => 29,
        2 => 28,
        4 | 6 | 9 | 11 => 30,
        _ => 31,
    }
}

const MONTHS: [&str; 12] = [
    "Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec",
];

/// `$context.requestTime`: CLF format, e.g. `22/Nov/2026:04:38:00 +0000`. Written digit by
/// digit: access logs read it for every request, and `format!` costs several times more.
pub fn clf_time(epoch_millis: i64) -> String {
    let secs = epoch_millis.div_euclid(1000);
    let (y, m, d) = civil_from_days(secs.div_euclid(86_400));
    let rem = secs.rem_euclid(86_400);
    let two = |out: &mut String, v: i64| {
        out.push((b'0' + (v / 10 % 10) as u8) as char);
        out.push((b'0' + (v % 10) as u8) as char);
    };
    let mut out = String::with_capacity(26);
    two(&mut out, i64::from(d));
    out.push('/');
    out.push_str(MONTHS[(m - 1) as usize]);
    out.push('/');
    if (1000..=9999).contains(&y) {
        two(&mut out, y / 100);
        two(&mut out, y % 100);
    } else {
        out.push_str(&y.to_string());
    }
    out.push(':');
    two(&mut out, rem / 3600);
    out.push(':');
    two(&mut out, (rem % 3600) / 60);
    out.push(':');
    two(&mut out, rem % 60);
    out.push_str(" +0000");
    out
}

/// Java's `Date.toString()` in UTC, as TestInvokeMethod's log lines start:
/// `Mon Sep 29 19:28:50 UTC 2025`.
pub fn java_date(epoch_millis: i64) -> String {
    const DAYS: [&str; 7] = ["Thu", "Fri", "Sat", "Sun", "Mon", "Tue", "Wed"];
    let secs = epoch_millis.div_euclid(1000);
    let days = secs.div_euclid(86_400);
    let (y, m, d) = civil_from_days(days);
    let rem = secs.rem_euclid(86_400);
    format!(
        "{} {} {:02} {:02}:{:02}:{:02} UTC {}",
        DAYS[days.rem_euclid(7) as usize],
        MONTHS[(m - 1) as usize],
        d,
        rem / 3600,
        (rem % 3600) / 60,
        rem % 60,
        y
    )
}

/// API Gateway v2's timestamps: ISO-8601 in UTC to the second, `2024-01-02T03:04:05Z`.
pub fn iso8601(epoch_secs: i64) -> String {
    let (y, m, d) = civil_from_days(epoch_secs.div_euclid(86_400));
    let s = epoch_secs.rem_euclid(86_400);
    format!(
        "{y:04}-{m:02}-{d:02}T{:02}:{:02}:{:02}Z",
        s / 3600,
        s % 3600 / 60,
        s % 60
    )
}

/// Now, as [`iso8601`].
pub fn now_iso8601() -> String {
    iso8601(now_epoch())
}

/// Parses `YYYY-MM-DD` into days since the epoch.
pub fn parse_ymd(s: &str) -> Option<i64> {
    let mut it = s.split('-');
    let y: i64 = it.next()?.parse().ok()?;
    let m: u32 = it.next()?.parse().ok()?;
    let d: u32 = it.next()?.parse().ok()?;
    if it.next().is_some() || !(1..=12).contains(&m) || !(1..=31).contains(&d) {
        return None;
    }
    let days = days_from_civil(y, m, d);
    (civil_from_days(days) == (y, m, d)).then_some(days)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn civil_round_trip() {
        for days in (-800_000..800_000).step_by(37) {
            let (y, m, d) = civil_from_days(days);
            assert!((1..=12).contains(&m) && (1..=days_in_month(y, m)).contains(&d));
            assert_eq!(days_from_civil(y, m, d), days);
        }
        assert_eq!(civil_from_days(0), (1970, 1, 1));
        assert_eq!(days_from_civil(2000, 3, 1), 11_017);
        assert_eq!(civil_from_days(20_414), (2025, 11, 22));
    }

    #[test]
    fn clf() {
        assert_eq!(clf_time(1_763_786_280_000), "22/Nov/2025:04:38:00 +0000");
        assert_eq!(clf_time(0), "01/Jan/1970:00:00:00 +0000");
        // Every field at every width, against the plain formatting of the same fields.
        for secs in (0..4_102_444_800i64).step_by(86_400 * 37 + 3_671) {
            let (y, m, d) = civil_from_days(secs.div_euclid(86_400));
            let rem = secs.rem_euclid(86_400);
            let month = MONTHS[(m - 1) as usize];
            let (h, min, sec) = (rem / 3600, rem % 3600 / 60, rem % 60);
            let expected = format!("{d:02}/{month}/{y}:{h:02}:{min:02}:{sec:02} +0000");
            assert_eq!(clf_time(secs * 1000 + 999), expected);
        }
    }

    #[test]
    fn iso() {
        assert_eq!(iso8601(1_763_786_280), "2025-11-22T04:38:00Z");
        assert_eq!(iso8601(0), "1970-01-01T00:00:00Z");
    }

    #[test]
    fn ymd() {
        assert_eq!(parse_ymd("1970-01-02"), Some(1));
        assert_eq!(parse_ymd("2024-02-30"), None);
        assert_eq!(parse_ymd("2024-13-01"), None);
        assert_eq!(parse_ymd("x"), None);
    }
}
