//! Property tests: random alloc/free sequences against a simple model.

use super::*;
use proptest::prelude::*;

/// What the allocator should look like, kept the simple way.
struct Model {
    base: u64,
    frames: u64,
    free: BTreeSet<u64>,
    live: BTreeMap<u64, (u8, FrameKind)>,
    total: u64,
}

impl Model {
    fn stats(&self) -> Stats {
        let mut allocated = [0; FrameKind::ALL.len()];
        for &(o, k) in self.live.values() {
            allocated[k as usize] += 1 << o;
        }
        Stats {
            total: self.total,
            free: self.free.len() as u64,
            allocated,
        }
    }

    /// The live block containing `pfn`, if any.
    fn owner(&self, pfn: u64) -> Option<(u64, u8, FrameKind)> {
        let (&s, &(o, k)) = self.live.range(..=pfn).next_back()?;
        (pfn < s + (1 << o)).then_some((s, o, k))
    }

    /// What `free(pfn, order)` must return.
    fn expect_free(&self, pfn: u64, order: u8) -> Result<FrameKind, FrameError> {
        use FrameError::*;
        if order > MAX_ORDER {
            return Err(OrderTooLarge { order });
        }
        if !pfn.is_multiple_of(1 << order) {
            return Err(Misaligned { pfn, order });
        }
        if pfn < self.base || pfn >= self.base + self.frames {
            return Err(OutsideArena { pfn });
        }
        if self.free.contains(&pfn) {
            return Err(DoubleFree { pfn });
        }
        match self.owner(pfn) {
            None => Err(NotAllocated { pfn }),
            Some((s, _, _)) if s != pfn => Err(InsideAllocation { pfn, start: s }),
            Some((_, o, _)) if o != order => Err(WrongOrder {
                pfn,
                allocated: o,
                given: order,
            }),
            Some((_, _, k)) => Ok(k),
        }
    }

    /// A buddy allocator that coalesces completely fails an allocation
    /// exactly when no aligned block of the order is entirely free.
    fn has_free_block(&self, order: u8) -> bool {
        let size = 1u64 << order;
        (self.base..self.base + self.frames)
            .step_by(size as usize)
            .any(|s| {
                s + size <= self.base + self.frames && (s..s + size).all(|p| self.free.contains(&p))
            })
    }
}

#[derive(Clone, Debug)]
enum Op {
    Alloc(u8, usize),
    /// Free the n-th live allocation (mod count).
    Free(usize),
    /// Free a block freed earlier again (n-th of the history, mod count).
    Refree(usize),
    /// Free an arbitrary (pfn offset from base, order).
    Bogus(i64, u8),
}

fn op() -> impl Strategy<Value = Op> {
    prop_oneof![
        6 => (prop_oneof![8 => 0u8..=3, 3 => 4u8..=8, 1 => 9u8..=20], 0..FrameKind::ALL.len())
            .prop_map(|(o, k)| Op::Alloc(o, k)),
        5 => any::<usize>().prop_map(Op::Free),
        1 => any::<usize>().prop_map(Op::Refree),
        2 => (-20i64..1100, prop_oneof![4 => 0u8..=1, 1 => 2u8..=20])
            .prop_map(|(p, o)| Op::Bogus(p, o)),
    ]
}

/// Disjoint ranges (offsets from the base) inside `frames`, from gap/length
/// pairs, in a shuffled order.
fn ranges(frames: u64, spans: &[(u64, u64)], seed: u64) -> Vec<(u64, u64)> {
    let mut out = Vec::new();
    let mut at = 0;
    for &(gap, len) in spans {
        let s = at + gap;
        let e = (s + len).min(frames);
        if s >= e {
            break;
        }
        out.push((s, e));
        at = e;
    }
    let mut x = seed | 1;
    for i in (1..out.len()).rev() {
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        out.swap(i, (x % (i as u64 + 1)) as usize);
    }
    out
}

