//! User address spaces: the frames they own and the page tables they need
//! are charged to a budget when they are made and refunded when freed; each
//! leaf records whether the space owns its frame and what the mapping may
//! become ([`Soft`]), so `mem_protect` cannot widen a mapping beyond the
//! capability it came through.
//!
//! Lock order: a process's space lock → the kernel space lock (`kspace`)
//! → frames.

use super::frames::{self, FrameKind};
use super::kspace::{self, tables};
use crate::arch::{self, mm::KernelTables};
use crate::memory::Memory;
use alloc::sync::Arc;
use ferrous_abi::{PAGE_SIZE, SysError};
use ferrous_paging::{AddressSpace, Flags, MapError, PageSize, TableMemory, Translation};

/// What a leaf's [`Flags::soft`] bits say about a user mapping.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Soft(u8);

impl Soft {
    /// The space does not own the frame (a frame object's page, the SMP
    /// trampoline): teardown leaves it alone and nothing was charged for it.
    const BORROWED: u8 = 1;
    /// `mem_protect` may make the page writable.
    const MAY_WRITE: u8 = 2;
    /// `mem_protect` may make the page executable.
    const MAY_EXECUTE: u8 = 4;

    /// A page the space owns: its process may make it anything W^X allows.
    pub const OWNED: Soft = Soft(Self::MAY_WRITE | Self::MAY_EXECUTE);

    /// A borrowed page that may become at most writable (`may_write`) or
    /// executable (`may_execute`): the rights of the capability it came
    /// through.
    pub const fn borrowed(may_write: bool, may_execute: bool) -> Soft {
        let mut bits = Self::BORROWED;
        if may_write {
            bits |= Self::MAY_WRITE;
        }
        if may_execute {
            bits |= Self::MAY_EXECUTE;
        }
        Soft(bits)
    }

    fn of(flags: Flags) -> Soft {
        Soft(flags.soft)
    }

    pub fn is_borrowed(self) -> bool {
        self.0 & Self::BORROWED != 0
    }

    /// Whether a mapping with this ceiling may take `flags`.
    pub fn allows(self, flags: Flags) -> bool {
        (!flags.writable || self.0 & Self::MAY_WRITE != 0)
            && (!flags.executable || self.0 & Self::MAY_EXECUTE != 0)
    }
}

/// Kernel tables whose allocations are charged to a budget first, and
/// whose TLB flushes and frees may be batched ([`Batch`]).
struct Metered<'a> {
    tables: KernelTables,
    budget: Option<&'a Memory>,
    charged: &'a mut u64,
    /// A table was refused because the budget could not pay for it.
    refused: bool,
    batch: Option<Batch>,
}

/// Most frames a [`Batch`] holds before it flushes early.
const BATCH_FRAMES: usize = 32;

/// The TLB work of a range operation, done once: the flushes the page
/// tables ask for are merged into one range, and the frames freed meanwhile
/// (emptied tables, owned pages) wait for that flush, since another CPU may
/// still reach them through a stale entry until it. So `mem_unmap` and
/// `mem_protect` cost one shootdown per call (per `BATCH_FRAMES` freed
/// frames at most), not one per page.
struct Batch {
    root: u64,
    /// The range to flush, `lo..hi` (empty while `hi <= lo`).
    lo: u64,
    hi: u64,
    frames: [u64; BATCH_FRAMES],
    n: usize,
}

impl Batch {
    const fn new() -> Batch {
        Batch {
            root: 0,
            lo: u64::MAX,
            hi: 0,
            frames: [0; BATCH_FRAMES],
            n: 0,
        }
    }

    /// Flushes what was asked for, then frees the frames that waited.
    fn finish(&mut self, tables: &mut KernelTables) {
        if self.hi > self.lo {
            tables.flush(self.root, self.lo, self.hi - self.lo);
        }
        for &pa in &self.frames[..self.n] {
            if let Err(e) = frames::free(pa, 0) {
                log::error!("user space: freeing {pa:#x}: {e}");
            }
        }
        self.lo = u64::MAX;
        self.hi = 0;
        self.n = 0;
    }

