//! `fuzz`: random system calls from a fixed seed. The kernel must answer
//! every one and stay up; this program must survive its own calls.
//!
//! Arguments: `seed count` (defaults 1 and 100000), separated by spaces,
//! colons or NUL bytes, so init's `run=fuzz:7:5000` works.
//!
//! A xorshift generator picks the call number (mostly a defined one, else
//! one just beyond; sometimes a huge or random number) and
//! six argument registers, biased towards interesting values: zero, small
//! numbers, handles, page-aligned addresses in the fuzz window
//! `0x5000_0000..0x5100_0000`, page multiples, kernel-half and
//! non-canonical addresses, `u64::MAX`, the program's own stack and code.
//! For a known call, the registers it does not use are usually zeroed and
//! its arguments usually shaped to pass decoding, so that the calls reach
//! the kernel's real work.
//!
//! What it must never do, and how it avoids it (see [`Fuzz::tame`]):
//!
//! - `process_exit` (3) is never called.
//! - `thread_sleep` sleeps at most 100 µs, and only one drawn sleep in 32
//!   is kept (a sleep lasts until the next scheduler tick).
//! - `process_wait` only polls (timeout 0).
//! - `mem_unmap` and `mem_protect` that would decode are moved into the
//!   fuzz window, which holds nothing but memory the fuzzer mapped and
//!   never touches; `mem_map` that would decode maps at most 16 pages,
//!   inside the window (a kernel-chosen mapping, `addr` 0, is unmapped at
//!   once).
//! - `debug_write` that would decode reads at most 64 bytes, and from an
//!   unmapped address, except for a few real writes of a fixed line.
//! - `cap_delete` and `cap_move` never take away the console or its own
//!   address space; `thread_exit` is never called.
//! - `process_spawn` never names a module and `thread_create` never an
//!   address space (wherever copies put them; `cap_identify` tells): both
//!   get an empty slot instead.
//! - `memory_split` takes at most 16 pages of its budget.
//!
//! Capability arguments are drawn from real slots (1–4), empty ones,
//! slots at and beyond the end of the table (255, 256, 1024, 5000) and
//! values with reserved bits; copies and mints land in random slots, so
//! later calls meet capabilities of every type in unexpected places.
//!
//! Each result is compared with the ABI: a call that `Syscall::decode`
//! refuses must fail with exactly that error; a call that decodes must not
//! fail with a decode error; `abi_version` returns `ABI_VERSION`;
//! `thread_yield`, `thread_sleep` and `clock_monotonic` succeed;
//! `clock_monotonic` never goes backwards; this process holds no process or
//! thread capability and no module it may spawn, so `process_spawn`,
//! `process_wait`, `process_kill` and `thread_wait` always fail; no error is
//! `Unrecognized`. The first few differences are printed as
//! `fuzz: MISMATCH ...`.
//!
//! Output:
//!
//! ```text
//! fuzz: seed 1, 100000 calls
//! fuzz: 25000/100000 calls
//! ...
//! fuzz: errors by kind: UnknownSyscall=... EmptySlot=... ...
//! fuzz: 100000 calls, <ok> ok, <err> errors, kernel alive
//! ```
//!
//! Exit code 0, or 1 if any result differed from the ABI (the last line is
//! then preceded by `fuzz: <n> results differed from the ABI`), or 2 for
//! bad arguments.
#![no_std]
#![no_main]
#![deny(unsafe_code)]

use core::fmt;
use ferrous_rt::abi::{
    ABI_VERSION, ErrorCode, ObjectType, PAGE_SIZE, SysError, Syscall, Sysno, USER_END,
    USER_MAP_END, decode_result, initial,
};
use ferrous_rt::{println, sys};

ferrous_rt::entry!(main);

