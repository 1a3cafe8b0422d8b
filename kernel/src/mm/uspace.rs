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

/// Kernel tables whose allocations are charged to a budget first.
struct Metered<'a> {
    tables: KernelTables,
    budget: Option<&'a Memory>,
    charged: &'a mut u64,
    /// A table was refused because the budget could not pay for it.
    refused: bool,
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
        self.tables.free_table(table);
        if let Some(b) = self.budget {
            b.refund(PAGE_SIZE);
            *self.charged = self.charged.saturating_sub(PAGE_SIZE);
        }
    }

    fn flush(&mut self, root: u64, va: u64, len: u64) {
        self.tables.flush(root, va, len)
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
        };
        let r = f(self.space.as_mut(), &mut m);
        (r, m.refused)
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
    pub fn unmap_range(&mut self, from: u64, to: u64) -> u64 {
        let mut freed = 0;
        for va in (from..to).step_by(PAGE_SIZE as usize) {
            let (r, _) = self.metered(|s, m| match s {
                Some(s) => s.unmap_leaf(m, va),
                None => Err(MapError::NotMapped(va)),
            });
            if let Ok((pa, _, flags)) = r
                && !Soft::of(flags).is_borrowed()
            {
                let _ = frames::free(pa, 0);
                self.refund_frame();
                freed += 1;
            }
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
