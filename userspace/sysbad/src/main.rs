//! `sysbad`: makes system calls with bad arguments and checks that each one
//! fails with exactly the error docs/ABI.md specifies (code and detail),
//! plus a few good calls around them (a mapping that is made, used and
//! removed). One line per check:
//!
//! ```text
//! sysbad: ok <what>
//! sysbad: FAIL <what>: got <result>, want <result>
//! ```
//!
//! then `sysbad: <n> checks, <f> failed`. Exit code 0 only if every check
//! passed, otherwise 1.
//!
//! Calls that the typed wrappers of `ferrous-rt` cannot express (a kernel
//! pointer, a set unused register, an unknown number) go through [`raw`].
//! The mapping is probed with volatile reads and writes ([`read_word`],
//! [`write_word`]) and removed with `sys::mem_unmap`; those three items are
//! the program's only `unsafe` code.
#![no_std]
#![no_main]
#![deny(unsafe_code)]

use core::fmt;
use ferrous_rt::abi::{
    ABI_VERSION, Handle, PAGE_SIZE, Perms, SysError, Sysno, USER_END, decode_result,
};
use ferrous_rt::{println, sys};

ferrous_rt::entry!(main);

/// Where the mapping checks happen. Nothing else is mapped here: the
/// program image is at 0x400000 and the stack near the top of user space.
const WINDOW: u64 = 0x5000_0000;
/// An address nothing maps.
const UNMAPPED: u64 = 0x7000_0000_0000;
const KERNEL_HALF: u64 = 0xffff_8000_0000_0000;
const NON_CANONICAL: u64 = 0x1234_5678_9abc_def0;
const CONSOLE: u64 = 1;
const SELF_SPACE: u64 = 2;
const RW: u64 = 3;

/// Word offsets in the two-page window that are written and read back: the
/// first and last word of each page.
const PROBES: [u64; 4] = [0, PAGE_SIZE - 8, PAGE_SIZE, 2 * PAGE_SIZE - 8];

/// Makes system call `nr` with the argument registers `args` exactly as
/// given, and decodes the result registers.
///
/// Panics for `mem_unmap` and `mem_protect`, the only calls that can take
/// away memory the program uses; every other call is harmless to Rust's
/// view of memory, whatever its arguments.
#[allow(unsafe_code)]
fn raw(nr: u64, args: [u64; 6]) -> Result<u64, SysError> {
    assert!(
        nr != Sysno::MemUnmap as u64 && nr != Sysno::MemProtect as u64,
        "raw() is not for calls that remove or re-protect memory"
    );
    // SAFETY: the call is not mem_unmap or mem_protect (checked above).
    // The others only read user memory (debug_write, process_spawn), map
    // new memory that never replaces an existing mapping (mem_map), or
    // touch no memory at all, so nothing Rust code uses can change.
    let (rax, rdx) = unsafe { sys::raw::syscall(nr, args) };
    decode_result(rax, rdx)
}

/// Reads the word at `addr`, in the window mapped by `main`.
#[allow(unsafe_code)]
fn read_word(addr: u64) -> u64 {
    let p = core::ptr::with_exposed_provenance::<u64>(addr as usize);
    // SAFETY: `main` calls this only for 8-aligned addresses inside the
    // window while it is mapped readable (between a successful mem_map
    // and the mem_unmap). No Rust object lives there, so a volatile read
    // cannot conflict with a reference.
    unsafe { p.read_volatile() }
}

/// Writes `value` at `addr`, in the window mapped by `main`.
#[allow(unsafe_code)]
fn write_word(addr: u64, value: u64) {
    let p = core::ptr::with_exposed_provenance_mut::<u64>(addr as usize);
    // SAFETY: as for `read_word`, while the window is mapped read-write.
    unsafe { p.write_volatile(value) }
}

/// `mem_unmap` of part of the window.
#[allow(unsafe_code)]
fn unmap(addr: u64, len: u64) -> Result<u64, SysError> {
    assert!(addr >= WINDOW - PAGE_SIZE && addr + len <= WINDOW + 4 * PAGE_SIZE);
    // SAFETY: the range is in or next to the window (asserted), which holds
    // only memory this program mapped with mem_map and accesses only
    // through `read_word` and `write_word`, never while unmapped. No
    // reference points into it.
    unsafe { sys::mem_unmap(addr, len) }.map(|()| 0)
}

