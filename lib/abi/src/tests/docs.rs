//! docs/ABI.md against the crate: every table lists exactly what the
//! crate defines.

use super::*;
use std::collections::BTreeSet;

const ABI_MD: &str = include_str!("../../../../docs/ABI.md");

/// The cells of every table row under the `## heading` whose first cell is
/// a number, backticks stripped.
pub(super) fn rows(heading: &str) -> Vec<Vec<String>> {
    let start = ABI_MD
        .find(&format!("\n## {heading}\n"))
        .unwrap_or_else(|| panic!("docs/ABI.md has no `## {heading}`"));
    let section = &ABI_MD[start + 1..];
    let section = &section[..section[3..].find("\n## ").map_or(section.len(), |e| e + 3)];
    section
        .lines()
        .filter_map(|line| {
            let cells: Vec<&str> = line.split('|').map(str::trim).collect();
            (cells.len() > 3 && cells[0].is_empty()).then(|| {
                cells[1..cells.len() - 1]
                    .iter()
                    .map(|c| c.trim_matches('`').to_string())
                    .collect::<Vec<String>>()
            })
        })
        .filter(|cells| cells[0].parse::<u64>().is_ok())
        .collect()
}

/// `(first cell, second cell)` of [`rows`].
fn table(heading: &str) -> BTreeSet<(String, String)> {
    rows(heading)
        .into_iter()
        .map(|r| (r[0].clone(), r[1].clone()))
        .collect()
}

/// The text of the `## {heading}` section.
fn section(heading: &str) -> &'static str {
    let start = ABI_MD
        .find(&format!("\n## {heading}\n"))
        .unwrap_or_else(|| panic!("docs/ABI.md has no `## {heading}`"));
    let section = &ABI_MD[start + 1..];
    &section[..section[3..].find("\n## ").map_or(section.len(), |e| e + 3)]
}

/// The rows of the table under `### {heading}` (header and separator
/// left out), backticks stripped.
fn subsection_rows(heading: &str) -> Vec<Vec<String>> {
    let start = ABI_MD
        .find(&format!("\n### {heading}\n"))
        .unwrap_or_else(|| panic!("docs/ABI.md has no `### {heading}`"));
    let section = &ABI_MD[start + 1..];
    let section = &section[..section[4..].find("\n#").map_or(section.len(), |e| e + 4)];
    let rows: Vec<Vec<String>> = section
        .lines()
        .filter(|line| line.starts_with('|'))
        .map(|line| {
            let cells: Vec<&str> = line.split('|').map(str::trim).collect();
            cells[1..cells.len() - 1]
                .iter()
                .map(|c| c.trim_matches('`').to_string())
                .collect()
        })
        .collect();
    assert!(rows.len() > 2, "`### {heading}` has no table");
    assert!(rows[1].iter().all(|c| c.starts_with("---")), "{heading}");
    rows[2..].to_vec()
}

/// "5" or "8 to 15" as a mask.
fn bit_range(cell: &str) -> u64 {
    let (lo, hi) = cell.split_once(" to ").unwrap_or((cell, cell));
    let (lo, hi): (u32, u32) = (lo.parse().unwrap(), hi.parse().unwrap());
    assert!(lo <= hi && hi < 64, "{cell}");
    (lo..=hi).fold(0, |m, b| m | 1 << b)
}

/// "3 to 7" as `(3, 7)`.
fn number_range(cell: &str) -> (u64, u64) {
    let (lo, hi) = cell
        .split_once(" to ")
        .unwrap_or_else(|| panic!("`{cell}` is no range"));
    (lo.parse().unwrap(), hi.parse().unwrap())
}

/// Checks a bit table: the rows cover the 64 bits once each, in order; a
/// named field has exactly the bits `field` gives for its name; a
/// reserved range has only bits for which `reserved` holds.
fn check_bit_table(heading: &str, field: impl Fn(&str) -> u64, reserved: impl Fn(u32) -> bool) {
    let mut covered = 0u64;
    for row in subsection_rows(heading) {
        let mask = bit_range(&row[0]);
        assert_eq!(covered & mask, 0, "{heading}: bits {} twice", row[0]);
        assert_eq!(
            mask.trailing_zeros(),
            covered.count_ones(),
            "{heading}: order"
        );
        covered |= mask;
        if row[1] == "reserved" {
            for bit in (0..64).filter(|b| mask >> b & 1 == 1) {
                assert!(reserved(bit), "{heading}: bit {bit} is not reserved");
            }
        } else {
            assert_eq!(field(&row[1]), mask, "{heading}: {}", row[1]);
        }
    }
    assert_eq!(covered, u64::MAX, "{heading}: every bit");
}