const WINDOW: u64 = 0x5000_0000;
const WINDOW_END: u64 = 0x5100_0000;
const WINDOW_PAGES: u64 = (WINDOW_END - WINDOW) / PAGE_SIZE;
const MAX_MAP_PAGES: u64 = 16;
const MAX_SLEEP_NS: u64 = 100_000;
/// Keep one drawn `thread_sleep` in this many.
const SLEEP_ONE_IN: u64 = 32;
const MAX_WRITE: u64 = 64;
/// Most real `debug_write`s (of [`REAL_LINE`]).
const REAL_WRITES: u32 = 3;
/// Most mismatches printed.
const MAX_REPORTS: u64 = 8;
/// Nothing is ever mapped here (far from the image, the window and the
/// stack).
const UNMAPPED: u64 = 0x7000_0000_0000;
const KERNEL_HALF: u64 = 0xffff_8000_0000_0000;
/// Error codes are below this (docs/ABI.md groups them by `code / 16`).
const CODES: usize = 64;

/// Handle-like values: empty slots, the initial handles, module and child
/// slots, reserved bits.
const HANDLES: [u64; 14] = [
    1,
    2,
    3,
    4,
    5,
    16,
    17,
    200,
    255,
    256,
    1024,
    5000,
    1 << 32 | 1,
    0xffff_ffff,
];
/// The highest defined call number.
const LAST_CALL: u64 = Sysno::ProcessKill as u64;
/// Slots this program must keep: the console and its own address space.
const KEEP: [u32; 2] = [initial::CONSOLE.0, initial::SELF_SPACE.0];

/// Whether slot `h` holds a capability of one of `kinds`.
fn holds(h: ferrous_rt::abi::Handle, kinds: &[ObjectType]) -> bool {
    matches!(sys::cap_identify(h), Ok(Some(info)) if kinds.contains(&info.kind))
}
const HUGE: [u64; 4] = [u64::MAX, u64::MAX - PAGE_SIZE + 1, i64::MAX as u64, 1 << 63];
/// Around the end of user space and of what `mem_*` may touch.
const USER_TOP: [u64; 4] = [
    USER_END,
    USER_END - 8,
    USER_MAP_END,
    USER_MAP_END - PAGE_SIZE,
];

const DEFAULT_SEED: u64 = 1;
const DEFAULT_COUNT: u64 = 100_000;

/// What the real writes print: from `.rodata`, or from a copy on the stack.
const REAL_LINE: &[u8; LINE_LEN] =
    b"fuzz: one of the few real debug_writes among the random calls\n";
const LINE_LEN: usize = 62;

fn main() -> i32 {
    let Some((seed, count)) = parse_args() else {
        println!("fuzz: bad arguments (want: seed count)");
        return 2;
    };
    println!("fuzz: seed {seed}, {count} calls");
    let marker = 0u8;
    let mut f = Fuzz::new(
        seed,
        core::hint::black_box(&raw const marker).addr() as u64,
        main as fn() -> i32 as usize as u64,
    );
    let step = (count / 4).max(1);
    for i in 0..count {
        f.one_call(i);
        if (i + 1) % step == 0 && i + 1 < count {
            println!("fuzz: {}/{count} calls", i + 1);
        }
    }
    println!("fuzz: errors by kind:{}", ByKind(&f));
    if f.mismatches > 0 {
        println!("fuzz: {} results differed from the ABI", f.mismatches);
    }
    println!(
        "fuzz: {count} calls, {} ok, {} errors, kernel alive",
        f.ok, f.err
    );
    if f.mismatches == 0 { 0 } else { 1 }
}

/// `seed count`, either may be missing.
fn parse_args() -> Option<(u64, u64)> {
    let mut words = ferrous_rt::args_bytes()
        .split(|&b| matches!(b, 0 | b' ' | b':'))
        .filter(|w| !w.is_empty());
    let mut number = |default| match words.next() {
        None => Some(default),
        Some(w) => core::str::from_utf8(w).ok()?.parse().ok(),
    };
    let seed = number(DEFAULT_SEED)?;
    let count = number(DEFAULT_COUNT)?;
    Some((seed, count))
}

