//! Kernel thread contexts and the context switch.
//!
//! A switched-out thread's state is its kernel stack: the switch pushes the
//! callee-saved registers there and records the stack pointer in the
//! thread's [`ThreadContext`]. Caller-saved registers were already saved by
//! the compiler (the switch is a function call) or by the interrupt entry.
//! x87/SSE state: kernel code is built soft-float (the x86_64-unknown-none
//! target), so only user mode changes it; every switch saves the outgoing
//! thread's and loads the incoming thread's ([`super::fpu`]), so it is
//! private to each thread.
//!
//! `on_cpu` closes the SMP race between "put back on a run queue" and "stack
//! pointer saved": a CPU about to resume a thread waits until the CPU that
//! ran it has finished saving it.

use super::fpu::{self, FpuState};
use alloc::sync::Arc;
use core::cell::UnsafeCell;
use core::ptr;
use core::sync::atomic::{AtomicBool, AtomicPtr, AtomicU64, Ordering};

pub struct ThreadContext {
    rsp: AtomicU64,
    on_cpu: AtomicBool,
    /// The top of the `mm::stacks` stack it runs on (0: the stack it was
    /// made on, boot's or an AP's), checked at every switch to it.
    stack_top: u64,
    /// The thread's x87/SSE registers while it is off the CPU. Touched
    /// only by `switch`, by the CPU that owns the context (see below).
    fpu: UnsafeCell<FpuState>,
}

// SAFETY: `fpu` is the only field without its own synchronisation. It is
// written only by `switch` on the CPU running the context (saving the
// outgoing thread) and read only by `switch` on a CPU that has just won
// `on_cpu` for the context (loading the incoming thread); `on_cpu`'s
// Release store in `ferrous_switch` (after the save) and Acquire swap in
// `switch` (before the load) order the two, and a context runs on one CPU
// at a time, so no two CPUs touch it at once.
unsafe impl Sync for ThreadContext {}

core::arch::global_asm!(
    ".section .text",
    // rdi = &from.rsp, rsi = to.rsp, rdx = &from.on_cpu
    "ferrous_switch:",
    "    push rbp",
    "    push rbx",
    "    push r12",
    "    push r13",
    "    push r14",
    "    push r15",
    "    mov [rdi], rsp",
    // From here `from` may be resumed elsewhere (x86 keeps store order).
    "    mov byte ptr [rdx], 0",
    "    mov rsp, rsi",
    "    pop r15",
    "    pop r14",
    "    pop r13",
    "    pop r12",
    "    pop rbx",
    "    pop rbp",
    "    ret",
    // First code of a new thread: r12 = entry, r13 = argument.
    "ferrous_thread_start:",
    "    mov rdi, r13",
    "    call r12",
    "    ud2",
    ".section .rodata",
    ".balign 8",
    "FERROUS_THREAD_START:",
    ".quad ferrous_thread_start",
    ".section .text",
);

unsafe extern "C" {
    fn ferrous_switch(from_rsp: *mut u64, to_rsp: u64, from_on_cpu: *mut bool);
    static FERROUS_THREAD_START: u64;
}

impl ThreadContext {
    /// The context of the code running now (a boot or idle flow); filled in
    /// when it is first switched away from.
    pub fn current() -> ThreadContext {
        ThreadContext {
            rsp: AtomicU64::new(0),
            on_cpu: AtomicBool::new(true),
            stack_top: 0,
            fpu: UnsafeCell::new(FpuState::INITIAL),
        }
    }

    /// A new thread that will run `entry(arg)` (with interrupts disabled; it
    /// enables them itself) on the kernel stack whose top is `stack_top`.
    /// The stack must come from `mm::stacks` (checked) and stay allocated
    /// until the thread has exited and is off the CPU.
    pub fn new(stack_top: u64, entry: extern "C" fn(u64) -> !, arg: u64) -> ThreadContext {
        assert!(
            crate::mm::stacks::is_top(stack_top),
            "thread stack {stack_top:#x} is not a kernel stack"
        );
        // SAFETY: an immutable code address defined above.
        let start = unsafe { FERROUS_THREAD_START };
        // Frame popped by `ferrous_switch`: r15 r14 r13 r12 rbx rbp, return
        // address; two zero words above keep the stack 16-byte aligned at
        // the `call` and end the frame-pointer chain.
        let frame: [u64; 9] = [0, 0, arg, entry as usize as u64, 0, 0, start, 0, 0];
        let rsp = stack_top - (frame.len() as u64) * 8;
        let slots = rsp as *mut u64;
        for (i, v) in frame.iter().enumerate() {
            // SAFETY: the top 72 bytes of a mapped kernel stack (checked
            // above) that no thread runs on yet.
            unsafe { slots.add(i).write(*v) };
        }
        ThreadContext {
            rsp: AtomicU64::new(rsp),
            on_cpu: AtomicBool::new(false),
            stack_top,
            fpu: UnsafeCell::new(FpuState::INITIAL),
        }
    }

