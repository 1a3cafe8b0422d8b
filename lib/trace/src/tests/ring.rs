//! The ring alone and under concurrency. Test records are derived from a
//! number `i` in every word, so a torn or mixed record is recognisable.

use crate::event::EventType;
use crate::record::Record;
use crate::ring::*;
use std::sync::Barrier;
use std::sync::atomic::{AtomicBool, Ordering};
use std::thread;
use std::vec;
use std::vec::Vec;

/// Record number `i`: every field a different function of `i`.
pub(super) fn numbered(i: u64) -> Record {
    Record {
        timestamp: i,
        cpu: (i % 7) as u16,
        thread: i.wrapping_mul(0x9e37_79b9_7f4a_7c15),
        event: EventType::IpcSend,
        causal: !i,
        args: [i ^ 0x5555, i.rotate_left(17), i.wrapping_mul(3), i + 7],
    }
}

/// The `i` of a record, checking that all its words agree.
fn number_of(r: &Record) -> u64 {
    assert_eq!(*r, numbered(r.timestamp), "torn or mixed record");
    r.timestamp
}

fn ring(capacity: usize, policy: Policy) -> Ring {
    Ring::new(capacity, policy).unwrap()
}

fn read_all(ring: &Ring, cursor: u64) -> (Vec<u64>, ReadResult) {
    let mut out = vec![Record::default(); ring.capacity() + 1];
    let r = ring.read_from(cursor, &mut out);
    (out[..r.records].iter().map(number_of).collect(), r)
}

#[test]
fn capacity_must_be_a_power_of_two() {
    for bad in [0, 3, 6, 1000] {
        assert_eq!(
            Ring::new(bad, Policy::Overwrite).unwrap_err(),
            RingError::NotPowerOfTwo(bad)
        );
    }
    assert_eq!(ring(1, Policy::Overwrite).capacity(), 1);
    assert_eq!(ring(64, Policy::DropNewest).capacity(), 64);
    assert_eq!(
        RingError::NotPowerOfTwo(3).to_string(),
        "trace ring capacity 3 is not a power of two"
    );
}

#[test]
fn an_empty_ring_reads_nothing() {
    let r = ring(8, Policy::Overwrite);
    let (got, res) = read_all(&r, 0);
    assert!(got.is_empty());
    assert_eq!(
        res,
        ReadResult {
            records: 0,
            next: 0,
            skipped: 0
        }
    );
    assert_eq!(r.lost(), 0);
}

#[test]
fn records_come_back_in_order() {
    let r = ring(8, Policy::Overwrite);
    for i in 0..5 {
        assert!(r.push(&numbered(i)));
    }
    let (got, res) = read_all(&r, 0);
    assert_eq!(got, [0, 1, 2, 3, 4]);
    assert_eq!(
        res,
        ReadResult {
            records: 5,
            next: 5,
            skipped: 0
        }
    );
    let (got, _) = read_all(&r, 3);
    assert_eq!(got, [3, 4], "reading does not consume");
    assert_eq!(r.head(), 5);
    assert_eq!(r.oldest(), 0);
}

#[test]
fn a_small_buffer_reads_in_pieces() {
    let r = ring(8, Policy::Overwrite);
    (0..6).for_each(|i| assert!(r.push(&numbered(i))));
    let mut out = [Record::default(); 4];
    let first = r.read_from(0, &mut out);
    assert_eq!(
        first,
        ReadResult {
            records: 4,
            next: 4,
            skipped: 0
        }
    );
    let second = r.read_from(first.next, &mut out);
    assert_eq!(
        second,
        ReadResult {
            records: 2,
            next: 6,
            skipped: 0
        }
    );
    assert_eq!(number_of(&out[1]), 5);
    assert_eq!(r.read_from(6, &mut out).records, 0);
    assert_eq!(r.read_from(0, &mut []).next, 0);
}

#[test]
fn a_cursor_from_the_future_reads_nothing() {
    let r = ring(8, Policy::Overwrite);
    r.push(&numbered(0));
    let (got, res) = read_all(&r, 100);
    assert!(got.is_empty());
    assert_eq!(
        res,
        ReadResult {
            records: 0,
            next: 100,
            skipped: 0
        }
    );
}

