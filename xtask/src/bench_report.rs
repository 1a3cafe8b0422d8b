//! What `cargo xtask bench` reports: the pairing of Ferrous and Linux
//! metrics into one table (medians over rounds, ratio Ferrous/Linux), the
//! JSON record with every raw sample, and an SVG chart of the ratios.

use crate::bench_parse::Metric;
use serde::{Deserialize, Serialize};
use std::fmt::Write as _;
use std::path::{Path, PathBuf};

/// Metrics with the same meaning on both sides. A side whose benchmark
/// printed no such name shows "—" (today every Ferrous name here is
/// printed: by the kernel's `*-bench` tests, `ubench` or xtask).
pub struct Pair {
    pub label: &'static str,
    pub ferrous: &'static str,
    pub linux: &'static str,
}

pub const PAIRS: &[Pair] = &[
    Pair {
        label: "null syscall",
        ferrous: "null-syscall",
        linux: "getpid",
    },
    Pair {
        label: "IPC round trip via pipe",
        ferrous: "ipc-roundtrip",
        linux: "pipe-roundtrip",
    },
    Pair {
        label: "IPC round trip via socketpair",
        ferrous: "ipc-roundtrip",
        linux: "socketpair-roundtrip",
    },
    Pair {
        label: "notification round trip",
        ferrous: "notification-roundtrip",
        linux: "futex-roundtrip",
    },
    Pair {
        label: "thread yield, per switch",
        ferrous: "yield-switch",
        linux: "yield-switch",
    },
    Pair {
        label: "process spawn + wait",
        ferrous: "spawn-wait",
        linux: "fork-exec-wait",
    },
    Pair {
        label: "page map + unmap 4 KiB",
        ferrous: "map-unmap-4k",
        linux: "mmap-munmap-4k",
    },
    Pair {
        label: "boot: kernel → ready / init",
        ferrous: "boot-kernel-to-ready",
        linux: "boot-kernel-to-init",
    },
    Pair {
        label: "boot: QEMU start → ready / init",
        ferrous: "boot-qemu-to-ready",
        linux: "boot-qemu-to-init",
    },
];

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Side {
    Ferrous,
    Linux,
}

/// One QEMU boot within a run.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct BootRecord {
    /// The kernel command line (Ferrous `test=...`, Linux `-append`).
    pub cmdline: String,
    /// How QEMU ended (Pass, Fail, Timeout, ...).
    pub end: String,
    pub wall_seconds: f64,
    pub serial_log: String,
}

/// One side's share of a round: its boots (Ferrous boots once per kernel
/// benchmark test, Linux once), its verdict and every metric printed.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct RunRecord {
    pub round: u32,
    pub side: Side,
    pub ok: bool,
    pub boots: Vec<BootRecord>,
    pub problems: Vec<String>,
    pub metrics: Vec<Metric>,
}

/// The configuration both guests ran under.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct Config {
    pub date: String,
    pub git_commit: String,
    pub git_dirty: bool,
    pub qemu: String,
    pub machine: String,
    pub cpu: String,
    pub accel: String,
    pub memory: String,
    pub smp: u32,
    /// "tcg" (plain TCG, host time) or "icount" (-icount shift=0).
    pub mode: String,
    pub icount: Option<String>,
    pub quick: bool,
    pub rounds: u32,
    pub host_cpu: String,
    pub ferrous_profile: String,
    /// One Ferrous boot per kernel benchmark test, e.g. `test=mm-bench`.
    pub ferrous_cmdlines: Vec<String>,
    pub linux_kernel: String,
    pub linux_uname: String,
    pub linux_packages: Vec<String>,
    pub linux_append: String,
    /// QEMU's arguments for the first Ferrous boot (the others differ only
    /// in the serial log's name).
    pub qemu_args_ferrous: Vec<String>,
    pub qemu_args_linux: Vec<String>,
}

