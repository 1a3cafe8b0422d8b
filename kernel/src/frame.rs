//! Frame objects: physical pages made from a memory capability, to be
//! mapped into more than one address space (shared memory for bulk data
//! next to IPC). A mapping lives as long as the capability it was made
//! with: deleting or revoking that capability, or the end of the process
//! holding it, unmaps it from the space it went into.
//!
//! Rights hold for the life of a mapping: each page records what the
//! capability it came through allows (`uspace::Soft`), and `mem_protect`
//! can only narrow within that. W^X holds across aliases too: a frame is
//! *data* or *code* for its whole life, fixed by the first mapping that
//! could write or execute it (a capability with both rights decides by the
//! permissions asked for: execute makes code, anything else data). Later
//! mappings may never write code or execute data (`WriteAndExecute`).

use crate::memory::Memory;
use crate::mm::frames::{self, FrameKind};
use crate::mm::uspace::Soft;
use crate::process::Process;
use crate::sync::SpinLock;
use alloc::sync::{Arc, Weak};
use alloc::vec::Vec;
use core::sync::atomic::{AtomicU8, Ordering};
use ferrous_abi::{PAGE_SIZE, Rights, SysError};
use ferrous_caps::{CSpaceId, ObjectId};
use ferrous_paging::Flags;

/// Most bytes one frame object holds (one call's work stays bounded).
pub const MAX_FRAME: u64 = 16 << 20;
/// Charged to the target process per mapping, for its record here:
/// mapping one frame many times into one page table costs no table, so
/// the records pay for themselves. The record list keeps room for at most
/// four records per live one (`trim`; three while it doubles), which the
/// assertion below checks this covers.
const MAPPING_COST: u64 = 128;
/// Records a frame's list keeps room for however few it holds.
const KEEP: usize = 4;
/// Charged to the frame's memory beyond its pages, for the kernel's frame
/// object: its `Arc` block rounded up to the heap's 16-byte pieces, and
/// room for [`KEEP`] mapping records. Its list of pages is charged on top
/// at 8 bytes a page ([`cost`]).
const FRAME_OBJECT_COST: u64 = 256;

const _: () = assert!(4 * core::mem::size_of::<Mapping>() <= MAPPING_COST as usize);
const _: () = assert!(
    (2 * core::mem::size_of::<usize>() + core::mem::size_of::<FrameObj>()).next_multiple_of(16)
        + 16
        + KEEP * core::mem::size_of::<Mapping>()
        <= FRAME_OBJECT_COST as usize
);

/// What a frame of `bytes` is charged: its pages, its list of them and
/// the object.
pub const fn cost(bytes: u64) -> u64 {
    bytes + bytes / PAGE_SIZE * 8 + FRAME_OBJECT_COST
}

/// Gives a mapping list's room back once it uses a quarter of it or less
/// (as `ferrous_ipc`'s queues do): an empty list frees its buffer, a
/// shorter one moves to one of its own size if the heap has it (else it
/// stays, and the next removal tries again).
fn trim(m: &mut Vec<Mapping>) {
    if m.capacity() <= KEEP || m.len() > m.capacity() / 4 {
        return;
    }
    if m.is_empty() {
        *m = Vec::new();
        return;
    }
    let mut smaller = Vec::new();
    if smaller.try_reserve_exact(m.len().max(KEEP)).is_ok() {
        // alloc: reserved above (try_reserve_exact)
        smaller.append(m);
        *m = smaller;
    }
}

/// Where one mapping went, and which capability made it.
struct Mapping {
    via: (CSpaceId, u32),
    target: Weak<Process>,
    addr: u64,
}

/// What a frame is for (`FrameObj::use_`), fixed once.
const UNDECIDED: u8 = 0;
const DATA: u8 = 1;
const CODE: u8 = 2;

pub struct FrameObj {
    pages: Vec<u64>,
    memory: Arc<Memory>,
    mappings: SpinLock<Vec<Mapping>>,
    /// `UNDECIDED`, `DATA` or `CODE`.
    use_: AtomicU8,
}

