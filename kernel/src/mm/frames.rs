//! The global frame allocator, built from the loader's memory map.

use crate::arch::{self, BootData};
use crate::mm::MemReport;
use crate::sync::IrqMutex;
use ferrous_bootinfo::MemoryKind;
pub use ferrous_frames::{FRAME_SIZE, FrameError, FrameKind, Stats};
use ferrous_frames::{FrameAllocator, FrameMeta, MAX_ORDER};

static FRAMES: IrqMutex<Option<FrameAllocator<'static>>> = IrqMutex::new(None);
/// A page below 1 MiB kept out of the allocator for the SMP trampoline.
static LOW_PAGE: spin::Once<Option<u64>> = spin::Once::new();
/// Physical range of the allocator's own metadata.
static META: spin::Once<core::ops::Range<u64>> = spin::Once::new();

/// Where the frame metadata lives (never handed out).
pub fn meta_range() -> core::ops::Range<u64> {
    META.get().cloned().unwrap_or(0..0)
}

pub fn low_page() -> Option<u64> {
    LOW_PAGE.get().copied().flatten()
}

/// Kinds of boot memory handed to the allocator. Loader memory is free now:
/// the kernel runs on its own stack and tables and has copied what it needs
/// from the loader, except BootInfo, which is separate.
fn reclaimable(kind: MemoryKind) -> bool {
    kind == MemoryKind::USABLE || kind == MemoryKind::LOADER_RECLAIMABLE
}

pub fn init(boot: &BootData) -> Result<MemReport, &'static str> {
    let usable = || boot.memory_map.iter().filter(|r| reclaimable(r.kind));
    let lo = usable().map(|r| r.base).min().ok_or("no usable memory")?;
    let hi = usable()
        .map(|r| r.base + r.len)
        .max()
        .ok_or("no usable memory")?;
    let block = 1u64 << MAX_ORDER;
    let base_pfn = (lo / FRAME_SIZE) & !(block - 1);
    let end_pfn = hi / FRAME_SIZE;
    let count = end_pfn - base_pfn;
    let meta_bytes = ferrous_frames::meta_bytes(count).next_multiple_of(FRAME_SIZE);
    // The metadata goes at the start of the first usable region large enough.
    let home = usable()
        .find(|r| r.kind == MemoryKind::USABLE && r.len >= meta_bytes)
        .ok_or("no usable region can hold the frame metadata")?;
    let meta: &'static mut [FrameMeta] =
        arch::mm::claim_frame_meta(home.base, count as usize).ok_or("frame metadata refused")?;
    let mut alloc = FrameAllocator::new(meta, base_pfn).map_err(|e| {
        log::error!("frames: {e}");
        "the frame allocator refused its arena"
    })?;
    let meta_end = home.base + meta_bytes;
    // Real-mode code needs a page in [4 KiB, 1 MiB); page 0 stays unused.
    let low = usable()
        .filter(|r| r.kind == MemoryKind::USABLE)
        .find_map(|r| {
            let mut p = r.base.max(FRAME_SIZE);
            if (home.base..meta_end).contains(&p) {
                p = meta_end;
            }
            (p < 0x10_0000 && p + FRAME_SIZE <= r.base + r.len).then_some(p)
        });
    LOW_PAGE.call_once(|| low);
    META.call_once(|| home.base..meta_end);
    // Never handed out: page 0 (a null physical address is a bug magnet),
    // the metadata itself, and the trampoline page.
    let mut holes = [(0, FRAME_SIZE), (home.base, meta_end), (u64::MAX, u64::MAX)];
    if let Some(p) = low {
        holes[2] = (p, p + FRAME_SIZE);
    }
    holes.sort_unstable();
    for r in usable() {
        let mut start = r.base;
        let end = r.base + r.len;
        for &(h0, h1) in &holes {
            if h1 <= start || h0 >= end {
                continue;
            }
            if start < h0 {
                alloc
                    .add_free_range(start / FRAME_SIZE, h0 / FRAME_SIZE)
                    .map_err(|_| "memory map region refused by the frame allocator")?;
            }
            start = start.max(h1);
        }
        if start < end {
            alloc
                .add_free_range(start / FRAME_SIZE, end / FRAME_SIZE)
                .map_err(|_| "memory map region refused by the frame allocator")?;
        }
    }
    let stats = alloc.stats();
    log::info!(
        "frames: {} MiB managed in pfn {:#x}..{:#x}, {} KiB of metadata, largest free block order {}",
        (stats.total * FRAME_SIZE) >> 20,
        base_pfn,
        end_pfn,
        meta_bytes / 1024,
        alloc.largest_free_order().map_or(-1, i32::from)
    );
    *FRAMES.lock() = Some(alloc);
    Ok(MemReport {
        managed_frames: stats.total,
        free_frames_at_init: stats.free,
        meta_bytes,
    })
}

fn with<R>(f: impl FnOnce(&mut FrameAllocator<'static>) -> R) -> Option<R> {
    FRAMES.lock().as_mut().map(f)
}

/// A naturally aligned run of 2^order frames; returns its physical address.
pub fn alloc(order: u8, kind: FrameKind) -> Result<u64, FrameError> {
    with(|a| a.alloc(order, kind))
        .unwrap_or(Err(FrameError::OutOfMemory { order }))
        .map(|pfn| pfn * FRAME_SIZE)
}

/// Returns a run; errors name double frees and frames never handed out.
pub fn free(pa: u64, order: u8) -> Result<FrameKind, FrameError> {
    let pfn = pa / FRAME_SIZE;
    if !pa.is_multiple_of(FRAME_SIZE) {
        return Err(FrameError::Misaligned { pfn, order });
    }
    with(|a| a.free(pfn, order)).unwrap_or(Err(FrameError::NotAllocated { pfn }))
}

pub fn stats() -> Stats {
    with(|a| a.stats()).unwrap_or(Stats {
        total: 0,
        free: 0,
        allocated: [0; FrameKind::ALL.len()],
    })
}

pub fn check_invariants() -> Result<(), &'static str> {
    with(|a| a.check_invariants()).unwrap_or(Err("frame allocator not initialised"))
}

/// One frame for a page table (`arch::mm::KernelTables` zeroes it).
pub fn alloc_table_frame() -> Option<u64> {
    alloc(0, FrameKind::PageTable).ok()
}

pub fn free_table_frame(pa: u64) {
    if let Err(e) = free(pa, 0) {
        log::error!("freeing page-table frame {pa:#x}: {e}");
    }
}
