//! `fuzz`: a stateful system-call fuzzer from a fixed seed. The kernel
//! must answer every call and stay up; this program must survive its own
//! calls.
//!
//! Arguments (separated by spaces, colons or NUL bytes, so init's
//! `run=fuzz:7:5000` works):
//!
//! - `seed count` (defaults 1 and 100000): one fuzzer process.
//! - `swarm n seed count [faults every]`: a parent that starts `n`
//!   fuzzers at once (seeds `seed`, `seed + 1`, ...) sharing an endpoint,
//!   and checks their exits and its budget ([`swarm`]). With `faults`,
//!   every `every`-th kernel heap allocation fails while they run
//!   (`fault_inject` through the trace capability in slot 5, which init
//!   grants a `!` program).
//! - `peer seed count`: one fuzzer of a swarm (slot 4 is the shared
//!   endpoint).
//!
//! # How a step goes
//!
//! Each step ([`Fuzz::one_step`]) makes one call and learns from it; each
//! part has its own module:
//!
//! - [`stateful`]: about three steps in four, a call built from the typed
//!   handle pool ([`pool`]), weighted towards the calls that change state;
//! - [`generator`]: the other steps, a random call with registers biased
//!   towards interesting values (also the values stateful calls borrow);
//! - [`taming`]: what keeps the call from harming this program (its tame
//!   rules), and [`taming::perform`], the one place registers reach the
//!   kernel;
//! - [`checks`]: the result against the ABI and against what the fuzzer
//!   knows of its state;
//! - [`learn`]: the pool follows what the call did;
//! - [`threads`]: the server threads that answer its IPC and the workers
//!   it starts; [`swarm`]: the parent of a swarm; [`rng`]: the seeded
//!   random numbers, so the same seed makes the same calls.
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

mod checks;
mod generator;
mod learn;
mod pool;
mod rng;
mod stateful;
mod swarm;
mod taming;
mod threads;

use core::fmt;
use core::sync::atomic::Ordering;
use ferrous_rt::abi::{ErrorCode, ObjectType, SysError, Syscall, Sysno};
use ferrous_rt::println;
use generator::LAST_CALL;
use pool::Pool;
use rng::Rng;
use taming::{LINE_LEN, REAL_LINE, perform, unmap_fresh};
use threads::{SERVED, SERVERS, WORKERS};

ferrous_rt::entry!(main);

/// Error codes are below this (docs/ABI.md groups them by `code / 16`).
const CODES: usize = 80;
/// Call numbers counted one by one (the rest together, as 0).
const NUMBERS: usize = 64;
/// Re-read the receive slots every this many steps, and the whole table
/// every [`FULL_RESYNC`].
const RECEIVED_RESYNC: u64 = 256;
const FULL_RESYNC: u64 = 4096;

const DEFAULT_SEED: u64 = 1;
const DEFAULT_COUNT: u64 = 100_000;

enum Mode {
    Alone,
    Peer,
    /// `n` fuzzers, and the fault-injection period (0: none).
    Swarm(u64, u32),
}

fn main() -> i32 {
    let Some((mode, seed, count)) = parse_args() else {
        println!("fuzz: bad arguments (want: [swarm n | peer] seed count [faults every])");
        return 2;
    };
    match mode {
        Mode::Swarm(n, faults) => swarm::swarm(n, seed, count, faults),
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
            Mode::Swarm(number(words.next()?)?, 0)
        }
        Some(b"peer") => {
            words.next();
            Mode::Peer
        }
        _ => Mode::Alone,
    };
    let seed = words.next().map_or(Some(DEFAULT_SEED), number)?;
    let count = words.next().map_or(Some(DEFAULT_COUNT), number)?;
    let mode = match (mode, words.next()) {
        (mode, None) => mode,
        (Mode::Swarm(n, _), Some(b"faults")) => {
            let every = core::str::from_utf8(words.next()?).ok()?.parse().ok()?;
            Mode::Swarm(n, every)
        }
        _ => return None,
    };
    Some((mode, seed, count))
}

/// Runs `call` again while it fails with `OutOfMemory` (which fault
/// injection makes any allocating call do now and then), up to 10,000
/// times. For the fuzzer's own set-up and tear-down, not for the calls it
/// tests.
pub fn through_faults<T>(mut call: impl FnMut() -> Result<T, SysError>) -> Result<T, SysError> {
    let mut tries = 0;
    loop {
        match call() {
            Err(SysError::OutOfMemory) if tries < 10_000 => {
                tries += 1;
                ferrous_rt::sys::yield_now();
            }
            r => return r,
        }
    }
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

/// The state of one fuzzer: its random numbers, what it believes its
/// cspace holds, its threads and its tallies. Its methods live in the
/// module of their concept (see the crate documentation).
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
