//! The kernel address space (the loader's tables, adopted), whose upper
//! half every user space (`uspace`) shares.
//!
//! Lock order: stacks / heap → KERNEL → frames.

use super::frames::{self, FrameKind};
use crate::arch::{self, mm::KernelTables};
use crate::sync::SpinLock;
use ferrous_paging::{AddressSpace, Flags, Half, MapError, PageSize, Translation};

/// A `SpinLock`, not an `IrqMutex`: unmapping waits for TLB shootdowns,
/// which other CPUs must be able to take while they spin here.
static KERNEL: SpinLock<Option<AddressSpace>> = SpinLock::new(None);

static KERNEL_ROOT: core::sync::atomic::AtomicU64 = core::sync::atomic::AtomicU64::new(0);

/// The kernel address space's root (for switching back from a user space
/// without taking the lock).
pub fn kernel_root() -> u64 {
    KERNEL_ROOT.load(core::sync::atomic::Ordering::Relaxed)
}

pub fn tables() -> KernelTables {
    KernelTables {
        alloc: frames::alloc_table_frame,
        free: frames::free_table_frame,
    }
}

/// Adopts the running tables and creates the top-level slots of the
/// dynamic kernel regions now, before any user space copies the kernel half:
/// later kernel mappings then land in tables every address space shares.
pub fn init() -> Result<(), &'static str> {
    let mut space = AddressSpace::from_root(arch::mm::current_root(), Half::Kernel);
    let mut t = tables();
    let probe = frames::alloc(0, FrameKind::PageTable).map_err(|_| "no frame for slot set-up")?;
    for base in [super::HEAP_BASE, super::STACKS_BASE, super::SCRATCH.start] {
        space
            .map(&mut t, base, probe, PageSize::Size4K, Flags::KERNEL_RO)
            .map_err(|_| "cannot create kernel region slot")?;
        space
            .unmap(&mut t, base)
            .map_err(|_| "cannot create kernel region slot")?;
    }
    frames::free(probe, 0).map_err(|_| "slot probe frame")?;
    KERNEL_ROOT.store(space.root(), core::sync::atomic::Ordering::Relaxed);
    *KERNEL.lock() = Some(space);
    Ok(())
}

fn with<R>(
    f: impl FnOnce(&mut AddressSpace, &mut KernelTables) -> Result<R, MapError>,
) -> Result<R, MapError> {
    let mut guard = KERNEL.lock();
    let space = guard.as_mut().ok_or(MapError::OutOfMemory)?;
    f(space, &mut tables())
}

pub fn map(va: u64, pa: u64, size: PageSize, flags: Flags) -> Result<(), MapError> {
    with(|s, t| s.map(t, va, pa, size, flags))
}

pub fn unmap(va: u64) -> Result<(u64, PageSize), MapError> {
    with(|s, t| s.unmap(t, va))
}

pub fn protect(va: u64, flags: Flags) -> Result<PageSize, MapError> {
    with(|s, t| s.protect(t, va, flags))
}

pub fn translate(va: u64) -> Option<Translation> {
    let guard = KERNEL.lock();
    guard.as_ref()?.translate(&tables(), va)
}

/// Tables reachable in the kernel half (for leak checks).
pub fn table_count() -> usize {
    KERNEL
        .lock()
        .as_ref()
        .map_or(0, |s| s.table_count(&tables()))
}

/// Translation in whatever address space is active, without waiting for
/// locks (fault reports). `None` if the kernel space is busy.
pub fn translate_current(va: u64) -> Option<Option<Translation>> {
    let _guard = KERNEL.try_lock()?;
    let half = if va < ferrous_paging::USER_END {
        Half::User
    } else {
        Half::Kernel
    };
    Some(AddressSpace::from_root(arch::mm::current_root(), half).translate(&tables(), va))
}

/// Runs `f` on the kernel address space (user spaces copy its half).
pub fn with_kernel_space<R>(f: impl FnOnce(&AddressSpace) -> R) -> Option<R> {
    KERNEL.lock().as_ref().map(f)
}

/// Switches to the kernel's own tables.
pub fn activate_kernel() {
    let root = KERNEL.lock().as_ref().map(|k| k.root());
    if let Some(root) = root {
        arch::mm::switch_root(root);
    }
}
