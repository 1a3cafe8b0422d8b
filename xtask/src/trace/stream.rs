//! The COM2 stream: parsing the bytes `trace.out=serial` writes into a
//! [`Trace`].
//!
//! Little-endian 64-byte blocks: one header block (`FERTRACE`, stream
//! version, CPU count, TSC frequency, boot TSC), record blocks (each
//! [`Record::to_bytes`]; CPUs interleaved, each CPU's own in order), and
//! an end block (`FERTREND`, records written, records lost) when the
//! kernel shut down cleanly. A block that is not a record is counted and
//! skipped; a missing end block marks the stream truncated.

use ferrous_trace::{BYTES, EventType, Record};
use std::collections::BTreeMap;
use std::path::Path;

pub const HEADER_MAGIC: &[u8; 8] = b"FERTRACE";
pub const END_MAGIC: &[u8; 8] = b"FERTREND";
/// The stream layout this decoder reads.
pub const STREAM_VERSION: u32 = 1;
/// How far into the file the header is looked for (bytes another writer
/// may have put on COM2 first are skipped, with a warning).
const HEADER_SEARCH: usize = 64 * 1024;
/// Decode errors kept verbatim for the report; the rest are only counted.
const ERRORS_KEPT: usize = 5;

/// The end block: the kernel's own totals.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct EndBlock {
    /// Record blocks the kernel wrote (its `trace.lost` blocks excluded).
    pub written: u64,
    pub lost: u64,
}

/// A decoded trace.
#[derive(Debug, Clone, Default)]
pub struct Trace {
    pub cpus: u32,
    /// TSC ticks per second (from the header; 1 GHz assumed if it was 0).
    pub tsc_hz: u64,
    /// The TSC at kernel entry: time 0 of every timestamp shown.
    pub boot_tsc: u64,
    /// Every decoded record, sorted by timestamp (stable, so each CPU's
    /// own order is kept among equal timestamps).
    pub records: Vec<Record>,
    /// Thread word → name, from `trace.name` records.
    pub names: BTreeMap<u64, String>,
    /// Per CPU: the sum of its `trace.lost` counts.
    pub lost_per_cpu: BTreeMap<u16, u64>,
    /// Records lost: the end block's total, or without one the sum of the
    /// `trace.lost` counts.
    pub lost_total: u64,
    pub end: Option<EndBlock>,
    /// Blocks that were neither a record nor an end block.
    pub undecodable: u64,
    /// The first few of those: block number (the header is 0) and why.
    pub undecodable_examples: Vec<(usize, String)>,
    /// No end block: the kernel did not shut down cleanly (or the file was
    /// cut short).
    pub truncated: bool,
    /// Anything else worth a line in the summary.
    pub warnings: Vec<String>,
}

impl Trace {
    /// Reads and decodes a stream file.
    pub fn read(path: &Path) -> Result<Trace, String> {
        let bytes = std::fs::read(path).map_err(|e| format!("reading {}: {e}", path.display()))?;
        decode(&bytes).map_err(|e| format!("{}: {e}", path.display()))
    }

    /// Records that are not `trace.lost` (comparable with the end
    /// block's `written`).
    pub fn event_records(&self) -> u64 {
        self.records
            .iter()
            .filter(|r| r.event != EventType::TraceLost)
            .count() as u64
    }

    /// First and last timestamp (the boot TSC if there are no records).
    pub fn span(&self) -> (u64, u64) {
        match (self.records.first(), self.records.last()) {
            (Some(a), Some(b)) => (a.timestamp, b.timestamp),
            _ => (self.boot_tsc, self.boot_tsc),
        }
    }
}

fn u32_at(b: &[u8], at: usize) -> u32 {
    u32::from_le_bytes(b[at..at + 4].try_into().expect("4 bytes"))
}

fn u64_at(b: &[u8], at: usize) -> u64 {
    u64::from_le_bytes(b[at..at + 8].try_into().expect("8 bytes"))
}

/// Decodes a whole stream. Fails only if there is no usable header; every
/// later problem is counted or noted in the [`Trace`].
pub fn decode(bytes: &[u8]) -> Result<Trace, String> {
    if bytes.is_empty() {
        return Err("empty trace stream: nothing was written to COM2 \
                    (is `trace.out=serial` on the kernel command line?)"
            .into());
    }
    let window = &bytes[..bytes.len().min(HEADER_SEARCH)];
    let start = window
        .windows(HEADER_MAGIC.len())
        .position(|w| w == HEADER_MAGIC)
        .ok_or("no FERTRACE header at the start of the trace stream")?;
    let mut t = Trace::default();
    if start > 0 {
        t.warnings
            .push(format!("skipped {start} bytes before the stream header"));
    }
    let header = bytes
        .get(start..start + BYTES)
        .ok_or("the trace stream ends inside its header")?;
    let version = u32_at(header, 8);
    if version != STREAM_VERSION {
        return Err(format!(
            "trace stream version {version}, this decoder reads {STREAM_VERSION}"
        ));
    }
    t.cpus = u32_at(header, 12);
    t.tsc_hz = u64_at(header, 16);
    t.boot_tsc = u64_at(header, 24);
    if t.tsc_hz == 0 {
        t.tsc_hz = 1_000_000_000;
        t.warnings
            .push("the header gives no TSC frequency; assuming 1 GHz".into());
    }
    let body = &bytes[start + BYTES..];
    let (blocks, rest) = body.as_chunks::<BYTES>();
    let mut ended = false;
    for (i, block) in blocks.iter().enumerate() {
        let number = i + 1;
        if ended {
            t.warnings.push(format!(
                "{} blocks after the end block ignored",
                blocks.len() - i
            ));
            break;
        }
        if block[..8] == END_MAGIC[..] {
            t.end = Some(EndBlock {
                written: u64_at(block, 8),
                lost: u64_at(block, 16),
            });
            ended = true;
            continue;
        }
        let why = if block[..8] == HEADER_MAGIC[..] {
            "a second stream header".to_string()
        } else {
            match Record::from_bytes(block) {
                Ok(r) => {
                    t.records.push(r);
                    continue;
                }
                Err(e) => e.to_string(),
            }
        };
        t.undecodable += 1;
        if t.undecodable_examples.len() < ERRORS_KEPT {
            t.undecodable_examples.push((number, why));
        }
    }
    if !rest.is_empty() && !ended {
        t.warnings.push(format!(
            "{} trailing bytes do not make a whole block",
            rest.len()
        ));
    }
    t.truncated = !ended;
    t.records.sort_by_key(|r| r.timestamp);
    for r in &t.records {
        match r.event {
            EventType::TraceLost => *t.lost_per_cpu.entry(r.cpu).or_default() += r.args[0],
            EventType::TraceName => {
                t.names.insert(r.args[0], name_of(r.args[2], r.args[3]));
            }
            _ => {}
        }
    }
    let reported: u64 = t.lost_per_cpu.values().sum();
    t.lost_total = t.end.map_or(reported, |e| e.lost);
    Ok(t)
}

/// The name in a `trace.name` record: 16 bytes, NUL-padded; anything but
/// printable ASCII shown as `?`.
pub fn name_of(name0: u64, name1: u64) -> String {
    name0
        .to_le_bytes()
        .into_iter()
        .chain(name1.to_le_bytes())
        .take_while(|&b| b != 0)
        .map(|b| if b.is_ascii_graphic() { b as char } else { '?' })
        .collect()
}

#[cfg(test)]
#[path = "tests/stream.rs"]
mod tests;
