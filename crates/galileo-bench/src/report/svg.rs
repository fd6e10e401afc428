//! `report.svg`: one bar chart per (scenario, metric) for utilization and 429 share, bars
//! grouped by IP count, one colour per client, whiskers from min to max, the target dashed.
//! Hand-written: a few rectangles and lines do not need a plotting crate.

use std::fmt::Write;

use super::{Figure, Report, ScenarioReport, Target};

const WIDTH: f64 = 980.0;
const PANEL_H: f64 = 250.0;
const LEFT: f64 = 70.0;
const RIGHT: f64 = 240.0;
const TOP: f64 = 40.0;
const BOTTOM: f64 = 40.0;
const COLORS: [&str; 6] = [
    "#1f77b4", "#ff7f0e", "#2ca02c", "#d62728", "#9467bd", "#8c564b",
];

/// The metrics charted, with their axis titles.
const CHARTED: [(&str, &str); 2] = [
    ("utilization", "successful quotes/s ÷ (N·r)"),
    ("share_429", "share of answers that were 429"),
];

struct Panel<'a> {
    title: String,
    axis: &'static str,
    percent: bool,
    figures: Vec<&'a Figure>,
}

fn escape(s: &str) -> String {
    s.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
}

fn panels(report: &Report) -> Vec<Panel<'_>> {
    let mut out = Vec::new();
    for s in &report.scenarios {
        for (metric, axis) in CHARTED {
            let figures: Vec<&Figure> = s.figures.iter().filter(|f| f.metric == metric).collect();
            if !figures.is_empty() {
                out.push(Panel {
                    title: format!("{}: {}", s.title, metric.replace('_', " ")),
                    axis,
                    percent: metric == "share_429",
                    figures,
                });
            }
        }
    }
    out
}

/// The top of a ratio axis: 1.2 (ticks every 0.3) while everything fits, else the next
/// multiple of 0.4 above the data.
fn ratio_axis(data_max: f64) -> f64 {
    let top = data_max * 1.05;
    if top <= 1.2 {
        1.2
    } else {
        (top / 0.4).ceil() * 0.4
    }
}

/// First-seen order, without repeats.
fn distinct<'a>(items: impl Iterator<Item = &'a str>) -> Vec<&'a str> {
    let mut v: Vec<&str> = Vec::new();
    for i in items {
        if !v.contains(&i) {
            v.push(i);
        }
    }
    v
}

/// The chart as an SVG document.
pub fn render(report: &Report) -> String {
    let panels = panels(report);
    let curves: Vec<&ScenarioReport> = report
        .scenarios
        .iter()
        .filter(|s| s.series.iter().any(|c| !c.points.is_empty()))
        .collect();
    let count = panels.len() + curves.len();
    let height = (count.max(1) as f64) * (PANEL_H + TOP + BOTTOM) + 30.0;
    let mut out = String::new();
    let _ = writeln!(
        out,
        r#"<svg xmlns="http://www.w3.org/2000/svg" width="{WIDTH}" height="{height}" viewBox="0 0 {WIDTH} {height}" font-family="sans-serif" font-size="12">"#
    );
    let _ = writeln!(
        out,
        r#"<rect width="100%" height="100%" fill="white"/><text x="10" y="20" font-size="14" font-weight="bold">galileo bench ({} build{}): medians, whiskers min..max</text>"#,
        report.profile,
        if report.quick { ", --quick" } else { "" }
    );
    if panels.is_empty() {
        let _ = writeln!(
            out,
            r#"<text x="10" y="50">no utilization or 429 figures in this run</text>"#
        );
    }
    for (i, p) in panels.iter().enumerate() {
        let y0 = 30.0 + i as f64 * (PANEL_H + TOP + BOTTOM);
        panel(&mut out, p, y0);
    }
    for (i, s) in curves.iter().enumerate() {
        let y0 = 30.0 + (panels.len() + i) as f64 * (PANEL_H + TOP + BOTTOM);
        curve_panel(&mut out, s, y0);
    }
    out.push_str("</svg>\n");
    out
}