#[test]
fn docs_list_exactly_the_system_calls() {
    let crate_calls: BTreeSet<(String, String)> = Sysno::ALL
        .iter()
        .map(|&s| ((s as u64).to_string(), s.name().to_string()))
        .collect();
    assert_eq!(table("System calls"), crate_calls);
}

#[test]
fn docs_list_exactly_the_error_codes() {
    let crate_codes: BTreeSet<(String, String)> = ErrorCode::ALL
        .iter()
        .map(|&c| ((c as u64).to_string(), c.name().to_string()))
        .collect();
    assert_eq!(table("Error codes"), crate_codes);
}

#[test]
fn docs_give_each_error_code_its_detail() {
    for row in rows("Error codes") {
        let code = ErrorCode::from_raw(row[0].parse().unwrap()).unwrap();
        let detail = match code.detail() {
            Detail::None => "0",
            Detail::Arg => "arg",
            Detail::ArgRights => "arg, rights",
            Detail::Addr => "addr",
            Detail::Number => "nr",
        };
        assert_eq!(row[2], detail, "{code}");
    }
}

#[test]
fn docs_list_exactly_the_rights() {
    let crate_rights: BTreeSet<(String, String)> = RIGHTS
        .iter()
        .map(|(r, name)| (r.bits().trailing_zeros().to_string(), name.to_string()))
        .collect();
    assert_eq!(table("Rights"), crate_rights);
}

#[test]
fn docs_list_exactly_the_object_types() {
    let crate_types: BTreeSet<(String, String)> = ObjectType::ALL
        .iter()
        .map(|t| (t.raw().to_string(), t.name().to_string()))
        .collect();
    assert_eq!(table("Object types"), crate_types);
}

#[test]
fn docs_state_the_constants() {
    for (name, value) in [
        ("ABI_VERSION", u64::from(ABI_VERSION)),
        ("PAGE_SIZE", PAGE_SIZE),
        ("MAX_DEBUG_WRITE", MAX_DEBUG_WRITE),
        ("MAX_SPAWN_ARGS", MAX_SPAWN_ARGS),
        ("CSPACE_SLOTS", u64::from(CSPACE_SLOTS)),
        ("MAX_GRANTS", MAX_GRANTS),
        ("GRANT_SIZE", GRANT_SIZE),
        ("CONSOLE", u64::from(initial::CONSOLE.0)),
        ("SELF_SPACE", u64::from(initial::SELF_SPACE.0)),
        ("MEMORY", u64::from(initial::MEMORY.0)),
        ("IRQ_LINES", u64::from(initial::IRQ_LINES.0)),
        ("IO_PORTS", u64::from(initial::IO_PORTS.0)),
        ("MMIO", u64::from(initial::MMIO.0)),
        ("TRACE", u64::from(initial::TRACE.0)),
        ("FIRST_MODULE", u64::from(initial::FIRST_MODULE.0)),
        ("MSG_WORDS", MSG_WORDS as u64),
        ("TRACE_READ_HEADER", TRACE_READ_HEADER),
        ("MAX_TRACE_READ", MAX_TRACE_READ),
    ] {
        let row = format!("| `{name}` | {value} |");
        assert!(ABI_MD.contains(&row), "docs/ABI.md lacks `{row}`");
    }
    assert!(ABI_MD.contains("| `USER_END` | `0x0000_8000_0000_0000` |"));
    assert!(ABI_MD.contains("| `USER_MAP_END` | `0x0000_7fff_ffff_f000` |"));
    assert!(ABI_MD.contains("| `CHILD_SPACE` | `0xffff_ffff` |"));
    assert!(ABI_MD.contains("| `ANY_CPU` | `0xffff_ffff` |"));
    assert!(ABI_MD.contains("| `FRAME_MAP_OWN_SPACE` | `1 << 63` |"));
    assert_eq!(FRAME_MAP_OWN_SPACE, 1 << 63);
    assert_eq!(USER_MAP_END, 0x0000_7fff_ffff_f000);
    assert_eq!(Grant::CHILD_SPACE, 0xffff_ffff);
    assert_eq!(ANY_CPU, 0xffff_ffff);
}