/// One line of the table: medians over rounds and their ratio.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Row {
    pub label: String,
    pub unit: String,
    pub ferrous_metric: Option<String>,
    pub linux_metric: Option<String>,
    pub ferrous: Option<f64>,
    pub linux: Option<f64>,
    /// Ferrous / Linux, when both sides have a value in the same unit.
    pub ratio: Option<f64>,
    /// Per-round medians behind `ferrous` and `linux`.
    pub ferrous_samples: Vec<u64>,
    pub linux_samples: Vec<u64>,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Report {
    pub schema: u32,
    pub config: Config,
    pub table: Vec<Row>,
    pub runs: Vec<RunRecord>,
}

pub fn median(v: &[u64]) -> Option<f64> {
    let mut s = v.to_vec();
    s.sort_unstable();
    let n = s.len();
    match n {
        0 => None,
        _ if n % 2 == 1 => Some(s[n / 2] as f64),
        _ => Some((s[n / 2 - 1] as f64 + s[n / 2] as f64) / 2.0),
    }
}

/// Per-round medians of one metric from the successful runs of one side,
/// and its unit.
fn samples(runs: &[RunRecord], side: Side, name: &str) -> (Vec<u64>, Option<String>) {
    let mut v = Vec::new();
    let mut unit = None;
    for r in runs.iter().filter(|r| r.ok && r.side == side) {
        if let Some(m) = r.metrics.iter().find(|m| m.name == name) {
            v.push(m.median);
            unit.get_or_insert_with(|| m.unit.clone());
        }
    }
    (v, unit)
}

/// Names in first-seen order over the successful runs of one side.
fn names(runs: &[RunRecord], side: Side) -> Vec<String> {
    let mut out: Vec<String> = Vec::new();
    for r in runs.iter().filter(|r| r.ok && r.side == side) {
        for m in &r.metrics {
            if !out.contains(&m.name) {
                out.push(m.name.clone());
            }
        }
    }
    out
}

/// The table: every pair (even if neither side has it yet), then the
/// Ferrous-only and the Linux-only metrics.
pub fn rows(runs: &[RunRecord]) -> Vec<Row> {
    let mut out = Vec::new();
    for p in PAIRS {
        let (fs, fu) = samples(runs, Side::Ferrous, p.ferrous);
        let (ls, lu) = samples(runs, Side::Linux, p.linux);
        let (f, l) = (median(&fs), median(&ls));
        let same_unit = fu.is_some() && fu == lu;
        let ratio = match (f, l) {
            (Some(f), Some(l)) if same_unit && l > 0.0 => Some(f / l),
            _ => None,
        };
        out.push(Row {
            label: p.label.into(),
            unit: fu.or(lu).unwrap_or_default(),
            ferrous_metric: Some(p.ferrous.into()),
            linux_metric: Some(p.linux.into()),
            ferrous: f,
            linux: l,
            ratio,
            ferrous_samples: fs,
            linux_samples: ls,
        });
    }
    for side in [Side::Ferrous, Side::Linux] {
        for name in names(runs, side) {
            let paired = PAIRS.iter().any(|p| match side {
                Side::Ferrous => p.ferrous == name,
                Side::Linux => p.linux == name,
            });
            if paired {
                continue;
            }
            let (s, unit) = samples(runs, side, &name);
            let v = median(&s);
            let (ferrous, linux, fm, lm, fs, ls) = match side {
                Side::Ferrous => (v, None, Some(name.clone()), None, s, vec![]),
                Side::Linux => (None, v, None, Some(name.clone()), vec![], s),
            };
            out.push(Row {
                label: name,
                unit: unit.unwrap_or_default(),
                ferrous_metric: fm,
                linux_metric: lm,
                ferrous,
                linux,
                ratio: None,
                ferrous_samples: fs,
                linux_samples: ls,
            });
        }
    }
    out
}

/// A value for the table: whole numbers stay whole.
fn num(v: Option<f64>) -> String {
    match v {
        None => "—".into(),
        Some(v) if v.fract() == 0.0 => format!("{v:.0}"),
        Some(v) => format!("{v:.1}"),
    }
}

pub fn ratio_text(r: f64) -> String {
    if r >= 10.0 {
        format!("{r:.1}")
    } else if r >= 0.1 {
        format!("{r:.2}")
    } else {
        format!("{r:.3}")
    }
}