fn panel(out: &mut String, p: &Panel<'_>, y0: f64) {
    let groups = distinct(p.figures.iter().map(|f| f.group.as_str()));
    let subjects = distinct(p.figures.iter().map(|f| f.subject.as_str()));
    let target = p.figures.iter().find_map(|f| f.target);
    let data_max = p
        .figures
        .iter()
        .map(|f| f.summary.max)
        .chain(target.map(|t| match t {
            Target::AtLeast(v) | Target::AtMost(v) => v,
        }))
        .fold(0.0f64, f64::max);
    let y_max = if p.percent {
        (data_max * 1.1).clamp(0.01, 1.0)
    } else {
        ratio_axis(data_max)
    };
    let (x_left, x_right) = (LEFT, WIDTH - RIGHT);
    let (top, bottom) = (y0 + TOP, y0 + TOP + PANEL_H);
    let y = |v: f64| bottom - (v / y_max).clamp(0.0, 1.0) * PANEL_H;
    let fmt = |v: f64| {
        if p.percent {
            format!("{:.1}%", v * 100.0)
        } else {
            format!("{v:.2}")
        }
    };

    let _ = writeln!(
        out,
        r#"<text x="{x_left}" y="{}" font-size="13" font-weight="bold">{}</text>"#,
        y0 + 24.0,
        escape(&p.title)
    );
    let _ = writeln!(
        out,
        r#"<text transform="translate(14,{}) rotate(-90)" text-anchor="middle" font-size="10">{}</text>"#,
        (top + bottom) / 2.0,
        escape(p.axis)
    );
    for k in 0..=4 {
        let v = y_max * f64::from(k) / 4.0;
        let yy = y(v);
        let _ = writeln!(
            out,
            r##"<line x1="{x_left}" x2="{x_right}" y1="{yy:.1}" y2="{yy:.1}" stroke="#ddd"/><text x="{}" y="{:.1}" text-anchor="end" font-size="10">{}</text>"##,
            x_left - 4.0,
            yy + 3.0,
            fmt(v)
        );
    }
    let group_w = (x_right - x_left) / groups.len().max(1) as f64;
    let bar_w = (group_w * 0.8) / subjects.len().max(1) as f64;
    for (gi, g) in groups.iter().enumerate() {
        let gx = x_left + gi as f64 * group_w + group_w * 0.1;
        let _ = writeln!(
            out,
            r#"<text x="{:.1}" y="{:.1}" text-anchor="middle">{}</text>"#,
            gx + group_w * 0.4,
            bottom + 16.0,
            escape(g)
        );
        for (si, s) in subjects.iter().enumerate() {
            let Some(f) = p.figures.iter().find(|f| f.group == *g && f.subject == *s) else {
                continue;
            };
            let x = gx + si as f64 * bar_w;
            let top_y = y(f.summary.median);
            let color = COLORS[si % COLORS.len()];
            let _ = writeln!(
                out,
                r#"<rect x="{x:.1}" y="{top_y:.1}" width="{:.1}" height="{:.1}" fill="{color}"><title>{} {}: {}</title></rect>"#,
                bar_w * 0.9,
                bottom - top_y,
                escape(s),
                escape(g),
                fmt(f.summary.median)
            );
            let _ = writeln!(
                out,
                r#"<text x="{:.1}" y="{:.1}" text-anchor="middle" font-size="9">{}</text>"#,
                x + bar_w * 0.45,
                top_y - 3.0,
                fmt(f.summary.median)
            );
            let cx = x + bar_w * 0.45;
            let _ = writeln!(
                out,
                r##"<line x1="{cx:.1}" x2="{cx:.1}" y1="{:.1}" y2="{:.1}" stroke="#333"/>"##,
                y(f.summary.min),
                y(f.summary.max)
            );
        }
    }
    if let Some(t) = target {
        let (Target::AtLeast(v) | Target::AtMost(v)) = t;
        let ty = y(v);
        let _ = writeln!(
            out,
            r##"<line x1="{x_left}" x2="{x_right}" y1="{ty:.1}" y2="{ty:.1}" stroke="#c00" stroke-dasharray="6,4"/><text x="{x_right}" y="{:.1}" text-anchor="end" fill="#c00" font-size="10">target {}</text>"##,
            ty - 3.0,
            fmt(v)
        );
    }
    let _ = writeln!(
        out,
        r##"<line x1="{x_left}" x2="{x_right}" y1="{bottom}" y2="{bottom}" stroke="#333"/>"##
    );
    for (si, s) in subjects.iter().enumerate() {
        let ly = top + 14.0 + si as f64 * 18.0;
        let _ = writeln!(
            out,
            r#"<rect x="{}" y="{:.1}" width="12" height="12" fill="{}"/><text x="{}" y="{:.1}">{}</text>"#,
            x_right + 16.0,
            ly - 10.0,
            COLORS[si % COLORS.len()],
            x_right + 34.0,
            ly,
            escape(s)
        );
    }
}

