//! The memory map: normalising and validating.

use super::{K, r};
use crate::memmap::*;

#[test]
fn normalize_sorts_merges_and_drops_empty() {
    let mut map = [
        r(10, 2, MemoryKind::USABLE),
        r(0, 4, MemoryKind::USABLE),
        r(4, 6, MemoryKind::USABLE),
        r(12, 0, MemoryKind::RESERVED),
        r(12, 1, MemoryKind::KERNEL_IMAGE),
    ];
    let n = normalize(&mut map);
    assert_eq!(
        &map[..n],
        &[
            r(0, 12, MemoryKind::USABLE),
            r(12, 1, MemoryKind::KERNEL_IMAGE)
        ]
    );
    let s = validate(&map[..n]).unwrap();
    assert_eq!(s.bytes(MemoryKind::USABLE), 12 * K);
    assert_eq!(s.total_ram(), 13 * K);
    assert_eq!(s.ram_end, 13 * K);
}

#[test]
fn validate_names_each_defect() {
    assert_eq!(validate(&[]), Err(MapError::Empty));
    let u = MemoryKind::USABLE;
    assert_eq!(
        validate(&[r(0, 1, u), MemoryRegion::new(K, 0, u)]),
        Err(MapError::EmptyRegion { index: 1 })
    );
    assert_eq!(
        validate(&[MemoryRegion::new(u64::MAX - K + 1, 2 * K, u)]),
        Err(MapError::Wraps { index: 0 })
    );
    assert_eq!(
        validate(&[MemoryRegion::new(1, K, u)]),
        Err(MapError::Unaligned { index: 0 })
    );
    assert_eq!(
        validate(&[r(0, 1, MemoryKind(99))]),
        Err(MapError::UnknownKind { index: 0, kind: 99 })
    );
    assert_eq!(
        validate(&[r(5, 1, u), r(0, 1, u)]),
        Err(MapError::Unsorted { index: 1 })
    );
    assert_eq!(
        validate(&[r(0, 5, u), r(4, 1, MemoryKind::RESERVED)]),
        Err(MapError::Overlap { index: 1 })
    );
    assert_eq!(
        validate(&[r(0, 5, MemoryKind::RESERVED)]),
        Err(MapError::NoUsableMemory)
    );
}

#[test]
fn kinds_have_distinct_names() {
    for (i, a) in MemoryKind::ALL.iter().enumerate() {
        assert_eq!(a.0 as usize, i + 1, "ALL is in id order");
        for b in &MemoryKind::ALL[i + 1..] {
            assert_ne!(a.name(), b.name());
        }
    }
    assert_eq!(MemoryKind(0).name(), "unknown");
}
