//! `fuzz`: a stateful system-call fuzzer from a fixed seed. The kernel
//! must answer every call and stay up; this program must survive its own
//! calls.
//!
//! Arguments (separated by spaces, colons or NUL bytes, so init's
//! `run=fuzz:7:5000` works):
//!
//! - `seed count` (defaults 1 and 100000): one fuzzer process.
//! - `swarm n seed count`: a parent that starts `n` fuzzers at once (copies
//!   of itself from slot 4, seeds `seed`, `seed + 1`, ...), each with a
//!   share of its memory and a *shared endpoint* they all serve and call,
//!   so capabilities travel between the processes. It waits for them and
//!   checks that every one exited 0 and that its budget (`memory_info` of
//!   slot 3) is back to what it was before.
//! - `peer seed count`: one fuzzer of a swarm (slot 4 is the shared
//!   endpoint).
//!
//! # Calls
//!
//! Each step is a *stateful* call (about three steps in four) or a
//! *random* one. Handles the calls return — `memory_split`,
//! `endpoint_create`, `notification_create`, `frame_create`,
//! `thread_create`, the destinations of `cap_copy`, `cap_mint` and
//! `cap_move`, capabilities received in IPC — go into a typed
//! [`pool::Pool`], and stateful calls take their handles from it, so
//! sequences such as create → map → send over IPC (to this process's own
//! server thread or to a peer) → move → revoke → use are common. Every call
//! of the table is drawn (`abi_version` to `frame_map`), weighted towards
//! the ones that change state. One stateful call in twelve gets one random
//! register, to probe decoding next to real state.
//!
//! Random calls are as before: the number is mostly a defined one, else
//! one just beyond, sometimes huge or random; the six registers are biased
//! towards interesting values (zero, small numbers, handles from the pool
//! and forged ones, page-aligned addresses in the fuzz window
//! `0x5000_0000..0x5100_0000`, page multiples, kernel-half and
//! non-canonical addresses, `u64::MAX`, the program's own stack and code),
//! and for a known call the unused registers are usually zeroed and the
//! arguments usually shaped to pass decoding.
//!
//! Each process runs a server thread on a private endpoint (and, in a
//! swarm, one on the shared endpoint): it receives with a 20 ms timeout,
//! into its own receive slots (240 and up), and answers every call with the
//! words XOR [`REPLY_XOR`]. Short-lived worker threads (`thread_create`
//! on one of four pre-mapped stacks) signal a notification and exit.
//!
//! # Tame rules
//!
//! What the fuzzer must never do, and how it avoids it (see
//! [`Fuzz::tame`]):
//!
//! - `process_exit` (3) and `thread_exit` (21) are never called.
//! - `thread_sleep` sleeps at most 100 µs, and only one drawn sleep in 32
//!   is kept (a sleep lasts until the next scheduler tick).
//! - Nothing waits for long: `process_wait`, `thread_wait` and
//!   `notification_wait` poll (timeout 0), one in 64 with at most 100 µs;
//!   `ipc_send`, `ipc_recv`, `ipc_call` and `ipc_reply_recv` are
//!   non-blocking, except one in 64 with a timeout of at most 100 µs, and
//!   the sends and calls to an endpoint a server thread serves (its own or
//!   the shared one), which wait at most 50 ms; a non-blocking `ipc_call`
//!   gets a timeout of at most 100 µs too, because it still waits for the
//!   reply (for ever without one).
//! - `mem_unmap`, `mem_protect`, `frame_map` and fixed `mem_map`s stay in
//!   the fuzz window, which holds nothing but memory the fuzzer mapped and
//!   never touches; `mem_map` maps at most 16 pages (a kernel-chosen
//!   mapping, `addr` 0, is unmapped at once); `trace_read` and
//!   `metrics_read` write only into the window or at an unmapped address.
//! - `debug_write` reads at most 64 bytes, from an unmapped address or
//!   page 0, except for a few real writes of a fixed line.
//! - `cap_delete` and `cap_move` never take a protected slot: the console,
//!   its own address space, its memory, the endpoints the server threads
//!   serve, the server threads and the running workers; `cap_revoke` never
//!   revokes slot 3 (that would destroy the servers' endpoints).
//! - `process_spawn` never names a module, and `thread_create` names an
//!   address space only for a worker on a free stack: the others get an
//!   empty slot instead.
//! - No message carries an address space or a module (`cap_slot` becomes
//!   0), so no peer can map into this process or start copies of it.
//! - `memory_split` and `frame_create` take at most 16 pages.
//!
//! # Checks
//!
//! Each result is compared with the ABI: a call that `Syscall::decode`
//! refuses must fail with exactly that error; a call that decodes must not
//! fail with a decode error; no error is `Unrecognized`; `abi_version`
//! returns `ABI_VERSION`; `thread_yield`, `thread_sleep` and
//! `clock_monotonic` succeed; `clock_monotonic` never goes backwards; this
//! process holds no process, trace or module it may spawn, so
//! `process_spawn`, `process_wait`, `process_kill`, `trace_read`,
//! `trace_control` and `metrics_read` always fail. State-aware checks: a
//! slot just emptied by `cap_delete` or `cap_move` is empty
//! (`cap_identify`) and using it fails with `EmptySlot`; a new handle holds
//! the type that made it (or nothing, if a peer revoked its memory
//! meanwhile); a new memory capability holds the bytes it was split with;
//! a reply carries badge 0 and, from its own server in a lone fuzzer, the
//! words it sent XOR [`REPLY_XOR`]. The first few differences are printed
//! as `fuzz: MISMATCH ...`.
//!
//! # Output
//!
//! ```text
//! fuzz: seed 1, 100000 calls
//! fuzz: 25000/100000 calls
//! ...
//! fuzz: calls by number: 1=<calls>/<ok> 2=... ... 39=...
//! fuzz: errors by kind: UnknownSyscall=... EmptySlot=... ...
//! fuzz: <n> state checks, <m> replies checked, <s> messages served, <w> workers
//! fuzz: 100000 calls, <ok> ok, <err> errors, kernel alive
//! ```
//!
//! (`calls by number` counts the bookkeeping `cap_identify` calls too.)
//! A swarm parent adds `fuzz: swarm: <n> fuzzers exited 0, budget <b> -> <b>
//! bytes, intact`.
//!
//! Exit code 0, or 1 if any result differed from the ABI (the last line is
//! then preceded by `fuzz: <n> results differed from the ABI`) or a swarm
//! member failed or the budget changed, or 2 for bad arguments.
#![no_std]
#![no_main]
#![deny(unsafe_code)]

extern crate alloc;

mod pool;

use core::fmt;
use core::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use ferrous_rt::abi::{
    ABI_VERSION, ANY_CPU, ErrorCode, ExitStatus, Grant, Handle, MsgInfo, ObjectType, PAGE_SIZE,
    Perms, RecvInfo, Rights, SysError, Syscall, Sysno, USER_END, USER_MAP_END, WAIT_FOREVER,
    decode_result, initial,
};
use ferrous_rt::{println, sys};
use pool::{Pool, RECV_BASE, RECV_SLOTS};

