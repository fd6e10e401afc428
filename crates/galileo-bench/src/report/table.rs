//! The report as a plain-text table (stdout) and as Markdown (docs/bench.md).

use std::fmt::Write;

use super::{Figure, Report, Target, Unit};

/// A value in its unit: ratios to three decimals, shares as percentages.
pub(crate) fn value(unit: Unit, v: f64) -> String {
    match unit {
        Unit::Ratio => format!("{v:.3}"),
        Unit::Share => format!("{:.2} %", v * 100.0),
        Unit::Nanos => format!("{v:.1} ns"),
        Unit::Millis => format!("{v:.3} ms"),
        Unit::Mebibytes => format!("{v:.1} MiB"),
        Unit::Kibibytes => format!("{v:.1} KiB"),
        Unit::PerSecond => format!("{v:.0}/s"),
    }
}

fn target(unit: Unit, t: Option<Target>) -> String {
    match t {
        None => String::new(),
        Some(Target::AtLeast(v)) => format!(">= {}", value(unit, v)),
        Some(Target::AtMost(v)) => format!("<= {}", value(unit, v)),
    }
}

fn verdict(f: &Figure) -> &'static str {
    match f.met {
        None => "",
        Some(true) => "met",
        Some(false) => "MISSED",
    }
}

fn row(f: &Figure) -> [String; 7] {
    [
        f.subject.clone(),
        f.group.clone(),
        f.metric.to_owned(),
        value(f.unit, f.summary.median),
        format!(
            "{} .. {}",
            value(f.unit, f.summary.min),
            value(f.unit, f.summary.max)
        ),
        target(f.unit, f.target),
        verdict(f).to_owned(),
    ]
}

const HEAD: [&str; 7] = [
    "subject",
    "group",
    "metric",
    "median",
    "min .. max",
    "target",
    "",
];

/// The report as aligned text, one block per scenario.
pub fn render(report: &Report) -> String {
    let mut out = String::new();
    let _ = writeln!(
        out,
        "galileo bench ({} build{}, {} cores; figures are medians of the runs)",
        report.profile,
        if report.quick { ", --quick" } else { "" },
        report.cores
    );
    for s in &report.scenarios {
        let _ = writeln!(out, "\n== {}: {}", s.id, s.title);
        if !s.setup.is_empty() {
            let _ = writeln!(out, "   {}", s.setup);
        }
        let rows: Vec<[String; 7]> = s.figures.iter().map(row).collect();
        let mut width = HEAD.map(str::len);
        for r in &rows {
            for (w, c) in width.iter_mut().zip(r) {
                *w = (*w).max(c.chars().count());
            }
        }
        let line = |cells: [&str; 7]| {
            let mut l = String::from("  ");
            for (c, w) in cells.iter().zip(width) {
                let _ = write!(l, " {c:<w$}");
            }
            l.trim_end().to_owned()
        };
        let _ = writeln!(out, "{}", line(HEAD));
        for r in &rows {
            let _ = writeln!(out, "{}", line(r.each_ref().map(String::as_str)));
        }
        for n in &s.notes {
            let _ = writeln!(out, "   note: {n}");
        }
    }
    out
}

/// The report as Markdown tables, for docs/bench.md.
pub fn render_markdown(report: &Report) -> String {
    let mut out = String::new();
    for s in &report.scenarios {
        let _ = writeln!(out, "\n#### {}: {}\n", s.id, s.title);
        if !s.setup.is_empty() {
            let _ = writeln!(out, "{}\n", s.setup);
        }
        let _ = writeln!(
            out,
            "| subject | group | metric | median | min .. max | target | |\n|---|---|---|---|---|---|---|"
        );
        for f in &s.figures {
            let _ = writeln!(out, "| {} |", row(f).join(" | "));
        }
        for n in &s.notes {
            let _ = writeln!(out, "\nNote: {n}");
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::report::tests::sample;

    #[test]
    fn the_table_shows_median_spread_target_and_verdict() {
        let t = render(&sample());
        let line = t
            .lines()
            .find(|l| l.contains("galileo") && l.contains("utilization"))
            .unwrap();
        for part in ["N=4", "0.985", "0.970 .. 0.990", ">= 0.980", "met"] {
            assert!(line.contains(part), "{part} missing in {line:?}");
        }
        assert!(t.contains("0.10 %"), "{t}"); // galileo's 429 share as a percentage
        assert!(t.contains("note: a note"), "{t}");
        assert!(t.contains("release build"), "{t}");
    }

    #[test]
    fn a_missed_target_says_so() {
        let mut r = sample();
        r.scenarios[0].figures[0].met = Some(false);
        assert!(render(&r).contains("MISSED"));
        assert!(render_markdown(&r).contains("| MISSED |"));
    }
}
