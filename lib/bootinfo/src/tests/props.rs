//! Property tests of the memory map: normalising keeps what is covered,
//! validating never panics.

use super::{K, r};
use crate::memmap::*;
use proptest::prelude::*;

fn kind() -> impl Strategy<Value = MemoryKind> {
    (1u32..=4).prop_map(MemoryKind)
}

proptest! {
    /// Disjoint pages in random order and kinds: normalisation yields a
    /// valid map covering exactly the same pages with the same kinds.
    #[test]
    fn normalize_preserves_coverage(
        pages in proptest::collection::btree_map(0u64..256, kind(), 1..64),
        seed in any::<u64>(),
    ) {
        let mut map: Vec<MemoryRegion> =
            pages.iter().map(|(&p, &k)| r(p, 1, k)).collect();
        // Deterministic shuffle.
        let mut s = seed | 1;
        for i in (1..map.len()).rev() {
            s ^= s << 13; s ^= s >> 7; s ^= s << 17;
            map.swap(i, (s % (i as u64 + 1)) as usize);
        }
        map.push(MemoryRegion::new(0, 0, MemoryKind::USABLE));
        let n = normalize(&mut map);
        let map = &map[..n];
        for w in map.windows(2) {
            prop_assert!(w[0].end().unwrap() <= w[1].base);
            prop_assert!(!(w[0].kind == w[1].kind && w[0].end() == Some(w[1].base)),
                "touching regions of one kind must be merged");
        }
        for (&p, &k) in &pages {
            let hit: Vec<_> = map.iter()
                .filter(|m| m.base <= p * K && p * K < m.end().unwrap()).collect();
            prop_assert_eq!(hit.len(), 1);
            prop_assert_eq!(hit[0].kind, k);
        }
        let covered: u64 = map.iter().map(|m| m.len).sum();
        prop_assert_eq!(covered, pages.len() as u64 * K);
        if pages.values().any(|&k| k == MemoryKind::USABLE) {
            prop_assert!(validate(map).is_ok());
        }
    }

    /// Arbitrary garbage never panics the validator.
    #[test]
    fn validate_never_panics(raw in proptest::collection::vec(
        (any::<u64>(), any::<u64>(), any::<u32>()), 0..16)) {
        let map: Vec<MemoryRegion> = raw.iter()
            .map(|&(b, l, k)| MemoryRegion::new(b, l, MemoryKind(k))).collect();
        let _ = validate(&map);
    }
}
