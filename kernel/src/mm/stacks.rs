//! Kernel stacks with guard pages. Each stack owns a 128 KiB slot of the
//! stack region: the stack sits at the top of its slot and the rest of the
//! slot stays unmapped, so running off the bottom faults on a guard page.
//! The double-fault handler (on its own IST stack) recognises that and
//! reports "kernel stack overflow in <name>".

use super::frames::{self, FrameKind};
use super::{KERNEL_DATA, Region, STACKS_BASE, kspace};
use crate::sync::SpinLock;
use core::ops::Range;
use core::sync::atomic::{AtomicU64, Ordering};
use ferrous_paging::PageSize;

pub const SLOT: u64 = 128 * 1024;
/// Stack slots: 2 GiB of address space, more stacks than the memory a
/// machine of a few GiB can pay for at a 36 KiB charge per thread, so
/// budgets, not this table, bound how many threads exist (one process
/// cannot take the last slot from the others before its budget runs out).
pub const MAX_STACKS: usize = 16384;
/// Largest stack; the rest of the slot (at least 4 KiB) is guard.
pub const MAX_SIZE: u64 = SLOT - 4096;

#[derive(Clone, Copy, Debug)]
struct Record {
    name: &'static str,
    size: u64,
}

/// `SpinLock`: mapping and unmapping stacks may wait for TLB shootdowns.
static STACKS: SpinLock<[Option<Record>; MAX_STACKS]> = SpinLock::new([None; MAX_STACKS]);

/// One bit per slot, set while it holds a live stack, so that [`is_top`]
/// never waits for [`STACKS`]. Its callers may hold the scheduler's lock
/// with interrupts off (`ThreadContext::new` in `thread::lifecycle`),
/// while the holder of `STACKS` (`free`, with interrupts on) takes a timer
/// interrupt that waits for that same lock, or waits for TLB-shootdown
/// IPIs that a CPU with interrupts off never answers: a deadlock, found by
/// the `syscall-fuzz-stateful-smp4` scenario.
static LIVE: [AtomicU64; MAX_STACKS / 64] = [const { AtomicU64::new(0) }; MAX_STACKS / 64];

fn live_bit(slot: usize) -> (&'static AtomicU64, u64) {
    (&LIVE[slot / 64], 1 << (slot % 64))
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum StackError {
    BadSize(u64),
    NoSlot,
    OutOfMemory,
}

/// A mapped kernel stack; give it back with [`free`].
#[derive(Debug)]
pub struct KernelStack {
    slot: usize,
    pub top: u64,
    pub bottom: u64,
}

fn slot_base(slot: usize) -> u64 {
    STACKS_BASE + slot as u64 * SLOT
}

pub fn alloc(name: &'static str, size: u64) -> Result<KernelStack, StackError> {
    if size == 0 || !size.is_multiple_of(4096) || size > MAX_SIZE {
        return Err(StackError::BadSize(size));
    }
    let mut table = STACKS.lock();
    let slot = table
        .iter()
        .position(|s| s.is_none())
        .ok_or(StackError::NoSlot)?;
    let top = slot_base(slot) + SLOT;
    let bottom = top - size;
    let mut va = bottom;
    while va < top {
        let pa = match frames::alloc(0, FrameKind::KernelStack) {
            Ok(pa) => pa,
            Err(_) => {
                unmap_range(bottom, va);
                return Err(StackError::OutOfMemory);
            }
        };
        if kspace::map(va, pa, PageSize::Size4K, KERNEL_DATA).is_err() {
            let _ = frames::free(pa, 0);
            unmap_range(bottom, va);
            return Err(StackError::OutOfMemory);
        }
        va += 4096;
    }
    table[slot] = Some(Record { name, size });
    let (word, bit) = live_bit(slot);
    word.fetch_or(bit, Ordering::Release);
    Ok(KernelStack { slot, top, bottom })
}

fn unmap_range(from: u64, to: u64) {
    for va in (from..to).step_by(4096) {
        if let Ok((pa, _)) = kspace::unmap(va) {
            let _ = frames::free(pa, 0);
        }
    }
}

pub fn free(stack: KernelStack) {
    let mut table = STACKS.lock();
    let (word, bit) = live_bit(stack.slot);
    word.fetch_and(!bit, Ordering::Release);
    unmap_range(stack.bottom, stack.top);
    table[stack.slot] = None;
}

fn lookup(va: u64) -> Option<(Record, u64)> {
    if va < STACKS_BASE || va >= STACKS_BASE + MAX_STACKS as u64 * SLOT {
        return None;
    }
    let slot = ((va - STACKS_BASE) / SLOT) as usize;
    let table = STACKS.try_lock()?;
    table[slot].map(|r| (r, slot_base(slot)))
}

/// The stack or guard region `va` falls in (never waits for the lock).
pub fn region_of(va: u64) -> Option<Region> {
    if !(STACKS_BASE..STACKS_BASE + MAX_STACKS as u64 * SLOT).contains(&va) {
        return None;
    }
    Some(match lookup(va) {
        Some((r, base)) if va >= base + SLOT - r.size => Region::Stack(r.name),
        Some((r, _)) => Region::StackGuard(r.name),
        None => Region::Unassigned,
    })
}

/// Name of the stack whose guard `va` hits, if it is one.
pub fn guard_hit(va: u64) -> Option<&'static str> {
    match region_of(va)? {
        Region::StackGuard(name) => Some(name),
        _ => None,
    }
}

/// Is `top` the top of a live stack? Never waits for a lock (see [`LIVE`]).
pub fn is_top(top: u64) -> bool {
    let Some(slot) = top
        .checked_sub(STACKS_BASE + SLOT)
        .filter(|d| d.is_multiple_of(SLOT))
        .map(|d| (d / SLOT) as usize)
    else {
        return false;
    };
    slot < MAX_STACKS && {
        let (word, bit) = live_bit(slot);
        word.load(Ordering::Acquire) & bit != 0
    }
}

/// The mapped range of the stack containing `va` (for the stack walker).
pub fn bounds_of(va: u64) -> Option<Range<u64>> {
    let (r, base) = lookup(va)?;
    let top = base + SLOT;
    let range = top - r.size..top;
    range.contains(&va).then_some(range)
}
