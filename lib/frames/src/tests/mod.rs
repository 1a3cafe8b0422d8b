//! Unit tests for each behaviour and error; `props` runs random alloc/free
//! sequences against a simple model.

use super::*;
use std::collections::{BTreeMap, BTreeSet};

mod props;

const KIND: FrameKind = FrameKind::Test;

fn meta(frames: usize) -> Vec<FrameMeta> {
    vec![FrameMeta::default(); frames]
}

/// First pfns of each free list, sorted, for orders 0..=MAX_ORDER.
fn heads(a: &FrameAllocator) -> Vec<Vec<u64>> {
    (0..=MAX_ORDER)
        .map(|o| {
            let mut v: Vec<u64> = a.free_list(o).collect();
            v.sort_unstable();
            v
        })
        .collect()
}

fn blocks(a: &FrameAllocator) -> Vec<(u8, usize)> {
    (0..=MAX_ORDER)
        .map(|o| (o, a.free_blocks(o)))
        .filter(|&(_, n)| n > 0)
        .collect()
}

/// Everything observable, to show a failed call changed nothing.
fn snapshot(a: &FrameAllocator) -> (Stats, Vec<Vec<u64>>) {
    (a.stats(), heads(a))
}

#[test]
fn frame_meta_is_small_and_zero_means_unmanaged() {
    assert_eq!(size_of::<FrameMeta>(), 12);
    assert_eq!(meta_bytes(10), 120);
    assert_eq!(meta_bytes(u64::MAX), u64::MAX);
    let mut m = meta(4);
    let a = FrameAllocator::new(&mut m, 0).unwrap();
    assert_eq!(a.stats().total, 0);
    assert_eq!(a.largest_free_order(), None);
    a.check_invariants().unwrap();
}

#[test]
fn split_then_coalesce_restores_the_block() {
    let mut m = meta(16);
    let mut a = FrameAllocator::new(&mut m, 0).unwrap();
    a.add_free_range(0, 16).unwrap();
    assert_eq!(blocks(&a), [(4, 1)]);
    let p = a.alloc(0, KIND).unwrap();
    assert_eq!(p, 0);
    // The upper halves of each split: 1, 2..4, 4..8, 8..16.
    assert_eq!(blocks(&a), [(0, 1), (1, 1), (2, 1), (3, 1)]);
    assert_eq!(a.free_list(3).collect::<Vec<_>>(), [8]);
    a.check_invariants().unwrap();
    assert_eq!(a.allocation(0), Some((KIND, 0)));
    assert_eq!(a.free(p, 0), Ok(KIND));
    assert_eq!(blocks(&a), [(4, 1)]);
    assert_eq!(a.allocation(0), None);
    a.check_invariants().unwrap();
}

#[test]
fn free_lists_are_lifo() {
    let mut m = meta(16);
    let mut a = FrameAllocator::new(&mut m, 0).unwrap();
    a.add_free_range(0, 16).unwrap();
    let x = a.alloc(0, KIND).unwrap();
    let y = a.alloc(0, KIND).unwrap();
    let z = a.alloc(0, KIND).unwrap();
    assert_eq!((x, y, z), (0, 1, 2));
    a.free(z, 0).unwrap(); // 2 and 3 are buddies: merge into order 1
    a.free(x, 0).unwrap();
    assert_eq!(a.alloc(0, KIND), Ok(x));
}

#[test]
fn every_block_is_naturally_aligned_and_inside_the_range() {
    let base = 3 * MAX_BLOCK_FRAMES;
    let mut m = meta(1024);
    let mut a = FrameAllocator::new(&mut m, base).unwrap();
    a.add_free_range(base + 3, base + 1000).unwrap();
    let mut got = 0;
    for order in [5, 0, 3, 7, 1, 2, 4, 6, 0, 9].into_iter().cycle() {
        match a.alloc(order, KIND) {
            Ok(p) => {
                assert_eq!(p % (1 << order), 0, "order {order} at {p:#x}");
                assert!(p >= base + 3 && p + (1 << order) <= base + 1000);
                got += 1 << order;
            }
            Err(FrameError::OutOfMemory { .. }) if order == 0 => break,
            Err(FrameError::OutOfMemory { .. }) => {}
            Err(e) => panic!("{e}"),
        }
    }
    assert_eq!(got, 997);
    assert_eq!(a.stats().free, 0);
    a.check_invariants().unwrap();
}

