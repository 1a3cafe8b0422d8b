//! Reading benchmark results out of a guest's serial log.
//!
//! Both guests print the same line for a micro-benchmark
//! (kernel/src/bench.rs, bench/linux/fbench.c):
//!
//! ```text
//! bench <name>: median N <unit> (min A, max B, K x M ops)
//! ```
//!
//! and `value <name>: N <unit>` for a single number. Any such line becomes a
//! [`Metric`], so a benchmark added to either guest shows up without a change
//! here. Ferrous' boot timings come from its own `ready:` and `loader:` lines.

use serde::{Deserialize, Serialize};

/// One result: the median, minimum and maximum of per-batch costs per
/// operation (or one value, with `batches = iters = 1`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Metric {
    pub name: String,
    pub unit: String,
    pub median: u64,
    pub min: u64,
    pub max: u64,
    /// Timed batches, and operations in each.
    pub batches: u64,
    pub iters: u64,
}

impl Metric {
    /// A single measurement (a boot time).
    pub fn value(name: &str, unit: &str, v: u64) -> Metric {
        Metric {
            name: name.into(),
            unit: unit.into(),
            median: v,
            min: v,
            max: v,
            batches: 1,
            iters: 1,
        }
    }

    /// Non-zero, and the median lies between the minimum and the maximum.
    /// Never a judgement on how fast anything is.
    pub fn check_sane(&self) -> Result<(), String> {
        let m = self;
        if m.median == 0 || m.min == 0 || m.max == 0 || m.batches == 0 || m.iters == 0 {
            return Err(format!("{}: a number is zero: {m:?}", m.name));
        }
        if !(m.min <= m.median && m.median <= m.max) {
            return Err(format!(
                "{}: median {} not within min {} .. max {}",
                m.name, m.median, m.min, m.max
            ));
        }
        Ok(())
    }
}

fn number(s: &str) -> Option<(u64, &str)> {
    let end = s.find(|c: char| !c.is_ascii_digit()).unwrap_or(s.len());
    Some((s[..end].parse().ok()?, &s[end..]))
}

fn valid_name(name: &str) -> bool {
    !name.is_empty()
        && name
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.' | '/'))
}

/// `<name>: median N <unit> (min A, max B, K x M ops)`, after `bench `.
fn bench_at(s: &str) -> Option<Metric> {
    let (name, rest) = s.split_once(": median ")?;
    if !valid_name(name) {
        return None;
    }
    let (median, rest) = number(rest)?;
    let rest = rest.strip_prefix(' ')?;
    let (unit, rest) = rest.split_once(" (min ")?;
    let (min, rest) = number(rest)?;
    let (max, rest) = number(rest.strip_prefix(", max ")?)?;
    let (batches, rest) = number(rest.strip_prefix(", ")?)?;
    let (iters, rest) = number(rest.strip_prefix(" x ")?)?;
    rest.strip_prefix(" ops)")?;
    if unit.is_empty() || unit.contains(char::is_whitespace) {
        return None;
    }
    Some(Metric {
        name: name.into(),
        unit: unit.into(),
        median,
        min,
        max,
        batches,
        iters,
    })
}

/// `<name>: N <unit>`, after `value `.
fn value_at(s: &str) -> Option<Metric> {
    let (name, rest) = s.split_once(": ")?;
    if !valid_name(name) {
        return None;
    }
    let (v, rest) = number(rest)?;
    let unit = rest.strip_prefix(' ')?.trim_end();
    if unit.is_empty() || unit.contains(char::is_whitespace) {
        return None;
    }
    Some(Metric::value(name, unit, v))
}

/// Tries `parse` after every occurrence of `word` followed by a space that
/// starts the line or follows a space (`bench: bench x: ...` has two).
fn after_word(line: &str, word: &str, parse: fn(&str) -> Option<Metric>) -> Option<Metric> {
    let pat = format!("{word} ");
    line.match_indices(&pat)
        .filter(|&(i, _)| i == 0 || line.as_bytes()[i - 1] == b' ')
        .find_map(|(i, _)| parse(&line[i + pat.len()..]))
}

/// `ready: N TSC cycles after kernel entry` (kernel/src/main.rs).
fn ferrous_ready(line: &str) -> Option<Metric> {
    let (_, rest) = line.split_once("ready: ")?;
    let (n, rest) = number(rest)?;
    rest.starts_with(" TSC cycles after kernel entry")
        .then(|| Metric::value("boot-kernel-to-ready", "cycles", n))
}

/// `loader: start to hand-over N TSC cycles, hand-over to kernel entry M`.
fn ferrous_loader(line: &str) -> Vec<Metric> {
    let parse = || {
        let (_, rest) = line.split_once("loader: start to hand-over ")?;
        let (a, rest) = number(rest)?;
        let (b, _) = number(rest.strip_prefix(" TSC cycles, hand-over to kernel entry ")?)?;
        Some(vec![
            Metric::value("boot-loader-to-handover", "cycles", a),
            Metric::value("boot-handover-to-entry", "cycles", b),
        ])
    };
    parse().unwrap_or_default()
}

/// Every metric in a serial log (ANSI sequences already removed), in order
/// of appearance; a name seen twice keeps its first result.
pub fn parse_log(log: &str) -> Vec<Metric> {
    let mut out: Vec<Metric> = Vec::new();
    for line in log.lines() {
        let mut found = Vec::new();
        if let Some(m) = after_word(line, "bench", bench_at) {
            found.push(m);
        } else if let Some(m) = after_word(line, "value", value_at) {
            found.push(m);
        } else if let Some(m) = ferrous_ready(line) {
            found.push(m);
        } else {
            found.extend(ferrous_loader(line));
        }
        for m in found {
            if !out.iter().any(|o| o.name == m.name) {
                out.push(m);
            }
        }
    }
    out
}

