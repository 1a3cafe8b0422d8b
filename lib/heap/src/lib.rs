//! The kernel heap: `linked_list_allocator`'s first-fit heap over one
//! contiguous virtual region that grows on demand.
//!
//! When an allocation does not fit, the heap asks its [`Backend`] to make
//! more of the region usable (the kernel maps fresh frames there) and
//! retries; if the backend cannot, the allocation fails with a null pointer,
//! which `try_reserve`-style callers see as an error.
//!
//! Small blocks (at most [`MAX_CLASS`] bytes, alignment at most
//! [`CLASS_ALIGN`]) go through size classes in front of the list: a freed
//! block is kept on its class's free list and handed out again in O(1),
//! instead of walking the list's holes twice (first fit, then the sorted
//! insert on free). Class blocks come from the list like any other; when
//! the list cannot satisfy a request, every cached block goes back to it
//! before the heap grows, so caching never makes an allocation fail.
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

    /// Whether fault injection ([`KernelHeap::fail_every`],
    /// [`KernelHeap::fail_after`]) spares the allocation being made: the
    /// kernel spares its fixed-size objects, which it allocates
    /// infallibly. Asked only while injection is on.
    fn exempt(&self) -> bool {
        false
    }
}

/// Smallest growth step, to amortise mapping work.
pub const GROW_STEP: usize = 256 * 1024;

/// The size classes: 16, 32, 64, 128, 256 and 512 bytes.
const CLASSES: usize = 6;
/// Largest size served by a class.
pub const MAX_CLASS: usize = 16 << (CLASSES - 1);
/// Every class block is aligned to this (the list's blocks are); larger
/// alignments go to the list.
pub const CLASS_ALIGN: usize = 16;

/// The class of `layout` (`None`: served by the list).
fn class_of(layout: Layout) -> Option<usize> {
    if layout.size() > MAX_CLASS || layout.align() > CLASS_ALIGN {
        return None;
    }
    // 16 << class >= size, the smallest such class.
    let size = layout.size().max(16);
    Some((usize::BITS - (size - 1).leading_zeros()) as usize - 4)
}

/// The layout a class block has in the list.
fn class_layout(class: usize) -> Layout {
    // A power of two from 16 to 512 with alignment 16: always valid.
    Layout::from_size_align(16 << class, CLASS_ALIGN).unwrap_or(Layout::new::<[u128; 1]>())
}

/// A free class block: the first word links to the next one.
struct FreeBlock {
    next: Option<NonNull<FreeBlock>>,
}

struct State {
    heap: Heap,
    /// Start of the region; the heap covers `[base, base + heap.size())`.
    base: usize,
    started: bool,
    /// Each class's free blocks (owned by the heap, not in use).
    free: [Option<NonNull<FreeBlock>>; CLASSES],
    /// Bytes on the free lists (counted as used by the list).
    cached: usize,
}

