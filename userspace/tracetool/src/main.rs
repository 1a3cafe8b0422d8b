//! `tracetool`: reads the kernel's trace and metrics through a trace
//! capability (init's slot 7, `initial::TRACE`), the way a `top` or
//! `trace` tool in the shell will. Run by the kernel test `trace-user`.
//!
//! It makes an IPC exchange of its own (a server thread, ten calls), then
//! reads every CPU's ring from the start, decodes the records with
//! `ferrous-trace` and checks that the trace explains the exchange:
//!
//! - the server thread's `sched.block` with reason `endpoint_recv`;
//! - its `sched.wake` by the client thread (on the fast path, the
//!   client's `sched.handoff` to it);
//! - `ipc.call` by the client and `ipc.recv` by the server with the same
//!   non-zero causal ID, and the server's `ipc.reply` with it too.
//!
//! Then `metrics_read` (system calls and switches counted) and
//! `trace_control` (switching categories at run time). One line per check
//! (`tracetool: ok ...` / `tracetool: FAIL ...`), then
//! `tracetool: <n> checks, <f> failed`; exit code 0 only if all passed.
#![no_std]
#![no_main]
#![forbid(unsafe_code)]

extern crate alloc;

use alloc::vec::Vec;
use ferrous_rt::abi::metrics::{self, CpuCounter, KernelMetrics};
use ferrous_rt::abi::{Handle, MsgInfo, Perms, SysError, Sysno, TRACE_READ_HEADER, initial};
use ferrous_rt::checks::Checks;
use ferrous_rt::{println, sys};
use ferrous_trace::{BlockReason, Categories, EventType, Record};

ferrous_rt::entry!(main);

const STACK: u64 = 16 * 4096;
const AT: u64 = 0x6000_0000;

extern "C" fn server(ep: u64) -> ! {
    let e = sys::serve(Handle(ep as u32), |m| [m.words[0] + 1, 0, 0, 0]);
    sys::thread_exit(e.code() as u32)
}

/// Every record of every CPU's ring, oldest first per CPU.
fn read_all() -> Result<Vec<Record>, SysError> {
    let mut out = Vec::new();
    let mut buf = alloc::vec![0u8; TRACE_READ_HEADER as usize + 64 * 256];
    for cpu in 0.. {
        let mut cursor = 0;
        loop {
            let n = match sys::trace_read(initial::TRACE, cpu, cursor, &mut buf) {
                Ok(n) => n as usize,
                Err(SysError::NoSuchCpu) if cpu > 0 => return Ok(out),
                Err(e) => return Err(e),
            };
            cursor = u64::from_le_bytes(buf[..8].try_into().unwrap_or([0; 8]));
            for chunk in buf[TRACE_READ_HEADER as usize..][..n * 64].chunks_exact(64) {
                let bytes: &[u8; 64] = chunk.try_into().unwrap_or(&[0; 64]);
                if let Ok(r) = Record::from_bytes(bytes) {
                    out.push(r);
                }
            }
            if n == 0 {
                break;
            }
        }
    }
    Ok(out)
}

