//! Memory objects (the ABI's `memory`, the capability crate's Untyped):
//! a budget of bytes from which processes, threads, mappings and smaller
//! memory objects are made, so every byte the kernel allocates for a
//! process is charged to the capability that asked for it.
//!
//! A budget, not a physical range (ADR 0008): frames still come from the
//! buddy allocator; a `Memory` only bounds how many a subtree may hold.
//! Splitting charges the parent the child's whole size; destroying the
//! child (its last capability deleted, or revoked from above) gives the
//! size back at once.

use alloc::sync::Arc;
use core::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use ferrous_abi::SysError;

pub struct Memory {
    size: u64,
    used: AtomicU64,
    parent: Option<Arc<Memory>>,
    destroyed: AtomicBool,
}

impl Memory {
    /// The root budget (init's `MEMORY`).
    pub fn root(size: u64) -> Arc<Memory> {
        Arc::new(Memory {
            size,
            used: AtomicU64::new(0),
            parent: None,
            destroyed: AtomicBool::new(false),
        })
    }

    /// Takes `bytes` from the budget, or refuses without changing it.
    pub fn charge(&self, bytes: u64) -> Result<(), SysError> {
        if self.destroyed.load(Ordering::Acquire) {
            return Err(SysError::QuotaExceeded);
        }
        self.used
            .fetch_update(Ordering::AcqRel, Ordering::Acquire, |used| {
                used.checked_add(bytes).filter(|&u| u <= self.size)
            })
            .map(|_| ())
            .map_err(|_| {
                log::debug!(
                    "memory: charge of {bytes:#x} bytes refused ({:#x} of {:#x} used)",
                    self.used(),
                    self.size
                );
                SysError::QuotaExceeded
            })
    }

    pub fn refund(&self, bytes: u64) {
        let _ = self
            .used
            .fetch_update(Ordering::AcqRel, Ordering::Acquire, |u| {
                Some(u.saturating_sub(bytes))
            });
    }

    pub fn used(&self) -> u64 {
        self.used.load(Ordering::Acquire)
    }

    pub fn available(&self) -> u64 {
        self.size.saturating_sub(self.used())
    }

    /// A child budget of `bytes`, charged to this one.
    pub fn split(self: &Arc<Memory>, bytes: u64) -> Result<Arc<Memory>, SysError> {
        self.charge(bytes)?;
        Ok(Arc::new(Memory {
            size: bytes,
            used: AtomicU64::new(0),
            parent: Some(self.clone()),
            destroyed: AtomicBool::new(false),
        }))
    }

    /// The object's last capability is gone: its size goes back to the
    /// parent, and nothing more may be charged to it. Objects made from it
    /// that still run (processes being killed) refund into it harmlessly.
    pub fn destroy(&self) {
        if !self.destroyed.swap(true, Ordering::AcqRel)
            && let Some(p) = &self.parent
        {
            p.refund(self.size);
        }
    }
}