#[test]
fn out_of_memory_leaves_state_intact() {
    let mut m = meta(8);
    let mut a = FrameAllocator::new(&mut m, 0).unwrap();
    a.add_free_range(0, 6).unwrap(); // blocks 0..4 and 4..6
    assert_eq!(a.alloc(3, KIND), Err(FrameError::OutOfMemory { order: 3 }));
    let p = a.alloc(2, KIND).unwrap();
    let before = snapshot(&a);
    assert_eq!(a.alloc(2, KIND), Err(FrameError::OutOfMemory { order: 2 }));
    assert_eq!(snapshot(&a), before);
    a.check_invariants().unwrap();
    assert_eq!(a.alloc(1, KIND), Ok(4));
    assert_eq!(a.alloc(0, KIND), Err(FrameError::OutOfMemory { order: 0 }));
    a.free(p, 2).unwrap();
    assert_eq!(a.largest_free_order(), Some(2));
    a.check_invariants().unwrap();
}

#[test]
fn unaligned_ranges_and_holes() {
    let mut m = meta(16);
    let mut a = FrameAllocator::new(&mut m, 0).unwrap();
    a.add_free_range(1, 7).unwrap();
    a.add_free_range(9, 16).unwrap();
    let h = heads(&a);
    assert_eq!(h[0], [1, 6, 9]);
    assert_eq!(h[1], [2, 4, 10]);
    assert_eq!(h[2], [12]);
    assert_eq!(a.stats().total, 13);
    a.check_invariants().unwrap();
    // Holes stay unmanaged.
    assert_eq!(a.free(0, 0), Err(FrameError::NotAllocated { pfn: 0 }));
    assert_eq!(a.free(8, 3), Err(FrameError::NotAllocated { pfn: 8 }));
    // Filling the holes coalesces everything into one block.
    a.add_free_range(7, 9).unwrap();
    a.add_free_range(0, 1).unwrap();
    assert_eq!(blocks(&a), [(4, 1)]);
    assert_eq!(a.stats().free, 16);
    a.check_invariants().unwrap();
}

#[test]
#[cfg_attr(miri, ignore = "half a million frames is slow under Miri")]
fn blocks_stop_at_max_order_and_at_the_arena_end() {
    let base = MAX_BLOCK_FRAMES;
    let frames = 2 * MAX_BLOCK_FRAMES as usize + 5;
    let mut m = meta(frames);
    let mut a = FrameAllocator::new(&mut m, base).unwrap();
    a.add_free_range(base, base + frames as u64).unwrap();
    // Two 1 GiB blocks stay separate; the 5-frame tail has no buddies.
    assert_eq!(blocks(&a), [(0, 1), (2, 1), (MAX_ORDER, 2)]);
    let p = a.alloc(MAX_ORDER, FrameKind::User).unwrap();
    assert_eq!(p % MAX_BLOCK_FRAMES, 0);
    assert_eq!(
        a.alloc(MAX_ORDER + 1, KIND),
        Err(FrameError::OrderTooLarge { order: 19 })
    );
    a.free(p, MAX_ORDER).unwrap();
    assert_eq!(a.free_blocks(MAX_ORDER), 2);
    a.check_invariants().unwrap();
}

#[test]
fn stats_are_kept_per_kind() {
    let mut m = meta(64);
    let mut a = FrameAllocator::new(&mut m, 0).unwrap();
    a.add_free_range(0, 64).unwrap();
    let mut live = Vec::new();
    for (i, kind) in FrameKind::ALL.into_iter().enumerate() {
        live.push((a.alloc(i as u8 % 3, kind).unwrap(), i as u8 % 3, kind));
    }
    let s = a.stats();
    assert_eq!(
        s.allocated,
        [1, 2, 4, 1, 2, 4],
        "indexed by kind, in frames"
    );
    assert_eq!(s.allocated(FrameKind::KernelStack), 4);
    assert_eq!(s.allocated_total(), 14);
    assert_eq!(s.total, 64);
    assert_eq!(s.free, 50);
    for (p, o, kind) in live {
        assert_eq!(a.allocation(p), Some((kind, o)));
        assert_eq!(a.free(p, o), Ok(kind));
    }
    assert_eq!(a.stats().allocated_total(), 0);
    assert_eq!(a.stats().free, 64);
    a.check_invariants().unwrap();
}

