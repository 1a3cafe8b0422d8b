//! Property tests: records round-trip and decoding is strict; category
//! sets round-trip through their names; and random sequences of pushes,
//! reads and drains on a ring agree with a simple model.

use super::ring::numbered;
use crate::*;
use proptest::prelude::*;
use std::string::ToString;
use std::vec;
use std::vec::Vec;

fn any_record() -> impl Strategy<Value = Record> {
    (
        any::<u64>(),
        any::<u16>(),
        any::<u64>(),
        proptest::sample::select(EventType::ALL),
        any::<u64>(),
        any::<[u64; MAX_ARGS]>(),
    )
        .prop_map(|(timestamp, cpu, thread, event, causal, mut args)| {
            args[event.args().len()..].fill(0);
            Record {
                timestamp,
                cpu,
                thread,
                event,
                causal,
                args,
            }
        })
}

proptest! {
    #[test]
    fn records_round_trip(r in any_record()) {
        prop_assert_eq!(Record::decode(r.encode()), Ok(r));
        prop_assert_eq!(Record::from_bytes(&r.to_bytes()), Ok(r));
        // Printing never panics and starts with the event's name.
        prop_assert!(describe(&r).to_string().starts_with(r.event.name()));
    }

    /// Decoding accepts exactly what encoding produces: whatever it
    /// accepts encodes back to the same words.
    #[test]
    fn decoding_is_strict(words in any::<[u64; WORDS]>(), header in any_record()) {
        for w in [words, { let mut w = words; w[1] = header.encode()[1]; w }] {
            if let Ok(r) = Record::decode(w) {
                prop_assert_eq!(r.encode(), w);
            }
        }
    }

    #[test]
    fn category_sets_round_trip_through_names(bits in 0..=Categories::ALL.bits()) {
        let set = Categories::from_bits(bits).unwrap();
        let shown = set.to_string();
        prop_assert_eq!(parse_spec(&shown), Ok(set));
        let names: Vec<&str> = set.iter().map(Category::name).collect();
        if !names.is_empty() {
            let listed = names.join(",");
            prop_assert_eq!(parse_spec(&listed), Ok(set));
        }
    }

    #[test]
    fn parse_spec_never_panics(spec in "[a-z,\\- ]{0,24}") {
        if let Err(SpecError::UnknownName(word)) = parse_spec(&spec) {
            prop_assert!(spec.contains(word));
        }
    }
}

#[derive(Clone, Debug)]
enum Op {
    Push,
    Read { back: u64, room: usize },
    Drain { room: usize },
}

fn any_op() -> impl Strategy<Value = Op> {
    prop_oneof![
        3 => Just(Op::Push),
        1 => (0u64..24, 0usize..12).prop_map(|(back, room)| Op::Read { back, room }),
        1 => (0usize..12).prop_map(|room| Op::Drain { room }),
    ]
}

/// What the ring should hold: the record number at each position, the
/// drain cursor, and the loss count.
struct Model {
    capacity: u64,
    policy: Policy,
    positions: Vec<u64>,
    tail: u64,
    lost: u64,
}

impl Model {
    fn head(&self) -> u64 {
        self.positions.len() as u64
    }

    /// The record numbers a read from `cursor` with room for `room`
    /// returns, and its result.
    fn read(&self, cursor: u64, room: usize) -> (Vec<u64>, ReadResult) {
        let head = self.head();
        if cursor > head {
            return (
                vec![],
                ReadResult {
                    records: 0,
                    next: cursor,
                    skipped: 0,
                },
            );
        }
        let start = cursor.max(head.saturating_sub(self.capacity));
        let end = head.min(start + room as u64);
        let got = self.positions[start as usize..end as usize].to_vec();
        let result = ReadResult {
            records: got.len(),
            next: end,
            skipped: start - cursor,
        };
        (got, result)
    }
}

proptest! {
    #[test]
    fn ring_agrees_with_model(
        capacity_log in 0u32..4,
        overwrite in any::<bool>(),
        ops in proptest::collection::vec(any_op(), 0..80),
    ) {
        let policy = if overwrite { Policy::Overwrite } else { Policy::DropNewest };
        let capacity = 1u64 << capacity_log;
        let ring = Ring::new(capacity as usize, policy).unwrap();
        let mut m = Model { capacity, policy, positions: vec![], tail: 0, lost: 0 };
        let mut out = [Record::default(); 12];
        for (i, op) in ops.into_iter().enumerate() {
            let i = i as u64;
            match op {
                Op::Push => {
                    let full = m.head() - m.tail >= m.capacity;
                    let accept = !(full && m.policy == Policy::DropNewest);
                    if full {
                        m.lost += 1;
                    }
                    if accept {
                        m.positions.push(i);
                    }
                    prop_assert_eq!(ring.push(&numbered(i)), accept);
                }
                Op::Read { back, room } => {
                    let cursor = (m.head() + 4).saturating_sub(back);
                    let (want, want_result) = m.read(cursor, room);
                    let result = ring.read_from(cursor, &mut out[..room]);
                    prop_assert_eq!(result, want_result);
                    let got: Vec<u64> = out[..result.records].iter().map(|r| r.timestamp).collect();
                    prop_assert_eq!(got, want);
                }
                Op::Drain { room } => {
                    let (want, want_result) = m.read(m.tail, room);
                    let result = ring.drain(&mut out[..room]);
                    prop_assert_eq!(result, want_result);
                    let got: Vec<u64> = out[..result.records].iter().map(|r| r.timestamp).collect();
                    prop_assert_eq!(got, want);
                    m.tail = result.next;
                }
            }
            prop_assert_eq!(ring.lost(), m.lost);
            prop_assert_eq!(ring.head(), m.head());
        }
    }
}

proptest! {
    /// With one producer, `push_exclusive` stores exactly what `push`
    /// stores: the same records at the same positions, read back alike.
    #[test]
    fn exclusive_push_matches_push(n in 0u64..200, room in 1usize..40, cursor in 0u64..220) {
        let a = Ring::new(16, Policy::Overwrite).unwrap();
        let b = Ring::new(16, Policy::Overwrite).unwrap();
        for i in 0..n {
            prop_assert!(a.push(&numbered(i)));
            prop_assert!(b.push_exclusive(&numbered(i)));
        }
        prop_assert_eq!(a.head(), b.head());
        let mut oa = vec![Record::default(); room];
        let mut ob = vec![Record::default(); room];
        let ra = a.read_from(cursor, &mut oa);
        let rb = b.read_from(cursor, &mut ob);
        prop_assert_eq!(ra, rb);
        prop_assert_eq!(&oa[..ra.records], &ob[..rb.records]);
        // Nothing drains, so nothing counts as lost for the exclusive push.
        prop_assert_eq!(b.lost(), 0);
    }
}
