//! Memory objects (the ABI's `memory`, the capability crate's Untyped):
//! a budget of bytes from which processes, threads, mappings and smaller
//! memory objects are made, so every byte the kernel allocates for a
//! process is charged to the capability that asked for it.
//!
//! A budget, not a physical range (ADR 0008): frames still come from the
//! buddy allocator; a `Memory` only bounds how many a subtree may hold.
//! Splitting charges the parent the child's whole size. When the child is
//! destroyed (its last capability deleted, or revoked from above), the
//! part of it nobody uses goes back to the parent at once; what is still
//! in use (a process being torn down, a split whose capabilities moved up
//! the tree) goes back as it is released: a refund to a destroyed budget
//! passes on to its parent. So no byte is ever counted twice.

use alloc::sync::Arc;
use core::sync::atomic::{AtomicU64, Ordering};
use ferrous_abi::SysError;

/// In `Memory::used`: the budget is destroyed; refunds pass on, charges
/// fail. One word, so a refund is either before the destruction (counted
/// in what it returns) or after (passed on), never both.
const DESTROYED: u64 = 1 << 63;

pub struct Memory {
    size: u64,
    used: AtomicU64,
    parent: Option<Arc<Memory>>,
}

impl Memory {
    /// The root budget (init's `MEMORY`).
    pub fn root(size: u64) -> Arc<Memory> {
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

    pub fn refund(&self, bytes: u64) {
        let before = self
            .used
            .fetch_update(Ordering::AcqRel, Ordering::Acquire, |u| {
                Some((u & DESTROYED) | (u & !DESTROYED).saturating_sub(bytes))
            })
            .unwrap_or(0);
        if before & DESTROYED != 0
            && let Some(p) = &self.parent
        {
            p.refund(bytes.min(before & !DESTROYED));
        }
    }

    pub fn available(&self) -> u64 {
        let used = self.used.load(Ordering::Acquire);
        if used & DESTROYED != 0 {
            0
        } else {
            self.size.saturating_sub(used)
        }
    }

    /// A child budget of `bytes`, charged to this one.
    pub fn split(self: &Arc<Memory>, bytes: u64) -> Result<Arc<Memory>, SysError> {
        self.charge(bytes)?;
        Ok(Arc::new(Memory {
            size: bytes,
            used: AtomicU64::new(0),
            parent: Some(self.clone()),
        }))
    }

    /// The object's last capability is gone: nothing more may be charged;
    /// the unused part goes back to the parent now, the rest as it is
    /// refunded. Once.
    pub fn destroy(&self) {
        let before = self.used.fetch_or(DESTROYED, Ordering::AcqRel);
        if before & DESTROYED == 0
            && let Some(p) = &self.parent
        {
            p.refund(self.size.saturating_sub(before));
        }
    }
}
