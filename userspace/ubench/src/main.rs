//! `ubench`: micro-benchmarks measured from user space, printed in the
//! kernel's bench format (`bench <name>: median N cycles/op (...)`) so
//! `cargo xtask bench` pairs them with the Linux peer.
//!
//! Without arguments (`test=user-bench`):
//! - `null-syscall`: `abi_version`, the cheapest call (SYSCALL, decode,
//!   SYSRET), per call.
//! - `yield-syscall`: `thread_yield` with no other runnable thread.
//! - `frame-map-unmap`: a one-page frame mapped and unmapped again.
//! - `port-in`: one `in` from an enabled I/O port (needs init's
//!   `IO_PORTS`, which `test=user-bench` gives it).
//!
//! With `plain:<suffix>` the same, the names suffixed (`test=user-bench`
//! runs it with tracing off as `-notrace`).
//!
//! With `ipc:<module slot>[:<suffix>]` (`test=ipc-bench`, which starts it
//! with init's capabilities and its own module in that slot), per round
//! trip, each metric name followed by the suffix (e.g. `-slowpath` when
//! the kernel has its fast path off):
//! - `ipc-roundtrip`: `ipc_call` to an echo server in another process
//!   (`ipc_reply_recv` loop): two system calls, two address-space
//!   switches.
//! - `ipc-roundtrip-threads`: the same with the server as a second thread
//!   of this process (no address-space switch).
//! - `notification-roundtrip`: signal a notification another thread waits on and
//!   wait for its answering signal on a second one.
//! - `spawn-wait`: `process_spawn` of a program that exits at once, and
//!   `process_wait` for it (only without a suffix).
//! - `ipc-roundtrip-cross-cpu`: client thread pinned to CPU 0, server
//!   thread to CPU 1 (only with two or more CPUs).
//!
//! In `echo:<endpoint slot>` mode it is the echo server.
#![no_std]
#![no_main]
#![forbid(unsafe_code)]

use core::sync::atomic::{AtomicU32, AtomicU64, Ordering};
use ferrous_rt::abi::{Grant, Handle, MsgInfo, Perms, Rights, initial};
use ferrous_rt::{println, sys};

ferrous_rt::entry!(main);

const BATCHES: usize = 15;

use ferrous_rt::sys::rdtsc as tsc;

fn measure(name: &str, suffix: &str, iters: u64, mut op: impl FnMut()) {
    for _ in 0..iters {
        op(); // warm-up
    }
    let mut per_op = [0u64; BATCHES];
    for slot in per_op.iter_mut() {
        let start = tsc();
        for _ in 0..iters {
            op();
        }
        *slot = tsc().wrapping_sub(start) / iters;
    }
    per_op.sort_unstable();
    println!(
        "bench {name}{suffix}: median {} cycles/op (min {}, max {}, {BATCHES} x {iters} ops)",
        per_op[BATCHES / 2],
        per_op[0],
        per_op[BATCHES - 1]
    );
}

fn main() -> i32 {
    let arg = ferrous_rt::args().next().unwrap_or(b"");
    let text = core::str::from_utf8(arg).unwrap_or("");
    let mut parts = text.split(':');
    match parts.next() {
        Some("ipc") => {
            let module = parts.next().and_then(|s| s.parse().ok()).unwrap_or(0);
            let suffix = parts.next().unwrap_or("");
            ipc(Handle(module), suffix)
        }
        Some("exit") => 0,
        Some("echo") => {
            let ep = parts.next().and_then(|s| s.parse().ok()).unwrap_or(0);
            let e = sys::serve(Handle(ep), |m| m.words);
            println!("ubench: echo server stopped: {e}");
            1
        }
        // `plain:<suffix>`: the same as no argument, names suffixed.
        first => {
            let suffix = match first {
                Some("plain") => parts.next().unwrap_or(""),
                _ => "",
            };
            measure("null-syscall", suffix, 2000, || {
                core::hint::black_box(ferrous_rt::sys::abi_version());
            });
            measure("yield-syscall", suffix, 500, ferrous_rt::sys::yield_now);
            let failed = frame_map_unmap(suffix);
            failed.max(port_in(suffix))
        }
    }
}