ferrous_rt::entry!(main);

const WINDOW: u64 = 0x5000_0000;
const WINDOW_END: u64 = 0x5100_0000;
const WINDOW_PAGES: u64 = (WINDOW_END - WINDOW) / PAGE_SIZE;
const MAX_MAP_PAGES: u64 = 16;
const MAX_SLEEP_NS: u64 = 100_000;
/// Keep one drawn `thread_sleep` in this many.
const SLEEP_ONE_IN: u64 = 32;
/// Keep one drawn blocking wait (with at most [`MAX_WAIT_US`]) in this
/// many; the others poll.
const WAIT_ONE_IN: u64 = 64;
const MAX_WAIT_US: u64 = 100;
/// The longest wait of a send or call to an endpoint a server thread
/// serves.
const SERVED_WAIT_US: u32 = 50_000;
/// How long a server thread waits for a message before it looks at
/// [`STOP`].
const SERVER_WAIT_US: u32 = 20_000;
/// How long a worker's `ipc_call` waits for the main thread to receive
/// and answer it.
const WORKER_CALL_US: u32 = 20_000;
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
/// Call numbers counted one by one (the rest together, as 0).
const NUMBERS: usize = 64;
/// What a server thread XORs into each word of a call it answers.
const REPLY_XOR: u64 = 0x5eed_f00d_cafe_0000;
/// The thread stacks (workers, then servers): outside the window, mapped
/// once at the start.
const STACKS: u64 = 0x6000_0000;
const STACK: u64 = 16 * PAGE_SIZE;
const WORKERS: usize = 4;
const SERVERS: usize = 2;
/// Re-read the receive slots every this many steps, and the whole table
/// every [`FULL_RESYNC`].
const RECEIVED_RESYNC: u64 = 256;
const FULL_RESYNC: u64 = 4096;
/// Above this many capabilities, deletes are drawn more often.
const CROWDED: usize = 64;

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
const LAST_CALL: u64 = Sysno::ALL[Sysno::ALL.len() - 1] as u64;
/// An empty slot that tamed calls are sent to instead.
const EMPTY: u64 = 200;