/// `mem_protect` of part of the window.
#[allow(unsafe_code)]
fn protect(addr: u64, len: u64, perms: Perms) -> Result<u64, SysError> {
    assert!(addr >= WINDOW && addr + len <= WINDOW + 4 * PAGE_SIZE);
    // SAFETY: as for `unmap`; `main` writes to the window only while it is
    // mapped read-write (before this call makes it read-only).
    unsafe { sys::mem_protect(addr, len, perms) }.map(|()| 0)
}

/// A result as the checks print it.
struct Shown(Result<u64, SysError>);

impl fmt::Display for Shown {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.0 {
            Ok(v) => write!(f, "Ok({v:#x})"),
            Err(e) => write!(f, "Err({}: {e})", e.name()),
        }
    }
}

#[derive(Default)]
struct Checks {
    run: u32,
    failed: u32,
}

impl Checks {
    fn expect(&mut self, what: &str, got: Result<u64, SysError>, want: Result<u64, SysError>) {
        self.run += 1;
        if got == want {
            println!("sysbad: ok {what}");
        } else {
            self.failed += 1;
            println!(
                "sysbad: FAIL {what}: got {}, want {}",
                Shown(got),
                Shown(want)
            );
        }
    }

    fn expect_err(&mut self, what: &str, got: Result<u64, SysError>, want: SysError) {
        self.expect(what, got, Err(want));
    }

    /// A check that is not a call's result: `got` describes what was seen.
    fn expect_true(&mut self, what: &str, ok: bool, got: fmt::Arguments<'_>) {
        self.run += 1;
        if ok {
            println!("sysbad: ok {what}");
        } else {
            self.failed += 1;
            println!("sysbad: FAIL {what}: got {got}");
        }
    }
}

fn main() -> i32 {
    let mut c = Checks::default();
    let text = b"sysbad: this text must never be printed\n";
    let buf = text.as_ptr().addr() as u64;

    debug_write(&mut c, buf);
    numbers_and_registers(&mut c);
    memory(&mut c);
    processes(&mut c);

    println!("sysbad: {} checks, {} failed", c.run, c.failed);
    if c.failed == 0 { 0 } else { 1 }
}

/// `debug_write` refusals, in the order decode checks its arguments; then
/// the lookups after decoding. `buf` is readable text that must not appear.
fn debug_write(c: &mut Checks, buf: u64) {
    let dw = Sysno::DebugWrite as u64;
    c.expect_err(
        "debug_write kernel-half pointer",
        raw(dw, [CONSOLE, KERNEL_HALF, 8, 0, 0, 0]),
        SysError::KernelPointer { arg: 1 },
    );
    c.expect_err(
        "debug_write non-canonical pointer",
        raw(dw, [CONSOLE, NON_CANONICAL, 8, 0, 0, 0]),
        SysError::NonCanonicalPointer { arg: 1 },
    );
    c.expect_err(
        "debug_write unmapped pointer",
        raw(dw, [CONSOLE, UNMAPPED, 8, 0, 0, 0]),
        SysError::BadAddress { addr: UNMAPPED },
    );
    c.expect_err(
        "debug_write wrapping length",
        raw(dw, [CONSOLE, buf, u64::MAX, 0, 0, 0]),
        SysError::LengthWraps { arg: 2 },
    );
    c.expect_err(
        "debug_write length over the limit",
        raw(dw, [CONSOLE, buf, 4097, 0, 0, 0]),
        SysError::LengthTooLarge { arg: 2 },
    );
    c.expect_err(
        "debug_write range past user space",
        raw(dw, [CONSOLE, USER_END - 8, 16, 0, 0, 0]),
        SysError::RangeOutsideUser { arg: 2 },
    );
    c.expect_err(
        "debug_write handle with reserved bits",
        raw(dw, [CONSOLE | 1 << 32, buf, 8, 0, 0, 0]),
        SysError::ReservedBitsSet { arg: 0 },
    );
    c.expect_err(
        "debug_write unused register",
        raw(dw, [CONSOLE, buf, 0, 0, 1, 0]),
        SysError::UnusedArgumentNotZero { arg: 4 },
    );
    c.expect_err(
        "debug_write handle 7",
        sys::debug_write_to(Handle(7), b"sysbad: this text must never be printed\n").map(|()| 0),
        SysError::EmptySlot { arg: 0 },
    );
    c.expect(
        "debug_write of nothing",
        raw(dw, [CONSOLE, buf, 0, 0, 0, 0]),
        Ok(0),
    );
}