/// xorshift64: small, fast and the same on every run for a seed.
struct Rng(u64);

impl Rng {
    fn new(seed: u64) -> Rng {
        let mut r = Rng(seed ^ 0x9e37_79b9_7f4a_7c15);
        if r.0 == 0 {
            r.0 = 1;
        }
        for _ in 0..4 {
            r.next();
        }
        r
    }

    fn next(&mut self) -> u64 {
        let mut x = self.0;
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        self.0 = x;
        x
    }

    fn below(&mut self, n: u64) -> u64 {
        self.next() % n
    }

    fn one_in(&mut self, n: u64) -> bool {
        self.below(n) == 0
    }

    fn pick(&mut self, values: &[u64]) -> u64 {
        values[self.below(values.len() as u64) as usize]
    }
}

fn canonical(addr: u64) -> bool {
    let top = (addr as i64) >> 47;
    top == 0 || top == -1
}

fn in_window(addr: u64, len: u64) -> bool {
    addr >= WINDOW && addr.checked_add(len).is_some_and(|end| end <= WINDOW_END)
}

struct Fuzz {
    rng: Rng,
    stack: u64,
    code: u64,
    real_writes: u32,
    /// A copy of [`REAL_LINE`] on the stack (`Fuzz` lives in `main`'s frame).
    stack_line: [u8; LINE_LEN],
    last_clock: u64,
    ok: u64,
    err: u64,
    by_code: [u64; CODES],
    mismatches: u64,
}

impl Fuzz {
    fn new(seed: u64, stack: u64, code: u64) -> Fuzz {
        Fuzz {
            rng: Rng::new(seed),
            stack,
            code,
            real_writes: 0,
            stack_line: *REAL_LINE,
            last_clock: 0,
            ok: 0,
            err: 0,
            by_code: [0; CODES],
            mismatches: 0,
        }
    }

    /// A call number: mostly a defined one, often one beyond them,
    /// sometimes huge or random; never `process_exit` or `thread_exit`.
    fn number(&mut self) -> u64 {
        loop {
            let nr = match self.rng.below(100) {
                0..=74 => 1 + self.rng.below(LAST_CALL),
                75..=87 => self.rng.below(LAST_CALL + 5),
                88..=93 => {
                    let small = self.rng.below(LAST_CALL + 5);
                    let huge = self.rng.next();
                    let numbers = [
                        u64::MAX,
                        1 << 63,
                        1 << 32 | small,
                        0x8000_0000 | small,
                        huge,
                    ];
                    self.rng.pick(&numbers)
                }
                _ => self.rng.below(256),
            };
            if nr == Sysno::ProcessExit as u64 || nr == Sysno::ThreadExit as u64 {
                continue;
            }
            if nr == Sysno::ThreadSleep as u64 && !self.rng.one_in(SLEEP_ONE_IN) {
                continue;
            }
            return nr;
        }
    }

    /// An argument register, biased towards values that matter.
    fn value(&mut self) -> u64 {
        let r = &mut self.rng;
        match r.below(24) {
            0..=6 => 0,
            7..=8 => r.below(17),
            9 => r.pick(&HANDLES),
            10..=11 => WINDOW + r.below(WINDOW_PAGES) * PAGE_SIZE,
            12 => WINDOW + r.below(WINDOW_END - WINDOW),
            13..=14 => PAGE_SIZE * (1 + r.below(MAX_MAP_PAGES)),
            15 => KERNEL_HALF + r.below(1 << 46),
            16 => {
                let v = r.next();
                if canonical(v) { v ^ 1 << 50 } else { v }
            }
            17 => r.pick(&HUGE),
            18 => self.stack - r.below(512),
            19 => self.code + r.below(PAGE_SIZE),
            20 => r.pick(&USER_TOP),
            21 => 1 << r.below(64),
            _ => r.next(),
        }
    }