/// The rest of the first line that contains `prefix`, trimmed.
pub fn line_after<'a>(log: &'a str, prefix: &str) -> Option<&'a str> {
    log.lines()
        .find_map(|l| l.split_once(prefix).map(|(_, rest)| rest.trim()))
}

#[cfg(test)]
mod tests {
    use super::*;

    const FERROUS: &str = "\
[     5278816] cpu0 INFO  kernel: loader: start to hand-over 131526934 TSC cycles, hand-over to kernel entry 147182
[    38403086] cpu0 INFO  kernel: ready: 38288532 TSC cycles after kernel entry
[    38752564] cpu0 INFO  ktest: test mm-bench: frame alloc/free, map/unmap and heap costs in cycles
[    68926560] cpu0 INFO  bench: bench heap-alloc-free-64: median 422 cycles/op (min 408, max 532, 15 x 2000 ops)
[   121809612] cpu0 INFO  bench: bench frame-alloc-free: median 1567 cycles/op (min 1556, max 1778, 15 x 2000 ops)
[   132205660] cpu0 INFO  bench: bench frame-alloc-free-order9: median 1162 cycles/op (min 1152, max 1727, 15 x 500 ops)
[   686537762] cpu0 INFO  ktest: test mm-bench: PASS
";

    #[test]
    fn ferrous_log_yields_benchmarks_and_boot_times() {
        let m = parse_log(FERROUS);
        let names: Vec<&str> = m.iter().map(|m| m.name.as_str()).collect();
        assert_eq!(
            names,
            [
                "boot-loader-to-handover",
                "boot-handover-to-entry",
                "boot-kernel-to-ready",
                "heap-alloc-free-64",
                "frame-alloc-free",
                "frame-alloc-free-order9"
            ]
        );
        assert_eq!(m[0].median, 131526934);
        assert_eq!(m[1].median, 147182);
        assert_eq!(
            m[2],
            Metric::value("boot-kernel-to-ready", "cycles", 38288532)
        );
        assert_eq!(
            m[4],
            Metric {
                name: "frame-alloc-free".into(),
                unit: "cycles/op".into(),
                median: 1567,
                min: 1556,
                max: 1778,
                batches: 15,
                iters: 2000,
            }
        );
        assert!(m.iter().all(|m| m.check_sane().is_ok()));
    }

    #[test]
    fn linux_lines_and_future_names_parse_generically() {
        let log = "linux init reached\n\
                   value tsc-khz: 2600000 kHz\n\
                   value boot-kernel-to-init: 123456 cycles\n\
                   bench getpid: median 190 cycles/op (min 190, max 215, 15 x 500 ops)\n\
                   [ 1] cpu0 INFO  bench: bench null-syscall: median 80 cycles/op (min 79, max 90, 15 x 10000 ops)\n\
                   bench-linux-ready\n";
        let m = parse_log(log);
        let names: Vec<&str> = m.iter().map(|m| m.name.as_str()).collect();
        assert_eq!(
            names,
            ["tsc-khz", "boot-kernel-to-init", "getpid", "null-syscall"]
        );
        assert_eq!(m[0].unit, "kHz");
        assert_eq!((m[3].median, m[3].iters), (80, 10000));
    }

    #[test]
    fn malformed_lines_are_ignored() {
        for bad in [
            "bench : median 1 cycles/op (min 1, max 1, 1 x 1 ops)",
            "bench x: median cycles/op (min 1, max 1, 1 x 1 ops)",
            "bench x: median 5 cycles/op (min 1, max 9, 15 x 2000 ops",
            "bench x: median 5 cycles/op (min 1, max 9)",
            "bench two words: median 5 cycles/op (min 1, max 9, 1 x 1 ops)",
            "debench x: median 5 cycles/op (min 1, max 9, 1 x 1 ops)",
            "value x: lots",
            "value x: 5",
            "ready: soon",
            "ready: 5 TSC cycles before lunch",
            "bench-linux-ready",
        ] {
            assert_eq!(parse_log(bad), [], "{bad}");
        }
    }

    #[test]
    fn first_result_of_a_name_wins() {
        let log = "bench a: median 2 c (min 1, max 3, 1 x 1 ops)\n\
                   bench a: median 9 c (min 9, max 9, 1 x 1 ops)\n";
        let m = parse_log(log);
        assert_eq!(m.len(), 1);
        assert_eq!(m[0].median, 2);
    }

    #[test]
    fn sanity_check_rejects_zero_and_disorder() {
        let mut m = Metric::value("x", "cycles", 5);
        assert!(m.check_sane().is_ok());
        m.min = 6;
        assert!(m.check_sane().is_err());
        m.min = 0;
        assert!(m.check_sane().is_err());
        assert!(Metric::value("x", "cycles", 0).check_sane().is_err());
    }

    #[test]
    fn line_after_finds_info_lines() {
        let log = "x\nlinux kernel: 6.1.0-56-amd64 #1 SMP\n";
        assert_eq!(
            line_after(log, "linux kernel:"),
            Some("6.1.0-56-amd64 #1 SMP")
        );
        assert_eq!(line_after(log, "nothing:"), None);
    }
}