    fn free_later(&mut self, pa: u64, tables: &mut KernelTables) {
        if self.n == BATCH_FRAMES {
            self.finish(tables);
        }
        self.frames[self.n] = pa;
        self.n += 1;
    }
}

impl TableMemory for Metered<'_> {
    fn read(&self, table: u64, index: usize) -> u64 {
        self.tables.read(table, index)
    }

    fn write(&mut self, table: u64, index: usize, value: u64) {
        self.tables.write(table, index, value)
    }

    fn alloc_table(&mut self) -> Option<u64> {
        if let Some(b) = self.budget {
            if b.charge(PAGE_SIZE).is_err() {
                self.refused = true;
                return None;
            }
            *self.charged += PAGE_SIZE;
        }
        let table = self.tables.alloc_table();
        if table.is_none()
            && let Some(b) = self.budget
        {
            b.refund(PAGE_SIZE);
            *self.charged -= PAGE_SIZE;
        }
        table
    }

    fn free_table(&mut self, table: u64) {
        match &mut self.batch {
            Some(batch) => batch.free_later(table, &mut self.tables),
            None => self.tables.free_table(table),
        }
        if let Some(b) = self.budget {
            b.refund(PAGE_SIZE);
            *self.charged = self.charged.saturating_sub(PAGE_SIZE);
        }
    }

    fn flush(&mut self, root: u64, va: u64, len: u64) {
        match &mut self.batch {
            Some(b) => {
                b.root = root;
                b.lo = b.lo.min(va);
                b.hi = b.hi.max(va.saturating_add(len));
            }
            None => self.tables.flush(root, va, len),
        }
    }
}

/// A failed change to a user space, as the system call reports it.
fn map_error(e: MapError, refused: bool) -> SysError {
    match e {
        _ if refused => SysError::QuotaExceeded,
        MapError::AlreadyMapped(addr) => SysError::AlreadyMapped { addr },
        MapError::NotMapped(addr) | MapError::NotPageStart(addr) => SysError::BadAddress { addr },
        _ => SysError::OutOfMemory,
    }
}

/// A user address space owning the frames it maps (except borrowed ones).
/// Dropping it without `destroy` would leak, so `destroy` is the only way
/// out.
pub struct UserSpace {
    space: Option<AddressSpace>,
    /// What its frames and tables are charged to (`None`: the kernel's own
    /// space for the SMP trampoline).
    budget: Option<Arc<Memory>>,
    /// Bytes charged to `budget` for the frames and tables it holds now.
    charged: u64,
}

impl UserSpace {
    /// An empty space whose root table is charged to `budget`.
    pub fn new(budget: Option<Arc<Memory>>) -> Result<UserSpace, SysError> {
        let mut us = UserSpace {
            space: None,
            budget,
            charged: 0,
        };
        let (result, refused) = us.metered(|_, m| {
            kspace::with_kernel_space(|k| AddressSpace::new_user(m, k))
                .unwrap_or(Err(MapError::OutOfMemory))
        });
        us.space = Some(result.map_err(|e| map_error(e, refused))?);
        Ok(us)
    }