/// Whether slot `h` holds a capability of one of `kinds`.
fn holds(h: Handle, kinds: &[ObjectType]) -> bool {
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

/// Everything one can do with an address space (as init grants it).
const SPACE_RIGHTS: Rights = Rights::READ
    .union(Rights::WRITE)
    .union(Rights::EXECUTE)
    .union(Rights::CONTROL)
    .union(Rights::GRANT)
    .union(Rights::DERIVE);

/// Tells the server threads to end.
static STOP: AtomicBool = AtomicBool::new(false);
/// Messages the server threads received.
static SERVED: AtomicU64 = AtomicU64::new(0);

enum Mode {
    Alone,
    Peer,
    Swarm(u64),
}

fn main() -> i32 {
    let Some((mode, seed, count)) = parse_args() else {
        println!("fuzz: bad arguments (want: [swarm n | peer] seed count)");
        return 2;
    };
    match mode {
        Mode::Swarm(n) => swarm(n, seed, count),
        Mode::Alone => fuzz(seed, count, None),
        Mode::Peer => fuzz(seed, count, Some(4)),
    }
}

/// `[swarm n | peer] seed count`; seed and count may be missing.
fn parse_args() -> Option<(Mode, u64, u64)> {
    let mut words = ferrous_rt::args_bytes()
        .split(|&b| matches!(b, 0 | b' ' | b':'))
        .filter(|w| !w.is_empty())
        .peekable();
    let number = |w: &[u8]| core::str::from_utf8(w).ok()?.parse().ok();
    let mode = match words.peek().copied() {
        Some(b"swarm") => {
            words.next();
            Mode::Swarm(number(words.next()?)?)
        }
        Some(b"peer") => {
            words.next();
            Mode::Peer
        }
        _ => Mode::Alone,
    };
    let seed = words.next().map_or(Some(DEFAULT_SEED), number)?;
    let count = words.next().map_or(Some(DEFAULT_COUNT), number)?;
    Some((mode, seed, count))
}

/// Starts `n` peers and checks that they all exit 0 and that this
/// process's budget comes back whole.
fn swarm(n: u64, seed: u64, count: u64) -> i32 {
    let before = match sys::memory_info(initial::MEMORY) {
        Ok(b) => b,
        Err(e) => {
            println!("fuzz: swarm: memory_info: {e}");
            return 1;
        }
    };
    println!("fuzz: swarm of {n}, seeds {seed}.., {count} calls each");
    let shared = match sys::endpoint_create(initial::MEMORY) {
        Ok(h) => h,
        Err(e) => {
            println!("fuzz: swarm: endpoint_create: {e}");
            return 1;
        }
    };
    let share = (before / (n + 1)) & !(PAGE_SIZE - 1);
    let mut children = alloc::vec::Vec::new();
    let mut failed = 0u64;
    for i in 0..n {
        let args = alloc::format!("peer:{}:{count}", seed + i);
        let started = sys::memory_split(initial::MEMORY, share).and_then(|memory| {
            let grants = [
                Grant::new(initial::CONSOLE, Rights::ALL),
                Grant::child_space(SPACE_RIGHTS),
                Grant::new(memory, Rights::ALL),
                Grant::new(shared, Rights::ALL),
            ];
            match sys::spawn(Handle(4), memory, args.as_bytes(), &grants) {
                Ok(p) => Ok((p, memory)),
                Err(e) => {
                    let _ = sys::cap_delete(memory);
                    Err(e)
                }
            }
        });
        match started {
            Ok(child) => children.push((seed + i, child)),
            Err(e) => {
                println!("fuzz: swarm: cannot start fuzzer {}: {e}", seed + i);
                failed += 1;
            }
        }
    }
    for (seed, (process, memory)) in children {
        match sys::wait(process, WAIT_FOREVER) {
            Ok(Some(ExitStatus::Exited { code: 0 })) => {}
            other => {
                println!("fuzz: swarm: FAIL fuzzer {seed} ended: {other:?}");
                failed += 1;
            }
        }
        let _ = sys::cap_delete(process);
        let _ = sys::cap_delete(memory);
    }
    let _ = sys::cap_delete(shared);
    let after = sys::memory_info(initial::MEMORY).unwrap_or(0);
    let intact = after == before;
    println!(
        "fuzz: swarm: {} fuzzers exited 0, budget {before} -> {after} bytes, {}",
        n - failed,
        if intact { "intact" } else { "FAIL changed" }
    );
    if failed == 0 && intact { 0 } else { 1 }
}

fn fuzz(seed: u64, count: u64, shared: Option<u32>) -> i32 {
    println!("fuzz: seed {seed}, {count} calls");
    let marker = 0u8;
    let mut f = Fuzz::new(
        seed,
        core::hint::black_box(&raw const marker).addr() as u64,
        main as fn() -> i32 as usize as u64,
    );
    if let Err(e) = f.start(shared) {
        println!("fuzz: cannot start the server threads: {e}");
        return 1;
    }
    let step = (count / 4).max(1);
    for i in 0..count {
        f.one_step(i);
        if (i + 1) % step == 0 && i + 1 < count {
            println!("fuzz: {}/{count} calls", i + 1);
        }
    }
    f.stop();
    println!("fuzz: calls by number:{}", ByNumber(&f));
    println!("fuzz: errors by kind:{}", ByKind(&f));
    println!(
        "fuzz: {} state checks, {} replies checked, {} messages served, {} workers",
        f.checks,
        f.replies,
        SERVED.load(Ordering::Relaxed),
        f.workers_started
    );
    if f.mismatches > 0 {
        println!("fuzz: {} results differed from the ABI", f.mismatches);
    }
    println!(
        "fuzz: {count} calls, {} ok, {} errors, kernel alive",
        f.ok, f.err
    );
    if f.mismatches == 0 { 0 } else { 1 }
}

/// xorshift64: small, fast and the same on every run for a seed.
pub struct Rng(u64);

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

    pub fn below(&mut self, n: u64) -> u64 {
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

/// A page-aligned address in the window with room for `pages` pages.
fn window_addr(r: &mut Rng, pages: u64) -> u64 {
    WINDOW + r.below(WINDOW_PAGES - pages + 1) * PAGE_SIZE
}

/// A message info: `words` words, a capability slot, non-blocking or with
/// a timeout of `timeout_us`.
fn info(words: u64, cap_slot: u32, nonblocking: bool, timeout_us: u32) -> u64 {
    MsgInfo {
        words: (words % 5) as u8,
        nonblocking,
        cap_slot: cap_slot as u8,
        timeout_us,
    }
    .to_raw()
}

/// The kinds of stateful calls, with their weights.
#[derive(Clone, Copy)]
enum Op {
    Split,
    Endpoint,
    Notification,
    Frame,
    Copy,
    Mint,
    Move,
    Delete,
    Revoke,
    Identify,
    Info,
    Map,
    Unmap,
    Protect,
    FrameMap,
    Send,
    Call,
    Recv,
    Reply,
    ReplyRecv,
    Signal,
    Wait,
    Poll,
    Thread,
    ThreadWait,
    SetCpu,
    Trace,
    Misc,
}

const OPS: [(Op, u64); 28] = [
    (Op::Split, 3),
    (Op::Endpoint, 4),
    (Op::Notification, 4),
    (Op::Frame, 4),
    (Op::Copy, 5),
    (Op::Mint, 5),
    (Op::Move, 4),
    (Op::Delete, 7),
    (Op::Revoke, 2),
    (Op::Identify, 2),
    (Op::Info, 2),
    (Op::Map, 3),
    (Op::Unmap, 3),
    (Op::Protect, 2),
    (Op::FrameMap, 5),
    (Op::Send, 6),
    (Op::Call, 6),
    (Op::Recv, 4),
    (Op::Reply, 2),
    (Op::ReplyRecv, 2),
    (Op::Signal, 4),
    (Op::Wait, 2),
    (Op::Poll, 3),
    (Op::Thread, 3),
    (Op::ThreadWait, 3),
    (Op::SetCpu, 2),
    (Op::Trace, 3),
    (Op::Misc, 5),
];

/// A call to make: registers, and whether the fuzzer built it on purpose
/// (a worker's `thread_create`).
struct Planned {
    nr: u64,
    args: [u64; 6],
    sanctioned: bool,
}

impl Planned {
    fn new(nr: Sysno, args: [u64; 6]) -> Planned {
        Planned {
            nr: nr as u64,
            args,
            sanctioned: false,
        }
    }
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
    /// Calls and successes by number.
    by_nr: [(u64, u64); NUMBERS],
    mismatches: u64,
    checks: u64,
    replies: u64,
    pool: Pool,
    /// The endpoint the first server thread serves.
    private: u32,
    /// The shared endpoint of a swarm.
    shared: Option<u32>,
    /// The server threads.
    servers: [u32; SERVERS],
    /// The thread running on each worker stack: its slot and the exit
    /// code it will end with (which tells it from every other thread).
    workers: [Option<(u32, u32)>; WORKERS],
    workers_started: u64,
    /// The endpoint a worker called last: the main thread receives there
    /// often.
    called: u32,
    /// A check to make before the next step.
    pending: Option<(u32, ObjectType)>,
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
            by_nr: [(0, 0); NUMBERS],
            mismatches: 0,
            checks: 0,
            replies: 0,
            pool: Pool::new(),
            private: 0,
            shared: None,
            servers: [0; SERVERS],
            workers: [None; WORKERS],
            workers_started: 0,
            called: 0,
            pending: None,
        }
    }

    /// Maps the thread stacks, makes the private endpoint and starts the
    /// server threads (one per served endpoint).
    fn start(&mut self, shared: Option<u32>) -> Result<(), SysError> {
        self.pool.resync(true);
        for slot in [initial::CONSOLE.0, initial::SELF_SPACE.0, initial::MEMORY.0] {
            self.pool.protect(slot, true);
        }
        sys::mem_map(
            STACKS,
            (WORKERS + SERVERS) as u64 * STACK,
            Perms::READ_WRITE,
        )?;
        let private = sys::endpoint_create(initial::MEMORY)?;
        self.private = private.0;
        self.pool.set(private.0, Some(ObjectType::Endpoint));
        self.pool.protect(private.0, true);
        self.shared = shared;
        let mut served = [Some(private.0), shared];
        for (i, ep) in served.iter_mut().enumerate() {
            let Some(ep) = ep.take() else { continue };
            self.pool.protect(ep, true);
            let recv = RECV_BASE + i as u32 * RECV_SLOTS;
            let top = STACKS + (WORKERS + i + 1) as u64 * STACK;
            let t = sys::thread_create(
                initial::SELF_SPACE,
                server,
                top,
                u64::from(ep) | u64::from(recv) << 32,
            )?;
            self.servers[i] = t.0;
            self.pool.set(t.0, Some(ObjectType::Thread));
            self.pool.protect(t.0, true);
        }
        Ok(())
    }

    /// Stops the server threads and waits for every thread.
    fn stop(&mut self) {
        STOP.store(true, Ordering::Relaxed);
        let workers = self.workers.into_iter().flatten().map(|(t, _)| t);
        let threads = self.servers.into_iter().chain(workers);
        for t in threads.filter(|&t| t != 0) {
            if let Err(e) = sys::thread_wait(Handle(t), 1_000_000_000) {
                println!("fuzz: waiting for thread {t}: {e}");
            }
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
            9 => match r.below(2) {
                0 => r.pick(&HANDLES),
                _ => self.pool.pick_any(r).map_or(0, u64::from),
            },
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

    /// One step: a pending state check, or a stateful or random call.
    fn one_step(&mut self, index: u64) {
        if index % FULL_RESYNC == FULL_RESYNC - 1 {
            let n = self.pool.resync(false);
            self.count_bookkeeping(n);
        } else if index % RECEIVED_RESYNC == RECEIVED_RESYNC - 1 {
            let n = self.pool.resync_received();
            self.count_bookkeeping(n);
        }
        let mut plan = if let Some((slot, kind)) = self.pending.take() {
            self.check_new(index, slot, kind);
            return;
        } else if self.rng.below(4) != 0 {
            let mut p = self.stateful();
            if !p.sanctioned && self.rng.one_in(12) {
                let i = self.rng.below(6) as usize;
                p.args[i] = self.value();
            }
            p
        } else {
            self.random()
        };
        self.tame(&mut plan);
        self.run(index, &plan);
    }

    fn count_bookkeeping(&mut self, n: u64) {
        self.by_nr[Sysno::CapIdentify as usize].0 += n;
        self.by_nr[Sysno::CapIdentify as usize].1 += n;
    }

    /// Makes the call, checks it and learns from it.
    fn run(&mut self, index: u64, plan: &Planned) {
        let (nr, args) = (plan.nr, plan.args);
        let (result, out) = perform(nr, args);
        if let (Some(Sysno::MemMap), 0, Ok(addr)) = (Sysno::from_raw(nr), args[1], result) {
            // The kernel chose where: give the fresh memory back at once,
            // so the fuzzer's memory stays bounded by its window.
            let _ = unmap_fresh(addr, args[2]);
        }
        let why = self
            .judge(nr, args, result)
            .or_else(|| self.expect(plan, result, out));
        if let Some(why) = why {
            self.mismatch(index, nr, args, result, why);
        }
        self.count(nr, result);
        if let Ok(call) = Syscall::decode(nr, args) {
            self.learn(index, plan, call, result, out);
        }
    }

    fn mismatch(&mut self, index: u64, nr: u64, args: [u64; 6], r: Result<u64, SysError>, w: Want) {
        self.mismatches += 1;
        if self.mismatches <= MAX_REPORTS {
            println!(
                "fuzz: MISMATCH call {index}: {}: got {}, {w}",
                Call(nr, args),
                Shown(r)
            );
        }
    }

    fn count(&mut self, nr: u64, result: Result<u64, SysError>) {
        let slot = &mut self.by_nr[if nr < NUMBERS as u64 { nr as usize } else { 0 }];
        slot.0 += 1;
        match result {
            Ok(_) => {
                self.ok += 1;
                slot.1 += 1;
            }
            Err(e) => {
                self.err += 1;
                let code = e.code() as usize;
                if code < CODES {
                    self.by_code[code] += 1;
                }
            }
        }
    }

    /// A random call, as the original fuzzer made them.
    fn random(&mut self) -> Planned {
        let nr = self.number();
        let mut args = [0u64; 6];
        for a in &mut args {
            *a = self.value();
        }
        if let Some(sysno) = Sysno::from_raw(nr) {
            self.shape(sysno, &mut args);
        }
        Planned {
            nr,
            args,
            sanctioned: false,
        }
    }

    /// A handle of `kind` from the pool, else a random one.
    fn handle(&mut self, kind: ObjectType) -> u64 {
        match self.pool.pick(&mut self.rng, kind) {
            Some(h) if !self.rng.one_in(16) => u64::from(h),
            _ => self.rng.pick(&HANDLES) & 0xffff_ffff,
        }
    }

    /// A memory capability to make objects from.
    fn memory(&mut self) -> u64 {
        self.handle(ObjectType::Memory)
    }

    /// Any handle from the pool, or a random one.
    fn any(&mut self) -> u64 {
        match self.pool.pick_any(&mut self.rng) {
            Some(h) if !self.rng.one_in(16) => u64::from(h),
            _ => self.rng.pick(&HANDLES) & 0xffff_ffff,
        }
    }

    fn pages(&mut self) -> u64 {
        PAGE_SIZE * (1 + self.rng.below(MAX_MAP_PAGES))
    }

    fn words(&mut self) -> [u64; 4] {
        [self.value(), self.rng.next(), self.value(), self.rng.next()]
    }

    /// An endpoint to send to, and whether a server thread serves it.
    fn target(&mut self) -> (u64, bool) {
        match self.rng.below(8) {
            0..=2 => (u64::from(self.private), true),
            3..=4 => match self.shared {
                Some(s) => (u64::from(s), true),
                None => (self.handle(ObjectType::Endpoint), false),
            },
            _ => {
                let h = self.handle(ObjectType::Endpoint);
                (
                    h,
                    h == u64::from(self.private) || Some(h as u32) == self.shared,
                )
            }
        }
    }

    /// A stateful call: its handles from the pool, its other arguments
    /// well formed.
    fn stateful(&mut self) -> Planned {
        let crowded = self.pool.count() > CROWDED;
        let total: u64 = OPS.iter().map(|&(op, w)| weight(op, w, crowded)).sum();
        let mut x = self.rng.below(total);
        let mut op = Op::Misc;
        for &(o, w) in &OPS {
            let w = weight(o, w, crowded);
            if x < w {
                op = o;
                break;
            }
            x -= w;
        }
        let space = u64::from(initial::SELF_SPACE.0);
        match op {
            Op::Split => {
                let m = self.memory();
                let bytes = self.pages();
                Planned::new(Sysno::MemorySplit, [m, bytes, 0, 0, 0, 0])
            }
            Op::Endpoint => Planned::new(Sysno::EndpointCreate, [self.memory(), 0, 0, 0, 0, 0]),
            Op::Notification => {
                Planned::new(Sysno::NotificationCreate, [self.memory(), 0, 0, 0, 0, 0])
            }
            Op::Frame => {
                let m = self.memory();
                let bytes = self.pages();
                Planned::new(Sysno::FrameCreate, [m, bytes, 0, 0, 0, 0])
            }
            Op::Copy => {
                let src = self.any();
                let dest = u64::from(self.pool.free(&mut self.rng));
                Planned::new(Sysno::CapCopy, [src, dest, 0, 0, 0, 0])
            }
            Op::Mint => {
                let src = self.any();
                let dest = u64::from(self.pool.free(&mut self.rng));
                let rights = self.rng.below(1 << 8);
                let badge = self.rng.pick(&[0, 0, 1, 7, 0xbad9e, u64::MAX]);
                Planned::new(Sysno::CapMint, [src, dest, rights, badge, 0, 0])
            }
            Op::Move => {
                let src = match self.pool.pick_unprotected(&mut self.rng) {
                    Some(s) => u64::from(s),
                    None => self.any(),
                };
                let dest = self.pool.free(&mut self.rng);
                Planned::new(Sysno::CapMove, [src, u64::from(dest), 0, 0, 0, 0])
            }
            Op::Delete => {
                let slot = match self.pool.pick_unprotected(&mut self.rng) {
                    Some(s) => u64::from(s),
                    None => self.any(),
                };
                Planned::new(Sysno::CapDelete, [slot, 0, 0, 0, 0, 0])
            }
            Op::Revoke => Planned::new(Sysno::CapRevoke, [self.any(), 0, 0, 0, 0, 0]),
            Op::Identify => Planned::new(Sysno::CapIdentify, [self.any(), 0, 0, 0, 0, 0]),
            Op::Info => Planned::new(Sysno::MemoryInfo, [self.memory(), 0, 0, 0, 0, 0]),
            Op::Map | Op::Unmap | Op::Protect => {
                let pages = 1 + self.rng.below(MAX_MAP_PAGES);
                let addr = window_addr(&mut self.rng, pages);
                let perms = self.rng.pick(&[1, 3, 5, 1, 3, 5, 7]);
                let (nr, a) = match op {
                    Op::Map => (Sysno::MemMap, [space, addr, pages * PAGE_SIZE, perms, 0, 0]),
                    Op::Unmap => (Sysno::MemUnmap, [space, addr, pages * PAGE_SIZE, 0, 0, 0]),
                    _ => (
                        Sysno::MemProtect,
                        [space, addr, pages * PAGE_SIZE, perms, 0, 0],
                    ),
                };
                Planned::new(nr, a)
            }
            Op::FrameMap => {
                let frame = self.handle(ObjectType::Frame);
                let sp = if self.rng.one_in(8) {
                    self.handle(ObjectType::AddressSpace)
                } else {
                    space
                };
                let addr = window_addr(&mut self.rng, MAX_MAP_PAGES);
                let perms = self.rng.pick(&[1, 3, 5, 3]);
                Planned::new(Sysno::FrameMap, [frame, sp, addr, perms, 0, 0])
            }
            Op::Send | Op::Call => {
                let (ep, served) = self.target();
                let words = self.words();
                let n = self.rng.below(5);
                let cap = if self.rng.one_in(2) {
                    self.any() as u32 & 0xff
                } else {
                    0
                };
                let nonblocking = !served || self.rng.one_in(4);
                let i = info(n, cap, nonblocking, SERVED_WAIT_US);
                let nr = match op {
                    Op::Send => Sysno::IpcSend,
                    _ => Sysno::IpcCall,
                };
                Planned::new(nr, [ep, i, words[0], words[1], words[2], words[3]])
            }
            Op::Recv | Op::ReplyRecv => {
                let ep = if self.called != 0 && self.rng.one_in(2) {
                    u64::from(self.called)
                } else {
                    self.handle(ObjectType::Endpoint)
                };
                let slot = if self.rng.one_in(4) {
                    0
                } else {
                    self.pool.free(&mut self.rng)
                };
                let i = info(self.rng.below(5), slot, true, 0);
                let words = self.words();
                let nr = match op {
                    Op::Recv => Sysno::IpcRecv,
                    _ => Sysno::IpcReplyRecv,
                };
                Planned::new(nr, [ep, i, words[0], words[1], words[2], words[3]])
            }
            Op::Reply => {
                let words = self.words();
                let i = info(self.rng.below(5), 0, false, 0);
                Planned::new(
                    Sysno::IpcReply,
                    [0, i, words[0], words[1], words[2], words[3]],
                )
            }
            Op::Signal => {
                let n = self.handle(ObjectType::Notification);
                let bits = 1 << self.rng.below(64) | self.rng.pick(&[0, 0, 1, u64::MAX]);
                Planned::new(Sysno::NotificationSignal, [n, bits, 0, 0, 0, 0])
            }
            Op::Wait => {
                let n = self.handle(ObjectType::Notification);
                Planned::new(Sysno::NotificationWait, [n, 0, 0, 0, 0, 0])
            }
            Op::Poll => {
                let n = self.handle(ObjectType::Notification);
                Planned::new(Sysno::NotificationPoll, [n, 0, 0, 0, 0, 0])
            }
            Op::Thread => self.worker(),
            Op::ThreadWait => {
                let t = match self.workers[self.rng.below(WORKERS as u64) as usize] {
                    Some((t, _)) => u64::from(t),
                    None => self.handle(ObjectType::Thread),
                };
                Planned::new(Sysno::ThreadWait, [t, 0, 0, 0, 0, 0])
            }
            Op::SetCpu => {
                let t = self.handle(ObjectType::Thread);
                let cpu = self.rng.pick(&[0, 1, 2, 3, 4, 64, u64::from(ANY_CPU)]);
                Planned::new(Sysno::ThreadSetCpu, [t, cpu, 0, 0, 0, 0])
            }
            Op::Trace => {
                let h = self.any();
                let buf = window_addr(&mut self.rng, 1);
                let len = self.rng.below(PAGE_SIZE + 1);
                match self.rng.below(3) {
                    0 => {
                        let cpu = self.rng.below(5);
                        let cursor = self.rng.pick(&[0, 1, 100, u64::MAX]);
                        Planned::new(Sysno::TraceRead, [h, cpu, cursor, buf, len, 0])
                    }
                    1 => Planned::new(Sysno::MetricsRead, [h, buf, len, 0, 0, 0]),
                    _ => {
                        let cats = self.rng.below(1 << 16);
                        Planned::new(Sysno::TraceControl, [h, cats, 0, 0, 0, 0])
                    }
                }
            }
            Op::Misc => {
                let nr = match self.rng.below(10) {
                    0 => Sysno::AbiVersion,
                    1 => Sysno::ThreadYield,
                    2 | 3 => Sysno::ClockMonotonic,
                    4 => Sysno::DebugWrite,
                    5 => Sysno::ProcessWait,
                    6 => Sysno::ProcessKill,
                    7 => Sysno::ProcessSpawn,
                    8 => Sysno::ThreadSleep,
                    _ => Sysno::MemoryInfo,
                };
                let mut args = [0; 6];
                match nr {
                    Sysno::DebugWrite => {
                        args = [u64::from(initial::CONSOLE.0), UNMAPPED, 0, 0, 0, 0];
                        args[2] = self.rng.below(MAX_WRITE + 1);
                    }
                    Sysno::ProcessWait | Sysno::ProcessKill => args[0] = self.any(),
                    Sysno::ProcessSpawn => {
                        args[0] = self.any();
                        args[1] = self.memory();
                    }
                    Sysno::ThreadSleep => args[0] = self.rng.below(MAX_SLEEP_NS),
                    Sysno::MemoryInfo => args[0] = self.memory(),
                    _ => {}
                }
                if nr == Sysno::ThreadSleep && !self.rng.one_in(SLEEP_ONE_IN) {
                    return Planned::new(Sysno::ThreadYield, [0; 6]);
                }
                Planned::new(nr, args)
            }
        }
    }

    /// `thread_create` of a worker on a free stack, or a wait for one
    /// that runs.
    fn worker(&mut self) -> Planned {
        let Some(i) = self.workers.iter().position(Option::is_none) else {
            let t = self.workers[self.rng.below(WORKERS as u64) as usize].map_or(0, |w| w.0);
            return Planned::new(Sysno::ThreadWait, [u64::from(t), 0, 0, 0, 0, 0]);
        };
        let n = self.handle(ObjectType::Notification) & 0xff;
        let ep = if self.rng.one_in(2) {
            self.handle(ObjectType::Endpoint) & 0xff
        } else {
            0
        };
        if ep != 0 {
            self.called = ep as u32;
        }
        // Unique to this worker (wrapping after 2^30 of them): its exit
        // code tells `thread_wait` it ended, whichever slot names it.
        let code = (self.workers_started << 2 | i as u64) & 0xffff_ffff;
        let space = if self.rng.one_in(4) {
            self.handle(ObjectType::AddressSpace)
        } else {
            u64::from(initial::SELF_SPACE.0)
        };
        let entry = worker as extern "C" fn(u64) -> ! as usize as u64;
        let top = STACKS + (i as u64 + 1) * STACK - 8;
        let mut p = Planned::new(
            Sysno::ThreadCreate,
            [space, entry, top, n | ep << 8 | code << 32, 0, 0],
        );
        p.sanctioned = true;
        p
    }

    /// Learns from a call that decoded: the pool follows what the call
    /// did.
    fn learn(
        &mut self,
        index: u64,
        plan: &Planned,
        call: Syscall,
        result: Result<u64, SysError>,
        out: [u64; 6],
    ) {
        let h = |v: u64| v as u32;
        match (call, result) {
            (Syscall::MemorySplit { bytes, .. }, Ok(new)) => {
                self.pool.set(h(new), Some(ObjectType::Memory));
                if self.rng.one_in(2) {
                    self.check_split(index, h(new), bytes);
                }
            }
            (Syscall::EndpointCreate { .. }, Ok(new)) => {
                self.made(h(new), ObjectType::Endpoint);
            }
            (Syscall::NotificationCreate { .. }, Ok(new)) => {
                self.made(h(new), ObjectType::Notification);
            }
            (Syscall::FrameCreate { .. }, Ok(new)) => self.made(h(new), ObjectType::Frame),
            (Syscall::ThreadCreate { stack_top, .. }, Ok(new)) => {
                self.made(h(new), ObjectType::Thread);
                if plan.sanctioned {
                    let i = ((stack_top.addr() - STACKS) / STACK) as usize;
                    self.workers[i] = Some((h(new), (plan.args[3] >> 32) as u32));
                    self.workers_started += 1;
                    self.pool.protect(h(new), true);
                }
            }
            // Only the worker's own exit code frees its stack: the slot may
            // name another thread by now.
            (Syscall::ThreadWait { .. }, Ok(code)) => {
                if let Some(w) = self
                    .workers
                    .iter_mut()
                    .find(|w| w.is_some_and(|(_, c)| u64::from(c) == code))
                {
                    self.pool.protect(w.map_or(0, |(t, _)| t), false);
                    *w = None;
                }
            }
            (Syscall::CapCopy { src, dest } | Syscall::CapMint { src, dest, .. }, Ok(_)) => {
                let kind = self.pool.get(src.0);
                self.pool.set(dest.0, kind);
                if kind.is_none() {
                    self.pool.refresh(dest.0);
                }
            }
            (Syscall::CapMove { src, dest }, Ok(_)) => {
                let kind = self.pool.get(src.0);
                self.pool.set(src.0, None);
                self.pool.set(dest.0, kind);
                if kind.is_none() {
                    self.pool.refresh(dest.0);
                }
                self.check_empty(index, src.0);
            }
            (Syscall::CapDelete { slot }, Ok(_)) => {
                self.pool.set(slot.0, None);
                self.check_empty(index, slot.0);
            }
            (Syscall::IpcRecv { info, .. } | Syscall::IpcReplyRecv { info, .. }, Ok(_))
                if RecvInfo::from_raw(out[2]).cap_received =>
            {
                let calls = self.pool.refresh(u32::from(info.cap_slot));
                self.count_bookkeeping(calls);
            }
            (
                _,
                Err(
                    SysError::EmptySlot { arg }
                    | SysError::WrongObjectType { arg }
                    | SysError::SlotOccupied { arg },
                ),
            ) => {
                // The pool was wrong about a handle: read what it holds.
                let slot = call.encode().1.get(usize::from(arg)).copied().unwrap_or(0);
                if (1..pool::SLOTS as u64).contains(&slot) {
                    let calls = self.pool.refresh(slot as u32);
                    self.count_bookkeeping(calls);
                }
            }
            _ => {}
        }
    }

    /// A handle a create call returned: remembered, and checked at the
    /// next step.
    fn made(&mut self, slot: u32, kind: ObjectType) {
        self.pool.set(slot, Some(kind));
        if self.rng.one_in(4) {
            self.pending = Some((slot, kind));
        }
    }

    /// The slot a create call returned holds that type (or nothing: a
    /// peer may have revoked the memory it came from).
    fn check_new(&mut self, index: u64, slot: u32, kind: ObjectType) {
        self.checks += 1;
        let got = sys::cap_identify(Handle(slot));
        self.count(Sysno::CapIdentify as u64, got.map(|_| 0));
        match got {
            Ok(Some(info)) if info.kind == kind => {}
            Err(SysError::EmptySlot { .. }) => self.pool.set(slot, None),
            other => {
                let r = other.map(|i| i.map_or(0, |i| i.to_raw()));
                let args = [u64::from(slot), 0, 0, 0, 0, 0];
                self.mismatch(
                    index,
                    Sysno::CapIdentify as u64,
                    args,
                    r,
                    Want::Text("the type of the object just made"),
                );
            }
        }
    }

    /// A new memory capability holds the bytes it was split with.
    fn check_split(&mut self, index: u64, slot: u32, bytes: u64) {
        self.checks += 1;
        let got = sys::memory_info(Handle(slot));
        self.count(Sysno::MemoryInfo as u64, got);
        match got {
            Ok(b) if b == bytes => {}
            // A split keeps its source's rights: without read, nothing to see.
            Err(SysError::MissingRight { .. }) => {}
            Err(SysError::EmptySlot { .. }) if self.shared.is_some() => {}
            r => self.mismatch(
                index,
                Sysno::MemoryInfo as u64,
                [u64::from(slot), 0, 0, 0, 0, 0],
                r,
                Want::Text("the bytes of the split"),
            ),
        }
    }

    /// A slot just emptied by this thread is empty, and using it fails
    /// with `EmptySlot` (only below the receive slots, which no server
    /// thread fills).
    fn check_empty(&mut self, index: u64, slot: u32) {
        if slot >= RECV_BASE || slot == 0 || !self.rng.one_in(2) {
            return;
        }
        self.checks += 1;
        let s = u64::from(slot);
        let (nr, args) = match self.rng.below(6) {
            0 => (Sysno::CapIdentify, [s, 0, 0, 0, 0, 0]),
            1 => (Sysno::CapRevoke, [s, 0, 0, 0, 0, 0]),
            2 => (Sysno::NotificationPoll, [s, 0, 0, 0, 0, 0]),
            3 => (Sysno::MemoryInfo, [s, 0, 0, 0, 0, 0]),
            4 => (Sysno::ThreadWait, [s, 0, 0, 0, 0, 0]),
            _ => (Sysno::IpcSend, [s, info(1, 0, true, 0), 1, 2, 3, 4]),
        };
        let (result, _) = perform(nr as u64, args);
        self.count(nr as u64, result);
        if result != Err(SysError::EmptySlot { arg: 0 }) {
            self.mismatch(index, nr as u64, args, result, Want::Text("an empty slot"));
        }
    }

    /// State-aware expectations of a stateful call.
    fn expect(
        &mut self,
        plan: &Planned,
        result: Result<u64, SysError>,
        out: [u64; 6],
    ) -> Option<Want> {
        let call = Syscall::decode(plan.nr, plan.args).ok()?;
        if let (
            Syscall::IpcCall {
                endpoint,
                info,
                words,
            },
            Ok(badge),
        ) = (call, result)
        {
            self.replies += 1;
            if badge != 0 {
                return Some(Want::Text("a reply with badge 0"));
            }
            // Alone, only its server receives on its private endpoint.
            if endpoint.0 == self.private && self.shared.is_none() {
                let (sent, got) = (words, [out[1], out[3], out[4], out[5]]);
                let n = usize::from(info.words);
                if got[..n]
                    .iter()
                    .zip(&sent[..n])
                    .any(|(g, s)| *g != s ^ REPLY_XOR)
                {
                    return Some(Want::Echo(sent.map(|w| w ^ REPLY_XOR), got, out[2]));
                }
            }
        }
        None
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
            | Sysno::ThreadWait
            | Sysno::EndpointCreate
            | Sysno::NotificationCreate
            | Sysno::NotificationPoll
            | Sysno::NotificationWait
            | Sysno::NotificationSignal
            | Sysno::ThreadSetCpu => args[0] = r.pick(&HANDLES) & 0xffff_ffff,
            Sysno::CapCopy | Sysno::CapMove | Sysno::CapMint => {
                args[0] = r.below(8);
                args[1] = r.pick(&[0, 1, 3, 6, 7, 8, 9, 10, 255, 256]);
                if sysno == Sysno::CapMint {
                    args[2] = r.below(1 << 11);
                    args[3] = r.pick(&[0, 0, 1, 0xbad9e]);
                }
            }
            Sysno::MemorySplit | Sysno::FrameCreate => {
                args[0] = r.below(12);
                args[1] = PAGE_SIZE * r.below(MAX_MAP_PAGES + 1);
            }
            Sysno::ThreadCreate | Sysno::ProcessSpawn => {
                for a in args.iter_mut().take(2) {
                    *a = r.below(20);
                }
            }
            Sysno::IpcSend
            | Sysno::IpcRecv
            | Sysno::IpcCall
            | Sysno::IpcReplyRecv
            | Sysno::IpcReply => {
                if sysno != Sysno::IpcReply {
                    args[0] = r.below(20);
                }
                args[1] &= 0xffff_ffff_0000_ff17;
            }
            _ => {}
        }
    }

    /// Makes the call harmless to this program (see the module docs). Only
    /// calls that would pass decoding can act, so the others keep their
    /// arguments.
    fn tame(&mut self, plan: &mut Planned) {
        let (nr, args) = (plan.nr, &mut plan.args);
        match Sysno::from_raw(nr) {
            Some(Sysno::ThreadSleep) => args[0] %= MAX_SLEEP_NS + 1,
            Some(Sysno::ProcessWait | Sysno::ThreadWait | Sysno::NotificationWait) => {
                args[1] = if self.rng.one_in(WAIT_ONE_IN) {
                    self.rng.below(MAX_WAIT_US * 1000 + 1)
                } else {
                    0
                };
            }
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
                    args[1] = window_addr(&mut self.rng, pages);
                }
            }
            Syscall::MemUnmap { addr, len, .. } | Syscall::MemProtect { addr, len, .. }
                if !in_window(addr.addr(), len) =>
            {
                let start = WINDOW + self.rng.below(WINDOW_PAGES) * PAGE_SIZE;
                args[1] = start;
                args[2] = len.min(WINDOW_END - start);
            }
            // A frame is at most 16 pages: all of it lands in the window.
            Syscall::FrameMap { addr, .. }
                if !in_window(addr.addr(), MAX_MAP_PAGES * PAGE_SIZE) =>
            {
                args[2] = window_addr(&mut self.rng, MAX_MAP_PAGES);
            }
            // The kernel writes these buffers: into the window or nowhere.
            Syscall::TraceRead { buf, len, .. } if !in_window(buf.addr(), len) => {
                args[3] = self.buffer(len);
            }
            Syscall::MetricsRead { buf, len, .. } if !in_window(buf.addr(), len) => {
                args[1] = self.buffer(len);
            }
            // Never give away the protected slots.
            Syscall::CapDelete { slot: h } | Syscall::CapMove { src: h, .. }
                if self.pool.is_protected(h.0) =>
            {
                args[0] = EMPTY;
            }
            Syscall::CapRevoke { slot } if slot == initial::MEMORY => args[0] = EMPTY,
            // No copies of itself, and no threads at random addresses:
            // these reach the kernel's checks with an empty slot instead.
            // (Copies and moves can put them in any slot, so ask the kernel.)
            Syscall::ProcessSpawn { module: h, .. }
                if holds(h, &[ObjectType::Module, ObjectType::AddressSpace]) =>
            {
                args[0] = EMPTY;
            }
            Syscall::ThreadCreate { space: h, .. }
                if !plan.sanctioned
                    && holds(h, &[ObjectType::Module, ObjectType::AddressSpace]) =>
            {
                args[0] = EMPTY;
            }
            // Budget splits and frames stay small, so its own mappings keep
            // working.
            Syscall::MemorySplit { bytes, .. } | Syscall::FrameCreate { bytes, .. }
                if bytes > MAX_MAP_PAGES * PAGE_SIZE =>
            {
                args[1] = PAGE_SIZE;
            }
            Syscall::IpcSend { endpoint, info, .. }
            | Syscall::IpcCall { endpoint, info, .. }
            | Syscall::IpcRecv { endpoint, info }
            | Syscall::IpcReplyRecv { endpoint, info, .. } => {
                let mut info = info;
                let sends = matches!(call, Syscall::IpcSend { .. } | Syscall::IpcCall { .. });
                // No message carries its address space or a module.
                if sends
                    && info.cap_slot != 0
                    && holds(
                        Handle(u32::from(info.cap_slot)),
                        &[ObjectType::AddressSpace, ObjectType::Module],
                    )
                {
                    info.cap_slot = 0;
                }
                // Waits are short: only for a served endpoint (a stateful
                // send or call), else rarely and briefly.
                let served =
                    sends && (endpoint.0 == self.private || Some(endpoint.0) == self.shared);
                // A non-blocking call still waits for the reply, for ever
                // without a timeout (docs/ABI.md, "Message info").
                if info.nonblocking
                    && matches!(call, Syscall::IpcCall { .. })
                    && (info.timeout_us == 0 || u64::from(info.timeout_us) > MAX_WAIT_US)
                {
                    info.timeout_us = 1 + self.rng.below(MAX_WAIT_US) as u32;
                }
                if !info.nonblocking {
                    if served {
                        if info.timeout_us == 0 || info.timeout_us > SERVED_WAIT_US {
                            info.timeout_us = SERVED_WAIT_US;
                        }
                    } else if self.rng.one_in(WAIT_ONE_IN) {
                        info.timeout_us = 1 + info.timeout_us % MAX_WAIT_US as u32;
                    } else {
                        info.nonblocking = true;
                    }
                }
                args[1] = info.to_raw();
            }
            _ => {}
        }
    }

    /// A buffer the kernel may write: in the window, or unmapped.
    fn buffer(&mut self, len: u64) -> u64 {
        if self.rng.one_in(2) && len <= WINDOW_END - WINDOW {
            WINDOW + self.rng.below((WINDOW_END - WINDOW - len) / PAGE_SIZE + 1) * PAGE_SIZE
        } else {
            UNMAPPED + self.rng.below(1 << 30)
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
        // Codes of the decode group that docs/ABI.md also lists for a state
        // the call found.
        let documented = matches!(
            (call, result),
            (
                Syscall::FrameMap { .. },
                Err(SysError::WriteAndExecute { arg: 3 } | SysError::RangeOutsideUser { arg: 2 })
            ) | (
                Syscall::FrameCreate { .. },
                Err(SysError::LengthTooLarge { arg: 1 })
            )
        );
        if decode_error && !documented {
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
                let _ = sys::kill(Handle(child as u32));
                Some(Want::Text("an error: it holds no module it may spawn"))
            }
            (Syscall::ProcessWait { .. } | Syscall::ProcessKill { .. }, Ok(_)) => {
                Some(Want::Text("an error: this process holds no process"))
            }
            (
                Syscall::TraceRead { .. }
                | Syscall::TraceControl { .. }
                | Syscall::MetricsRead { .. },
                Ok(_),
            ) => Some(Want::Text(
                "an error: this process holds no trace or process",
            )),
            _ => None,
        }
    }
}

