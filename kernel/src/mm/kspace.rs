//! The kernel address space (the loader's tables, adopted) and user address
//! spaces that share its upper half.
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

/// A user address space owning the frames it maps. Dropping it without
/// `destroy` would leak, so `destroy` is the only way out.
pub struct UserSpace {
    space: Option<AddressSpace>,
    /// Frames mapped but not owned (never freed by `destroy`).
    borrowed: alloc::vec::Vec<u64>,
}

impl UserSpace {
    pub fn new() -> Result<UserSpace, MapError> {
        let guard = KERNEL.lock();
        let kernel = guard.as_ref().ok_or(MapError::OutOfMemory)?;
        let space = AddressSpace::new_user(&mut tables(), kernel)?;
        Ok(UserSpace {
            space: Some(space),
            borrowed: alloc::vec::Vec::new(),
        })
    }

    fn space(&mut self) -> &mut AddressSpace {
        self.space.as_mut().expect("user space used after destroy")
    }

    /// Maps a fresh zeroed frame at `va` with `flags` (which must be user flags).
    pub fn map_new(&mut self, va: u64, flags: Flags) -> Result<u64, MapError> {
        let pa = frames::alloc(0, FrameKind::User).map_err(|_| MapError::OutOfMemory)?;
        arch::mm::zero_frame(pa);
        if let Err(e) = self
            .space()
            .map(&mut tables(), va, pa, PageSize::Size4K, flags)
        {
            let _ = frames::free(pa, 0);
            return Err(e);
        }
        Ok(pa)
    }

    /// Maps a frame this space does not own (device memory, the SMP
    /// trampoline); `destroy` leaves it alone.
    pub fn map_borrowed(&mut self, va: u64, pa: u64, flags: Flags) -> Result<(), MapError> {
        self.borrowed
            .try_reserve(1)
            .map_err(|_| MapError::OutOfMemory)?;
        self.space()
            .map(&mut tables(), va, pa, PageSize::Size4K, flags)?;
        self.borrowed.push(pa);
        Ok(())
    }

    /// Unmaps the 4 KiB pages in `[from, to)` that are mapped and frees
    /// their frames (borrowed frames excepted); returns how many frames it
    /// freed (what the process had been charged for).
    pub fn unmap_range(&mut self, from: u64, to: u64) -> u64 {
        let mut freed = 0;
        for va in (from..to).step_by(4096) {
            if let Ok((pa, _)) = self.space().unmap(&mut tables(), va) {
                match self.borrowed.iter().position(|&b| b == pa) {
                    Some(i) => {
                        self.borrowed.swap_remove(i);
                    }
                    None => {
                        let _ = frames::free(pa, 0);
                        freed += 1;
                    }
                }
            }
        }
        freed
    }

    /// Unmaps `va` if it maps the borrowed frame `pa` (and forgets it).
    pub fn unmap_borrowed(&mut self, va: u64, pa: u64) {
        if self.translate(va).is_some_and(|t| t.frame == pa)
            && self.space().unmap(&mut tables(), va).is_ok()
            && let Some(i) = self.borrowed.iter().position(|&b| b == pa)
        {
            self.borrowed.swap_remove(i);
        }
    }

    pub fn protect(&mut self, va: u64, flags: Flags) -> Result<(), MapError> {
        self.space().protect(&mut tables(), va, flags).map(|_| ())
    }

    pub fn translate(&mut self, va: u64) -> Option<Translation> {
        self.space().translate(&tables(), va)
    }

    pub fn root(&mut self) -> u64 {
        self.space().root()
    }

    /// Unmaps everything, frees the frames and tables. Switches back to the
    /// kernel tables first if this space is active.
    pub fn destroy(mut self) {
        let space = self.space.take().expect("destroyed once");
        if arch::mm::current_root() == space.root() {
            let root = KERNEL.lock().as_ref().map(|k| k.root());
            if let Some(root) = root {
                arch::mm::switch_root(root);
            }
        }
        let borrowed = core::mem::take(&mut self.borrowed);
        space.destroy(&mut tables(), |_, pa, size| {
            if borrowed.contains(&pa) {
                return;
            }
            let order = match size {
                PageSize::Size4K => 0,
                PageSize::Size2M => 9,
                PageSize::Size1G => 18,
            };
            if let Err(e) = frames::free(pa, order) {
                log::error!("user space teardown: {e}");
            }
        });
    }
}

/// Switches to the kernel's own tables.
pub fn activate_kernel() {
    let root = KERNEL.lock().as_ref().map(|k| k.root());
    if let Some(root) = root {
        arch::mm::switch_root(root);
    }
}