fn check(a: &FrameAllocator, model: &Model) -> Result<(), TestCaseError> {
    prop_assert_eq!(a.check_invariants(), Ok(()));
    prop_assert_eq!(a.stats(), model.stats());
    Ok(())
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(128))]

    #[test]
    fn random_alloc_free_matches_the_model(
        base_blocks in 0u64..4,
        frames in 1u64..1024,
        spans in proptest::collection::vec((0u64..24, 1u64..300), 1..12),
        seed in any::<u64>(),
        ops in proptest::collection::vec(op(), 1..200),
    ) {
        let base = base_blocks * MAX_BLOCK_FRAMES;
        let ranges = ranges(frames, &spans, seed);
        let mut m = meta(frames as usize);
        let mut a = FrameAllocator::new(&mut m, base).unwrap();
        let mut model = Model {
            base, frames, free: BTreeSet::new(), live: BTreeMap::new(), total: 0,
        };
        for &(s, e) in &ranges {
            a.add_free_range(base + s, base + e).unwrap();
            model.free.extend(base + s..base + e);
            model.total += e - s;
            check(&a, &model)?;
        }
        let mut freed: Vec<(u64, u8)> = Vec::new();
        for op in ops {
            let attempt = match op {
                Op::Alloc(order, k) => {
                    let kind = FrameKind::ALL[k];
                    let before = snapshot(&a);
                    match a.alloc(order, kind) {
                        Ok(p) => {
                            let size = 1u64 << order;
                            prop_assert_eq!(p % size, 0, "misaligned");
                            for f in p..p + size {
                                prop_assert!(model.free.remove(&f), "frame {:#x} not free", f);
                            }
                            model.live.insert(p, (order, kind));
                            prop_assert_eq!(a.allocation(p), Some((kind, order)));
                        }
                        Err(e) => {
                            let want = if order > MAX_ORDER {
                                FrameError::OrderTooLarge { order }
                            } else {
                                prop_assert!(!model.has_free_block(order), "spurious OOM");
                                FrameError::OutOfMemory { order }
                            };
                            prop_assert_eq!(e, want);
                            prop_assert_eq!(snapshot(&a), before);
                        }
                    }
                    None
                }
                Op::Free(n) if !model.live.is_empty() => {
                    let (&p, &(o, _)) = model.live.iter().nth(n % model.live.len()).unwrap();
                    Some((p, o))
                }
                Op::Refree(n) if !freed.is_empty() => Some(freed[n % freed.len()]),
                Op::Bogus(off, o) => Some((base.wrapping_add_signed(off), o)),
                _ => None,
            };
            if let Some((pfn, order)) = attempt {
                let want = model.expect_free(pfn, order);
                let before = snapshot(&a);
                prop_assert_eq!(a.free(pfn, order), want, "free({:#x}, {})", pfn, order);
                if want.is_ok() {
                    model.live.remove(&pfn);
                    model.free.extend(pfn..pfn + (1 << order));
                    freed.push((pfn, order));
                    prop_assert_eq!(a.allocation(pfn), None);
                } else {
                    prop_assert_eq!(snapshot(&a), before);
                }
            }
            check(&a, &model)?;
        }

        // Free everything: the result must equal a fresh build, block by block.
        let live: Vec<_> = model.live.iter().map(|(&p, &(o, _))| (p, o)).collect();
        for (p, o) in live {
            prop_assert!(a.free(p, o).is_ok());
        }
        let s = a.stats();
        prop_assert_eq!(s.free, s.total);
        prop_assert_eq!(s.allocated_total(), 0);
        a.check_invariants().unwrap();
        let mut m2 = meta(frames as usize);
        let mut fresh = FrameAllocator::new(&mut m2, base).unwrap();
        let mut sorted = ranges.clone();
        sorted.sort_unstable();
        for (s, e) in sorted {
            fresh.add_free_range(base + s, base + e).unwrap();
        }
        prop_assert_eq!(blocks(&a), blocks(&fresh));
        prop_assert_eq!(heads(&a), heads(&fresh));
        prop_assert_eq!(a.stats(), fresh.stats());
    }

    /// Arbitrary (often overlapping or out-of-arena) ranges: each is either
    /// added whole or refused with nothing changed.
    #[test]
    fn add_free_range_is_all_or_nothing(
        frames in 1u64..300,
        adds in proptest::collection::vec((-8i64..320, -8i64..320), 1..20),
    ) {
        let base = MAX_BLOCK_FRAMES;
        let mut m = meta(frames as usize);
        let mut a = FrameAllocator::new(&mut m, base).unwrap();
        let mut added = BTreeSet::new();
        for (s, e) in adds {
            let (s, e) = (base.wrapping_add_signed(s), base.wrapping_add_signed(e));
            let before = snapshot(&a);
            let inside = s == e || (base <= s && s <= e && e <= base + frames);
            match a.add_free_range(s, e) {
                Ok(()) => {
                    prop_assert!(inside);
                    for p in s..e {
                        prop_assert!(added.insert(p));
                    }
                }
                Err(FrameError::OutsideArena { .. }) => {
                    prop_assert!(!inside);
                    prop_assert_eq!(snapshot(&a), before);
                }
                Err(FrameError::AlreadyManaged { pfn }) => {
                    prop_assert!(inside);
                    prop_assert_eq!(Some(pfn), (s..e).find(|p| added.contains(p)));
                    prop_assert_eq!(snapshot(&a), before);
                }
                Err(e) => return Err(TestCaseError::fail(format!("unexpected {e}"))),
            }
            prop_assert_eq!(a.stats().total, added.len() as u64);
            prop_assert_eq!(a.check_invariants(), Ok(()));
        }
    }
}
