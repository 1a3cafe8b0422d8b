//! The heap over a fixed arena standing in for mapped memory.

use super::*;
use std::sync::atomic::{AtomicUsize, Ordering};

/// A fixed arena standing in for mapped memory; grows up to its size.
struct Arena {
    base: usize,
    size: usize,
    mapped: AtomicUsize,
    inside: AtomicUsize,
    calls: AtomicUsize,
}

impl Backend for Arena {
    /// How many `enter`s were open before this one.
    type Saved = usize;

    fn enter(&self) -> usize {
        self.inside.fetch_add(1, Ordering::SeqCst)
    }

    fn exit(&self, saved: usize) {
        let was = self.inside.fetch_sub(1, Ordering::SeqCst);
        assert_eq!(was, saved + 1, "exit gets what its enter returned");
    }

    fn grow(&self, end: usize, at_least: usize) -> Option<usize> {
        self.calls.fetch_add(1, Ordering::Relaxed);
        let mapped = self.mapped.load(Ordering::Relaxed);
        assert_eq!(end, self.base + mapped, "heap grows contiguously");
        let add = at_least.next_multiple_of(4096);
        if mapped + add > self.size {
            return None;
        }
        self.mapped.store(mapped + add, Ordering::Relaxed);
        Some(add)
    }
}

fn heap(size: usize) -> (KernelHeap<Arena>, Vec<u8>) {
    let mut mem = vec![0u8; size + 4096];
    let base = (mem.as_mut_ptr() as usize).next_multiple_of(4096);
    let arena = Arena {
        base,
        size,
        mapped: AtomicUsize::new(0),
        inside: AtomicUsize::new(0),
        calls: AtomicUsize::new(0),
    };
    (KernelHeap::new(base, arena), mem)
}

#[test]
fn grows_on_demand_and_reuses_freed_memory() {
    let (h, _mem) = heap(4 << 20);
    assert_eq!(h.stats().size, 0);
    let l = Layout::from_size_align(1000, 16).unwrap();
    // SAFETY: layout is non-zero; pointers are freed with the same layout.
    unsafe {
        let a = h.alloc(l);
        assert!(!a.is_null() && (a as usize).is_multiple_of(16));
        assert_eq!(h.stats().size, GROW_STEP);
        a.write_bytes(0xab, 1000);
        let big = Layout::from_size_align(GROW_STEP * 2, 4096).unwrap();
        let b = h.alloc(big);
        assert!(!b.is_null() && (b as usize).is_multiple_of(4096));
        assert!(h.stats().size > GROW_STEP * 2);
        h.dealloc(b, big);
        h.dealloc(a, l);
        assert_eq!(h.stats().used, 0);
        let calls = h.backend.calls.load(Ordering::Relaxed);
        let c = h.alloc(big);
        assert!(!c.is_null());
        assert_eq!(
            h.backend.calls.load(Ordering::Relaxed),
            calls,
            "freed memory reused"
        );
        h.dealloc(c, big);
    }
    assert_eq!(
        h.backend.inside.load(Ordering::SeqCst),
        0,
        "every enter was closed by its exit"
    );
}

#[test]
fn exhaustion_is_a_null_pointer_not_a_panic() {
    let (h, _mem) = heap(1 << 20);
    let huge = Layout::from_size_align(8 << 20, 8).unwrap();
    // SAFETY: non-zero layout; a null result is not freed.
    let p = unsafe { h.alloc(huge) };
    assert!(p.is_null());
    assert_eq!(h.stats().failed_allocations, 1);
    // Smaller requests still work afterwards.
    let l = Layout::from_size_align(64, 8).unwrap();
    // SAFETY: as above; freed with the same layout.
    unsafe {
        let q = h.alloc(l);
        assert!(!q.is_null());
        h.dealloc(q, l);
    }
}

#[test]
fn fail_after_fails_from_the_nth_allocation_until_turned_off() {
    let (h, _mem) = heap(1 << 20);
    let l = Layout::from_size_align(64, 8).unwrap();
    h.fail_after(Some(2));
    // SAFETY: non-zero layout; non-null results are freed with it, null
    // ones are not freed.
    unsafe {
        let a = h.alloc(l);
        let b = h.alloc(l);
        assert!(!a.is_null() && !b.is_null(), "the first two succeed");
        assert!(h.alloc(l).is_null());
        assert!(h.alloc(l).is_null(), "and every one after them fails");
        assert_eq!(h.stats().failed_allocations, 2);
        h.fail_after(None);
        let c = h.alloc(l);
        assert!(!c.is_null(), "off again");
        for p in [a, b, c] {
            h.dealloc(p, l);
        }
    }
    assert_eq!(h.stats().used, 0);
    h.fail_after(Some(0));
    // SAFETY: as above; the result is null and not freed.
    assert!(unsafe { h.alloc(l) }.is_null(), "0: the next one fails");
    h.fail_after(None);
}