    /// Runs `f` with the page tables charged to this space's budget.
    fn metered<R>(
        &mut self,
        f: impl FnOnce(Option<&mut AddressSpace>, &mut Metered<'_>) -> R,
    ) -> (R, bool) {
        let mut m = Metered {
            tables: tables(),
            budget: self.budget.as_deref(),
            charged: &mut self.charged,
            refused: false,
            batch: None,
        };
        let r = f(self.space.as_mut(), &mut m);
        (r, m.refused)
    }

    /// Runs `f` on every page of `[from, to)` with one batch of TLB work
    /// ([`Batch`]), done when the range is. `f` gets the space, the tables
    /// and the page; a frame it returns is freed after the flush.
    fn batched(
        &mut self,
        from: u64,
        to: u64,
        mut f: impl FnMut(&mut AddressSpace, &mut Metered<'_>, u64) -> Option<u64>,
    ) {
        let Some(space) = self.space.as_mut() else {
            return;
        };
        let mut m = Metered {
            tables: tables(),
            budget: self.budget.as_deref(),
            charged: &mut self.charged,
            refused: false,
            batch: Some(Batch::new()),
        };
        for va in (from..to).step_by(PAGE_SIZE as usize) {
            if let Some(pa) = f(space, &mut m, va)
                && let Some(b) = &mut m.batch
            {
                b.free_later(pa, &mut m.tables);
            }
        }
        if let Some(b) = &mut m.batch {
            b.finish(&mut m.tables);
        }
    }

    /// Bytes its frames and tables cost its budget now.
    pub fn charged(&self) -> u64 {
        self.charged
    }

    fn charge_frame(&mut self) -> Result<(), SysError> {
        if let Some(b) = &self.budget {
            b.charge(PAGE_SIZE)?;
            self.charged += PAGE_SIZE;
        }
        Ok(())
    }

    fn refund_frame(&mut self) {
        if let Some(b) = &self.budget {
            b.refund(PAGE_SIZE);
            self.charged = self.charged.saturating_sub(PAGE_SIZE);
        }
    }

    /// Maps a fresh zeroed frame at `va` with `flags` (user flags), charged
    /// with any table it needs; returns the frame.
    pub fn map_new(&mut self, va: u64, flags: Flags) -> Result<u64, SysError> {
        self.charge_frame()?;
        let Ok(pa) = frames::alloc(0, FrameKind::User) else {
            self.refund_frame();
            return Err(SysError::OutOfMemory);
        };
        arch::mm::zero_frame(pa);
        let flags = flags.with_soft(Soft::OWNED.0);
        let (r, refused) = self.metered(|s, m| match s {
            Some(s) => s.map(m, va, pa, PageSize::Size4K, flags),
            None => Err(MapError::OutOfMemory),
        });
        if let Err(e) = r {
            let _ = frames::free(pa, 0);
            self.refund_frame();
            return Err(map_error(e, refused));
        }
        Ok(pa)
    }

    /// Maps a frame this space does not own (a frame object's page, the
    /// SMP trampoline), which `mem_protect` may widen only within
    /// `ceiling`; `destroy` leaves the frame alone.
    pub fn map_borrowed(
        &mut self,
        va: u64,
        pa: u64,
        flags: Flags,
        ceiling: Soft,
    ) -> Result<(), SysError> {
        let flags = flags.with_soft(ceiling.0 | Soft::BORROWED);
        let (r, refused) = self.metered(|s, m| match s {
            Some(s) => s.map(m, va, pa, PageSize::Size4K, flags),
            None => Err(MapError::OutOfMemory),
        });
        r.map_err(|e| map_error(e, refused))
    }

    /// Unmaps the 4 KiB pages in `[from, to)` that are mapped and frees
    /// the frames it owns; returns how many frames it freed.
    /// One TLB flush for the whole range.
    pub fn unmap_range(&mut self, from: u64, to: u64) -> u64 {
        let mut freed = 0;
        self.batched(from, to, |s, m, va| match s.unmap_leaf(m, va) {
            Ok((pa, _, flags)) if !Soft::of(flags).is_borrowed() => {
                freed += 1;
                Some(pa)
            }
            _ => None,
        });
        if let Some(b) = &self.budget {
            b.refund(freed * PAGE_SIZE);
            self.charged = self.charged.saturating_sub(freed * PAGE_SIZE);
        }
        freed
    }

    /// Unmaps `va` if it maps the borrowed frame `pa`.
    pub fn unmap_borrowed(&mut self, va: u64, pa: u64) {
        if self
            .translate(va)
            .is_some_and(|t| t.frame == pa && Soft::of(t.flags).is_borrowed())
        {
            let _ = self.metered(|s, m| s.map(|s| s.unmap(m, va)));
        }
    }

    /// Unmaps the borrowed frames `pages` mapped one after another from
    /// `addr`, each only if it is still there, with one TLB flush.
    pub fn unmap_borrowed_range(&mut self, addr: u64, pages: &[u64]) {
        let end = addr + pages.len() as u64 * PAGE_SIZE;
        self.batched(addr, end, |s, m, va| {
            let pa = pages[((va - addr) / PAGE_SIZE) as usize];
            if s.translate(m, va)
                .is_some_and(|t| t.frame == pa && Soft::of(t.flags).is_borrowed())
            {
                let _ = s.unmap(m, va);
            }
            None
        });
    }

    /// Changes the permissions of the page at `va`, within what its
    /// mapping may become: else `PermissionDenied`, and nothing changes.
    pub fn protect(&mut self, va: u64, flags: Flags) -> Result<(), SysError> {
        let t = self
            .translate(va)
            .ok_or(SysError::BadAddress { addr: va })?;
        let soft = Soft::of(t.flags);
        if !soft.allows(flags) {
            return Err(SysError::PermissionDenied { addr: va });
        }
        let (r, _) = self.metered(|s, m| match s {
            Some(s) => s.protect(m, va, flags.with_soft(soft.0)).map(|_| ()),
            None => Err(MapError::NotMapped(va)),
        });
        r.map_err(|e| map_error(e, false))
    }

    /// Gives every page of `[from, to)` `flags`, keeping each one's soft
    /// bits, with one TLB flush. The caller checked every page with
    /// [`UserSpace::may_become`] first; a page that is not mapped is
    /// skipped.
    pub fn protect_range(&mut self, from: u64, to: u64, flags: Flags) {
        self.batched(from, to, |s, m, va| {
            if let Some(t) = s.translate(m, va)
                && Soft::of(t.flags).allows(flags)
            {
                let _ = s.protect(m, va, flags.with_soft(t.flags.soft));
            }
            None
        });
    }

    /// Whether the page at `va` may take `flags` (what `protect` checks).
    pub fn may_become(&mut self, va: u64, flags: Flags) -> Result<(), SysError> {
        let t = self
            .translate(va)
            .ok_or(SysError::BadAddress { addr: va })?;
        if Soft::of(t.flags).allows(flags) {
            Ok(())
        } else {
            Err(SysError::PermissionDenied { addr: va })
        }
    }

    pub fn translate(&mut self, va: u64) -> Option<Translation> {
        self.space.as_ref()?.translate(&tables(), va)
    }

    pub fn root(&self) -> u64 {
        self.space.as_ref().map_or(0, AddressSpace::root)
    }

    /// Unmaps everything, frees the frames it owns and every table, and
    /// refunds its budget all it was charged. Switches back to the kernel
    /// tables first if this space is active.
    pub fn destroy(mut self) {
        let Some(space) = self.space.take() else {
            return;
        };
        if arch::mm::current_root() == space.root() {
            kspace::activate_kernel();
        }
        let mut owned = 0u64;
        let _ = self.metered(|_, m| {
            space.destroy(m, |_, pa, size, flags| {
                if Soft::of(flags).is_borrowed() {
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
                owned += size.bytes();
            })
        });
        // Tables were refunded as they were freed; the frames now.
        if let Some(b) = &self.budget {
            let frames = owned.min(self.charged);
            b.refund(frames);
            self.charged -= frames;
            if self.charged != 0 {
                log::error!(
                    "user space teardown: {:#x} bytes still charged",
                    self.charged
                );
                b.refund(self.charged);
                self.charged = 0;
            }
        }
    }
}