/// `frame-map-unmap`: a one-page frame mapped into this process and
/// unmapped again (`frame_map` + `mem_unmap`), the shared-memory set-up
/// cost.
fn frame_map_unmap(suffix: &str) -> i32 {
    const AT: u64 = 0x7000_0000;
    let frame = match ferrous_rt::sys::frame_create(ferrous_rt::abi::initial::MEMORY, 4096) {
        Ok(f) => f,
        Err(e) => return fail("frame_create", e),
    };
    // A page next to it keeps the page tables in place, so the row is the
    // call path, not page-table set-up (`map-unmap-4k-with-tables` has that).
    if let Err(e) = ferrous_rt::sys::mem_map(AT + 0x10_0000, 4096, Perms::READ) {
        return fail("mem_map", e);
    }
    let mut failed = None;
    measure("frame-map-unmap", suffix, 500, || {
        let r =
            ferrous_rt::sys::SharedBuf::map(frame, ferrous_rt::abi::initial::SELF_SPACE, AT, true)
                .and_then(ferrous_rt::sys::SharedBuf::unmap);
        if let Err(e) = r {
            failed.get_or_insert(e);
        }
    });
    let _ = ferrous_rt::sys::cap_delete(frame);
    match failed {
        Some(e) => fail("frame_map + mem_unmap", e),
        None => 0,
    }
}

/// `port-in`: one `in` from the CMOS clock's data port (0x71) after
/// `io_ports_enable`, straight from ring 3 through the kernel's I/O
/// permission bitmap: the cost a driver pays per register access, next to
/// `null-syscall`, the least a port-access call would cost (ADR 0012).
fn port_in(suffix: &str) -> i32 {
    let cmos = match sys::hw_split(initial::IO_PORTS, 0x70, 2) {
        Ok(h) => h,
        Err(e) => return fail("hw_split", e),
    };
    if let Err(e) = sys::io_ports_enable(cmos) {
        let _ = sys::cap_delete(cmos);
        return fail("io_ports_enable", e);
    }
    measure("port-in", suffix, 2000, || {
        core::hint::black_box(ferrous_rt::port::inb(0x71));
    });
    let _ = sys::cap_delete(cmos);
    0
}

const ROUND_TRIPS: u64 = 2000;
const STACK: u64 = 16 * 4096;
/// Thread stacks live here, one `STACK` apart.
const STACKS: u64 = 0x6000_0000;

fn fail(what: &str, e: ferrous_rt::abi::SysError) -> i32 {
    println!("ubench: {what} failed: {e}");
    1
}

fn call_once(ep: Handle) {
    let r = sys::ipc_call(ep, MsgInfo::words(2), [1, 2, 0, 0]);
    core::hint::black_box(r.is_ok());
}