/// 10^d written out: 0.01, 0.1, 1, 10, 100.
fn tick_text(d: i32) -> String {
    if d >= 0 {
        format!("{}", 10u64.pow(d.unsigned_abs()))
    } else {
        format!("0.{}1", "0".repeat(d.unsigned_abs() as usize - 1))
    }
}

fn row_label(r: &Row) -> String {
    match (&r.ferrous_metric, &r.linux_metric) {
        (Some(f), Some(l)) => format!("{} ({f} / {l})", r.label),
        _ => r.label.clone(),
    }
}

/// The table as aligned Markdown (it reads well in a terminal, too).
pub fn table_text(rows: &[Row]) -> String {
    let head = [
        "metric (Ferrous / Linux)",
        "unit",
        "Ferrous",
        "Linux",
        "ratio (Ferrous/Linux)",
    ];
    let cells: Vec<[String; 5]> = rows
        .iter()
        .map(|r| {
            [
                row_label(r),
                r.unit.clone(),
                num(r.ferrous),
                num(r.linux),
                r.ratio.map(ratio_text).unwrap_or_else(|| "—".into()),
            ]
        })
        .collect();
    let mut width = head.map(|h| h.chars().count());
    for c in &cells {
        for (w, s) in width.iter_mut().zip(c) {
            *w = (*w).max(s.chars().count());
        }
    }
    let line = |c: &[String]| {
        let mut s = String::from("|");
        for (i, (cell, w)) in c.iter().zip(width).enumerate() {
            let pad = " ".repeat(w - cell.chars().count());
            if i < 2 {
                let _ = write!(s, " {cell}{pad} |");
            } else {
                let _ = write!(s, " {pad}{cell} |");
            }
        }
        s.push('\n');
        s
    };
    let mut out = line(&head.map(String::from));
    out.push('|');
    for (i, w) in width.iter().enumerate() {
        let dashes = "-".repeat(*w);
        out.push_str(&if i < 2 {
            format!(" {dashes} |")
        } else {
            format!(" {}: |", &dashes[1..])
        });
    }
    out.push('\n');
    for c in &cells {
        out.push_str(&line(c));
    }
    out
}

fn xml_escape(s: &str) -> String {
    s.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
}

