//! `ferrous-rt`: the runtime every Ferrous user program links against.
//!
//! It provides:
//!
//! - [`entry!`]: names the program's `fn main() -> i32`. The runtime's
//!   `_start` aligns the stack, records the argument bytes the kernel passed
//!   (see [`args`]), calls `main` and exits with its return value.
//! - [`sys`]: the system calls. [`sys::raw`] holds the `syscall` instruction
//!   itself; [`sys::make`] turns a typed call from [`ferrous_abi::calls`]
//!   (generated from the ABI's one `syscalls!` table) into a system call and
//!   its typed result; every wrapper is built on it.
//! - [`print!`] and [`println!`]: formatted output on the debug console.
//!   Each call is formatted into one stack buffer of
//!   [`ferrous_abi::MAX_DEBUG_WRITE`] bytes and written with as few
//!   `debug_write` calls as possible (one unless the text is longer).
//! - A `#[global_allocator]`: a first-fit `linked_list_allocator` heap over a
//!   fixed 256 KiB arena in `.bss`. It does **not** grow; when it is full,
//!   allocation fails and the default alloc-error handler panics. (Growing
//!   through `mem_map` can come later without changing programs.)
//! - The `#[panic_handler]`: prints `panic: <message> at <file>:<line>` on
//!   the console and exits with code [`PANIC_EXIT_CODE`] (101).
//!
//! Programs are built for `x86_64-unknown-none` and linked with
//! `userspace/user.ld` as static non-PIE executables at 0x400000.
//!
//! # Unsafe code
//!
//! This is one of the named crates allowed to contain `unsafe` (see the list
//! in docs/UNSAFE_GUIDELINES.md). Its `unsafe` is limited to:
//!
//! - the `syscall` instruction (`asm!` in [`sys::raw`]) and the `ud2` after
//!   an exit that returned;
//! - `_start` (`global_asm!`), and the `unsafe extern` declaration of the
//!   `main` shim that [`entry!`] defines under a fixed symbol name (with the
//!   `#[unsafe(export_name)]` inside that macro);
//! - turning the kernel's argument pointer and length into a `&'static [u8]`
//!   after checking them against the ABI's limits ([`args`]);
//! - the allocator: the `unsafe impl GlobalAlloc`, `Sync` for the arena,
//!   `Heap::init` over the arena and `Heap::deallocate`;
//! - reading the time-stamp counter ([`sys::rdtsc`]);
//! - volatile byte reads and writes of memory shared with another process
//!   ([`sys::SharedBuf`]), which is never reached through a Rust reference;
//! - the register probes of [`probe`] (`movq` to and from `xmm0`,
//!   `stmxcsr`), for the isolation tests: soft-float Rust never uses those
//!   registers;
//! - `in` and `out` on I/O ports ([`port`]), which touch no memory of the
//!   program; the kernel's I/O permission bitmap decides which ports fault.
//!
//! System calls that can take memory away from the program (`mem_unmap`,
//! `mem_protect`, [`sys::make_unchecked`] and [`sys::invoke`] for any call,
//! and the raw stubs [`sys::raw::syscall`] and [`sys::raw::syscall_ipc`])
//! are `unsafe fn`s; every other wrapper is safe. The programs themselves carry
//! `#![forbid(unsafe_code)]`.
#![no_std]

pub mod checks;
mod heap;
mod panic;
pub mod port;
mod print;
pub mod probe;
mod start;
pub mod sys;

pub use ferrous_abi as abi;
pub use print::{_print, ConsoleWriter};
pub use start::{args, args_bytes};

/// The exit code of a process that panicked.
pub const PANIC_EXIT_CODE: u32 = 101;

/// Names the program's entry function, `fn main() -> i32`. The runtime calls
/// it once and exits with its return value (as the `u32` with the same bits).
///
/// ```ignore
/// #![no_std]
/// #![no_main]
/// ferrous_rt::entry!(main);
/// fn main() -> i32 { ferrous_rt::println!("hi"); 0 }
/// ```
#[macro_export]
macro_rules! entry {
    ($main:path) => {
        /// Called by `ferrous_rt`'s `_start`.
        #[doc(hidden)]
        // The runtime declares this symbol with exactly this signature.
        #[unsafe(export_name = "__ferrous_rt_main")]
        pub extern "Rust" fn __ferrous_rt_main() -> i32 {
            let main: fn() -> i32 = $main;
            main()
        }
    };
}

/// Prints to the debug console. One call is one buffered write (split only
/// if the text exceeds [`ferrous_abi::MAX_DEBUG_WRITE`] bytes). Errors from
/// the console are ignored.
#[macro_export]
macro_rules! print {
    ($($arg:tt)*) => {
        $crate::_print(::core::format_args!($($arg)*))
    };
}

/// [`print!`] with a newline, in the same write.
#[macro_export]
macro_rules! println {
    () => {
        $crate::_print(::core::format_args!("\n"))
    };
    ($($arg:tt)*) => {
        $crate::_print(::core::format_args!("{}\n", ::core::format_args!($($arg)*)))
    };
}
