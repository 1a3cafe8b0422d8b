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

    /// For fault reporting: never waits (the faulting CPU may hold the lock).
    pub fn try_lock(&self) -> Option<IrqGuard<'_, T>> {
        let were_enabled = arch::cpu::interrupts_enabled();
        arch::cpu::disable_interrupts();
        let guard = self.inner.try_lock();
        if guard.is_none() && were_enabled {
            arch::cpu::enable_interrupts();
        }
        Some(IrqGuard {
            guard: Some(guard?),
            were_enabled,
        })
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