#[test]
fn new_refuses_bad_arenas() {
    let mut m = meta(4);
    assert_eq!(
        FrameAllocator::new(&mut m, 1).unwrap_err(),
        FrameError::MisalignedArena { base_pfn: 1 }
    );
    let top = PFN_LIMIT - MAX_BLOCK_FRAMES;
    assert!(FrameAllocator::new(&mut m, top).is_ok());
    let mut big = meta(MAX_BLOCK_FRAMES as usize + 1);
    assert_eq!(
        FrameAllocator::new(&mut big, top).unwrap_err(),
        FrameError::OutsideArena { pfn: PFN_LIMIT }
    );
    let last = !(MAX_BLOCK_FRAMES - 1); // highest aligned base
    assert_eq!(
        FrameAllocator::new(&mut m, last).unwrap_err(),
        FrameError::OutsideArena { pfn: last }
    );
    // Metadata that is not zeroed (here: left over from another allocator).
    let mut m = meta(4);
    FrameAllocator::new(&mut m, 0)
        .unwrap()
        .add_free_range(2, 3)
        .unwrap();
    assert_eq!(
        FrameAllocator::new(&mut m, 0).unwrap_err(),
        FrameError::AlreadyManaged { pfn: 2 }
    );
}

#[test]
fn add_free_range_errors() {
    let base = MAX_BLOCK_FRAMES;
    let mut m = meta(32);
    let mut a = FrameAllocator::new(&mut m, base).unwrap();
    a.add_free_range(base + 8, base + 16).unwrap();
    let before = snapshot(&a);
    let err = |a: &mut FrameAllocator, s, e| a.add_free_range(base + s, base + e).unwrap_err();
    assert_eq!(
        err(&mut a, 4, 9),
        FrameError::AlreadyManaged { pfn: base + 8 }
    );
    assert_eq!(
        err(&mut a, 15, 20),
        FrameError::AlreadyManaged { pfn: base + 15 }
    );
    assert_eq!(
        err(&mut a, 20, 33),
        FrameError::OutsideArena { pfn: base + 32 }
    );
    assert_eq!(
        err(&mut a, 20, 10),
        FrameError::OutsideArena { pfn: base + 32 }
    );
    assert_eq!(
        a.add_free_range(base - 1, base + 1),
        Err(FrameError::OutsideArena { pfn: base - 1 })
    );
    assert_eq!(
        a.add_free_range(u64::MAX, 3),
        Err(FrameError::OutsideArena { pfn: u64::MAX })
    );
    assert_eq!(
        a.add_free_range(0, u64::MAX),
        Err(FrameError::OutsideArena { pfn: 0 })
    );
    assert_eq!(a.add_free_range(u64::MAX, u64::MAX), Ok(()), "empty");
    assert_eq!(snapshot(&a), before);
    a.check_invariants().unwrap();
}

