//! Memory objects (the ABI's `memory`, `ObjectType::Memory`):
//! a budget of bytes from which processes, threads, mappings and smaller
//! memory objects are made, so every byte the kernel allocates for a
//! process is charged to the capability that asked for it.
//!
//! A budget, not a physical range (ADR 0008): frames still come from the
//! buddy allocator; a `Memory` only bounds how many a subtree may hold.
//! Splitting charges the parent the child's whole size plus
//! [`MEMORY_OBJECT_COST`], the kernel heap the child `Memory` itself
//! takes. When the child is destroyed (its last capability deleted, or
//! revoked from above), the part of it nobody uses goes back to the parent
//! at once; what is still in use (a process being torn down, a split whose
//! capabilities moved up the tree) goes back as it is released: a refund
//! to a destroyed budget passes on to its parent. The object's own cost
//! goes back when the `Memory` is freed (its last reference dropped, which
//! for a destroyed budget with live splits is when the last of them goes),
//! to the parent like any refund. So no byte is ever counted twice, and
//! every byte comes back.
//!
//! A process controls how deep the tree is: it can split a split of a
//! split and delete each parent's capability at once, so that a chain of
//! destroyed budgets hangs only from its newest link (issue 14). Nothing
//! here therefore recurses along the tree: a refund walks up in a loop,
//! and dropping a `Memory` frees every ancestor whose last reference it
//! held, in a loop too (`Drop for Memory`).
//! The charge for the object bounds how long such a chain can grow: one
//! link per `MEMORY_OBJECT_COST` bytes of budget (and, as `memory_split`
//! takes whole pages, one per page in practice).

use alloc::sync::Arc;
use core::sync::atomic::{AtomicU64, Ordering};
use ferrous_abi::SysError;

/// In `Memory::used`: the budget is destroyed; refunds pass on, charges
/// fail. One word, so a refund is either before the destruction (counted
/// in what it returns) or after (passed on), never both.
const DESTROYED: u64 = 1 << 63;

/// What a split costs its parent besides the child's budget: the kernel
/// heap block of the child's `Arc<Memory>`. That is the `Memory` (size,
/// used, parent: 24 bytes) behind the `Arc`'s two counters (16 bytes), 40
/// in all; the heap (`linked_list_allocator`) rounds a block up to a
/// multiple of 8 and keeps no piece smaller than 16 bytes as a hole, so a
/// block can take up to 16 bytes more. 64 covers that with room for a
/// field or two; the assertion below keeps it honest. The capability that
/// names the object is not part of it: capability tables are bounded by
/// their slots and charged with the process.
pub const MEMORY_OBJECT_COST: u64 = 64;

const _: () = assert!(
    core::mem::size_of::<Memory>() + 2 * core::mem::size_of::<usize>() + 16
        <= MEMORY_OBJECT_COST as usize
);

pub struct Memory {
    size: u64,
    used: AtomicU64,
    parent: Option<Arc<Memory>>,
}

impl Memory {
    /// The root budget (init's `MEMORY`).
    pub fn root(size: u64) -> Arc<Memory> {
        // alloc: off the system-call path (the root budget, at boot)
        Arc::new(Memory {
            size: size.min(DESTROYED - 1),
            used: AtomicU64::new(0),
            parent: None,
        })
    }

    /// Takes `bytes` from the budget, or refuses without changing it.
    pub fn charge(&self, bytes: u64) -> Result<(), SysError> {
        self.used
            .fetch_update(Ordering::AcqRel, Ordering::Acquire, |used| {
                if used & DESTROYED != 0 {
                    return None;
                }
                used.checked_add(bytes).filter(|&u| u <= self.size)
            })
            .map(|_| ())
            .map_err(|used| {
                // Resource 1: memory (resource groups will number more).
                let args = [1, self.size, 0, 0];
                crate::trace::emit(ferrous_trace::EventType::ProcessLimit, args, 0);
                log::debug!(
                    "process.limit memory: charge of {bytes:#x} bytes refused ({:#x} of {:#x} used{})",
                    used & !DESTROYED,
                    self.size,
                    if used & DESTROYED != 0 {
                        ", destroyed"
                    } else {
                        ""
                    }
                );
                SysError::QuotaExceeded
            })
    }

    /// Gives back `bytes` charged earlier. A destroyed budget passes them
    /// on to its parent (no more than it still counts as used), and so on
    /// up: a loop, however many destroyed budgets lie above.
    pub fn refund(&self, bytes: u64) {
        let mut node = self;
        let mut bytes = bytes;
        while let Some(pass) = node.take_back(bytes) {
            match &node.parent {
                Some(p) if pass > 0 => {
                    node = p;
                    bytes = pass;
                }
                _ => return,
            }
        }
    }

