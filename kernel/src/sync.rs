//! The kernel's two lock kinds, with guards:
//! - [`IrqMutex`]: interrupts masked while held, for state shared with
//!   interrupt handlers, so a handler can never spin on a lock its own CPU
//!   holds;
//! - [`SpinLock`]: preemption off, interrupts unchanged, for locks held
//!   across TLB shootdowns (other CPUs must take the IPI while spinning).
//!
//! Both are test-and-set spinlocks, not ticket locks: with more virtual CPUs
//! than host cores (QEMU TCG here, and any overcommitted VM) a ticket lock
//! hands the lock to a waiter the host has descheduled and every CPU waits
//! for it. Measured: `threads-1000-smp4` next to another QEMU took 4 s with
//! test-and-set and timed out (> 120 s) with `spin`'s ticket lock.
//! See docs/adr/0004-locking-and-context-switch.md.

use crate::arch;
use core::ops::{Deref, DerefMut};
use spin::mutex::{SpinMutex, SpinMutexGuard};

/// Takes `m`, answering TLB-shootdown requests while spinning: a CPU that
/// waits here with interrupts off cannot take the shootdown IPI, and the
/// lock's holder may be the CPU waiting for its answer.
fn spin_lock<T>(m: &SpinMutex<T>) -> SpinMutexGuard<'_, T> {
    loop {
        if let Some(g) = m.try_lock() {
            return g;
        }
        crate::mm::shootdown::poll();
        core::hint::spin_loop();
    }
}

pub struct IrqMutex<T> {
    inner: SpinMutex<T>,
}

pub struct IrqGuard<'a, T> {
    /// Always `Some` until `drop` releases it before re-enabling interrupts.
    guard: Option<SpinMutexGuard<'a, T>>,
    were_enabled: bool,
}

impl<T> IrqMutex<T> {
    pub const fn new(value: T) -> Self {
        IrqMutex {
            inner: SpinMutex::new(value),
        }
    }

    #[inline]
    pub fn lock(&self) -> IrqGuard<'_, T> {
        let were_enabled = arch::cpu::interrupts_enabled();
        arch::cpu::disable_interrupts();
        IrqGuard {
            guard: Some(spin_lock(&self.inner)),
            were_enabled,
        }
    }
}

impl<T> Deref for IrqGuard<'_, T> {
    type Target = T;
    #[inline]
    fn deref(&self) -> &T {
        self.guard.as_ref().expect("guard is held until drop")
    }
}

impl<T> DerefMut for IrqGuard<'_, T> {
    #[inline]
    fn deref_mut(&mut self) -> &mut T {
        self.guard.as_mut().expect("guard is held until drop")
    }
}

impl<T> Drop for IrqGuard<'_, T> {
    #[inline]
    fn drop(&mut self) {
        // Release the lock first, then let interrupts in again.
        drop(self.guard.take());
        if self.were_enabled {
            arch::cpu::enable_interrupts();
        }
    }
}

/// A spinlock for code that may take a while and may need other CPUs'
/// help while holding it (TLB shootdowns): interrupts stay as they were,
/// but the holder cannot be preempted, so a spinner on the same CPU never
/// waits for a thread that cannot run.
pub struct SpinLock<T> {
    inner: SpinMutex<T>,
}

pub struct SpinGuard<'a, T> {
    guard: Option<SpinMutexGuard<'a, T>>,
}

impl<T> SpinLock<T> {
    pub const fn new(value: T) -> Self {
        SpinLock {
            inner: SpinMutex::new(value),
        }
    }

    #[inline]
    pub fn lock(&self) -> SpinGuard<'_, T> {
        crate::thread::preempt_disable();
        SpinGuard {
            guard: Some(spin_lock(&self.inner)),
        }
    }

    /// Never waits (fault reports).
    pub fn try_lock(&self) -> Option<SpinGuard<'_, T>> {
        crate::thread::preempt_disable();
        match self.inner.try_lock() {
            Some(g) => Some(SpinGuard { guard: Some(g) }),
            None => {
                crate::thread::preempt_enable();
                None
            }
        }
    }
}

impl<T> Deref for SpinGuard<'_, T> {
    type Target = T;
    #[inline]
    fn deref(&self) -> &T {
        self.guard.as_ref().expect("guard is held until drop")
    }
}

impl<T> DerefMut for SpinGuard<'_, T> {
    #[inline]
    fn deref_mut(&mut self) -> &mut T {
        self.guard.as_mut().expect("guard is held until drop")
    }
}

impl<T> Drop for SpinGuard<'_, T> {
    #[inline]
    fn drop(&mut self) {
        drop(self.guard.take());
        crate::thread::preempt_enable();
    }
}
