//! `_start`, the process entry point, and the argument bytes.
//!
//! The kernel starts a process at `_start` with (docs/ABI.md, "Process
//! start") `rsp` 16-byte aligned, `rdi` = address of the argument bytes and
//! `rsi` = their length (`rdi` = 0 when the length is 0). `_start` is not a
//! function: nothing is on the stack for it to return to.

use crate::sys;
use core::sync::atomic::{AtomicPtr, AtomicUsize, Ordering};
use ferrous_abi::{MAX_SPAWN_ARGS, USER_END};

// `_start`: end the frame-pointer chain, align the stack (the ABI promises
// 16 bytes already; aligning again costs one instruction and protects
// against a kernel bug), and call `rt_start(rdi, rsi)` with the arguments
// the kernel left in rdi and rsi. After the `call`, `rsp + 8` is 16-byte
// aligned at rt_start's first instruction, as the System V ABI requires.
// `rt_start` never returns; `ud2` traps if it somehow does.
core::arch::global_asm!(
    ".pushsection .text._start, \"ax\", @progbits",
    ".globl _start",
    ".type _start, @function",
    "_start:",
    "    xor ebp, ebp",
    "    and rsp, -16",
    "    call {rt_start}",
    "    ud2",
    ".size _start, . - _start",
    ".popsection",
    rt_start = sym rt_start,
);

// SAFETY: `ferrous_rt::entry!` defines `__ferrous_rt_main` with exactly
// this signature (a safe `extern "Rust" fn() -> i32`), so calling it is safe.
// A program without `entry!` fails to link instead.
unsafe extern "Rust" {
    safe fn __ferrous_rt_main() -> i32;
}

/// The argument bytes as the kernel passed them, checked in `rt_start`.
static ARGS_PTR: AtomicPtr<u8> = AtomicPtr::new(core::ptr::null_mut());
static ARGS_LEN: AtomicUsize = AtomicUsize::new(0);

extern "C" fn rt_start(args: *const u8, len: usize) -> ! {
    record_args(args, len);
    let code = __ferrous_rt_main();
    sys::exit(code as u32)
}

/// Keeps the kernel's `(rdi, rsi)` for [`args_bytes`] after checking them
/// against the ABI: at most `MAX_SPAWN_ARGS` bytes, inside the user half.
fn record_args(ptr: *const u8, len: usize) {
    if len == 0 {
        return;
    }
    let start = ptr.addr() as u64;
    let fits = (len as u64) <= MAX_SPAWN_ARGS
        && start != 0
        && start
            .checked_add(len as u64)
            .is_some_and(|end| end <= USER_END);
    if !fits {
        panic!("the kernel passed bad arguments: {len} bytes at {start:#x}");
    }
    ARGS_PTR.store(ptr.cast_mut(), Ordering::Relaxed);
    ARGS_LEN.store(len, Ordering::Relaxed);
}

/// The argument bytes the parent passed to `process_spawn` (for init:
/// NUL-terminated `m:<module name>` entries in module-slot order, then
/// `r:<spec>` entries; see userspace/init).
pub fn args_bytes() -> &'static [u8] {
    let ptr = ARGS_PTR.load(Ordering::Relaxed);
    let len = ARGS_LEN.load(Ordering::Relaxed);
    if ptr.is_null() {
        return &[];
    }
    // SAFETY: `record_args` checked that `[ptr, ptr + len)` is a non-null
    // range of at most MAX_SPAWN_ARGS bytes in the user half. The ABI
    // promises that the kernel copied the arguments into a read-only
    // mapping there before the first instruction, and nothing unmaps it:
    // the only calls that could (`mem_unmap`, `mem_protect`, the raw stubs)
    // are `unsafe fn`s whose callers promise not to. Read-only memory
    // is never written, so a shared `'static` borrow is sound.
    unsafe { core::slice::from_raw_parts(ptr, len) }
}

/// The arguments as NUL-terminated words: `b"init\0hello\0"` gives `init`,
/// `hello`. A last word without a terminating NUL is still returned.
pub fn args() -> impl Iterator<Item = &'static [u8]> {
    let bytes = args_bytes();
    let bytes = bytes.strip_suffix(&[0]).unwrap_or(bytes);
    bytes.split(|&b| b == 0).filter(|_| !bytes.is_empty())
}