    /// One step of a refund: `bytes` come off this budget's use. `None` if
    /// the budget is live (they stay here); if it is destroyed, what must
    /// pass on to the parent.
    fn take_back(&self, bytes: u64) -> Option<u64> {
        let before = self
            .used
            .fetch_update(Ordering::AcqRel, Ordering::Acquire, |u| {
                Some((u & DESTROYED) | (u & !DESTROYED).saturating_sub(bytes))
            })
            .unwrap_or(0);
        (before & DESTROYED != 0).then(|| bytes.min(before & !DESTROYED))
    }

    pub fn available(&self) -> u64 {
        let used = self.used.load(Ordering::Acquire);
        if used & DESTROYED != 0 {
            0
        } else {
            self.size.saturating_sub(used)
        }
    }

    /// A child budget of `bytes`, charged to this one with its object
    /// ([`MEMORY_OBJECT_COST`]); `QuotaExceeded` if this one cannot pay for
    /// both.
    pub fn split(self: &Arc<Memory>, bytes: u64) -> Result<Arc<Memory>, SysError> {
        self.charge(bytes.saturating_add(MEMORY_OBJECT_COST))?;
        // `Arc::new` cannot fail softly (stable Rust has no `Arc::try_new`):
        // an exhausted kernel heap ends in the allocation-error panic, as
        // for the other kernel objects (`EndpointObj`, `FrameObj`,
        // `Process`). The charge above comes first, so every object a
        // process makes this way is paid for from a budget that all free
        // memory at boot bounds; what escapes that bound is the kernel's
        // own uncharged bookkeeping (ARCHITECTURE.md, "Kernel memory is
        // charged by estimate").
        // alloc: fixed-size (mm::heap::fixed, "Fixed-size objects"), charged above
        Ok(crate::mm::heap::fixed(|| {
            Arc::new(Memory {
                size: bytes,
                used: AtomicU64::new(0),
                parent: Some(self.clone()),
            })
        }))
    }

    /// The object's last capability is gone: nothing more may be charged;
    /// the unused part goes back to the parent now, the rest as it is
    /// refunded. Once.
    pub fn destroy(&self) {
        let unused = self.mark_destroyed();
        if unused > 0
            && let Some(p) = &self.parent
        {
            p.refund(unused);
        }
    }

    /// Marks the budget destroyed; returns the part nobody uses, which the
    /// caller owes the parent (0 if it was destroyed already).
    fn mark_destroyed(&self) -> u64 {
        let before = self.used.fetch_or(DESTROYED, Ordering::AcqRel);
        if before & DESTROYED == 0 {
            self.size.saturating_sub(before)
        } else {
            0
        }
    }
}

/// Frees a chain without recursion. Dropping a `Memory` drops its
/// reference to its parent, which may be the last (the parent destroyed,
/// its other splits gone), and so on up a chain as long as a process
/// cared to make it. So the parent is taken out first, and while this
/// drop holds its last reference (`Arc::get_mut`), its own parent is
/// taken out in turn and it is freed with none: each `Memory` in the
/// chain is freed by this loop, one at a time, never by a nested drop.
///
/// The refunds go along: each freed `Memory` owes its parent its object
/// ([`MEMORY_OBJECT_COST`]) and, if it was never destroyed, its unused
/// budget. What a destroyed parent passes on is carried to the next
/// iteration instead of walking up at once, so freeing a chain of n
/// costs O(n); where the walk stops (a parent someone else still holds),
/// the rest goes up as an ordinary refund.
impl Drop for Memory {
    fn drop(&mut self) {
        let mut carry = self.mark_destroyed() + MEMORY_OBJECT_COST;
        let mut next = self.parent.take();
        while let Some(mut p) = next.take() {
            let pass = p.take_back(carry).unwrap_or(0);
            match Arc::get_mut(&mut p) {
                // The last reference: free it here, parentless, so its own
                // drop has nothing to walk.
                Some(m) => {
                    carry = pass + m.mark_destroyed() + MEMORY_OBJECT_COST;
                    next = m.parent.take();
                }
                // Still held elsewhere: it stays; what it passes on goes
                // up as a refund (a loop too).
                None => {
                    if pass > 0
                        && let Some(g) = &p.parent
                    {
                        g.refund(pass);
                    }
                }
            }
            drop(p);
        }
    }
}