/// The weight of `op`: deletes count double when the table is crowded.
fn weight(op: Op, w: u64, crowded: bool) -> u64 {
    match op {
        Op::Delete | Op::Revoke if crowded => 4 * w,
        _ => w,
    }
}

/// A server thread: receives on the endpoint in the low half of `arg`,
/// into the first empty one of its receive slots (from the high half),
/// and answers calls with the words XOR [`REPLY_XOR`], until [`STOP`].
extern "C" fn server(arg: u64) -> ! {
    let ep = Handle(arg as u32);
    let base = (arg >> 32) as u32;
    while !STOP.load(Ordering::Relaxed) {
        let slot = (base..base + RECV_SLOTS)
            .find(|&s| matches!(sys::cap_identify(Handle(s)), Ok(None)))
            .unwrap_or(0);
        let info = MsgInfo {
            words: 0,
            nonblocking: false,
            cap_slot: slot as u8,
            timeout_us: SERVER_WAIT_US,
        };
        match sys::ipc_recv(ep, info) {
            Ok(msg) => {
                SERVED.fetch_add(1, Ordering::Relaxed);
                if msg.info.is_call {
                    let words = msg.words.map(|w| w ^ REPLY_XOR);
                    let _ = sys::ipc_reply(MsgInfo::words(4), words);
                }
            }
            Err(SysError::TimedOut) => {}
            // The endpoint closed or went: keep looking at STOP, slowly.
            Err(_) => sys::sleep_ns(1_000_000),
        }
    }
    sys::thread_exit(0)
}

