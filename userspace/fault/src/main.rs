//! `fault`: performs the CPU fault its argument names. The kernel must end
//! only this process (and log `process fault killed: ...`); its parent sees
//! the exception's vector in the exit status.
//!
//! | Argument | What it does | Expected exception |
//! |---|---|---|
//! | `null-read` | reads address 0 | 14 (#PF) |
//! | `null-write` | writes address 0 | 14 (#PF) |
//! | `write-text` | writes a byte of its own code (the byte it already holds) | 14 (#PF) |
//! | `exec-stack` | calls a `ret` instruction written into a stack buffer | 14 (#PF, NX) |
//! | `exec-data` | calls a `ret` instruction in a `.data` static | 14 (#PF, NX) |
//! | `hlt` | `hlt` in ring 3 | 13 (#GP) |
//! | `cli` | `cli` in ring 3 with IOPL 0 | 13 (#GP) |
//! | `div0` | `div` by zero | 0 (#DE) |
//! | `ud2` | `ud2` | 6 (#UD) |
//! | `kernel-read` | reads `0xffff_8000_0000_0000` | 14 (#PF) |
//! | `gp` | reads the non-canonical address `0x8000_0000_0000_0000` | 13 (#GP) |
//!
//! Output: `fault: about to <kind>`; if the process is still alive after
//! the fault, `fault: survived <kind>` and exit code 1. An unknown or
//! missing kind prints `fault: unknown kind <arg>` and exits 2.
//!
//! Every fault is a single instruction in inline assembly, so the compiler
//! cannot reason it away (a Rust null dereference is undefined behaviour,
//! and Rust's `/` checks for zero and panics instead of executing `div`).
//! Each `asm!` block is also correct if the instruction does *not* fault:
//! the "survived" path must not be undefined behaviour either.
#![no_std]
#![no_main]
#![deny(unsafe_code)]

use core::arch::asm;
use core::hint::black_box;
use core::sync::atomic::AtomicU8;
use ferrous_rt::println;

ferrous_rt::entry!(main);

/// A `ret` instruction in `.data` (an interior-mutable static is placed in a
/// writable section, which the kernel maps without execute).
static RET_IN_DATA: AtomicU8 = AtomicU8::new(0xc3);

/// The kinds, in the order of the table above, with the code that triggers
/// each.
const KINDS: [(&str, fn()); 11] = [
    ("null-read", null_read),
    ("null-write", null_write),
    ("write-text", write_text),
    ("exec-stack", exec_stack),
    ("exec-data", exec_data),
    ("hlt", hlt),
    ("cli", cli),
    ("div0", div0),
    ("ud2", ud2),
    ("kernel-read", kernel_read),
    ("gp", gp),
];

fn main() -> i32 {
    let arg = ferrous_rt::args().next().unwrap_or(b"");
    let Some(&(kind, fault)) = KINDS.iter().find(|(k, _)| k.as_bytes() == arg) else {
        println!(
            "fault: unknown kind {}",
            core::str::from_utf8(arg).unwrap_or("<not UTF-8>")
        );
        return 2;
    };
    println!("fault: about to {kind}");
    fault();
    println!("fault: survived {kind}");
    1
}

/// Reads 8 bytes at `addr` into a scratch register.
#[allow(unsafe_code)]
fn read_at(addr: u64) {
    let addr = black_box(addr);
    // SAFETY: a load into a discarded register. The addresses passed here
    // (0, a kernel-half and a non-canonical address) are never memory Rust
    // code uses, so if the load succeeds it changed nothing.
    unsafe {
        asm!(
            "mov {v}, qword ptr [{p}]",
            p = in(reg) addr,
            v = out(reg) _,
            options(nostack, readonly, preserves_flags),
        );
    }
}

fn null_read() {
    read_at(0);
}

fn kernel_read() {
    read_at(0xffff_8000_0000_0000);
}

fn gp() {
    read_at(0x8000_0000_0000_0000);
}

#[allow(unsafe_code)]
fn null_write() {
    let addr: u64 = black_box(0);
    // SAFETY: page 0 is never mapped (docs/ABI.md, `mem_map`) and no Rust
    // object lives at address 0, so a write that somehow succeeded would
    // change nothing the program uses.
    unsafe {
        asm!(
            "mov qword ptr [{p}], {v}",
            p = in(reg) addr,
            v = in(reg) 0u64,
            options(nostack, preserves_flags),
        );
    }
}

#[allow(unsafe_code)]
fn write_text() {
    // SAFETY: takes the address of the next instruction (in .text), reads
    // its first byte and stores the same byte back, so if the store
    // succeeded the code is unchanged. Only scratch registers are written.
    unsafe {
        asm!(
            "lea {p}, [rip]",
            "mov {b:l}, byte ptr [{p}]",
            "mov byte ptr [{p}], {b:l}",
            p = out(reg) _,
            b = out(reg) _,
            options(nostack, preserves_flags),
        );
    }
}

/// Calls the code at `target`, which must be a `ret` instruction.
#[allow(unsafe_code)]
fn call_ret_at(target: *const u8) {
    let target = black_box(target);
    // SAFETY: `target` points at a 0xc3 byte (`ret`), so if the fetch is
    // allowed the call returns at once, having pushed and popped its return
    // address; the stack may be used (no `nostack`). `clobber_abi("C")`
    // covers what a called function could clobber. The asm may read memory,
    // so the byte is written before it runs.
    unsafe {
        asm!(
            "call {t}",
            t = in(reg) target,
            clobber_abi("C"),
        );
    }
}

fn exec_stack() {
    let code = [0xc3u8; 16];
    call_ret_at(black_box(&code).as_ptr());
}

fn exec_data() {
    call_ret_at(RET_IN_DATA.as_ptr());
}

#[allow(unsafe_code)]
fn hlt() {
    // SAFETY: `hlt` touches no memory or registers; in ring 3 it raises #GP.
    unsafe { asm!("hlt", options(nomem, nostack, preserves_flags)) };
}

#[allow(unsafe_code)]
fn cli() {
    // SAFETY: `cli` only clears IF (the asm may change flags); with IOPL 0
    // it raises #GP in ring 3. Nothing in this program depends on IF.
    unsafe { asm!("cli", options(nomem, nostack)) };
}

#[allow(unsafe_code)]
fn div0() {
    let divisor: u64 = black_box(0);
    // SAFETY: `div` reads and writes only rax and rdx (declared) and the
    // flags; dividing by zero raises #DE.
    unsafe {
        asm!(
            "div {d}",
            d = in(reg) divisor,
            inout("rax") 1u64 => _,
            inout("rdx") 0u64 => _,
            options(nomem, nostack),
        );
    }
}

#[allow(unsafe_code)]
fn ud2() {
    // SAFETY: `ud2` touches no memory or registers; it raises #UD.
    unsafe { asm!("ud2", options(nomem, nostack, preserves_flags)) };
}