/// A scenario's curves (utilization per second): one polyline per subject, the target dashed.
fn curve_panel(out: &mut String, s: &ScenarioReport, y0: f64) {
    let (x_left, x_right) = (LEFT, WIDTH - RIGHT);
    let (top, bottom) = (y0 + TOP, y0 + TOP + PANEL_H);
    let steps = s
        .series
        .iter()
        .map(|c| c.points.len())
        .max()
        .unwrap_or(0)
        .max(1);
    let step_s = s.series.first().map_or(1.0, |c| c.step_s);
    let target = s
        .figures
        .iter()
        .filter(|f| f.metric == "utilization")
        .find_map(|f| f.target);
    let data_max = s
        .series
        .iter()
        .flat_map(|c| c.points.iter().map(|p| p.max))
        .fold(0.0f64, f64::max);
    let y_max = ratio_axis(data_max);
    let y = |v: f64| bottom - (v / y_max).clamp(0.0, 1.0) * PANEL_H;
    // Each point is a step's total, drawn at the step's end.
    let x = |i: usize| x_left + (i as f64 + 1.0) / steps as f64 * (x_right - x_left);
    let _ = writeln!(
        out,
        r#"<text x="{x_left}" y="{}" font-size="13" font-weight="bold">{}: utilization per {step_s} s (median of the runs)</text>"#,
        y0 + 24.0,
        escape(s.title)
    );
    for k in 0..=4 {
        let v = y_max * f64::from(k) / 4.0;
        let yy = y(v);
        let _ = writeln!(
            out,
            r##"<line x1="{x_left}" x2="{x_right}" y1="{yy:.1}" y2="{yy:.1}" stroke="#ddd"/><text x="{}" y="{:.1}" text-anchor="end" font-size="10">{v:.2}</text>"##,
            x_left - 4.0,
            yy + 3.0
        );
    }
    for i in 0..steps {
        let _ = writeln!(
            out,
            r#"<text x="{:.1}" y="{:.1}" text-anchor="middle" font-size="10">{}</text>"#,
            x(i),
            bottom + 16.0,
            (i as f64 + 1.0) * step_s
        );
    }
    let _ = writeln!(
        out,
        r#"<text x="{:.1}" y="{:.1}" text-anchor="middle" font-size="10">seconds since start</text>"#,
        (x_left + x_right) / 2.0,
        bottom + 32.0
    );
    for (si, c) in s.series.iter().enumerate() {
        let color = COLORS[si % COLORS.len()];
        let points: Vec<String> = c
            .points
            .iter()
            .enumerate()
            .map(|(i, p)| format!("{:.1},{:.1}", x(i), y(p.median)))
            .collect();
        let _ = writeln!(
            out,
            r#"<polyline points="{}" fill="none" stroke="{color}" stroke-width="2"/>"#,
            points.join(" ")
        );
        let ly = top + 14.0 + si as f64 * 18.0;
        let _ = writeln!(
            out,
            r#"<rect x="{}" y="{:.1}" width="12" height="12" fill="{color}"/><text x="{}" y="{:.1}">{}</text>"#,
            x_right + 16.0,
            ly - 10.0,
            x_right + 34.0,
            ly,
            escape(&c.subject)
        );
    }
    if let Some(Target::AtLeast(v) | Target::AtMost(v)) = target {
        let ty = y(v);
        let _ = writeln!(
            out,
            r##"<line x1="{x_left}" x2="{x_right}" y1="{ty:.1}" y2="{ty:.1}" stroke="#c00" stroke-dasharray="6,4"/><text x="{x_right}" y="{:.1}" text-anchor="end" fill="#c00" font-size="10">target {v:.2}</text>"##,
            ty - 3.0
        );
    }
    let _ = writeln!(
        out,
        r##"<line x1="{x_left}" x2="{x_right}" y1="{bottom}" y2="{bottom}" stroke="#333"/>"##
    );
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::report::tests::sample;

    #[test]
    fn one_bar_per_figure_and_a_target_line() {
        let svg = render(&sample());
        assert!(svg.starts_with("<svg") && svg.trim_end().ends_with("</svg>"));
        // Two charted panels (utilization, share_429), two bars each; lease scaling is not
        // charted.
        assert_eq!(svg.matches("<rect x=").count(), 4 + 4, "{svg}"); // bars + legend boxes
        assert_eq!(svg.matches("<title>").count(), 4);
        assert_eq!(svg.matches("stroke-dasharray").count(), 2);
        assert!(svg.contains("target 0.98"), "{svg}");
        assert!(svg.contains("target 0.5%"), "{svg}");
        assert!(!svg.contains("Lease scaling"));
    }

    #[test]
    fn curves_get_a_line_panel() {
        use crate::Summary;
        use crate::report::Series;
        let mut r = sample();
        let point = |v| Summary::of(&[v]).unwrap();
        r.scenarios[1].series = vec![Series {
            subject: "galileo".into(),
            metric: "utilization",
            step_s: 1.0,
            points: vec![point(0.5), point(0.95), point(1.0)],
        }];
        let svg = render(&r);
        assert_eq!(svg.matches("<polyline").count(), 1, "{svg}");
        // Three points, the last at the right edge, full utilization at 1.0 of a 1.2 axis.
        let right = WIDTH - RIGHT;
        let bottom = 30.0 + 2.0 * (PANEL_H + TOP + BOTTOM) + TOP + PANEL_H;
        let last = format!("{right:.1},{:.1}", bottom - PANEL_H / 1.2);
        assert!(svg.contains(&last), "{last} not in {svg}");
    }

    #[test]
    fn text_is_escaped() {
        let mut r = sample();
        r.scenarios[0].figures[0].subject = "a<b & \"c\"".into();
        let svg = render(&r);
        assert!(svg.contains("a&lt;b &amp; &quot;c&quot;"));
        assert!(!svg.contains("a<b"));
    }
}
