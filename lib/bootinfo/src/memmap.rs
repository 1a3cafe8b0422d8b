//! The physical memory map in the loader's hand-over: kinds, normalisation
//! (sort and merge) and the sanity check the kernel runs before using it.

use core::fmt;

/// What a physical range holds. A newtype over `u32` rather than an enum, so
/// a value read from memory is never an invalid Rust enum; unknown values
/// are reported by [`validate`].
#[repr(transparent)]
#[derive(Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct MemoryKind(pub u32);

impl MemoryKind {
    /// Free RAM the kernel may hand out.
    pub const USABLE: MemoryKind = MemoryKind(1);
    /// Firmware-reserved or otherwise untouchable.
    pub const RESERVED: MemoryKind = MemoryKind(2);
    /// ACPI tables; usable once the kernel has parsed them.
    pub const ACPI_RECLAIMABLE: MemoryKind = MemoryKind(3);
    /// ACPI non-volatile storage; never usable.
    pub const ACPI_NVS: MemoryKind = MemoryKind(4);
    /// Memory-mapped I/O the firmware told us about.
    pub const MMIO: MemoryKind = MemoryKind(5);
    /// UEFI runtime services code and data; never usable.
    pub const FIRMWARE_RUNTIME: MemoryKind = MemoryKind(6);
    /// The loaded kernel image (all segments).
    pub const KERNEL_IMAGE: MemoryKind = MemoryKind(7);
    /// The page tables the loader built and the kernel runs on.
    pub const PAGE_TABLES: MemoryKind = MemoryKind(8);
    /// The [`crate::BootInfo`] record, memory map, module table, command line.
    pub const BOOT_INFO: MemoryKind = MemoryKind(9);
    /// Boot module contents.
    pub const MODULE: MemoryKind = MemoryKind(10);
    /// The loader's own code, data and stack: free once the kernel has left
    /// the loader's identity mapping behind.
    pub const LOADER_RECLAIMABLE: MemoryKind = MemoryKind(11);
    /// RAM the firmware found faulty.
    pub const BAD: MemoryKind = MemoryKind(12);
    /// Persistent (non-volatile) memory; not used as RAM.
    pub const PERSISTENT: MemoryKind = MemoryKind(13);

    /// Every kind this version defines, in id order.
    pub const ALL: [MemoryKind; 13] = [
        Self::USABLE,
        Self::RESERVED,
        Self::ACPI_RECLAIMABLE,
        Self::ACPI_NVS,
        Self::MMIO,
        Self::FIRMWARE_RUNTIME,
        Self::KERNEL_IMAGE,
        Self::PAGE_TABLES,
        Self::BOOT_INFO,
        Self::MODULE,
        Self::LOADER_RECLAIMABLE,
        Self::BAD,
        Self::PERSISTENT,
    ];

    pub fn is_known(self) -> bool {
        (1..=Self::ALL.len() as u32).contains(&self.0)
    }

    /// The word used for this kind in logs and docs.
    pub fn name(self) -> &'static str {
        match self {
            Self::USABLE => "usable",
            Self::RESERVED => "reserved",
            Self::ACPI_RECLAIMABLE => "acpi-reclaimable",
            Self::ACPI_NVS => "acpi-nvs",
            Self::MMIO => "mmio",
            Self::FIRMWARE_RUNTIME => "firmware-runtime",
            Self::KERNEL_IMAGE => "kernel-image",
            Self::PAGE_TABLES => "page-tables",
            Self::BOOT_INFO => "boot-info",
            Self::MODULE => "module",
            Self::LOADER_RECLAIMABLE => "loader-reclaimable",
            Self::BAD => "bad",
            Self::PERSISTENT => "persistent",
            _ => "unknown",
        }
    }

    /// Is this RAM (as opposed to MMIO or a hole)? Counted in "total memory".
    pub fn is_ram(self) -> bool {
        !matches!(self, Self::MMIO | Self::RESERVED) && self.is_known()
    }
}

impl fmt::Debug for MemoryKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.is_known() {
            f.write_str(self.name())
        } else {
            write!(f, "unknown({})", self.0)
        }
    }
}

impl fmt::Display for MemoryKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Debug::fmt(self, f)
    }
}

/// One physical range `[base, base + len)` of one kind.
#[repr(C)]
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct MemoryRegion {
    pub base: u64,
    pub len: u64,
    pub kind: MemoryKind,
    pub _reserved: u32,
}

impl MemoryRegion {
    pub const fn new(base: u64, len: u64, kind: MemoryKind) -> MemoryRegion {
        MemoryRegion {
            base,
            len,
            kind,
            _reserved: 0,
        }
    }

    /// One past the last byte, or `None` if the range wraps.
    pub fn end(&self) -> Option<u64> {
        self.base.checked_add(self.len)
    }
}