#[test]
fn overwrite_keeps_the_latest_and_counts_the_rest() {
    let r = ring(8, Policy::Overwrite);
    let n = 8 * 10 + 3;
    for i in 0..n {
        assert!(r.push(&numbered(i)), "overwrite never refuses");
    }
    let (got, res) = read_all(&r, 0);
    assert_eq!(got, (n - 8..n).collect::<Vec<_>>());
    assert_eq!(res.skipped, n - 8);
    assert_eq!(res.next, n);
    assert_eq!(r.lost(), n - 8);
    assert_eq!(r.oldest(), n - 8);
}

#[test]
fn overwrite_counts_only_what_was_not_drained() {
    let r = ring(8, Policy::Overwrite);
    let mut out = [Record::default(); 8];
    (0..8).for_each(|i| assert!(r.push(&numbered(i))));
    assert_eq!(r.drain(&mut out).records, 8);
    (8..21).for_each(|i| assert!(r.push(&numbered(i))));
    assert_eq!(r.lost(), 5, "13 pushed into 8 free slots");
    let res = r.drain(&mut out);
    assert_eq!(
        res,
        ReadResult {
            records: 8,
            next: 21,
            skipped: 5
        }
    );
    assert_eq!(number_of(&out[0]), 13);
    assert_eq!(r.lost(), 5, "draining does not count again");
}

#[test]
fn drop_newest_keeps_the_first_and_counts_the_rest() {
    let r = ring(8, Policy::DropNewest);
    for i in 0..8 {
        assert!(r.push(&numbered(i)));
    }
    for i in 8..20 {
        assert!(!r.push(&numbered(i)), "a full ring refuses");
    }
    assert_eq!(r.lost(), 12);
    let (got, res) = read_all(&r, 0);
    assert_eq!(got, (0..8).collect::<Vec<_>>());
    assert_eq!(res.skipped, 0);
    assert!(!r.push(&numbered(20)), "reading does not free space");

    let mut out = [Record::default(); 3];
    assert_eq!(r.drain(&mut out).records, 3);
    for i in 21..24 {
        assert!(r.push(&numbered(i)), "draining frees space");
    }
    assert!(!r.push(&numbered(24)));
    assert_eq!(r.lost(), 14);
    let mut out = [Record::default(); 16];
    let res = r.drain(&mut out);
    assert_eq!(
        res,
        ReadResult {
            records: 8,
            next: 11,
            skipped: 0
        }
    );
    let got: Vec<u64> = out[..8].iter().map(number_of).collect();
    assert_eq!(got, [3, 4, 5, 6, 7, 21, 22, 23]);
}

#[test]
fn capacity_one_works() {
    let r = ring(1, Policy::Overwrite);
    (0..3).for_each(|i| assert!(r.push(&numbered(i))));
    assert_eq!(read_all(&r, 0).0, [2]);
    assert_eq!(r.lost(), 2);
}

#[test]
fn debug_shows_the_counters() {
    let r = ring(2, Policy::DropNewest);
    (0..3).for_each(|i| _ = r.push(&numbered(i)));
    assert_eq!(
        std::format!("{r:?}"),
        "Ring { capacity: 2, policy: DropNewest, head: 2, tail: 0, lost: 1 }"
    );
}

const PUSHES: u64 = 1_000_000;

/// One producer overwriting a small ring as fast as it can while two
/// readers chase it: every record a reader returns is whole, in order,
/// and every position is accounted for as read or skipped.
#[test]
fn concurrent_readers_never_see_a_torn_record() {
    let r = ring(16, Policy::Overwrite);
    let done = AtomicBool::new(false);
    let start = Barrier::new(3);
    thread::scope(|s| {
        s.spawn(|| {
            start.wait();
            for i in 0..PUSHES {
                r.push(&numbered(i));
            }
            done.store(true, Ordering::Release);
        });
        let readers: Vec<_> = (0..2)
            .map(|_| {
                s.spawn(|| {
                    start.wait();
                    let mut out = [Record::default(); 4];
                    let (mut cursor, mut read, mut skipped) = (0, 0, 0);
                    let mut last = None;
                    loop {
                        let finished = done.load(Ordering::Acquire);
                        let res = r.read_from(cursor, &mut out);
                        assert_eq!(res.next - cursor, res.records as u64 + res.skipped);
                        for rec in &out[..res.records] {
                            let i = number_of(rec);
                            assert!(last < Some(i), "out of order");
                            assert!(i >= cursor && i < res.next);
                            last = Some(i);
                        }
                        (cursor, read, skipped) =
                            (res.next, read + res.records as u64, skipped + res.skipped);
                        if finished && cursor == PUSHES {
                            return (read, skipped);
                        }
                    }
                })
            })
            .collect();
        for reader in readers {
            let (read, skipped) = reader.join().unwrap();
            assert_eq!(read + skipped, PUSHES);
            assert!(read > 0);
        }
    });
    assert_eq!(r.lost(), PUSHES - 16);
}