/// A horizontal bar chart of the ratios on a log scale around 1 (equal
/// cost): bars to the right mean Ferrous takes longer, to the left less.
/// One `<rect class="bar">` per row that has a ratio.
pub fn svg(rows: &[Row], title: &str) -> String {
    let bars: Vec<(&Row, f64)> = rows
        .iter()
        .filter_map(|r| r.ratio.filter(|x| *x > 0.0).map(|x| (r, x)))
        .collect();
    let (label_w, plot_w, row_h, top) = (330.0, 460.0, 30.0, 64.0);
    let width = label_w + plot_w + 90.0;
    let height = top + row_h * bars.len().max(1) as f64 + 50.0;
    // Decades shown on each side of 1.
    let span = bars
        .iter()
        .map(|(_, r)| r.log10().abs().ceil())
        .fold(1.0f64, f64::max);
    let x_of = |r: f64| label_w + plot_w / 2.0 + r.log10() / span * (plot_w / 2.0);
    let mut s = String::new();
    let _ = writeln!(
        s,
        r#"<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height}" viewBox="0 0 {width} {height}" font-family="sans-serif" font-size="13">"#
    );
    let _ = writeln!(
        s,
        r#"<rect x="0" y="0" width="{width}" height="{height}" fill="white"/>"#
    );
    let _ = writeln!(
        s,
        r#"<text x="{}" y="24" font-size="15" font-weight="bold">{}</text>"#,
        12,
        xml_escape(title)
    );
    let _ = writeln!(
        s,
        r##"<text x="12" y="44" fill="#555">Ferrous / Linux (log scale; left of 1: Ferrous cheaper, right: Ferrous costlier)</text>"##
    );
    let bottom = top + row_h * bars.len().max(1) as f64;
    let decades = span as i32;
    for d in -decades..=decades {
        let x = x_of(10f64.powi(d));
        let _ = writeln!(
            s,
            r##"<line x1="{x:.1}" y1="{top}" x2="{x:.1}" y2="{bottom}" stroke="{}" stroke-width="1"/>"##,
            if d == 0 { "#000" } else { "#ddd" }
        );
        let _ = writeln!(
            s,
            r##"<text x="{x:.1}" y="{:.1}" text-anchor="middle" fill="#555">{}</text>"##,
            bottom + 18.0,
            tick_text(d)
        );
    }
    if bars.is_empty() {
        let _ = writeln!(
            s,
            r#"<text x="{}" y="{:.1}">no metric has a value on both sides</text>"#,
            label_w,
            top + 20.0
        );
    }
    for (i, (row, r)) in bars.iter().enumerate() {
        let y = top + row_h * i as f64;
        let (x0, x1) = (x_of(1.0), x_of(*r));
        let (x, w) = (x0.min(x1), (x1 - x0).abs().max(1.0));
        let colour = if *r <= 1.0 { "#2e8b57" } else { "#d2691e" };
        let _ = writeln!(
            s,
            r#"<text x="{:.1}" y="{:.1}" text-anchor="end">{}</text>"#,
            label_w - 10.0,
            y + row_h / 2.0 + 4.0,
            xml_escape(&row.label)
        );
        let _ = writeln!(
            s,
            r#"<rect class="bar" x="{x:.1}" y="{:.1}" width="{w:.1}" height="{:.1}" fill="{colour}"><title>{}: {}</title></rect>"#,
            y + 5.0,
            row_h - 10.0,
            xml_escape(&row.label),
            ratio_text(*r)
        );
        // The value sits on the far side of the 1-line from its bar, clear
        // of both the bar and the metric labels.
        let (tx, anchor) = if *r >= 1.0 {
            (x0 - 6.0, "end")
        } else {
            (x0 + 6.0, "start")
        };
        let _ = writeln!(
            s,
            r#"<text x="{tx:.1}" y="{:.1}" text-anchor="{anchor}">{}</text>"#,
            y + row_h / 2.0 + 4.0,
            ratio_text(*r)
        );
    }
    s.push_str("</svg>\n");
    s
}

/// Writes `bench-<tag>-<stamp>.json/.svg` and `latest-<tag>.json/.svg` to
/// `dir`; returns the two timestamped paths.
pub fn write(
    report: &Report,
    dir: &Path,
    tag: &str,
    stamp: &str,
) -> Result<(PathBuf, PathBuf), String> {
    std::fs::create_dir_all(dir).map_err(|e| format!("creating {}: {e}", dir.display()))?;
    let json = serde_json::to_string_pretty(report).map_err(|e| format!("JSON: {e}"))? + "\n";
    let title = format!(
        "Ferrous vs Linux, {} mode, median of {} round(s), {}",
        report.config.mode, report.config.rounds, report.config.date
    );
    let chart = svg(&report.table, &title);
    let put = |name: String, text: &str| -> Result<PathBuf, String> {
        let p = dir.join(name);
        std::fs::write(&p, text).map_err(|e| format!("writing {}: {e}", p.display()))?;
        Ok(p)
    };
    let j = put(format!("bench-{tag}-{stamp}.json"), &json)?;
    let s = put(format!("bench-{tag}-{stamp}.svg"), &chart)?;
    put(format!("latest-{tag}.json"), &json)?;
    put(format!("latest-{tag}.svg"), &chart)?;
    Ok((j, s))
}