    /// Makes one call, checks the result against the ABI and counts it.
    fn one_call(&mut self, index: u64) {
        let nr = self.number();
        let mut args = [0u64; 6];
        for a in &mut args {
            *a = self.value();
        }
        if let Some(sysno) = Sysno::from_raw(nr) {
            self.shape(sysno, &mut args);
        }
        self.tame(nr, &mut args);
        let result = perform(nr, args);
        if let (Some(Sysno::MemMap), 0, Ok(addr)) = (Sysno::from_raw(nr), args[1], result) {
            // The kernel chose where: give the fresh memory back at once,
            // so the fuzzer's memory stays bounded by its window.
            let _ = unmap_fresh(addr, args[2]);
        }
        if let Some(why) = self.judge(nr, args, result) {
            self.mismatches += 1;
            if self.mismatches <= MAX_REPORTS {
                println!(
                    "fuzz: MISMATCH call {index}: {}: got {}, {why}",
                    Call(nr, args),
                    Shown(result)
                );
            }
        }
        match result {
            Ok(_) => self.ok += 1,
            Err(e) => {
                self.err += 1;
                let code = e.code() as usize;
                if code < CODES {
                    self.by_code[code] += 1;
                }
            }
        }
    }

    /// Usually gives a known call arguments that pass decoding: its own
    /// handle, addresses and lengths of the right kind, unused registers
    /// zero. The rest of the time the random values stay.
    fn shape(&mut self, sysno: Sysno, args: &mut [u64; 6]) {
        if !self.rng.one_in(8) {
            for a in &mut args[sysno.arg_count()..] {
                *a = 0;
            }
        }
        if self.rng.one_in(4) {
            return;
        }
        let r = &mut self.rng;
        match sysno {
            Sysno::DebugWrite => {
                args[0] = u64::from(initial::CONSOLE.0);
                args[2] = r.below(MAX_WRITE + 1);
            }
            Sysno::MemMap | Sysno::MemUnmap | Sysno::MemProtect => {
                args[0] = u64::from(initial::SELF_SPACE.0);
                args[1] = WINDOW + r.below(WINDOW_PAGES) * PAGE_SIZE;
                args[2] = PAGE_SIZE * (1 + r.below(MAX_MAP_PAGES));
                if sysno != Sysno::MemUnmap {
                    args[3] = r.pick(&[1, 3, 5, 1, 3, 5, 0, 2, 4, 6, 7, 8, 1 << 40]);
                }
            }
            // Random slots, real and forged, for every capability argument.
            Sysno::ProcessWait
            | Sysno::ProcessKill
            | Sysno::CapDelete
            | Sysno::CapRevoke
            | Sysno::CapIdentify
            | Sysno::MemoryInfo
            | Sysno::ThreadWait => args[0] = r.pick(&HANDLES) & 0xffff_ffff,
            Sysno::CapCopy | Sysno::CapMove | Sysno::CapMint => {
                args[0] = r.below(8);
                args[1] = r.pick(&[0, 1, 3, 6, 7, 8, 9, 10, 255, 256]);
                if sysno == Sysno::CapMint {
                    args[2] = r.below(1 << 11);
                    args[3] = r.pick(&[0, 0, 1, 0xbad9e]);
                }
            }
            Sysno::MemorySplit => {
                args[0] = r.below(12);
                args[1] = PAGE_SIZE * r.below(MAX_MAP_PAGES + 1);
            }
            Sysno::ThreadCreate | Sysno::ProcessSpawn => {
                for a in args.iter_mut().take(2) {
                    *a = r.below(20);
                }
            }
            _ => {}
        }
    }