#[test]
fn free_reports_each_misuse() {
    let base = MAX_BLOCK_FRAMES;
    let mut m = meta(64);
    let mut a = FrameAllocator::new(&mut m, base).unwrap();
    a.add_free_range(base, base + 32).unwrap(); // 32..64 stay unmanaged
    let p = a.alloc(2, FrameKind::PageTable).unwrap();
    let q = a.alloc(0, KIND).unwrap();
    let before = snapshot(&a);
    use FrameError::*;
    let cases = [
        ((p, MAX_ORDER + 1), OrderTooLarge { order: 19 }),
        ((p, 255), OrderTooLarge { order: 255 }),
        (
            (p + 1, 1),
            Misaligned {
                pfn: p + 1,
                order: 1,
            },
        ),
        ((base - 4, 2), OutsideArena { pfn: base - 4 }),
        ((base + 64, 0), OutsideArena { pfn: base + 64 }),
        ((u64::MAX, 0), OutsideArena { pfn: u64::MAX }),
        ((base + 40, 0), NotAllocated { pfn: base + 40 }),
        (
            (p, 1),
            WrongOrder {
                pfn: p,
                allocated: 2,
                given: 1,
            },
        ),
        (
            (p, 3),
            WrongOrder {
                pfn: p,
                allocated: 2,
                given: 3,
            },
        ),
        (
            (p + 2, 1),
            InsideAllocation {
                pfn: p + 2,
                start: p,
            },
        ),
        (
            (p + 3, 0),
            InsideAllocation {
                pfn: p + 3,
                start: p,
            },
        ),
        ((base + 16, 4), DoubleFree { pfn: base + 16 }),
        ((base + 17, 0), DoubleFree { pfn: base + 17 }),
    ];
    for ((pfn, order), want) in cases {
        assert_eq!(a.free(pfn, order), Err(want), "free({pfn:#x}, {order})");
        assert_eq!(snapshot(&a), before);
    }
    a.check_invariants().unwrap();
    // Freeing twice is a double free even once the block has coalesced.
    a.free(q, 0).unwrap();
    a.free(p, 2).unwrap();
    assert_eq!(blocks(&a), [(5, 1)]);
    assert_eq!(a.free(q, 0), Err(DoubleFree { pfn: q }));
    assert_eq!(a.free(p, 2), Err(DoubleFree { pfn: p }));
    // A stale pfn inside a newer, larger allocation.
    let r = a.alloc(3, KIND).unwrap();
    assert_eq!(a.free(q, 0), Err(InsideAllocation { pfn: q, start: r }));
    a.check_invariants().unwrap();
}

#[test]
fn errors_and_kinds_have_readable_names() {
    assert_eq!(
        FrameError::DoubleFree { pfn: 0x1234 }.to_string(),
        "double free of frame 0x1234"
    );
    assert_eq!(
        FrameError::InsideAllocation {
            pfn: 0x11,
            start: 0x10
        }
        .to_string(),
        "frame 0x11 is inside the allocation starting at frame 0x10"
    );
    assert_eq!(
        FrameError::WrongOrder {
            pfn: 8,
            allocated: 3,
            given: 1
        }
        .to_string(),
        "frame 0x8 was allocated with order 3 but freed with order 1"
    );
    let names: Vec<_> = FrameKind::ALL.iter().map(|k| k.name()).collect();
    assert_eq!(
        names,
        [
            "kernel-heap",
            "page-table",
            "kernel-stack",
            "user",
            "dma",
            "test"
        ]
    );
    for (i, k) in FrameKind::ALL.iter().enumerate() {
        assert_eq!(*k as usize, i, "ALL is in discriminant order");
    }
}

#[test]
fn order_for_frames_rounds_up() {
    assert_eq!(order_for_frames(0), None);
    assert_eq!(order_for_frames(1), Some(0));
    assert_eq!(order_for_frames(2), Some(1));
    assert_eq!(order_for_frames(3), Some(2));
    assert_eq!(order_for_frames(512), Some(9));
    assert_eq!(order_for_frames(513), Some(10));
    assert_eq!(order_for_frames(MAX_BLOCK_FRAMES), Some(MAX_ORDER));
    assert_eq!(order_for_frames(MAX_BLOCK_FRAMES + 1), None);
    assert_eq!(order_for_frames(u64::MAX), None);
}

#[test]
fn check_invariants_notices_corruption() {
    let mut m = meta(16);
    let mut a = FrameAllocator::new(&mut m, 0).unwrap();
    a.add_free_range(0, 16).unwrap();
    a.alloc(1, KIND).unwrap(); // allocated 0..2; free 2..4, 4..8, 8..16
    let good = a.meta.to_vec();
    let mut corrupt = |i: usize, f: fn(&mut FrameMeta)| {
        a.meta.copy_from_slice(&good);
        f(&mut a.meta[i]);
        a.check_invariants()
    };
    assert_eq!(corrupt(0, |_| {}), Ok(()));
    assert!(corrupt(1, |x| x.state = UNMANAGED).is_err());
    assert!(corrupt(0, |x| x.kind = 99).is_err());
    assert!(corrupt(2, |x| x.order = 2).is_err());
    assert!(corrupt(4, |x| x.prev = 7).is_err());
    assert!(corrupt(9, |x| *x = FrameMeta::head(FREE_HEAD, 0, 0)).is_err());
    assert!(corrupt(12, |x| x.order = 40).is_err());
}