impl FrameObj {
    /// `bytes` (whole pages) of zeroed memory charged to `memory`.
    pub fn create(memory: Arc<Memory>, bytes: u64) -> Result<Arc<FrameObj>, SysError> {
        if bytes > MAX_FRAME {
            return Err(SysError::LengthTooLarge { arg: 1 });
        }
        memory.charge(cost(bytes))?;
        let n = (bytes / PAGE_SIZE) as usize;
        let mut pages = Vec::new();
        if pages.try_reserve_exact(n).is_err() {
            memory.refund(cost(bytes));
            return Err(SysError::OutOfMemory);
        }
        for _ in 0..n {
            match frames::alloc(0, FrameKind::User) {
                Ok(pa) => {
                    crate::arch::mm::zero_frame(pa);
                    // alloc: reserved above (try_reserve_exact(n))
                    pages.push(pa);
                }
                Err(_) => {
                    for pa in pages {
                        let _ = frames::free(pa, 0);
                    }
                    memory.refund(cost(bytes));
                    return Err(SysError::OutOfMemory);
                }
            }
        }
        // alloc: fixed-size (mm::heap::fixed, "Fixed-size objects"), charged above
        Ok(crate::mm::heap::fixed(|| {
            Arc::new(FrameObj {
                pages,
                memory,
                mappings: SpinLock::new(Vec::new()),
                use_: AtomicU8::new(UNDECIDED),
            })
        }))
    }

    pub fn len(&self) -> u64 {
        self.pages.len() as u64 * PAGE_SIZE
    }

    /// What a mapping with `flags` through a capability with `rights` may
    /// become, fixing the frame as data or code if it is not yet:
    /// `WriteAndExecute` (argument `arg`) if `flags` would write code or
    /// execute data.
    pub fn ceiling(&self, rights: Rights, flags: Flags, arg: u8) -> Result<Soft, SysError> {
        let mut use_ = self.use_.load(Ordering::Acquire);
        loop {
            let mut may_write = rights.contains(Rights::WRITE) && use_ != CODE;
            let mut may_execute = rights.contains(Rights::EXECUTE) && use_ != DATA;
            if (flags.writable && !may_write) || (flags.executable && !may_execute) {
                return Err(SysError::WriteAndExecute { arg });
            }
            if may_write && may_execute {
                // Undecided and both allowed: what was asked for decides.
                may_write = !flags.executable;
                may_execute = flags.executable;
            }
            let decided = match (may_write, may_execute) {
                (true, _) => DATA,
                (_, true) => CODE,
                _ => use_,
            };
            if decided == use_ {
                return Ok(Soft::borrowed(may_write, may_execute));
            }
            match self.use_.compare_exchange(
                UNDECIDED,
                decided,
                Ordering::AcqRel,
                Ordering::Acquire,
            ) {
                Ok(_) => return Ok(Soft::borrowed(may_write, may_execute)),
                // Another mapping decided first: judge again.
                Err(now) => use_ = now,
            }
        }
    }

    /// Maps every page at `addr..` in `target` with `flags` and the
    /// ceiling `soft`, on behalf of the capability in `via` (which names
    /// this frame as `object`); nothing changes if a page is taken
    /// (`AlreadyMapped`), the target's budget cannot pay for the page
    /// tables (`QuotaExceeded`), or the capability went meanwhile
    /// (`ObjectGone`).
    ///
    /// The mapping is recorded under the capability lock, after checking
    /// that `via` still names the frame: a delete, revoke or move of the
    /// capability is either before that (and the mapping is undone here)
    /// or after it (and finds the record), so no mapping outlives the
    /// capability it was made through.
    pub fn map(
        &self,
        via: (CSpaceId, u32),
        object: ObjectId,
        target: &Arc<Process>,
        addr: u64,
        flags: Flags,
        soft: Soft,
    ) -> Result<(), SysError> {
        self.prune(target);
        target.charge(MAPPING_COST)?;
        let mapped = target
            .with_space(|s| {
                for (i, _) in self.pages.iter().enumerate() {
                    let va = addr + i as u64 * PAGE_SIZE;
                    if s.translate(va).is_some() {
                        return Err(SysError::AlreadyMapped { addr: va });
                    }
                }
                for (i, &pa) in self.pages.iter().enumerate() {
                    let va = addr + i as u64 * PAGE_SIZE;
                    if let Err(e) = s.map_borrowed(va, pa, flags, soft) {
                        self.unmap_pages(s, addr, i);
                        return Err(e);
                    }
                }
                Ok(())
            })
            .unwrap_or(Err(SysError::ObjectGone));
        if let Err(e) = mapped {
            target.uncharge(MAPPING_COST);
            return Err(e);
        }
        let recorded = crate::cap::while_names(via, object, || {
            let mut m = self.mappings.lock();
            m.try_reserve(1).map_err(|_| SysError::OutOfMemory)?;
            // alloc: reserved above (try_reserve(1))
            m.push(Mapping {
                via,
                target: Arc::downgrade(target),
                addr,
            });
            Ok(())
        });
        if recorded.is_err() {
            target.with_space(|s| self.unmap_pages(s, addr, self.pages.len()));
            target.uncharge(MAPPING_COST);
        }
        recorded
    }