    /// Makes the call harmless to this program (see the module docs). Only
    /// calls that would pass decoding can act, so the others keep their
    /// arguments.
    fn tame(&mut self, nr: u64, args: &mut [u64; 6]) {
        match Sysno::from_raw(nr) {
            Some(Sysno::ThreadSleep) => args[0] %= MAX_SLEEP_NS + 1,
            Some(Sysno::ProcessWait) => args[1] = 0,
            _ => {}
        }
        let Ok(call) = Syscall::decode(nr, *args) else {
            return;
        };
        match call {
            Syscall::DebugWrite { len, .. } => {
                let len = len % (MAX_WRITE + 1);
                args[2] = len;
                if len == 0 {
                    // Reads nothing, prints nothing: any address is fine.
                } else if self.real_writes < REAL_WRITES && self.rng.one_in(500) {
                    self.real_writes += 1;
                    // Alternately from the stack and from .rodata. The
                    // address is exposed: the kernel reads through it.
                    let line = if self.real_writes.is_multiple_of(2) {
                        self.stack_line.as_ptr()
                    } else {
                        REAL_LINE.as_ptr()
                    };
                    args[1] = line.expose_provenance() as u64;
                    args[2] = LINE_LEN as u64;
                } else if self.rng.one_in(2) {
                    args[1] = self.rng.below(PAGE_SIZE - len);
                } else {
                    args[1] = UNMAPPED + self.rng.below(1 << 30);
                }
            }
            Syscall::MemMap { addr, len, .. } => {
                let pages = 1 + (len / PAGE_SIZE - 1) % MAX_MAP_PAGES;
                args[2] = pages * PAGE_SIZE;
                if addr.addr() != 0 && !in_window(addr.addr(), args[2]) {
                    args[1] = WINDOW + self.rng.below(WINDOW_PAGES - pages + 1) * PAGE_SIZE;
                }
            }
            Syscall::MemUnmap { addr, len, .. } | Syscall::MemProtect { addr, len, .. }
                if !in_window(addr.addr(), len) =>
            {
                let start = WINDOW + self.rng.below(WINDOW_PAGES) * PAGE_SIZE;
                args[1] = start;
                args[2] = len.min(WINDOW_END - start);
            }
            // Never give away the console or the address space.
            Syscall::CapDelete { slot: h } | Syscall::CapMove { src: h, .. }
                if KEEP.contains(&h.0) =>
            {
                args[0] = 200;
            }
            // No copies of itself, and no threads at random addresses:
            // these reach the kernel's checks with an empty slot instead.
            // (Copies and moves can put them in any slot, so ask the kernel.)
            Syscall::ProcessSpawn { module: h, .. } | Syscall::ThreadCreate { space: h, .. }
                if holds(h, &[ObjectType::Module, ObjectType::AddressSpace]) =>
            {
                args[0] = 200;
            }
            // Budget splits stay small, so its own mappings keep working.
            Syscall::MemorySplit { bytes, .. } if bytes > MAX_MAP_PAGES * PAGE_SIZE => {
                args[1] = PAGE_SIZE;
            }
            _ => {}
        }
    }

    /// `Some(what the ABI wanted)` if the result breaks a rule.
    fn judge(&mut self, nr: u64, args: [u64; 6], result: Result<u64, SysError>) -> Option<Want> {
        let call = match Syscall::decode(nr, args) {
            Err(e) => return (result != Err(e)).then_some(Want::Error(e)),
            Ok(call) => call,
        };
        let decode_error = result
            .err()
            .and_then(SysError::kind)
            .is_some_and(ErrorCode::is_decode_error);
        if decode_error {
            return Some(Want::Text("no decode error for a call that decodes"));
        }
        if let Err(SysError::Unrecognized(_)) = result {
            return Some(Want::Text("only codes the ABI defines"));
        }
        match (call, result) {
            (Syscall::AbiVersion {}, r) if r != Ok(u64::from(ABI_VERSION)) => {
                Some(Want::Text("ABI_VERSION"))
            }
            (
                Syscall::ThreadYield {} | Syscall::ThreadSleep { .. } | Syscall::ClockMonotonic {},
                Err(_),
            ) => Some(Want::Text("success: the call cannot fail")),
            (Syscall::ClockMonotonic {}, Ok(t)) => {
                let back = t < self.last_clock;
                self.last_clock = t;
                back.then_some(Want::Text("a clock that never goes backwards"))
            }
            (Syscall::ProcessSpawn { .. }, Ok(child)) => {
                let _ = sys::kill(ferrous_rt::abi::Handle(child as u32));
                Some(Want::Text("an error: it holds no module it may spawn"))
            }
            (Syscall::ProcessWait { .. } | Syscall::ProcessKill { .. }, Ok(_)) => {
                Some(Want::Text("an error: this process holds no process"))
            }
            (Syscall::ThreadWait { .. }, Ok(_)) => {
                Some(Want::Text("an error: this process holds no thread"))
            }
            _ => None,
        }
    }
}

