//! A key's usage page: GetUsage's figures for the last days, as text (used and remaining
//! per day against the quota, the plan's throttle) and as an SVG bar chart.

use std::fmt::Write;

use http::Method;
use serde_json::Value;
use tollgate_model::time::{civil_from_days, now_epoch};
use tollgate_model::UsagePlan;

use crate::catalogue::limits;
use crate::context::Portal;
use crate::keys::call;
use crate::page::esc;

/// Days shown, today included.
const DAYS: i64 = 7;

fn ymd(day: i64) -> String {
    let (y, m, d) = civil_from_days(day);
    format!("{y:04}-{m:02}-{d:02}")
}

/// The page's body for key `key_id` in `plan`, or the control plane's refusal.
pub async fn body(portal: &Portal, plan: &UsagePlan, key_id: &str) -> Result<String, String> {
    let today = now_epoch().div_euclid(86_400);
    let first = today - (DAYS - 1);
    let query = format!(
        "startDate={}&endDate={}&keyId={}",
        ymd(first),
        ymd(today),
        key_id
    );
    let path = format!("/usageplans/{}/usage", plan.id);
    let (status, usage) = call(portal, Method::GET, &path, Some(&query), None).await;
    if status != 200 {
        let m = usage["message"].as_str().unwrap_or("failed");
        return Err(format!("GetUsage answered {status}: {m}"));
    }
    let days: Vec<(String, i64, Option<i64>)> = usage["values"][key_id]
        .as_array()
        .map(|a| a.as_slice())
        .unwrap_or_default()
        .iter()
        .zip(first..)
        .map(|(v, day)| (ymd(day), figure(&v[0]).unwrap_or(0), figure(&v[1])))
        .collect();
    let mut out = format!(
        "<p>Plan <strong>{}</strong>: {}.</p>",
        esc(&plan.name),
        esc(&limits(plan))
    );
    out.push_str(&chart(&days));
    out.push_str(
        "<table class=\"usage\"><tr><th>Day (UTC)</th><th>Used</th><th>Remaining</th></tr>",
    );
    for (day, used, remaining) in &days {
        let remaining = remaining.map_or("no quota".to_string(), |r| r.to_string());
        let _ = write!(
            out,
            "<tr><td>{day}</td><td class=\"used\">{used}</td><td class=\"remaining\">{remaining}</td></tr>"
        );
    }
    out.push_str("</table>");
    Ok(out)
}

fn figure(v: &Value) -> Option<i64> {
    v.as_i64()
}

/// Bars of requests per day, scaled to the busiest day.
fn chart(days: &[(String, i64, Option<i64>)]) -> String {
    const W: i64 = 60;
    const H: i64 = 120;
    let top = days.iter().map(|d| d.1).max().unwrap_or(0).max(1);
    let width = W * days.len() as i64;
    let mut svg = format!(
        "<svg class=\"chart\" role=\"img\" aria-label=\"Requests per day\" viewBox=\"0 0 {width} {}\" width=\"{width}\" height=\"{}\">",
        H + 20,
        H + 20
    );
    for (i, (day, used, _)) in days.iter().enumerate() {
        let h = used * H / top;
        let x = i as i64 * W;
        let _ = write!(
            svg,
            "<rect x=\"{}\" y=\"{}\" width=\"{}\" height=\"{h}\" fill=\"#3b6ea5\"><title>{day}: {used}</title></rect>\
             <text x=\"{}\" y=\"{}\" font-size=\"10\" text-anchor=\"middle\">{}</text>",
            x + 8,
            H - h,
            W - 16,
            x + W / 2,
            H + 14,
            &day[5..]
        );
    }
    svg.push_str("</svg>");
    svg
}

#[cfg(test)]
mod tests {
    #[test]
    fn bars_are_scaled_to_the_busiest_day() {
        let days = vec![
            ("2026-01-01".to_string(), 10, Some(90)),
            ("2026-01-02".to_string(), 5, Some(85)),
        ];
        let svg = super::chart(&days);
        assert!(svg.contains("height=\"120\" fill"), "{svg}");
        assert!(svg.contains("height=\"60\" fill"), "{svg}");
    }
}
