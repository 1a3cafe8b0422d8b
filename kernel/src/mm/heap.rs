//! The kernel heap: `ferrous-heap` over [HEAP_BASE, HEAP_BASE + HEAP_MAX),
//! growing by mapping fresh frames. An exhausted heap makes the allocation
//! fail (null), so paths serving user requests use `try_reserve` and turn
//! that into an error instead of a panic.
//!
//! # Allocation on system-call paths
//!
//! Everything a system call, a user fault or a process's end reaches
//! allocates fallibly (issue 14; `xtask/src/lint.rs` keeps it so): a
//! growing collection reserves with `try_reserve` (or a table's fallible
//! `reserve`) before anything changes and the call fails with
//! `OutOfMemory`; teardown allocates nothing.
//!
//! # Fixed-size objects
//!
//! The one exception, decided here: a kernel object behind `Arc::new` or
//! `Box::new` (a `Process`, `UserThread`, thread context, `Memory`,
//! `FrameObj`, `EndpointObj`, `NotificationObj`), which stable Rust cannot
//! allocate fallibly (no `Arc::try_new`). Each is small, of fixed size,
//! made once per object a process pays for, and made *after* the object
//! is charged to its memory budget (and after every fallible reservation
//! of the same call). The budgets together hold at most the free memory
//! at boot less the kernel's reserve (`process::boot::kernel_reserve`: an
//! eighth, 4 to 64 MiB), which no budget can take, so the heap can always
//! grow for such an object unless the kernel's own uncharged bookkeeping
//! used up the reserve. If it ever does, the allocation-error panic is
//! the outcome, as for any broken kernel invariant. Lines doing this say
//! `// alloc: fixed-size`. docs/adr/0011-kernel-memory-accounting.md
//! records this decision and the alternatives to it.

use super::frames::{self, FrameKind};
use super::{HEAP_BASE, HEAP_MAX, KERNEL_DATA, kspace};
use core::sync::atomic::{AtomicU32, Ordering};
use ferrous_heap::{Backend, KernelHeap};
use ferrous_paging::PageSize;

pub struct MapFrames;

impl Backend for MapFrames {
    fn grow(&self, end: usize, at_least: usize) -> Option<usize> {
        let end = end as u64;
        let bytes = (at_least as u64).next_multiple_of(4096);
        if end.checked_add(bytes)? > HEAP_BASE + HEAP_MAX {
            log::warn!("kernel heap: virtual region exhausted");
            return None;
        }
        // Refuse at once what free memory cannot cover, instead of mapping
        // every free frame and then unwinding.
        if bytes / 4096 > frames::stats().free {
            log::warn!("kernel heap: {bytes} bytes requested, not enough free frames");
            return None;
        }
        let mut mapped = 0;
        while mapped < bytes {
            let ok = frames::alloc(0, FrameKind::KernelHeap).ok().and_then(|pa| {
                crate::arch::mm::zero_frame(pa);
                match kspace::map(end + mapped, pa, PageSize::Size4K, KERNEL_DATA) {
                    Ok(()) => Some(()),
                    Err(_) => {
                        let _ = frames::free(pa, 0);
                        None
                    }
                }
            });
            if ok.is_none() {
                break;
            }
            mapped += 4096;
        }
        if mapped < bytes {
            // Out of frames: hand back what we mapped for this attempt.
            for off in (0..mapped).step_by(4096) {
                if let Ok((pa, _)) = kspace::unmap(end + off) {
                    let _ = frames::free(pa, 0);
                }
            }
            log::warn!("kernel heap: out of memory growing by {bytes} bytes");
            return None;
        }
        Some(bytes as usize)
    }

    /// Whether interrupts were on, kept in a register between `enter`
    /// and `exit` (no per-CPU memory touched).
    type Saved = bool;

    /// Interrupts off while the heap lock is held, so an interrupt handler
    /// that allocates (the timer's sleeper list) cannot deadlock against the
    /// code it interrupted. Lock spins answer TLB shootdowns meanwhile.
    #[inline]
    fn enter(&self) -> bool {
        let were = crate::arch::cpu::interrupts_enabled();
        crate::arch::cpu::disable_interrupts();
        were
    }

    #[inline]
    fn exit(&self, were: bool) {
        if were {
            crate::arch::cpu::enable_interrupts();
        }
    }

    /// Fault injection spares a fixed-size object ([`fixed`]) on this CPU.
    fn exempt(&self) -> bool {
        crate::percpu::this_cpu().heap.fixed.load(Ordering::Relaxed) != 0
    }
}

/// The heap's per-CPU state: whether a [`fixed`] allocation is under way.
pub struct CpuHeap {
    fixed: AtomicU32,
}

impl CpuHeap {
    pub const fn new() -> CpuHeap {
        CpuHeap {
            fixed: AtomicU32::new(0),
        }
    }
}

/// Makes a fixed-size kernel object ("Fixed-size objects" above): `make`
/// runs with interrupts off and fault injection ([`fail_every`]) sparing
/// its allocations, since `Arc::new` and `Box::new` cannot fail softly.
/// Every such allocation on a system-call path goes through here.
pub fn fixed<T>(make: impl FnOnce() -> T) -> T {
    crate::arch::cpu::without_interrupts(|| {
        let here = &crate::percpu::this_cpu().heap.fixed;
        here.fetch_add(1, Ordering::Relaxed);
        let made = make();
        here.fetch_sub(1, Ordering::Relaxed);
        made
    })
}

#[global_allocator]
static HEAP: KernelHeap<MapFrames> = KernelHeap::new(HEAP_BASE as usize, MapFrames);

pub fn stats() -> ferrous_heap::HeapStats {
    HEAP.stats()
}

/// Kernel tests only: the next `n` allocations succeed and every later one
/// fails, until `fail_after(None)` (`ferrous_heap::KernelHeap::fail_after`).
pub fn fail_after(n: Option<usize>) {
    HEAP.fail_after(n);
}

/// `fault_inject`: every `n`-th allocation from now on fails, but for
/// [`fixed`] objects (0: off); returns the previous `n`
/// (`ferrous_heap::KernelHeap::fail_every`).
pub fn fail_every(n: usize) -> usize {
    HEAP.fail_every(n)
}