/// Makes the call. Only here may the registers reach the kernel, and only
/// after the checks that keep this program's memory intact.
#[allow(unsafe_code)]
fn perform(nr: u64, args: [u64; 6]) -> Result<u64, SysError> {
    match Syscall::decode(nr, args) {
        Ok(Syscall::ProcessExit { .. }) => panic!("the fuzzer must not exit through a call"),
        Ok(Syscall::MemUnmap { addr, len, .. } | Syscall::MemProtect { addr, len, .. }) => {
            assert!(
                in_window(addr.addr(), len),
                "mem_unmap/mem_protect outside the window"
            );
        }
        _ => {}
    }
    // SAFETY: a call that fails to decode does nothing. Of the calls that
    // decode, only mem_unmap and mem_protect can take away or re-protect
    // memory, and those are confined to the fuzz window (asserted above),
    // which holds only mappings the fuzzer made and never accesses.
    // mem_map never replaces an existing mapping; debug_write and
    // process_spawn only read user memory; the rest touch none. So no
    // memory Rust code uses can change.
    let (rax, rdx) = unsafe { sys::raw::syscall(nr, args) };
    decode_result(rax, rdx)
}

/// Unmaps a mapping the kernel just created at an address it chose.
#[allow(unsafe_code)]
fn unmap_fresh(addr: u64, len: u64) -> Result<(), SysError> {
    if !addr.is_multiple_of(PAGE_SIZE) || addr.checked_add(len).is_none_or(|e| e > USER_MAP_END) {
        return Ok(());
    }
    // SAFETY: mem_map just returned `[addr, addr + len)` as a new mapping,
    // which by the ABI never replaces an existing one, so nothing else
    // lives there and no reference points into it.
    unsafe { sys::mem_unmap(addr, len) }
}

/// What the ABI required instead of the result seen.
enum Want {
    Error(SysError),
    Text(&'static str),
}

impl fmt::Display for Want {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Want::Error(e) => write!(f, "want {}", Shown(Err(*e))),
            Want::Text(t) => write!(f, "want {t}"),
        }
    }
}

/// A call as registers: `nr 9 [0x2, 0x50000000, ...]`.
struct Call(u64, [u64; 6]);

impl fmt::Display for Call {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let a = self.1;
        write!(
            f,
            "nr {} [{:#x}, {:#x}, {:#x}, {:#x}, {:#x}, {:#x}]",
            self.0, a[0], a[1], a[2], a[3], a[4], a[5]
        )
    }
}

struct Shown(Result<u64, SysError>);

impl fmt::Display for Shown {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.0 {
            Ok(v) => write!(f, "Ok({v:#x})"),
            Err(e) => write!(f, "Err({}: {e})", e.name()),
        }
    }
}

/// ` Name=count` for each error code seen.
struct ByKind<'a>(&'a Fuzz);

impl fmt::Display for ByKind<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for kind in ErrorCode::ALL {
            let n = self.0.by_code[*kind as usize];
            if n > 0 {
                write!(f, " {kind}={n}")?;
            }
        }
        Ok(())
    }
}
