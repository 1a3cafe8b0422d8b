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
