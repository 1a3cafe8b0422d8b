use super::*;
use crate::trace::synth::{BOOT_TSC, Synth, end_block, header, tw};
use ferrous_trace::EventType as E;

fn two_cpus() -> Synth {
    let mut s = Synth::new(2);
    s.rec(30, 1, tw(2), E::SchedIdle, 0, [0; 4])
        .rec(10, 0, tw(1), E::SchedWake, 0, [tw(2), tw(1), 0, 0])
        .rec(20, 0, tw(1), E::TraceLost, 0, [5, 0, 0, 0])
        .name(40, 2, 7, "a-long-process-name-cut");
    s
}

#[test]
fn header_records_and_end_block() {
    let t = two_cpus().decode();
    assert_eq!((t.cpus, t.tsc_hz, t.boot_tsc), (2, 1_000_000_000, BOOT_TSC));
    let ts: Vec<u64> = t.records.iter().map(|r| r.timestamp - BOOT_TSC).collect();
    assert_eq!(ts, [10, 20, 30, 40], "sorted by timestamp");
    assert_eq!(
        t.end,
        Some(EndBlock {
            written: 3,
            lost: 5
        })
    );
    assert!(!t.truncated);
    assert_eq!(t.lost_total, 5);
    assert_eq!(t.lost_per_cpu[&0], 5);
    assert_eq!(t.event_records(), 3);
    assert_eq!(t.undecodable, 0);
    assert!(t.warnings.is_empty(), "{:?}", t.warnings);
    assert_eq!(t.names[&tw(2)], "a-long-process-n", "16 bytes at most");
}

#[test]
fn equal_timestamps_keep_stream_order() {
    let mut s = Synth::new(1);
    for i in 0..5 {
        s.rec(7, 0, tw(i), E::SchedIdle, 0, [0; 4]);
    }
    let t = s.decode();
    let threads: Vec<u64> = t.records.iter().map(|r| r.thread).collect();
    assert_eq!(threads, [1, 2, 3, 4, 5]);
}

#[test]
fn missing_end_block_is_truncation_and_partial_block_is_noted() {
    let mut s = two_cpus();
    s.end = false;
    let mut bytes = s.bytes();
    bytes.extend_from_slice(&[1, 2, 3]);
    let t = decode(&bytes).unwrap();
    assert!(t.truncated);
    assert_eq!(t.records.len(), 4);
    assert_eq!(t.lost_total, 5, "from trace.lost without an end block");
    assert!(t.warnings.iter().any(|w| w.contains("3 trailing bytes")));
}

#[test]
fn undecodable_blocks_are_counted_and_skipped() {
    let s = two_cpus();
    let mut bytes = header(2, 1_000_000_000, BOOT_TSC).to_vec();
    bytes.extend_from_slice(&[0xAB; 64]); // garbage
    bytes.extend_from_slice(&s.records[0].to_bytes());
    bytes.extend_from_slice(&[0; 64]); // a zeroed block: version 0
    let mut bad_args = s.records[1].to_bytes();
    bad_args[63] = 1; // an unused argument set
    bytes.extend_from_slice(&bad_args);
    bytes.extend_from_slice(&header(2, 1, 0)); // a second header
    bytes.extend_from_slice(&end_block(1, 0));
    let t = decode(&bytes).unwrap();
    assert_eq!(t.records.len(), 1);
    assert_eq!(t.undecodable, 4);
    assert_eq!(t.undecodable_examples[0].0, 1);
    assert!(t.undecodable_examples[1].1.contains("version 0"));
    assert!(t.undecodable_examples[3].1.contains("second stream header"));
    assert!(!t.truncated);
}

#[test]
fn bad_streams_are_refused_with_a_reason() {
    assert!(decode(&[]).unwrap_err().contains("trace.out=serial"));
    assert!(decode(&[0x55; 256]).unwrap_err().contains("FERTRACE"));
    assert!(
        decode(&header(1, 1, 0)[..40])
            .unwrap_err()
            .contains("inside its header")
    );
    let mut v2 = header(1, 1, 0);
    v2[8] = 2;
    assert!(decode(&v2).unwrap_err().contains("version 2"));
}

#[test]
fn noise_before_the_header_and_after_the_end_is_tolerated() {
    let mut bytes = b"BdsDxe: loading\r\n".to_vec();
    bytes.extend_from_slice(&two_cpus().bytes());
    bytes.extend_from_slice(&two_cpus().records[0].to_bytes());
    let t = decode(&bytes).unwrap();
    assert_eq!(t.records.len(), 4);
    assert!(t.warnings.iter().any(|w| w.contains("skipped 17 bytes")));
    assert!(t.warnings.iter().any(|w| w.contains("after the end block")));
}

#[test]
fn zero_tsc_frequency_is_assumed_1ghz() {
    let mut bytes = header(1, 0, 0).to_vec();
    bytes.extend_from_slice(&end_block(0, 0));
    let t = decode(&bytes).unwrap();
    assert_eq!(t.tsc_hz, 1_000_000_000);
    assert_eq!(t.warnings.len(), 1);
}