fn numbers_and_registers(c: &mut Checks) {
    c.expect_err(
        "unknown syscall 999",
        raw(999, [0; 6]),
        SysError::UnknownSyscall { nr: 999 },
    );
    c.expect_err(
        "syscall 0",
        raw(0, [0; 6]),
        SysError::UnknownSyscall { nr: 0 },
    );
    c.expect_err(
        "syscall 2 + 2^32",
        raw(2 | 1 << 32, [CONSOLE, 0, 0, 0, 0, 0]),
        SysError::UnknownSyscall { nr: 2 | 1 << 32 },
    );
    c.expect(
        "abi_version",
        raw(Sysno::AbiVersion as u64, [0; 6]),
        Ok(u64::from(ABI_VERSION)),
    );
    c.expect_err(
        "abi_version unused register rdi",
        raw(Sysno::AbiVersion as u64, [1, 0, 0, 0, 0, 0]),
        SysError::UnusedArgumentNotZero { arg: 0 },
    );
    c.expect_err(
        "abi_version unused register r9",
        raw(Sysno::AbiVersion as u64, [0, 0, 0, 0, 0, 1]),
        SysError::UnusedArgumentNotZero { arg: 5 },
    );
    c.expect_err(
        "thread_sleep unused register",
        raw(Sysno::ThreadSleep as u64, [0, 1, 0, 0, 0, 0]),
        SysError::UnusedArgumentNotZero { arg: 1 },
    );
}

/// Mapping refusals, then a two-page mapping at [`WINDOW`] that is checked,
/// written, read, overlapped, re-protected and removed.
fn memory(c: &mut Checks) {
    let page = PAGE_SIZE;
    let mm = Sysno::MemMap as u64;
    c.expect_err(
        "mem_map write+execute",
        sys::mem_map(WINDOW, 2 * page, Perms::READ_WRITE | Perms::EXECUTE),
        SysError::WriteAndExecute { arg: 3 },
    );
    c.expect_err(
        "mem_map write without read",
        sys::mem_map(WINDOW, page, Perms::WRITE),
        SysError::PermsWithoutRead { arg: 3 },
    );
    c.expect_err(
        "mem_map reserved permission bits",
        raw(mm, [SELF_SPACE, WINDOW, page, 8 | 1, 0, 0]),
        SysError::ReservedBitsSet { arg: 3 },
    );
    c.expect_err(
        "mem_map misaligned address",
        sys::mem_map(WINDOW + 8, page, Perms::READ_WRITE),
        SysError::Misaligned { arg: 1 },
    );
    c.expect_err(
        "mem_map zero length",
        sys::mem_map(WINDOW, 0, Perms::READ_WRITE),
        SysError::ZeroLength { arg: 2 },
    );
    c.expect_err(
        "mem_map misaligned length",
        sys::mem_map(WINDOW, page + 1, Perms::READ_WRITE),
        SysError::Misaligned { arg: 2 },
    );
    c.expect_err(
        "mem_map kernel-half address",
        raw(mm, [SELF_SPACE, KERNEL_HALF, page, RW, 0, 0]),
        SysError::KernelPointer { arg: 1 },
    );
    c.expect_err(
        "mem_map handle 7",
        raw(mm, [7, WINDOW, page, RW, 0, 0]),
        SysError::EmptySlot { arg: 0 },
    );

    let mapped = sys::mem_map(WINDOW, 2 * page, Perms::READ_WRITE);
    c.expect("mem_map rw 2 pages", mapped, Ok(WINDOW));
    if mapped != Ok(WINDOW) {
        // Nothing to probe; the checks below would only repeat the failure.
        return;
    }
    let nonzero = PROBES.iter().find(|&&o| read_word(WINDOW + o) != 0);
    c.expect_true(
        "mem_map memory is zero-filled",
        nonzero.is_none(),
        format_args!(
            "{:#x} at offset {:#x}",
            read_word(WINDOW),
            nonzero.unwrap_or(&0)
        ),
    );
    for (i, &o) in PROBES.iter().enumerate() {
        write_word(WINDOW + o, 0x5eed_0000 + i as u64);
    }
    let wrong = PROBES
        .iter()
        .enumerate()
        .find(|&(i, &o)| read_word(WINDOW + o) != 0x5eed_0000 + i as u64);
    c.expect_true(
        "mem_map memory write/read",
        wrong.is_none(),
        format_args!("wrong word at offset {:#x}", wrong.map_or(0, |(_, &o)| o)),
    );
    c.expect_err(
        "mem_map over an existing mapping",
        sys::mem_map(WINDOW + page, 2 * page, Perms::READ_WRITE),
        SysError::AlreadyMapped {
            addr: WINDOW + page,
        },
    );
    c.expect_err(
        "mem_map running into an existing mapping",
        sys::mem_map(WINDOW - page, 2 * page, Perms::READ_WRITE),
        SysError::AlreadyMapped { addr: WINDOW },
    );
    c.expect_err(
        "failed mem_map left nothing behind",
        unmap(WINDOW - page, page),
        SysError::BadAddress {
            addr: WINDOW - page,
        },
    );
    c.expect_err(
        "debug_write running off the mapping",
        raw(
            Sysno::DebugWrite as u64,
            [CONSOLE, WINDOW + 2 * page - 4, 8, 0, 0, 0],
        ),
        SysError::BadAddress {
            addr: WINDOW + 2 * page,
        },
    );
    c.expect_err(
        "mem_protect write+execute",
        protect(WINDOW, page, Perms::READ_WRITE | Perms::EXECUTE),
        SysError::WriteAndExecute { arg: 3 },
    );
    c.expect_err(
        "mem_protect partly unmapped",
        protect(WINDOW, 3 * page, Perms::READ),
        SysError::BadAddress {
            addr: WINDOW + 2 * page,
        },
    );
    c.expect(
        "mem_protect read-only",
        protect(WINDOW, 2 * page, Perms::READ),
        Ok(0),
    );
    c.expect_true(
        "read-only memory still reads",
        read_word(WINDOW + PAGE_SIZE) == 0x5eed_0002,
        format_args!("{:#x}", read_word(WINDOW + PAGE_SIZE)),
    );
    c.expect("mem_unmap", unmap(WINDOW, 2 * page), Ok(0));
    c.expect_err(
        "mem_unmap again",
        unmap(WINDOW, 2 * page),
        SysError::BadAddress { addr: WINDOW },
    );
    c.expect_err(
        "debug_write from unmapped memory",
        raw(Sysno::DebugWrite as u64, [CONSOLE, WINDOW, 8, 0, 0, 0]),
        SysError::BadAddress { addr: WINDOW },
    );
}