    /// Forgets the mappings into `target` that `mem_unmap` took away (their
    /// first page no longer maps this frame) and refunds their records, so
    /// mapping and unmapping again and again costs nothing lasting. Under
    /// the mappings lock (which comes before a space's lock); linear in
    /// this frame's mappings.
    fn prune(&self, target: &Arc<Process>) {
        let Some(&first) = self.pages.first() else {
            return;
        };
        let mut stale = 0;
        {
            let mut m = self.mappings.lock();
            let mut i = m.len();
            while i > 0 {
                i -= 1;
                let x = &m[i];
                if !core::ptr::eq(x.target.as_ptr(), Arc::as_ptr(target)) {
                    continue;
                }
                let here = target
                    .with_space(|s| s.translate(x.addr).is_some_and(|t| t.frame == first))
                    .unwrap_or(false);
                if !here {
                    m.swap_remove(i);
                    stale += 1;
                }
            }
            trim(&mut m);
        }
        for _ in 0..stale {
            target.uncharge(MAPPING_COST);
        }
    }

    /// Unmaps the first `n` pages of this frame mapped at `addr` in `s`.
    fn unmap_pages(&self, s: &mut crate::mm::uspace::UserSpace, addr: u64, n: usize) {
        s.unmap_borrowed_range(addr, &self.pages[..n.min(self.pages.len())]);
    }

    /// Removes the mappings `gone` picks (each page only if it still maps
    /// this frame: a `mem_unmap` may have replaced it meanwhile). One at a
    /// time, from the end, found again under the lock: nothing is
    /// allocated but the list's smaller buffer at the end, whose failure
    /// changes nothing (this runs for deletes and revokes, which must not
    /// fail), the lock is not held while page tables change, and the
    /// whole walk is linear in the number of mappings.
    fn unmap_where(&self, gone: impl Fn(&Mapping) -> bool) {
        let mut below = usize::MAX;
        loop {
            let next = {
                let mut m = self.mappings.lock();
                let end = below.min(m.len());
                m[..end].iter().rposition(&gone).map(|i| {
                    below = i;
                    m.swap_remove(i)
                })
            };
            let Some(mapping) = next else {
                trim(&mut self.mappings.lock());
                return;
            };
            if let Some(p) = mapping.target.upgrade() {
                p.with_space(|s| self.unmap_pages(s, mapping.addr, self.pages.len()));
                p.uncharge(MAPPING_COST);
            }
        }
    }

    /// The capability in `via` is gone: so are the mappings it made.
    pub fn unmap_via(&self, via: (CSpaceId, u32)) {
        self.unmap_where(|m| m.via == via);
    }

    /// A capability space is gone: every mapping made through it.
    pub fn unmap_cspace(&self, cspace: CSpaceId) {
        self.unmap_where(|m| m.via.0 == cspace);
    }

    /// The capability in `from` moved to `to`: its mappings follow. Called
    /// under the capability lock, so a revoke sees either the old or the
    /// new attribution, never a gap.
    pub fn moved(&self, from: (CSpaceId, u32), to: (CSpaceId, u32)) {
        for m in self.mappings.lock().iter_mut().filter(|m| m.via == from) {
            m.via = to;
        }
    }

    /// The object is destroyed: unmapped everywhere.
    pub fn unmap_all(&self) {
        self.unmap_where(|_| true);
    }
}

impl Drop for FrameObj {
    fn drop(&mut self) {
        self.unmap_all();
        for &pa in &self.pages {
            if let Err(e) = frames::free(pa, 0) {
                log::error!("frame object: freeing {pa:#x}: {e}");
            }
        }
        self.memory.refund(cost(self.len()));
    }
}