    /// Is a CPU still running (or still saving) this context?
    pub fn on_cpu(&self) -> bool {
        self.on_cpu.load(Ordering::Acquire)
    }
}

/// References handed from a switch to whatever runs next on the CPU, which
/// drops them in [`finish_switch`]; a thread that exits never returns from
/// its switch, so it could not drop its own. One per CPU, in its per-CPU
/// slot (`percpu::handover`).
pub(super) struct Handover {
    from: AtomicPtr<ThreadContext>,
    to: AtomicPtr<ThreadContext>,
}

impl Handover {
    pub(super) const fn new() -> Self {
        Handover {
            from: AtomicPtr::new(ptr::null_mut()),
            to: AtomicPtr::new(ptr::null_mut()),
        }
    }
}

/// Switches from the running context `from` to `to`. Interrupts must be
/// disabled. Returns when something switches back to `from`.
pub fn switch(from: Arc<ThreadContext>, to: Arc<ThreadContext>) {
    assert!(
        !super::cpu::interrupts_enabled(),
        "context switch with interrupts on"
    );
    // Wait until the CPU that last ran `to` has saved it.
    while to.on_cpu.swap(true, Ordering::Acquire) {
        core::hint::spin_loop();
    }
    let to_rsp = to.rsp.load(Ordering::Acquire);
    check_stack(&to, to_rsp);
    // SAFETY: `from` is the context running on this CPU, and `to` is ours
    // since the `on_cpu` swap above: no other CPU touches either's `fpu`
    // (see the `Sync` impl). Between here and `to`'s return to user mode
    // the kernel executes no x87/SSE instruction (soft-float).
    unsafe {
        fpu::save(&mut *from.fpu.get());
        fpu::load(&*to.fpu.get());
    }
    let from = Arc::into_raw(from);
    let slot = super::percpu::handover();
    slot.from.store(from.cast_mut(), Ordering::Relaxed);
    slot.to
        .store(Arc::into_raw(to).cast_mut(), Ordering::Relaxed);
    // SAFETY: `to_rsp` is a stack pointer saved by `ferrous_switch` or built
    // by `ThreadContext::new` (the only ways to make one), on a stack that
    // stays allocated while the context exists; we own `to` now (on_cpu was
    // clear). `from` is the context we are running on (kept alive by the
    // reference parked in this CPU's handover), so saving into it is sound;
    // its atomics are written through raw pointers only by the switch itself.
    unsafe {
        let from = &*from;
        ferrous_switch(from.rsp.as_ptr(), to_rsp, from.on_cpu.as_ptr())
    }
    finish_switch();
}

/// The kernel's last line against running on freed memory: the stack of
/// the context about to run is still allocated, and a thread that has not
/// run yet still has the frame [`ThreadContext::new`] built. A failure is a
/// kernel bug (a stack freed under a live thread), reported where it can
/// still be explained instead of as a jump to a stray address. Debug
/// builds only (every test runs one): 22 instructions a switch, 44 of the
/// IPC round trip's, measured with `--icount`.
fn check_stack(to: &ThreadContext, to_rsp: u64) {
    if !cfg!(debug_assertions) || to.stack_top == 0 {
        return;
    }
    assert!(
        crate::mm::stacks::is_top(to.stack_top),
        "switch to a thread whose kernel stack (top {:#x}) is no longer allocated",
        to.stack_top
    );
    if to_rsp == to.stack_top - 72 {
        // SAFETY: the top 72 bytes of a live kernel stack (checked above),
        // which no CPU runs on (`to.on_cpu` was ours to set).
        let start = unsafe { (to_rsp as *const u64).add(6).read() };
        // SAFETY: an immutable code address.
        let want = unsafe { FERROUS_THREAD_START };
        assert!(
            start == want,
            "a new thread's first frame on stack {:#x} was overwritten (start {start:#x})",
            to.stack_top
        );
    }
}

/// Drops the references the last switch on this CPU handed over. Runs right
/// after every switch lands, including as a new thread's first step.
pub fn finish_switch() {
    let slot = super::percpu::handover();
    let parked = [
        slot.from.swap(ptr::null_mut(), Ordering::Relaxed),
        slot.to.swap(ptr::null_mut(), Ordering::Relaxed),
    ];
    for p in parked {
        if !p.is_null() {
            // SAFETY: `p` came from `Arc::into_raw` in `switch` on this CPU and
            // was swapped out of the slot, so it is released exactly once.
            drop(unsafe { Arc::from_raw(p) });
        }
    }
}