fn processes(c: &mut Checks) {
    c.expect_err(
        "process_wait slot 5000 (beyond the table)",
        raw(Sysno::ProcessWait as u64, [5000, 0, 0, 0, 0, 0]),
        SysError::SlotOutOfRange { arg: 0 },
    );
    c.expect_err(
        "process_wait empty slot",
        raw(Sysno::ProcessWait as u64, [200, 0, 0, 0, 0, 0]),
        SysError::EmptySlot { arg: 0 },
    );
    c.expect_err(
        "process_wait on the console (wrong type)",
        raw(Sysno::ProcessWait as u64, [CONSOLE, 0, 0, 0, 0, 0]),
        SysError::WrongObjectType { arg: 0 },
    );
    c.expect_err(
        "process_wait handle with reserved bits",
        raw(Sysno::ProcessWait as u64, [1 << 32 | 1024, 0, 0, 0, 0, 0]),
        SysError::ReservedBitsSet { arg: 0 },
    );
    let spawned = sys::spawn(Handle(16), Handle(3), b"", &[]);
    if let Ok(child) = spawned {
        // A kernel bug: do not leave a stray process behind.
        let _ = sys::cap_delete(child);
    }
    c.expect_err(
        "process_spawn without a module capability",
        spawned.map(|h| u64::from(h.0)),
        SysError::EmptySlot { arg: 0 },
    );
    c.expect_err(
        "cap_delete empty slot",
        sys::cap_delete(Handle(100)).map(|()| 0),
        SysError::EmptySlot { arg: 0 },
    );
    // Exit code 77 in the low bits: a kernel that ignored the reserved
    // bits would end this process with a visible failure code.
    c.expect_err(
        "process_exit code with reserved bits",
        raw(Sysno::ProcessExit as u64, [1 << 32 | 77, 0, 0, 0, 0, 0]),
        SysError::ReservedBitsSet { arg: 0 },
    );
}
