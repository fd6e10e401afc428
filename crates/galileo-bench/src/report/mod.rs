//! What a bench run found: figures (median, min, max over runs, with their targets), curves,
//! and the three ways it is shown: a table, `report.json` and `report.svg`.

mod svg;
mod table;

use std::path::{Path, PathBuf};

use serde::Serialize;

pub use svg::render as render_svg;
pub use table::{render as render_table, render_markdown};

use crate::{BenchError, Summary};

/// The whole run.
#[derive(Clone, Debug, Serialize)]
pub struct Report {
    /// When it ran (seconds since the Unix epoch).
    pub generated_unix_s: u64,
    /// `release` or `dev`: the profile the bench and the simulator were built with. Only
    /// release figures mean anything; dev runs keep the bench from rotting.
    pub profile: &'static str,
    /// Whether this was `--quick` (short runs, fewer repetitions).
    pub quick: bool,
    /// Cores on this machine (the simulator shares them).
    pub cores: usize,
    /// The scenarios run, in order.
    pub scenarios: Vec<ScenarioReport>,
}

/// One scenario's findings.
#[derive(Clone, Debug, Serialize)]
pub struct ScenarioReport {
    /// The scenario's `--scenario` name.
    pub id: &'static str,
    /// A short title.
    pub title: &'static str,
    /// How it was measured (rates, sizes, durations, runs).
    pub setup: String,
    /// The figures.
    pub figures: Vec<Figure>,
    /// Curves over time (scenario 2).
    pub series: Vec<Series>,
    /// Anything a reader must know to read the figures right.
    pub notes: Vec<String>,
}

/// One figure: a metric of a subject (a client, a slot count) in a group (an IP count, a
/// contention level), summarized over the runs.
#[derive(Clone, Debug, Serialize)]
pub struct Figure {
    /// Who: `galileo`, `reqwest`, `4096 slots`, ...
    pub subject: String,
    /// In which setting: `N=16`, `16 tasks`, ... (empty if none).
    pub group: String,
    /// What: `utilization`, `share_429`, ...
    pub metric: &'static str,
    /// How to read the numbers.
    pub unit: Unit,
    /// Median, min and max over the runs.
    pub summary: Summary,
    /// The target for this figure, if it has one.
    pub target: Option<Target>,
    /// Whether the median meets the target.
    pub met: Option<bool>,
}

impl Figure {
    /// A figure from its runs' samples; `None` when there are none.
    pub fn new(
        subject: impl Into<String>,
        group: impl Into<String>,
        metric: &'static str,
        unit: Unit,
        samples: &[f64],
        target: Option<Target>,
    ) -> Option<Self> {
        let summary = Summary::of(samples)?;
        Some(Self {
            subject: subject.into(),
            group: group.into(),
            metric,
            unit,
            summary,
            target,
            met: target.map(|t| t.met_by(summary.median)),
        })
    }
}

/// How a figure's numbers read.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Unit {
    /// A ratio (1.0 = equal, or the whole ceiling).
    Ratio,
    /// A share, shown as a percentage.
    Share,
    /// Nanoseconds.
    Nanos,
    /// Milliseconds.
    Millis,
    /// Mebibytes.
    Mebibytes,
    /// Kibibytes.
    Kibibytes,
    /// Requests per second.
    PerSecond,
}

/// A target from the issue.
#[derive(Clone, Copy, Debug, PartialEq, Serialize)]
#[serde(tag = "op", content = "value", rename_all = "snake_case")]
pub enum Target {
    /// At least this.
    AtLeast(f64),
    /// At most this.
    AtMost(f64),
}

impl Target {
    /// Whether `v` meets it.
    pub fn met_by(self, v: f64) -> bool {
        match self {
            Target::AtLeast(t) => v >= t,
            Target::AtMost(t) => v <= t,
        }
    }
}

/// A metric over time: the median per step over the runs, with min and max.
#[derive(Clone, Debug, Serialize)]
pub struct Series {
    /// Who.
    pub subject: String,
    /// What.
    pub metric: &'static str,
    /// Seconds per point.
    pub step_s: f64,
    /// One summary per step.
    pub points: Vec<Summary>,
}

