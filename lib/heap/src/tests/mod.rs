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
fn size_classes_cover_small_layouts_only() {
    let l = |size, align| Layout::from_size_align(size, align).unwrap();
    assert_eq!(class_of(l(1, 1)), Some(0));
    assert_eq!(class_of(l(16, 16)), Some(0));
    assert_eq!(class_of(l(17, 8)), Some(1));
    assert_eq!(class_of(l(64, 8)), Some(2));
    assert_eq!(class_of(l(65, 8)), Some(3));
    assert_eq!(class_of(l(MAX_CLASS, 16)), Some(CLASSES - 1));
    assert_eq!(class_of(l(MAX_CLASS + 1, 8)), None, "too big: the list");
    assert_eq!(class_of(l(64, 32)), None, "aligned beyond 16: the list");
    for c in 0..CLASSES {
        let cl = class_layout(c);
        assert_eq!((cl.size(), cl.align()), (16 << c, CLASS_ALIGN));
        assert_eq!(class_of(cl), Some(c), "a class block is its own class");
    }
}

#[test]
fn a_freed_small_block_is_handed_out_again() {
    let (h, _mem) = heap(1 << 20);
    let l = Layout::from_size_align(64, 8).unwrap();
    let other = Layout::from_size_align(200, 8).unwrap();
    // SAFETY: non-zero layouts; every block is freed once, with its layout.
    unsafe {
        let a = h.alloc(l);
        let b = h.alloc(other);
        assert!(!a.is_null() && !b.is_null());
        assert!((a as usize).is_multiple_of(CLASS_ALIGN));
        a.write_bytes(0x5a, 64);
        h.dealloc(a, l);
        assert_eq!(h.stats().used, 256, "a cached block is not in use");
        let again = h.alloc(l);
        assert_eq!(again, a, "the class's free list hands it back");
        let c = h.alloc(l);
        assert_ne!(c, a);
        h.dealloc(again, l);
        h.dealloc(c, l);
        h.dealloc(b, other);
    }
    assert_eq!(h.stats().used, 0);
    assert_eq!(h.backend.inside.load(Ordering::SeqCst), 0);
}

#[test]
fn cached_blocks_go_back_before_the_heap_grows() {
    let (h, _mem) = heap(GROW_STEP);
    let small = Layout::from_size_align(512, 16).unwrap();
    let mut blocks = Vec::new();
    // SAFETY: non-zero layouts; each block is freed once with its layout.
    unsafe {
        // Fill the first growth step with small blocks, then free them all:
        // they sit on the class's free list.
        loop {
            let p = h.alloc(small);
            if p.is_null() || h.backend.calls.load(Ordering::Relaxed) > 1 {
                if !p.is_null() {
                    blocks.push(p);
                }
                break;
            }
            blocks.push(p);
        }
        let calls = h.backend.calls.load(Ordering::Relaxed);
        for p in blocks.drain(..) {
            h.dealloc(p, small);
        }
        assert_eq!(h.stats().used, 0);
        // A large block only fits if the cached ones go back to the list.
        let big = Layout::from_size_align(GROW_STEP / 2, 8).unwrap();
        let p = h.alloc(big);
        assert!(
            !p.is_null(),
            "the cache was flushed, not the arena exhausted"
        );
        assert_eq!(
            h.backend.calls.load(Ordering::Relaxed),
            calls,
            "and the heap did not grow for it"
        );
        h.dealloc(p, big);
    }
    assert_eq!(h.stats().used, 0);
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

#[test]
fn fail_every_fails_one_in_n_until_turned_off() {
    let (h, _mem) = heap(1 << 20);
    let l = Layout::from_size_align(48, 8).unwrap();
    assert_eq!(h.fail_every(5), 0);
    let mut held = Vec::new();
    let mut failed = 0;
    for _ in 0..100 {
        // SAFETY: non-zero layout; non-null results are freed with it below.
        let p = unsafe { h.alloc(l) };
        if p.is_null() {
            failed += 1;
        } else {
            held.push(p);
        }
    }
    assert_eq!(failed, 20, "exactly every fifth");
    assert_eq!(h.stats().failed_allocations, 20);
    assert_eq!(h.fail_every(0), 5);
    for p in held {
        // SAFETY: allocated above with `l`.
        unsafe { h.dealloc(p, l) };
    }
    // SAFETY: as above.
    let p = unsafe { h.alloc(l) };
    assert!(!p.is_null(), "off again");
    // SAFETY: allocated just above with `l`.
    unsafe { h.dealloc(p, l) };
    assert_eq!(h.stats().used, 0);
}

/// A backend that exempts every allocation from injection.
struct Spared(Arena);

impl Backend for Spared {
    type Saved = usize;
    fn enter(&self) -> usize {
        self.0.enter()
    }
    fn exit(&self, saved: usize) {
        self.0.exit(saved)
    }
    fn grow(&self, end: usize, at_least: usize) -> Option<usize> {
        self.0.grow(end, at_least)
    }
    fn exempt(&self) -> bool {
        true
    }
}

#[test]
fn exempt_allocations_neither_fail_nor_count() {
    let mut mem = vec![0u8; (1 << 20) + 4096];
    let base = (mem.as_mut_ptr() as usize).next_multiple_of(4096);
    let arena = Arena {
        base,
        size: 1 << 20,
        mapped: AtomicUsize::new(0),
        inside: AtomicUsize::new(0),
        calls: AtomicUsize::new(0),
    };
    let h = KernelHeap::new(base, Spared(arena));
    let l = Layout::from_size_align(64, 8).unwrap();
    h.fail_every(1);
    h.fail_after(Some(0));
    for _ in 0..10 {
        // SAFETY: non-zero layout; freed at once with it.
        unsafe {
            let p = h.alloc(l);
            assert!(!p.is_null());
            h.dealloc(p, l);
        }
    }
    assert_eq!(h.stats().failed_allocations, 0);
    drop(mem);
}