#[test]
fn docs_give_msg_info_its_bits() {
    check_bit_table(
        "MsgInfo",
        |name| {
            let mut info = MsgInfo::default();
            match name {
                "words" => return MsgInfo::words(7).to_raw(),
                "nonblocking" => info.nonblocking = true,
                "cap_slot" => info.cap_slot = u8::MAX,
                "timeout_us" => info.timeout_us = u32::MAX,
                _ => panic!("MsgInfo has no field {name}"),
            }
            info.to_raw()
        },
        |bit| MsgInfo::from_raw(1 << bit).is_none() && 1 << bit & MSG_INFO_DEFINED == 0,
    );
}

#[test]
fn docs_give_recv_info_its_bits() {
    check_bit_table(
        "RecvInfo",
        |name| {
            let mut info = RecvInfo::default();
            match name {
                "words" => info.words = 7,
                "cap_received" => info.cap_received = true,
                "is_call" => info.is_call = true,
                "causal" => info.causal = u32::MAX,
                _ => panic!("RecvInfo has no field {name}"),
            }
            info.to_raw()
        },
        |bit| RecvInfo::from_raw(1 << bit) == RecvInfo::default(),
    );
}

/// The sender's column of the IPC register table is what `encode` does;
/// the receiver's is the convention `lib/abi/src/ipc.rs` states.
#[test]
fn docs_give_the_message_registers() {
    let words = [0xa0, 0xa1, 0xa2, 0xa3];
    let (_, args) = Syscall::IpcSend {
        endpoint: H,
        info: SEND_INFO,
        words,
    }
    .encode();
    let rows = subsection_rows("Message registers");
    let received = [
        ("rdi", "word 0"),
        ("rsi", "RecvInfo"),
        ("rdx", "badge"),
        ("r10", "word 1"),
        ("r8", "word 2"),
        ("r9", "word 3"),
    ];
    for (i, reg) in ARG_REGISTERS.iter().enumerate() {
        let sent = match args[i] {
            a if a == u64::from(H.0) => "endpoint".to_string(),
            a if a == SEND_INFO.to_raw() => "MsgInfo".to_string(),
            a => format!("word {}", words.iter().position(|&w| w == a).unwrap()),
        };
        let row = rows
            .iter()
            .find(|r| r[0] == *reg)
            .unwrap_or_else(|| panic!("no row for {reg}"));
        assert!(row[1].starts_with(&sent), "{reg}: {} is not {sent}", row[1]);
        let got = received.iter().find(|r| r.0 == *reg).unwrap().1;
        assert!(row[2].starts_with(got), "{reg}: {} is not {got}", row[2]);
    }
    assert_eq!(rows.len(), 1 + ARG_REGISTERS.len(), "rax and the arguments");
    assert_eq!(rows[0][0], "rax");
}

/// Each version's entry under Versions names the calls it added as a
/// range ("Calls A to B"); the ranges follow each other from 1 to the
/// last call, the last entry is `ABI_VERSION`'s, and since version 3 an
/// entry names each of its calls.
#[test]
fn docs_give_every_version_its_calls() {
    let text = section("Versions");
    let entries: Vec<&str> = text.split("\n- **").skip(1).collect();
    assert_eq!(entries.len(), ABI_VERSION as usize, "an entry per version");
    let mut next = 1;
    for (i, entry) in entries.iter().enumerate() {
        let version = i as u32 + 1;
        assert!(entry.starts_with(&format!("{version}**:")), "{entry}");
        let at = entry
            .find("alls ")
            .unwrap_or_else(|| panic!("version {version} names no calls"));
        let words: Vec<&str> = entry[at + 5..].splitn(4, ' ').collect();
        let last = words[2].trim_end_matches(|c: char| !c.is_ascii_digit());
        let (first, last) = number_range(&format!("{} to {last}", words[0]));
        assert_eq!(words[1], "to", "version {version}");
        assert_eq!(first, next, "version {version} starts where the last ended");
        assert!(first <= last, "version {version}");
        next = last + 1;
        if version >= 3 {
            for nr in first..=last {
                let name = Sysno::from_raw(nr).unwrap().name();
                assert!(entry.contains(&format!("`{name}`")), "{version}: {name}");
            }
        }
    }
    let newest = Sysno::ALL.iter().map(|&s| s as u64).max().unwrap();
    assert_eq!(next, newest + 1, "the last version ends at the newest call");
}