/// Writes `report.json`, `report.svg` and `report.md` (the tables in Markdown, for
/// docs/bench.md) into `dir`; returns the JSON's and the SVG's paths.
pub fn write(report: &Report, dir: &Path) -> Result<(PathBuf, PathBuf), BenchError> {
    std::fs::create_dir_all(dir).map_err(|e| BenchError::io(dir, e))?;
    let json_path = dir.join("report.json");
    let json = serde_json::to_string_pretty(report)
        .map_err(|e| BenchError::io(&json_path, std::io::Error::other(e)))?;
    std::fs::write(&json_path, json + "\n").map_err(|e| BenchError::io(&json_path, e))?;
    let svg_path = dir.join("report.svg");
    std::fs::write(&svg_path, render_svg(report)).map_err(|e| BenchError::io(&svg_path, e))?;
    let md_path = dir.join("report.md");
    std::fs::write(&md_path, render_markdown(report)).map_err(|e| BenchError::io(&md_path, e))?;
    Ok((json_path, svg_path))
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;

    /// A small report like scenario 1's, for the renderers' tests.
    pub(crate) fn sample() -> Report {
        let fig = |subject: &str, group: &str, metric, unit, v: &[f64], target| {
            Figure::new(subject, group, metric, unit, v, target).unwrap()
        };
        Report {
            generated_unix_s: 1,
            profile: "release",
            quick: false,
            cores: 2,
            scenarios: vec![
                ScenarioReport {
                    id: "known-limits",
                    title: "Quota utilization, known limits",
                    setup: "r = 20/s <per IP>".into(),
                    figures: vec![
                        fig(
                            "galileo",
                            "N=4",
                            "utilization",
                            Unit::Ratio,
                            &[0.99, 0.985, 0.97],
                            Some(Target::AtLeast(0.98)),
                        ),
                        fig(
                            "naive round-robin",
                            "N=4",
                            "utilization",
                            Unit::Ratio,
                            &[1.0, 1.01],
                            None,
                        ),
                        fig(
                            "galileo",
                            "N=4",
                            "share_429",
                            Unit::Share,
                            &[0.0, 0.001],
                            Some(Target::AtMost(0.005)),
                        ),
                        fig(
                            "naive round-robin",
                            "N=4",
                            "share_429",
                            Unit::Share,
                            &[0.93, 0.95],
                            None,
                        ),
                    ],
                    series: vec![],
                    notes: vec![],
                },
                ScenarioReport {
                    id: "lease-scaling",
                    title: "Lease scaling",
                    setup: String::new(),
                    figures: vec![fig(
                        "4096/8 slots",
                        "uncontended",
                        "ratio",
                        Unit::Ratio,
                        &[1.02],
                        Some(Target::AtMost(1.5)),
                    )],
                    series: vec![],
                    notes: vec!["a note".into()],
                },
            ],
        }
    }

    #[test]
    fn targets_are_judged_on_the_median() {
        let r = sample();
        let f = &r.scenarios[0].figures[0];
        assert_eq!(f.summary.median, 0.985);
        assert_eq!(f.met, Some(true));
        assert_eq!(r.scenarios[0].figures[1].met, None);
        assert!(!Target::AtMost(0.005).met_by(0.0051));
    }

    #[test]
    fn json_and_svg_are_written() {
        let dir = tempfile::tempdir().unwrap();
        let (json, svg) = write(&sample(), dir.path()).unwrap();
        let v: serde_json::Value =
            serde_json::from_str(&std::fs::read_to_string(json).unwrap()).unwrap();
        let f = &v["scenarios"][0]["figures"][0];
        assert_eq!(f["metric"], "utilization");
        assert_eq!(f["summary"]["median"], 0.985);
        assert_eq!(f["target"]["op"], "at_least");
        assert_eq!(f["target"]["value"], 0.98);
        assert!(std::fs::read_to_string(svg).unwrap().starts_with("<svg"));
        let md = std::fs::read_to_string(dir.path().join("report.md")).unwrap();
        assert!(
            md.contains("| galileo | N=4 | utilization | 0.985 |"),
            "{md}"
        );
    }
}