/// A worker thread: calls the endpoint in bits 8 to 15 of `arg` (if not
/// 0, waiting at most [`WORKER_CALL_US`]), signals the notification in
/// bits 0 to 7 and exits with the code in the high half.
extern "C" fn worker(arg: u64) -> ! {
    let code = (arg >> 32) as u32;
    let ep = (arg >> 8 & 0xff) as u32;
    if ep != 0 {
        let info = MsgInfo {
            words: 2,
            nonblocking: false,
            cap_slot: 0,
            timeout_us: WORKER_CALL_US,
        };
        let _ = sys::ipc_call(Handle(ep), info, [u64::from(code), arg, 0, 0]);
    }
    let _ = sys::notification_signal(Handle((arg & 0xff) as u32), 1 << (code & 63));
    sys::thread_exit(code)
}

/// Makes the call. Only here may the registers reach the kernel, and only
/// after the checks that keep this program's memory intact. Returns the
/// result and the registers an IPC call left.
#[allow(unsafe_code)]
fn perform(nr: u64, args: [u64; 6]) -> (Result<u64, SysError>, [u64; 6]) {
    match Syscall::decode(nr, args) {
        Ok(Syscall::ProcessExit { .. } | Syscall::ThreadExit { .. }) => {
            panic!("the fuzzer must not exit through a call")
        }
        Ok(
            Syscall::MemUnmap { addr, len, .. }
            | Syscall::MemProtect { addr, len, .. }
            | Syscall::TraceRead { buf: addr, len, .. }
            | Syscall::MetricsRead { buf: addr, len, .. },
        ) => {
            assert!(
                in_window(addr.addr(), len) || addr.addr() >= UNMAPPED,
                "a call that changes memory outside the window"
            );
        }
        Ok(Syscall::FrameMap { addr, .. }) => {
            assert!(
                in_window(addr.addr(), MAX_MAP_PAGES * PAGE_SIZE),
                "frame_map outside the window"
            );
        }
        _ => {}
    }
    let ipc = (Sysno::IpcSend as u64..=Sysno::IpcReplyRecv as u64).contains(&nr);
    if ipc {
        // SAFETY: as below; the IPC calls also write the message
        // registers, which `syscall_ipc` declares as outputs.
        let (rax, out) = unsafe { sys::raw::syscall_ipc(nr, args) };
        return (decode_result(rax, out[0]), out);
    }
    // SAFETY: a call that fails to decode does nothing. Of the calls that
    // decode, only mem_unmap, mem_protect and frame_map can take away or
    // re-protect memory, and trace_read and metrics_read write it; all are
    // confined to the fuzz window (asserted above) or an unmapped address,
    // and the window holds only mappings the fuzzer made and never
    // accesses. mem_map never replaces an existing mapping; debug_write and
    // process_spawn only read user memory; thread_create starts a thread
    // only on a worker stack (see `tame`); the rest touch none. So no
    // memory Rust code uses can change.
    let (rax, rdx) = unsafe { sys::raw::syscall(nr, args) };
    (decode_result(rax, rdx), [rdx, 0, 0, 0, 0, 0])
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
    /// A reply's words: wanted, got, and the info register.
    Echo([u64; 4], [u64; 4], u64),
}

impl fmt::Display for Want {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Want::Error(e) => write!(f, "want {}", Shown(Err(*e))),
            Want::Text(t) => write!(f, "want {t}"),
            Want::Echo(want, got, info) => write!(
                f,
                "want the words sent XOR REPLY_XOR {want:x?}, got {got:x?} (info {info:#x})"
            ),
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

/// ` nr=calls/ok` for each defined number (0: the undefined ones).
struct ByNumber<'a>(&'a Fuzz);

impl fmt::Display for ByNumber<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (nr, (calls, ok)) in self.0.by_nr.iter().enumerate() {
            if *calls > 0 || (1..=LAST_CALL as usize).contains(&nr) {
                write!(f, " {nr}={calls}/{ok}")?;
            }
        }
        Ok(())
    }
}