/// Sorts `regions` by base, drops empty ones and merges neighbours of the
/// same kind that touch. Returns how many entries of `regions` are valid
/// afterwards (the rest is scratch). Does not hide overlaps: [`validate`]
/// reports them.
pub fn normalize(regions: &mut [MemoryRegion]) -> usize {
    regions.sort_unstable_by_key(|r| (r.len == 0, r.base, r.kind));
    let mut out = 0;
    for i in 0..regions.len() {
        let r = regions[i];
        if r.len == 0 {
            break; // empties sorted last
        }
        if out > 0 {
            let prev = &mut regions[out - 1];
            if prev.kind == r.kind && prev.end() == Some(r.base) {
                prev.len += r.len;
                continue;
            }
        }
        regions[out] = r;
        out += 1;
    }
    out
}

/// Why a memory map was refused.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum MapError {
    Empty,
    /// Entry `index` has length zero.
    EmptyRegion {
        index: usize,
    },
    /// Entry `index` wraps around the address space.
    Wraps {
        index: usize,
    },
    /// Entry `index` does not start or end on a 4 KiB boundary.
    Unaligned {
        index: usize,
    },
    /// Entry `index` has a kind this version does not define.
    UnknownKind {
        index: usize,
        kind: u32,
    },
    /// Entry `index` starts below entry `index - 1`.
    Unsorted {
        index: usize,
    },
    /// Entries `index - 1` and `index` overlap.
    Overlap {
        index: usize,
    },
    /// No usable RAM at all.
    NoUsableMemory,
}

impl fmt::Display for MapError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match *self {
            MapError::Empty => write!(f, "memory map is empty"),
            MapError::EmptyRegion { index } => write!(f, "region {index} is empty"),
            MapError::Wraps { index } => write!(f, "region {index} wraps the address space"),
            MapError::Unaligned { index } => write!(f, "region {index} is not 4 KiB aligned"),
            MapError::UnknownKind { index, kind } => {
                write!(f, "region {index} has unknown kind {kind}")
            }
            MapError::Unsorted { index } => write!(f, "region {index} is out of order"),
            MapError::Overlap { index } => {
                write!(f, "regions {} and {index} overlap", index - 1)
            }
            MapError::NoUsableMemory => write!(f, "no usable memory"),
        }
    }
}

/// Totals of a validated memory map.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct MapSummary {
    pub regions: usize,
    /// Bytes per kind, indexed by `kind.0 - 1`.
    pub bytes_by_kind: [u64; MemoryKind::ALL.len()],
    /// One past the highest byte of RAM (any kind but MMIO and reserved).
    pub ram_end: u64,
    /// One past the highest byte of any region.
    pub highest_end: u64,
}

impl MapSummary {
    pub fn bytes(&self, kind: MemoryKind) -> u64 {
        if kind.is_known() {
            self.bytes_by_kind[kind.0 as usize - 1]
        } else {
            0
        }
    }

    /// All RAM the map describes, whatever it currently holds.
    pub fn total_ram(&self) -> u64 {
        MemoryKind::ALL
            .iter()
            .filter(|k| k.is_ram())
            .map(|&k| self.bytes(k))
            .sum()
    }
}

/// Checks the invariants the kernel relies on: non-empty, every region
/// 4 KiB aligned with a known kind, sorted, non-overlapping, and at least
/// some usable RAM. Never panics, whatever the input.
pub fn validate(regions: &[MemoryRegion]) -> Result<MapSummary, MapError> {
    if regions.is_empty() {
        return Err(MapError::Empty);
    }
    let mut summary = MapSummary {
        regions: regions.len(),
        bytes_by_kind: [0; MemoryKind::ALL.len()],
        ram_end: 0,
        highest_end: 0,
    };
    let mut prev_end = 0u64;
    for (index, r) in regions.iter().enumerate() {
        if r.len == 0 {
            return Err(MapError::EmptyRegion { index });
        }
        let end = r.end().ok_or(MapError::Wraps { index })?;
        if r.base % 4096 != 0 || r.len % 4096 != 0 {
            return Err(MapError::Unaligned { index });
        }
        if !r.kind.is_known() {
            return Err(MapError::UnknownKind {
                index,
                kind: r.kind.0,
            });
        }
        if index > 0 {
            if r.base < regions[index - 1].base {
                return Err(MapError::Unsorted { index });
            }
            if r.base < prev_end {
                return Err(MapError::Overlap { index });
            }
        }
        prev_end = end;
        let slot = &mut summary.bytes_by_kind[r.kind.0 as usize - 1];
        *slot = slot.saturating_add(r.len);
        summary.highest_end = summary.highest_end.max(end);
        if r.kind.is_ram() {
            summary.ram_end = summary.ram_end.max(end);
        }
    }
    if summary.bytes(MemoryKind::USABLE) == 0 {
        return Err(MapError::NoUsableMemory);
    }
    Ok(summary)
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    const K: u64 = 4096;

    fn r(base: u64, len: u64, kind: MemoryKind) -> MemoryRegion {
        MemoryRegion::new(base * K, len * K, kind)
    }

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
}