// SAFETY: the free lists point only into the heap's own region, and `State`
// is reached only under the heap's lock.
unsafe impl Send for State {}

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
    /// Every how many allocations one fails ([`KernelHeap::fail_every`]);
    /// 0 when off.
    fail_every: core::sync::atomic::AtomicUsize,
    /// Allocations counted while `fail_every` is on.
    counted: core::sync::atomic::AtomicUsize,
    /// Whether either injection is on: the one load an allocation makes
    /// when neither is.
    injecting: core::sync::atomic::AtomicBool,
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
                free: [None; CLASSES],
                cached: 0,
            }),
            failures: core::sync::atomic::AtomicUsize::new(0),
            fail_after: core::sync::atomic::AtomicUsize::new(NO_INJECTION),
            fail_every: core::sync::atomic::AtomicUsize::new(0),
            counted: core::sync::atomic::AtomicUsize::new(0),
            injecting: core::sync::atomic::AtomicBool::new(false),
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
        self.update_injecting();
    }

    /// Fault injection for whole-system tests (a fuzzer under memory
    /// pressure): with `n` > 0, every `n`-th allocation from now on fails
    /// (null, counted in `failed_allocations`), the count shared by every
    /// CPU; 0 turns it off. Allocations the backend exempts
    /// ([`Backend::exempt`]) neither fail nor count. Returns the previous
    /// `n`.
    pub fn fail_every(&self, n: usize) -> usize {
        use core::sync::atomic::Ordering::SeqCst;
        self.counted.store(0, SeqCst);
        let was = self.fail_every.swap(n, SeqCst);
        self.update_injecting();
        was
    }

    fn update_injecting(&self) {
        use core::sync::atomic::Ordering::SeqCst;
        let on = self.fail_after.load(SeqCst) != NO_INJECTION || self.fail_every.load(SeqCst) != 0;
        self.injecting.store(on, SeqCst);
    }

    /// Whether fault injection fails this allocation (and counts one
    /// allocation against it otherwise).
    fn injected_failure(&self) -> bool {
        use core::sync::atomic::Ordering::{Relaxed, SeqCst};
        // Off (always, outside tests): one load.
        if !self.injecting.load(Relaxed) || self.backend.exempt() {
            return false;
        }
        let every = self.fail_every.load(Relaxed);
        if every != 0 && self.counted.fetch_add(1, Relaxed) % every == every - 1 {
            return true;
        }
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
            used: if s.started {
                s.heap.used() - s.cached
            } else {
                0
            },
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
        let class = class_of(layout);
        if let Some(c) = class
            && let Some(block) = s.free[c]
        {
            // SAFETY: `block` is a free class-`c` block on this heap's list
            // (pushed by `release`), at least 16 bytes, 16-byte aligned,
            // and nothing else refers to it; its first word is the link.
            s.free[c] = unsafe { block.as_ptr().read().next };
            s.cached -= 16 << c;
            return block.as_ptr().cast();
        }
        let layout = class.map_or(layout, class_layout);
        let mut flushed = false;
        loop {
            if s.started
                && let Ok(p) = s.heap.allocate_first_fit(layout)
            {
                return p.as_ptr();
            }
            // Cached blocks go back to the list before the heap grows.
            if !flushed && s.cached > 0 {
                Self::flush(&mut s);
                flushed = true;
                continue;
            }
            let need = layout.size().saturating_add(layout.align());
            if !self.grow(&mut s, need) {
                self.failures
                    .fetch_add(1, core::sync::atomic::Ordering::Relaxed);
                return ptr::null_mut();
            }
        }
    }

    /// Gives every cached class block back to the list.
    fn flush(s: &mut State) {
        for c in 0..CLASSES {
            while let Some(block) = s.free[c] {
                // SAFETY: as in `allocate_locked`: a free class block of
                // this heap, which came from the list with `class_layout(c)`
                // and goes back to it with the same layout, once.
                unsafe {
                    s.free[c] = block.as_ptr().read().next;
                    s.heap.deallocate(block.cast(), class_layout(c));
                }
            }
        }
        s.cached = 0;
    }

    /// Frees `p`, allocated with `layout` by this heap.
    ///
    /// # Safety
    ///
    /// `p` came from `allocate` on this heap with `layout` and is not used
    /// after this.
    unsafe fn release(&self, p: NonNull<u8>, layout: Layout) {
        let mut s = self.state.lock();
        match class_of(layout) {
            Some(c) => {
                let block = p.cast::<FreeBlock>();
                let next = s.free[c];
                // SAFETY: the caller gives the block up; a class block is at
                // least 16 bytes and 16-byte aligned (`class_layout`), room
                // for the link.
                unsafe { block.as_ptr().write(FreeBlock { next }) };
                s.free[c] = Some(block);
                s.cached += 16 << c;
            }
            // SAFETY: GlobalAlloc's contract, passed on by the caller.
            None => unsafe { s.heap.deallocate(p, layout) },
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
        // heap with this `layout`, and is not used after this.
        unsafe { self.release(p, layout) };
        self.backend.exit(saved);
    }
}

#[cfg(test)]
mod tests;
