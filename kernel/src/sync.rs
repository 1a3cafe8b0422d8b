//! Locks for kernel data shared with interrupt context: interrupts are
//! masked while a lock is held, so a handler on the same CPU can never spin
//! on a lock its own CPU holds.

use crate::arch;
use core::ops::{Deref, DerefMut};

pub struct IrqMutex<T> {
    inner: spin::Mutex<T>,
}

pub struct IrqGuard<'a, T> {
    /// Always `Some` until `drop` releases it before re-enabling interrupts.
    guard: Option<spin::MutexGuard<'a, T>>,
    were_enabled: bool,
}

impl<T> IrqMutex<T> {
    pub const fn new(value: T) -> Self {
        IrqMutex {
            inner: spin::Mutex::new(value),
        }
    }

    pub fn lock(&self) -> IrqGuard<'_, T> {
        let were_enabled = arch::cpu::interrupts_enabled();
        arch::cpu::disable_interrupts();
        IrqGuard {
            guard: Some(self.inner.lock()),
            were_enabled,
        }
    }
}

impl<T> Deref for IrqGuard<'_, T> {
    type Target = T;
    fn deref(&self) -> &T {
        self.guard.as_ref().expect("guard is held until drop")
    }
}

impl<T> DerefMut for IrqGuard<'_, T> {
    fn deref_mut(&mut self) -> &mut T {
        self.guard.as_mut().expect("guard is held until drop")
    }
}

impl<T> Drop for IrqGuard<'_, T> {
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
    inner: spin::Mutex<T>,
}

pub struct SpinGuard<'a, T> {
    guard: Option<spin::MutexGuard<'a, T>>,
}

impl<T> SpinLock<T> {
    pub const fn new(value: T) -> Self {
        SpinLock {
            inner: spin::Mutex::new(value),
        }
    }

    pub fn lock(&self) -> SpinGuard<'_, T> {
        crate::thread::preempt_disable();
        SpinGuard {
            guard: Some(self.inner.lock()),
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
    fn deref(&self) -> &T {
        self.guard.as_ref().expect("guard is held until drop")
    }
}

impl<T> DerefMut for SpinGuard<'_, T> {
    fn deref_mut(&mut self) -> &mut T {
        self.guard.as_mut().expect("guard is held until drop")
    }
}

impl<T> Drop for SpinGuard<'_, T> {
    fn drop(&mut self) {
        drop(self.guard.take());
        crate::thread::preempt_enable();
    }
}