fn main() -> i32 {
    let mut c = Checks::new("tracetool");
    let previous = sys::trace_control(initial::TRACE, Categories::DEFAULT.bits());
    c.check(
        "trace_control returns the categories in force (the default)",
        previous == Ok(Categories::DEFAULT.bits()),
        previous,
    );
    let ep = sys::endpoint_create(initial::MEMORY);
    let stack = sys::mem_map(AT, STACK, Perms::READ_WRITE);
    let (Ok(ep), Ok(stack)) = (ep, stack) else {
        c.check("an endpoint and a stack", false, ());
        return 1;
    };
    let t = sys::thread_create(initial::SELF_SPACE, server, stack + STACK, u64::from(ep.0));
    c.check("thread_create the server", t.is_ok(), t);
    // Let the server block in its receive first.
    sys::sleep_ns(20_000_000);
    let mut answers = 0;
    for i in 0..10 {
        if sys::ipc_call(ep, MsgInfo::words(1), [i, 0, 0, 0]).is_ok_and(|r| r.words[0] == i + 1) {
            answers += 1;
        }
    }
    c.check("ten calls answered", answers == 10, answers);

    let records = match read_all() {
        Ok(r) => r,
        Err(e) => {
            c.check("trace_read", false, e);
            return 1;
        }
    };
    println!("tracetool: read {} records", records.len());
    let first_call = records.iter().find(|r| r.event == EventType::IpcCall);
    let Some(call) = first_call else {
        c.check("an ipc.call record", false, ());
        return 1;
    };
    let client = call.thread;
    // The server got it: an `ipc.recv` on its thread, or (fast path) the
    // client's `sched.handoff` to it carrying the causal ID.
    let recv = records.iter().find(|r| {
        r.causal == call.causal
            && (r.event == EventType::IpcRecv
                || (r.event == EventType::SchedHandoff && r.args[0] == client))
    });
    let server = recv.map_or(0, |r| {
        if r.event == EventType::SchedHandoff {
            r.args[1]
        } else {
            r.thread
        }
    });
    c.check(
        "ipc.recv with the call's causal ID, on another thread",
        recv.is_some() && server != client && server != 0 && call.causal != 0,
        (call.causal, recv),
    );
    let reply = records.iter().any(|r| {
        r.causal == call.causal
            && ((r.event == EventType::IpcReply && r.thread == server)
                || (r.event == EventType::SchedHandoff
                    && r.args[0] == server
                    && r.args[1] == client))
    });
    c.check("ipc.reply by the server with the same causal ID", reply, ());
    let blocked = records.iter().any(|r| {
        r.event == EventType::SchedBlock
            && r.thread == server
            && r.args[0] == BlockReason::EndpointRecv as u64
            && r.args[1] == call.args[0]
    });
    c.check(
        "the server's sched.block says endpoint_recv on that endpoint",
        blocked,
        (),
    );
    // Woken by the client: a `sched.wake`, or on the fast path a
    // `sched.handoff` from the client to it.
    let woken = records.iter().any(|r| {
        (r.event == EventType::SchedWake && r.args[0] == server && r.args[1] == client)
            || (r.event == EventType::SchedHandoff && r.args[0] == client && r.args[1] == server)
    });
    c.check("its sched.wake names the client as the waker", woken, ());
    for r in records.iter().filter(|r| r.thread == server).take(6) {
        println!("tracetool: {}", ferrous_trace::describe(r));
    }

    let mut m = [0u64; 512];
    match sys::metrics_read(initial::TRACE, &mut m) {
        Ok(n) => {
            let k = KernelMetrics(&m[..n]);
            let cpu0 = |c| k.cpu(0, c).unwrap_or(0);
            let (switches, syscalls, ipc) = (
                cpu0(CpuCounter::Switches),
                cpu0(CpuCounter::Syscalls),
                cpu0(CpuCounter::IpcMessages),
            );
            println!(
                "tracetool: metrics: {n} words, {} CPUs, cpu0 switches={switches} \
                 syscalls={syscalls} ipc={ipc}",
                k.cpus().unwrap_or(0)
            );
            c.check(
                "metrics count system calls and IPC messages",
                n == metrics::kernel_words(k.cpus().unwrap_or(0)) && syscalls > 10 && ipc >= 20,
                (switches, syscalls, ipc),
            );
            let calls = k.syscall(Sysno::IpcCall as u64).unwrap_or(0);
            c.check(
                "metrics count the ten ipc_calls by number",
                calls >= 10,
                calls,
            );
        }
        Err(e) => c.check("metrics_read", false, e),
    }
    // A capability it does not hold reads nothing.
    let mut none = [0u64; 8];
    c.expect(
        "metrics_read without a capability fails",
        sys::metrics_read(Handle(200), &mut none),
        SysError::EmptySlot { arg: 0 },
    );
    let off = sys::trace_control(initial::TRACE, Categories::NONE.bits());
    let before = read_all().map(|r| r.len()).unwrap_or(0);
    let _ = sys::ipc_call(ep, MsgInfo::words(1), [0; 4]);
    let after = read_all().map(|r| r.len()).unwrap_or(usize::MAX);
    c.check(
        "with every category off, a call adds nothing",
        off.is_ok() && after == before,
        (before, after),
    );
    let _ = sys::trace_control(initial::TRACE, Categories::DEFAULT.bits());
    c.finish("")
}