fn ipc(module: Handle, suffix: &str) -> i32 {
    let ep = match sys::endpoint_create(initial::MEMORY) {
        Ok(e) => e,
        Err(e) => return fail("endpoint_create", e),
    };
    // Another process: two address spaces.
    let mem = match sys::memory_split(initial::MEMORY, 4 << 20) {
        Ok(m) => m,
        Err(e) => return fail("memory_split", e),
    };
    let mut arg = [0u8; 16];
    let n = write_arg(&mut arg, b"echo:", 2);
    let grants = [
        Grant::new(initial::CONSOLE, Rights::WRITE),
        Grant::new(ep, Rights::RECEIVE),
    ];
    let server = match sys::spawn(module, mem, &arg[..n], &grants) {
        Ok(p) => p,
        Err(e) => return fail("process_spawn", e),
    };
    measure("ipc-roundtrip", suffix, ROUND_TRIPS, || call_once(ep));
    let _ = sys::kill(server);
    let _ = sys::wait(server, sys::WAIT_FOREVER);
    let _ = sys::cap_delete(server);

    // A process that exits at once: spawn (load the ELF, build the address
    // space, start the thread) and wait for it, from the same budget.
    if suffix.is_empty() {
        let grants = [Grant::new(initial::CONSOLE, Rights::WRITE)];
        measure("spawn-wait", suffix, 10, || {
            if let Ok(p) = sys::spawn(module, mem, b"exit", &grants) {
                let _ = sys::wait(p, sys::WAIT_FOREVER);
                let _ = sys::cap_delete(p);
            }
        });
    }

    // A second thread of this process.
    if let Err(e) = sys::mem_map(STACKS, 4 * STACK, Perms::READ_WRITE) {
        return fail("mem_map", e);
    }
    let ep2 = match sys::endpoint_create(initial::MEMORY) {
        Ok(e) => e,
        Err(e) => return fail("endpoint_create", e),
    };
    let server = sys::thread_create(
        initial::SELF_SPACE,
        echo_thread,
        STACKS + STACK,
        u64::from(ep2.0),
    );
    let server = match server {
        Ok(t) => t,
        Err(e) => return fail("thread_create", e),
    };
    measure("ipc-roundtrip-threads", suffix, ROUND_TRIPS, || {
        call_once(ep2)
    });

    // Notifications, between two threads.
    let (Ok(ping), Ok(pong)) = (
        sys::notification_create(initial::MEMORY),
        sys::notification_create(initial::MEMORY),
    ) else {
        println!("ubench: notification_create failed");
        return 1;
    };
    PONG.store(pong.0, Ordering::Relaxed);
    let answerer = sys::thread_create(
        initial::SELF_SPACE,
        notification_thread,
        STACKS + 2 * STACK,
        u64::from(ping.0),
    );
    if let Err(e) = answerer {
        return fail("thread_create", e);
    }
    measure("notification-roundtrip", suffix, ROUND_TRIPS, || {
        let _ = sys::notification_signal(ping, 1);
        let _ = core::hint::black_box(sys::notification_wait(pong, sys::WAIT_FOREVER));
    });

    // Across CPUs, if there is a second one.
    if sys::thread_set_cpu(server, 1).is_ok() {
        SUFFIX.store(
            match suffix {
                "-slowpath" => 1,
                "-notrace" => 2,
                _ => 0,
            },
            Ordering::Relaxed,
        );
        CROSS_EP.store(u64::from(ep2.0), Ordering::Relaxed);
        match sys::thread_create(initial::SELF_SPACE, cross_client, STACKS + 3 * STACK, 0) {
            Ok(client) => {
                let _ = sys::thread_set_cpu(client, 0);
                GO.store(1, Ordering::Release);
                let _ = sys::thread_wait(client, sys::WAIT_FOREVER);
            }
            Err(e) => return fail("thread_create", e),
        }
    } else {
        println!("ubench: one CPU: no cross-CPU round trip");
    }
    0
}

/// `prefix` then `n` in decimal; returns the length.
fn write_arg(buf: &mut [u8; 16], prefix: &[u8], n: u32) -> usize {
    buf[..prefix.len()].copy_from_slice(prefix);
    let mut digits = [0u8; 10];
    let mut k = 0;
    let mut v = n;
    loop {
        digits[k] = b'0' + (v % 10) as u8;
        k += 1;
        v /= 10;
        if v == 0 {
            break;
        }
    }
    let mut at = prefix.len();
    for d in digits[..k].iter().rev() {
        buf[at] = *d;
        at += 1;
    }
    at
}

extern "C" fn echo_thread(arg: u64) -> ! {
    let e = sys::serve(Handle(arg as u32), |m| m.words);
    sys::thread_exit(e.code() as u32)
}

static PONG: AtomicU32 = AtomicU32::new(0);

extern "C" fn notification_thread(arg: u64) -> ! {
    let pong = Handle(PONG.load(Ordering::Relaxed));
    loop {
        if sys::notification_wait(Handle(arg as u32), sys::WAIT_FOREVER).is_err() {
            sys::thread_exit(1);
        }
        let _ = sys::notification_signal(pong, 1);
    }
}

static CROSS_EP: AtomicU64 = AtomicU64::new(0);
static GO: AtomicU64 = AtomicU64::new(0);
static SUFFIX: AtomicU32 = AtomicU32::new(0);

extern "C" fn cross_client(_: u64) -> ! {
    while GO.load(Ordering::Acquire) == 0 {
        sys::yield_now();
    }
    let ep = Handle(CROSS_EP.load(Ordering::Relaxed) as u32);
    let suffix = match SUFFIX.load(Ordering::Relaxed) {
        1 => "-slowpath",
        2 => "-notrace",
        _ => "",
    };
    measure("ipc-roundtrip-cross-cpu", suffix, ROUND_TRIPS / 4, || {
        call_once(ep)
    });
    sys::thread_exit(0)
}
