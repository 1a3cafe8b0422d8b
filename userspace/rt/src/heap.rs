//! The `#[global_allocator]`: `linked_list_allocator`'s first-fit heap
//! over a fixed 256 KiB arena in `.bss`, set up on the first allocation.
//!
//! The arena does not grow. When it is full, `alloc` returns null and the
//! default alloc-error handler panics (exit code 101). A later version can
//! grow the heap with `mem_map` instead; programs would not change.
//!
//! The lock is a spin lock: processes have one thread today, so it is never
//! contended; it only makes the `static` `Sync`.

use core::alloc::{GlobalAlloc, Layout};
use core::cell::UnsafeCell;
use core::ptr::{self, NonNull};
use linked_list_allocator::Heap;
use spin::Mutex;

/// Size of the heap arena.
pub const ARENA_SIZE: usize = 256 * 1024;

#[repr(C, align(4096))]
struct Arena(UnsafeCell<[u8; ARENA_SIZE]>);

// SAFETY: the arena's bytes are only ever touched through `HEAP`: once by
// `Heap::init` and then as blocks the heap hands out, all under its lock
// (or by the one owner of a block). Nothing else forms a reference to it.
unsafe impl Sync for Arena {}

static ARENA: Arena = Arena(UnsafeCell::new([0; ARENA_SIZE]));

struct State {
    heap: Heap,
    started: bool,
}

struct UserHeap(Mutex<State>);

#[global_allocator]
static HEAP: UserHeap = UserHeap(Mutex::new(State {
    heap: Heap::empty(),
    started: false,
}));

impl UserHeap {
    fn allocate(&self, layout: Layout) -> *mut u8 {
        let mut s = self.0.lock();
        if !s.started {
            // SAFETY: the arena is static, so valid for the program's
            // lifetime, and unused by anything else (see `Arena`). `started`
            // makes this the only `init`, under the lock.
            unsafe { s.heap.init(ARENA.0.get().cast::<u8>(), ARENA_SIZE) };
            s.started = true;
        }
        s.heap
            .allocate_first_fit(layout)
            .map_or(ptr::null_mut(), NonNull::as_ptr)
    }
}

// SAFETY: `alloc` returns null or a block of at least `layout.size()` bytes
// aligned to `layout.align()` from the linked-list heap, which never hands a
// block out twice; `dealloc` returns blocks to the same heap under the same
// lock.
unsafe impl GlobalAlloc for UserHeap {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        self.allocate(layout)
    }

    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        let Some(p) = NonNull::new(ptr) else { return };
        // SAFETY: GlobalAlloc's contract: `ptr` came from `alloc` on this
        // heap with this `layout` (so the heap was started).
        unsafe { self.0.lock().heap.deallocate(p, layout) };
    }
}