/// The `trace_read` buffer table: the header as `u64` words covering
/// exactly `TRACE_READ_HEADER` bytes, then the records, 64 bytes each.
#[test]
fn docs_give_the_trace_read_buffer() {
    let rows = subsection_rows("trace_read buffer");
    let (records, header) = rows.split_last().unwrap();
    let mut at = 0;
    for row in header {
        let (lo, hi) = number_range(&row[0]);
        assert_eq!((lo, hi), (at, at + 7), "a u64 at byte {at}");
        assert!(row[1].contains("u64"), "{}", row[1]);
        at = hi + 1;
    }
    assert_eq!(at, TRACE_READ_HEADER);
    assert_eq!(records[0], format!("{TRACE_READ_HEADER} onwards"));
    assert!(records[1].contains(&format!("{TRACE_RECORD} bytes each")));
}

/// The metrics tables: the kernel's words end with the records lost at
/// word `5n + 65` (as [`kernel_metrics_words`] counts them), and a
/// process has five words.
#[test]
fn docs_give_the_metrics() {
    let kernel = subsection_rows("Kernel metrics");
    let first: Vec<&str> = kernel.iter().map(|r| r[0].as_str()).collect();
    assert_eq!(first, ["0", "1 to 5n", "5n + 1 to 5n + 64", "5n + 65"]);
    for n in [1, 4, 64] {
        assert_eq!(kernel_metrics_words(n), 5 * n + 65 + 1);
    }
    assert!(kernel[3][1].contains("lost"), "{}", kernel[3][1]);
    let process = subsection_rows("Process metrics");
    let words: Vec<&str> = process.iter().map(|r| r[0].as_str()).collect();
    assert_eq!(words, ["0", "1", "2", "3", "4"]);
}

/// `lib/trace/src/event.rs`, where the trace categories are defined: the
/// ABI crate cannot depend on `ferrous-trace` (that crate depends on it),
/// so the table is checked against the source text.
const TRACE_EVENTS_RS: &str = include_str!("../../../trace/src/event.rs");

/// The categories table lists exactly `ferrous_trace::Category`: each
/// number is the category's bit in `trace_control`'s mask.
#[test]
fn docs_list_exactly_the_trace_categories() {
    let start = TRACE_EVENTS_RS
        .find("pub enum Category: u8 {")
        .expect("event.rs defines Category");
    let body = &TRACE_EVENTS_RS[start..];
    let body = &body[..body.find("\n    }").unwrap()];
    let defined: BTreeSet<(String, String)> = body
        .lines()
        .filter_map(|line| {
            let (_, rest) = line.split_once(" = ")?;
            let (bit, name) = rest.split_once(" => ")?;
            let name = name.trim_end_matches(',').trim_matches('"');
            Some((bit.to_string(), name.to_string()))
        })
        .collect();
    // Category `i` is bit `i`, with no gaps (`Categories::ALL` is a run
    // of ones); this also fails if the parse above found nothing.
    let mut bits: Vec<u32> = defined.iter().map(|(b, _)| b.parse().unwrap()).collect();
    bits.sort_unstable();
    assert!(!bits.is_empty() && bits.len() <= 32, "{defined:?}");
    assert_eq!(bits, (0..bits.len() as u32).collect::<Vec<u32>>());
    let listed: BTreeSet<(String, String)> = subsection_rows("Trace categories")
        .into_iter()
        .map(|r| (r[0].clone(), r[1].clone()))
        .collect();
    assert_eq!(listed, defined);
}

/// `ferrous_trace::record::BYTES`, the size the docs and [`TRACE_RECORD`]
/// give a record, from the source text for the same reason.
#[test]
fn trace_record_size_matches_the_trace_crate() {
    let record_rs = include_str!("../../../trace/src/record.rs");
    assert!(record_rs.contains("pub const WORDS: usize = 8;"));
    assert!(record_rs.contains("pub const BYTES: usize = WORDS * 8;"));
    assert_eq!(TRACE_RECORD, 8 * 8);
}