/// A producer filling a DropNewest ring while two drains empty it: each
/// accepted record is drained exactly once, in order, and each refused one
/// is counted.
#[test]
fn concurrent_drains_deliver_each_record_once() {
    let r = ring(32, Policy::DropNewest);
    let done = AtomicBool::new(false);
    let start = Barrier::new(3);
    let (accepted, drained) = thread::scope(|s| {
        let producer = s.spawn(|| {
            start.wait();
            let mut accepted = Vec::new();
            for i in 0..PUSHES {
                if r.push(&numbered(i)) {
                    accepted.push(i);
                }
            }
            done.store(true, Ordering::Release);
            accepted
        });
        let drains: Vec<_> = (0..2)
            .map(|_| {
                s.spawn(|| {
                    start.wait();
                    let mut out = [Record::default(); 8];
                    let mut got = Vec::new();
                    loop {
                        let finished = done.load(Ordering::Acquire);
                        let res = r.drain(&mut out);
                        assert_eq!(res.skipped, 0, "DropNewest never overwrites");
                        let batch: Vec<u64> = out[..res.records].iter().map(number_of).collect();
                        assert!(batch.is_sorted());
                        got.extend(batch);
                        if finished && res.records == 0 {
                            return got;
                        }
                    }
                })
            })
            .collect();
        let mut drained: Vec<u64> = drains.into_iter().flat_map(|d| d.join().unwrap()).collect();
        drained.sort_unstable();
        (producer.join().unwrap(), drained)
    });
    assert_eq!(drained, accepted, "each accepted record drained once");
    assert_eq!(r.lost(), PUSHES - accepted.len() as u64);
}

/// Two producers on one ring break the contract, but with room for
/// everything neither loses or garbles the other's records: each claims
/// its own positions.
#[test]
fn two_producers_claim_distinct_positions() {
    const EACH: u64 = 131_072;
    let r = ring(2 * EACH as usize, Policy::Overwrite);
    let start = Barrier::new(2);
    thread::scope(|s| {
        for p in 0..2 {
            let (r, start) = (&r, &start);
            s.spawn(move || {
                start.wait();
                for i in 0..EACH {
                    assert!(r.push(&numbered(p * EACH + i)));
                }
            });
        }
    });
    let mut out = vec![Record::default(); r.capacity()];
    let res = r.read_from(0, &mut out);
    assert_eq!(res.records as u64, 2 * EACH);
    let mut got: Vec<u64> = out.iter().map(number_of).collect();
    got.sort_unstable();
    assert_eq!(got, (0..2 * EACH).collect::<Vec<_>>());
    assert_eq!(r.lost(), 0);
}

/// Two producers lapping a tiny ring: garbage may result, but nothing
/// panics, reads terminate and every position is accounted for.
#[test]
fn two_producers_on_a_tiny_ring_stay_safe() {
    let r = ring(4, Policy::Overwrite);
    let done = AtomicBool::new(false);
    thread::scope(|s| {
        for p in 0..2 {
            let (r, done) = (&r, &done);
            s.spawn(move || {
                for i in 0..PUSHES / 4 {
                    r.push(&numbered(p << 32 | i));
                }
                done.store(true, Ordering::Release);
            });
        }
        let mut out = [Record::default(); 4];
        let mut cursor = 0;
        while !done.load(Ordering::Acquire) {
            let res = r.read_from(cursor, &mut out);
            assert_eq!(res.next - cursor, res.records as u64 + res.skipped);
            cursor = res.next;
        }
    });
    assert_eq!(r.head(), PUSHES / 2);
}
