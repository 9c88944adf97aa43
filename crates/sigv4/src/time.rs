//! Request timestamps: `X-Amz-Date` (basic ISO 8601), RFC 1123 `Date`, and the
//! wording of expiry windows in messages.

use std::time::{Duration, SystemTime, UNIX_EPOCH};

use tollgate_model::time::{civil_from_days, days_from_civil, days_in_month};

/// Parses an `X-Amz-Date` timestamp (`yyyyMMdd'T'HHmmss'Z'`, UTC).
pub fn parse_amz_date(s: &str) -> Option<SystemTime> {
    let secs = parse_basic_timestamp(s)?;
    if secs >= 0 {
        UNIX_EPOCH.checked_add(Duration::from_secs(secs.unsigned_abs()))
    } else {
        UNIX_EPOCH.checked_sub(Duration::from_secs(secs.unsigned_abs()))
    }
}

/// Formats a time as an `X-Amz-Date` timestamp (`yyyyMMdd'T'HHmmss'Z'`, UTC),
/// truncated to whole seconds.
pub fn format_amz_date(t: SystemTime) -> String {
    format_secs(epoch_secs(t))
}

/// "5 min." / "300 sec." as in AWS's expiry messages.
pub(crate) fn describe_window(secs: i64) -> String {
    if secs % 60 == 0 {
        format!("{} min", secs / 60)
    } else {
        format!("{secs} sec")
    }
}

/// Seconds since the Unix epoch, floored, saturating at the i64 range.
pub(crate) fn epoch_secs(t: SystemTime) -> i64 {
    match t.duration_since(UNIX_EPOCH) {
        Ok(d) => i64::try_from(d.as_secs()).unwrap_or(i64::MAX),
        Err(e) => {
            let d = e.duration();
            let whole = i64::try_from(d.as_secs()).unwrap_or(i64::MAX);
            (-whole).saturating_sub(i64::from(d.subsec_nanos() > 0))
        }
    }
}

/// Seconds since the epoch of a validated UTC date and time.
fn civil_to_secs(fields: [i64; 6]) -> Option<i64> {
    let [year, month, day, hour, minute, second] = fields;
    let (month, day) = (u32::try_from(month).ok()?, u32::try_from(day).ok()?);
    let valid = (1..=12).contains(&month)
        && (1..=days_in_month(year, month)).contains(&day)
        && (0..24).contains(&hour)
        && (0..60).contains(&minute)
        && (0..60).contains(&second);
    valid.then(|| days_from_civil(year, month, day) * 86_400 + hour * 3600 + minute * 60 + second)
}

fn digits(s: &[u8]) -> Option<i64> {
    if s.is_empty() || !s.iter().all(u8::is_ascii_digit) {
        return None;
    }
    Some(s.iter().fold(0, |n, d| n * 10 + i64::from(d - b'0')))
}

/// `yyyyMMdd'T'HHmmss'Z'` → seconds since the epoch.
pub(crate) fn parse_basic_timestamp(s: &str) -> Option<i64> {
    let b = s.as_bytes();
    if b.len() != 16 || b[8] != b'T' || b[15] != b'Z' {
        return None;
    }
    civil_to_secs([
        digits(&b[0..4])?,
        digits(&b[4..6])?,
        digits(&b[6..8])?,
        digits(&b[9..11])?,
        digits(&b[11..13])?,
        digits(&b[13..15])?,
    ])
}

/// RFC 1123 (`Sun, 06 Nov 1994 08:49:37 GMT`) → seconds since the epoch.
/// The weekday is not cross-checked.
pub(crate) fn parse_http_date(s: &str) -> Option<i64> {
    let fields: Vec<&str> = s.split_ascii_whitespace().collect();
    let [weekday, day, month, year, time, "GMT"] = fields[..] else {
        return None;
    };
    if weekday.len() != 4 || !weekday.ends_with(',') || day.len() > 2 || year.len() != 4 {
        return None;
    }
    const MONTHS: [&str; 12] = [
        "Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec",
    ];
    let month = MONTHS.iter().position(|m| *m == month)? as i64 + 1;
    let t = time.as_bytes();
    if t.len() != 8 || t[2] != b':' || t[5] != b':' {
        return None;
    }
    civil_to_secs([
        digits(year.as_bytes())?,
        month,
        digits(day.as_bytes())?,
        digits(&t[0..2])?,
        digits(&t[3..5])?,
        digits(&t[6..8])?,
    ])
}

/// Seconds since the epoch → `yyyyMMdd'T'HHmmss'Z'`.
pub(crate) fn format_secs(secs: i64) -> String {
    let (year, month, day) = civil_from_days(secs.div_euclid(86_400));
    let rem = secs.rem_euclid(86_400);
    format!(
        "{year:04}{month:02}{day:02}T{:02}{:02}{:02}Z",
        rem / 3600,
        rem % 3600 / 60,
        rem % 60
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn timestamps() {
        assert_eq!(parse_basic_timestamp("19700101T000000Z"), Some(0));
        assert_eq!(
            parse_basic_timestamp("20240229T235959Z"),
            Some(1_709_251_199)
        );
        assert_eq!(format_secs(1_709_251_199), "20240229T235959Z");
        assert_eq!(format_secs(-1), "19691231T235959Z");
        for bad in [
            "20230229T000000Z",
            "20241301T000000Z",
            "20240100T000000Z",
            "20240101T240000Z",
            "20240101T006000Z",
            "20240101T000060Z",
            "20240101 000000Z",
            "20240101T000000",
            "2024-1-01T00000Z",
            "+2024101T000000Z",
            "２0240101T000000Z",
            "",
        ] {
            assert_eq!(parse_basic_timestamp(bad), None, "{bad}");
        }
        assert_eq!(
            parse_http_date("Sun, 22 Nov 2026 02:52:50 GMT"),
            parse_basic_timestamp("20261122T025250Z")
        );
        assert_eq!(parse_http_date("Sun, 22 Nov 2026 02:52:50 UTC"), None);
        assert_eq!(parse_http_date("Sun, 31 Nov 2026 02:52:50 GMT"), None);
        // Extreme clocks must not overflow.
        let _ = format_secs(i64::MAX);
        let _ = format_secs(i64::MIN);
        let t = parse_amz_date("20261122T025250Z").unwrap();
        assert_eq!(format_amz_date(t), "20261122T025250Z");
        assert_eq!(
            format_amz_date(UNIX_EPOCH - Duration::from_millis(1)),
            "19691231T235959Z"
        );
    }
}