/// `(date, stamp)` in UTC for a time in seconds since 1970:
/// `2025-11-25T13:40:05Z` and `20251125T134005Z`.
pub fn utc(secs: u64) -> (String, String) {
    let days = (secs / 86_400) as i64;
    let rem = secs % 86_400;
    let (h, m, s) = (rem / 3600, rem / 60 % 60, rem % 60);
    // Howard Hinnant's civil_from_days.
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = doy - (153 * mp + 2) / 5 + 1;
    let mo = if mp < 10 { mp + 3 } else { mp - 9 };
    let y = yoe + era * 400 + i64::from(mo <= 2);
    (
        format!("{y:04}-{mo:02}-{d:02}T{h:02}:{m:02}:{s:02}Z"),
        format!("{y:04}{mo:02}{d:02}T{h:02}{m:02}{s:02}Z"),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    fn run(round: u32, side: Side, ok: bool, metrics: &[(&str, u64)]) -> RunRecord {
        RunRecord {
            round,
            side,
            ok,
            boots: vec![BootRecord {
                cmdline: "test=mm-bench".into(),
                end: "Pass".into(),
                wall_seconds: 1.0,
                serial_log: String::new(),
            }],
            problems: vec![],
            metrics: metrics
                .iter()
                .map(|(n, v)| Metric::value(n, "cycles/op", *v))
                .collect(),
        }
    }

    fn sample_runs() -> Vec<RunRecord> {
        vec![
            run(
                1,
                Side::Ferrous,
                true,
                &[("map-unmap-4k", 1000), ("frame-alloc-free", 400)],
            ),
            run(
                1,
                Side::Linux,
                true,
                &[("mmap-munmap-4k", 4000), ("getpid", 300)],
            ),
            run(
                2,
                Side::Ferrous,
                true,
                &[("map-unmap-4k", 3000), ("frame-alloc-free", 500)],
            ),
            run(
                2,
                Side::Linux,
                true,
                &[("mmap-munmap-4k", 6000), ("getpid", 500), ("extra", 7)],
            ),
            // A failed run contributes nothing.
            run(3, Side::Linux, false, &[("mmap-munmap-4k", 1)]),
        ]
    }

    #[test]
    fn medians() {
        assert_eq!(median(&[]), None);
        assert_eq!(median(&[5]), Some(5.0));
        assert_eq!(median(&[9, 1, 5]), Some(5.0));
        assert_eq!(median(&[4, 1, 3, 2]), Some(2.5));
    }

    #[test]
    fn pairs_rows_and_ratios() {
        let rows = rows(&sample_runs());
        let find = |l: &str| rows.iter().find(|r| r.label == l).unwrap();
        let map = find("page map + unmap 4 KiB");
        assert_eq!(map.ferrous, Some(2000.0));
        assert_eq!(map.linux, Some(5000.0));
        assert_eq!(map.ratio, Some(0.4));
        assert_eq!(map.ferrous_samples, [1000, 3000]);
        assert_eq!(map.linux_samples, [4000, 6000]);
        let sys = find("null syscall");
        assert_eq!(
            (sys.ferrous, sys.linux, sys.ratio),
            (None, Some(400.0), None)
        );
        let frame = find("frame-alloc-free");
        assert_eq!((frame.ferrous, frame.linux), (Some(450.0), None));
        assert_eq!(frame.linux_metric, None);
        let extra = find("extra");
        assert_eq!((extra.ferrous, extra.linux), (None, Some(7.0)));
        // Every pair is listed, then the single-side metrics, no duplicates.
        assert_eq!(rows.len(), PAIRS.len() + 2);
        assert!(!rows.iter().any(|r| r.label == "getpid"));

        let t = table_text(&rows);
        let lines: Vec<&str> = t.lines().collect();
        assert_eq!(lines.len(), rows.len() + 2);
        assert!(lines.iter().all(|l| l.starts_with('|') && l.ends_with('|')));
        let w = lines[0].chars().count();
        assert!(lines.iter().all(|l| l.chars().count() == w), "{t}");
        let map_line = lines.iter().find(|l| l.contains("page map")).unwrap();
        assert!(map_line.contains("(map-unmap-4k / mmap-munmap-4k)"));
        assert!(map_line.contains(" 2000 |") && map_line.contains(" 0.40 |"));
        assert!(
            lines
                .iter()
                .any(|l| l.contains("null syscall") && l.contains("—"))
        );
    }

    #[test]
    fn different_units_give_no_ratio() {
        let mut runs = sample_runs();
        runs[1].metrics[0].unit = "ns".into();
        runs[3].metrics[0].unit = "ns".into();
        let rows = rows(&runs);
        let map = rows
            .iter()
            .find(|r| r.label == "page map + unmap 4 KiB")
            .unwrap();
        assert_eq!(map.ratio, None);
    }

    #[test]
    fn json_and_svg_are_well_formed() {
        let runs = sample_runs();
        let mut table = rows(&runs);
        // A second ratio, above 1.
        table[0].ferrous = Some(900.0);
        table[0].ratio = Some(900.0 / 400.0);
        let report = Report {
            schema: 1,
            config: Config {
                mode: "tcg".into(),
                rounds: 2,
                ..Config::default()
            },
            table,
            runs,
        };
        let dir = std::env::temp_dir().join(format!("xtask-bench-test-{}", std::process::id()));
        let (j, s) = write(&report, &dir, "tcg", "20250101T000000Z").unwrap();
        let text = std::fs::read_to_string(&j).unwrap();
        let back: Report = serde_json::from_str(&text).unwrap();
        assert_eq!(back.table, report.table);
        assert_eq!(back.runs.len(), 5);
        assert_eq!(back.runs[1].metrics[0].name, "mmap-munmap-4k");
        let v: serde_json::Value = serde_json::from_str(&text).unwrap();
        assert_eq!(v["config"]["mode"], "tcg");
        assert!(dir.join("latest-tcg.json").is_file());
        assert!(dir.join("latest-tcg.svg").is_file());

        let svg = std::fs::read_to_string(&s).unwrap();
        let ratios = report.table.iter().filter(|r| r.ratio.is_some()).count();
        assert_eq!(ratios, 2);
        assert_eq!(svg.matches(r#"<rect class="bar""#).count(), ratios);
        assert!(svg.starts_with("<svg ") && svg.trim_end().ends_with("</svg>"));
        assert_balanced(&svg);
        let _ = std::fs::remove_dir_all(&dir);
    }

    /// Every element is closed, in order; attribute values hold no `<`.
    fn assert_balanced(xml: &str) {
        let mut stack: Vec<&str> = Vec::new();
        let mut rest = xml;
        while let Some(i) = rest.find('<') {
            let end = rest[i..].find('>').expect("unterminated tag") + i;
            let tag = &rest[i + 1..end];
            assert!(!tag.contains('<'), "{tag}");
            if let Some(name) = tag.strip_prefix('/') {
                assert_eq!(stack.pop(), Some(name), "mismatched </{name}>");
            } else if !tag.ends_with('/') {
                stack.push(tag.split_whitespace().next().unwrap());
            }
            rest = &rest[end + 1..];
        }
        assert!(stack.is_empty(), "unclosed {stack:?}");
    }

    #[test]
    fn svg_escapes_labels_and_handles_no_ratios() {
        let row = Row {
            label: "a<b & c".into(),
            unit: "x".into(),
            ferrous_metric: None,
            linux_metric: None,
            ferrous: Some(1.0),
            linux: Some(2.0),
            ratio: Some(0.5),
            ferrous_samples: vec![1],
            linux_samples: vec![2],
        };
        let s = svg(std::slice::from_ref(&row), "t & u");
        assert!(s.contains("a&lt;b &amp; c") && s.contains("t &amp; u"));
        assert_eq!(s.matches(r#"class="bar""#).count(), 1);
        let none = svg(&[], "t");
        assert_eq!(none.matches(r#"class="bar""#).count(), 0);
        assert!(none.contains("no metric has a value on both sides"));
        assert_balanced(&s);
        assert_balanced(&none);
    }

    #[test]
    fn tick_labels() {
        let t: Vec<String> = (-3..=2).map(tick_text).collect();
        assert_eq!(t, ["0.001", "0.01", "0.1", "1", "10", "100"]);
    }

    #[test]
    fn utc_dates() {
        assert_eq!(utc(0).0, "1970-01-01T00:00:00Z");
        assert_eq!(utc(951_782_400).0, "2000-02-29T00:00:00Z");
        let (date, stamp) = utc(1_764_078_005);
        assert_eq!(date, "2025-11-25T13:40:05Z");
        assert_eq!(stamp, "20251125T134005Z");
    }
}
