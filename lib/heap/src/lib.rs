//! The kernel heap: `linked_list_allocator`'s first-fit heap over one
//! contiguous virtual region that grows on demand.
//!
//! When an allocation does not fit, the heap asks its [`Backend`] to make
//! more of the region usable (the kernel maps fresh frames there) and
//! retries; if the backend cannot, the allocation fails with a null pointer,
//! which `try_reserve`-style callers see as an error.
//!
//! This is one of the named memory crates allowed to use `unsafe` (see
//! docs/UNSAFE_GUIDELINES.md): a `GlobalAlloc` is unsafe by definition.
//! Not for use from interrupt handlers (the lock does not mask interrupts).
#![cfg_attr(not(test), no_std)]

use core::alloc::{GlobalAlloc, Layout};
use core::ptr::{self, NonNull};
use linked_list_allocator::Heap;
use spin::Mutex;

/// Makes more of the heap region usable.
pub trait Backend: Sync {
    /// What [`Backend::enter`] hands to [`Backend::exit`] (the kernel: whether
    /// interrupts were on), kept in a register rather than in memory.
    type Saved: Copy;

    /// `[end, end + at_least)` must become readable and writable memory that
    /// nothing else uses. Returns how many bytes were added (≥ `at_least`),
    /// or `None` if no memory is left (or the region is exhausted).
    fn grow(&self, end: usize, at_least: usize) -> Option<usize>;

    /// Called before the heap lock is taken (the kernel masks interrupts
    /// here, so neither preemption nor an allocating interrupt handler can
    /// meet a held heap lock on the same CPU).
    fn enter(&self) -> Self::Saved;

    /// Called after the heap lock is released, with what `enter` returned.
    fn exit(&self, saved: Self::Saved);
}

/// Smallest growth step, to amortise mapping work.
pub const GROW_STEP: usize = 256 * 1024;

struct State {
    heap: Heap,
    /// Start of the region; the heap covers `[base, base + heap.size())`.
    base: usize,
    started: bool,
}

/// Statistics for the memory report.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct HeapStats {
    pub size: usize,
    pub used: usize,
    pub failed_allocations: usize,
}

/// [`KernelHeap::fail_after`]'s "off".
const NO_INJECTION: usize = usize::MAX;

pub struct KernelHeap<B: Backend> {
    state: Mutex<State>,
    failures: core::sync::atomic::AtomicUsize,
    /// Allocations still to succeed before every allocation fails
    /// ([`KernelHeap::fail_after`]); `NO_INJECTION` when off.
    fail_after: core::sync::atomic::AtomicUsize,
    backend: B,
}

impl<B: Backend> KernelHeap<B> {
    /// A heap that will live at `base` (which must be suitably aligned, e.g.
    /// page aligned); no memory is used until the first allocation.
    pub const fn new(base: usize, backend: B) -> Self {
        KernelHeap {
            state: Mutex::new(State {
                heap: Heap::empty(),
                base,
                started: false,
            }),
            failures: core::sync::atomic::AtomicUsize::new(0),
            fail_after: core::sync::atomic::AtomicUsize::new(NO_INJECTION),
            backend,
        }
    }

    /// Fault injection for tests of the callers' out-of-memory paths: with
    /// `Some(n)`, the next `n` allocations behave as usual and every one
    /// after them fails (null, counted in `failed_allocations`) as if the
    /// heap were exhausted, until `fail_after(None)`. A runtime switch, not
    /// a `cfg`, so the kernel tests run the kernel that ships; nothing but
    /// tests turns it on.
    pub fn fail_after(&self, n: Option<usize>) {
        let n = n.map_or(NO_INJECTION, |n| n.min(NO_INJECTION - 1));
        self.fail_after
            .store(n, core::sync::atomic::Ordering::SeqCst);
    }

    /// Whether fault injection fails this allocation (and counts one
    /// allocation against it otherwise).
    fn injected_failure(&self) -> bool {
        use core::sync::atomic::Ordering::SeqCst;
        let left = self.fail_after.fetch_update(SeqCst, SeqCst, |n| {
            (n != NO_INJECTION && n != 0).then(|| n - 1)
        });
        left == Err(0)
    }

    pub fn stats(&self) -> HeapStats {
        let saved = self.backend.enter();
        let s = self.state.lock();
        let stats = HeapStats {
            size: if s.started { s.heap.size() } else { 0 },
            used: if s.started { s.heap.used() } else { 0 },
            failed_allocations: self.failures.load(core::sync::atomic::Ordering::Relaxed),
        };
        drop(s);
        self.backend.exit(saved);
        stats
    }

    fn grow(&self, s: &mut State, need: usize) -> bool {
        let end = if s.started {
            s.heap.top() as usize
        } else {
            s.base
        };
        // Room for the request plus the allocator's own alignment and header.
        let want = need.saturating_add(64).max(GROW_STEP);
        let Some(added) = self.backend.grow(end, want) else {
            return false;
        };
        if s.started {
            // SAFETY: the backend made [top, top + added) usable memory that
            // nothing else uses, directly after the current heap end.
            unsafe { s.heap.extend(added) };
        } else {
            // SAFETY: as above, for [base, base + added), and the heap was
            // empty, so `init` is called exactly once.
            unsafe { s.heap.init(s.base as *mut u8, added) };
            s.started = true;
        }
        true
    }

    fn allocate(&self, layout: Layout) -> *mut u8 {
        if self.injected_failure() {
            self.failures
                .fetch_add(1, core::sync::atomic::Ordering::Relaxed);
            return ptr::null_mut();
        }
        let saved = self.backend.enter();
        let p = self.allocate_locked(layout);
        self.backend.exit(saved);
        p
    }

    fn allocate_locked(&self, layout: Layout) -> *mut u8 {
        let mut s = self.state.lock();
        loop {
            if s.started
                && let Ok(p) = s.heap.allocate_first_fit(layout)
            {
                return p.as_ptr();
            }
            let need = layout.size().saturating_add(layout.align());
            if !self.grow(&mut s, need) {
                self.failures
                    .fetch_add(1, core::sync::atomic::Ordering::Relaxed);
                return ptr::null_mut();
            }
        }
    }
}

// SAFETY: `alloc` returns either null or a block of at least `layout.size()`
// bytes aligned to `layout.align()` from the linked-list heap, which never
// hands out a block twice; `dealloc` returns blocks to the same heap under
// the same lock.
unsafe impl<B: Backend> GlobalAlloc for KernelHeap<B> {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        self.allocate(layout)
    }

    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        let Some(p) = NonNull::new(ptr) else { return };
        let saved = self.backend.enter();
        // SAFETY: GlobalAlloc's contract: `ptr` came from `alloc` on this
        // heap with this `layout`.
        unsafe { self.state.lock().heap.deallocate(p, layout) };
        self.backend.exit(saved);
    }
}

#[cfg(test)]
mod tests;
