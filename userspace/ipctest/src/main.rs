//! `ipctest`: IPC seen from user space. One program plays every role; its
//! argument (`ipctest:<mode>[:<n>]`) picks one. Parent modes start copies
//! of themselves in helper modes, passing endpoints and notifications as
//! spawn grants (grant `i` is the child's slot `i + 1`; slot 1 is always the
//! console).
//!
//! - `pingpong:<n>`: `n` calls to an echo server in another process; every
//!   reply must be the request transformed (data integrity).
//! - `badges`: three clients call through capabilities minted with badges
//!   1, 2 and 3; the server answers each with the badge it saw.
//! - `server-killed`: a server takes one call and never answers; three
//!   clients call; the server is killed; every client's call fails with
//!   `ObjectGone`.
//! - `timeout`: calls, receives and waits with timeouts and non-blocking
//!   flags on objects nobody answers: `TimedOut` and `WouldBlock`.
//! - `notification`: signals accumulate (OR) until the waiter takes them; a
//!   blocked waiter wakes on a signal.
//! - `transfer`: the client sends an endpoint capability in a message; the
//!   server receives it into a slot and calls through it.
//! - `chain`: client → server A → server B → driver C, each a process;
//!   every hop reports the causal ID it saw: all equal.
//! - `shared`: a frame made here, written here, sent to a server that maps
//!   it and sums the bytes (a later write shows through); revoking it
//!   unmaps it there, so the server's next read faults.
//! - `reply-errors`: `ipc_reply` with nothing to answer, to a caller whose
//!   call timed out (`CallerGone`).
//!
//! Checks print `ipctest: ok <what>` or `ipctest: FAIL <what>: ...`; the
//! last line is `ipctest: <mode>: <n> checks, <f> failed`. Exit code 0 only
//! if every check passed.
#![no_std]
#![no_main]
#![forbid(unsafe_code)]

use ferrous_rt::abi::{ExitStatus, Grant, Handle, MsgInfo, Rights, SysError, initial};
use ferrous_rt::checks::Checks;
use ferrous_rt::{println, sys};

ferrous_rt::entry!(main);

const CONSOLE: Handle = initial::CONSOLE;
const MEMORY: Handle = initial::MEMORY;
/// init puts the program's own module here.
const MODULE: Handle = Handle(4);
/// Helpers get their first object in slot 2, the second in slot 3.
const FIRST: Handle = Handle(2);
const SECOND: Handle = Handle(3);
const CHILD_BYTES: u64 = 2 << 20;
const ECHO_XOR: u64 = 0x5a5a_5a5a_5a5a_5a5a;

fn main() -> i32 {
    let arg = ferrous_rt::args().next().unwrap_or(b"");
    let text = core::str::from_utf8(arg).unwrap_or("");
    let (mode, rest) = text.split_once(':').unwrap_or((text, ""));
    let n: u64 = rest.parse().unwrap_or(0);
    // Helper modes: no checks of their own; the parent judges them.
    match mode {
        "echo-server" => return echo_server(),
        "badge-server" => return badge_server(),
        "stuck-server" => return stuck_server(),
        "client" => return client(n),
        "waiter" => return waiter(),
        "transfer-server" => return transfer_server(),
        "hop" => return hop(),
        "share-server" => return share_server(),
        "driver" => return driver(),
        _ => {}
    }
    let mode: &'static str = match mode {
        "pingpong" => "pingpong",
        "pingpong-threads" => "pingpong-threads",
        "badges" => "badges",
        "server-killed" => "server-killed",
        "timeout" => "timeout",
        "notification" => "notification",
        "transfer" => "transfer",
        "chain" => "chain",
        "reply-errors" => "reply-errors",
        "shared" => "shared",
        _ => {
            println!("ipctest: unknown mode {text:?}");
            return 2;
        }
    };
    let mut c = Checks::new("ipctest");
    match mode {
        "pingpong" => pingpong(&mut c, n.max(1)),
        "pingpong-threads" => pingpong_threads(&mut c, n.max(1)),
        "badges" => badges(&mut c),
        "server-killed" => server_killed(&mut c),
        "timeout" => timeout(&mut c),
        "notification" => notification(&mut c),
        "transfer" => transfer(&mut c),
        "chain" => chain(&mut c),
        "shared" => shared(&mut c),
        _ => reply_errors(&mut c),
    }
    c.finish(mode)
}

/// A helper process running `mode`, with the console and `objects` in
/// slots 2, 3, ...; returns its process capability and budget.
fn start(mode: &[u8], objects: &[(Handle, Rights)]) -> Result<(Handle, Handle), SysError> {
    let mem = sys::memory_split(MEMORY, CHILD_BYTES)?;
    let mut grants = [Grant::new(CONSOLE, Rights::WRITE); 4];
    for (g, &(h, r)) in grants[1..].iter_mut().zip(objects) {
        *g = Grant::new(h, r);
    }
    match sys::spawn(MODULE, mem, mode, &grants[..=objects.len()]) {
        Ok(p) => Ok((p, mem)),
        Err(e) => {
            let _ = sys::cap_delete(mem);
            Err(e)
        }
    }
}

fn stop(child: (Handle, Handle)) {
    let _ = sys::kill(child.0);
    let _ = sys::wait(child.0, sys::WAIT_FOREVER);
    let _ = sys::cap_delete(child.0);
    let _ = sys::cap_delete(child.1);
}

fn endpoint() -> Result<Handle, SysError> {
    sys::endpoint_create(MEMORY)
}

const RECV_PASS: Rights = Rights::RECEIVE.union(Rights::GRANT).union(Rights::DERIVE);
const SEND_PASS: Rights = Rights::SEND.union(Rights::GRANT).union(Rights::DERIVE);

// ----- helpers (child modes) -----

/// Answers every call with the words transformed: w0 + 1, w1 ^ ECHO_XOR,
/// w2 reversed bits, w3 = the badge.
fn echo_server() -> i32 {
    let e = sys::serve(FIRST, |m| {
        [
            m.words[0].wrapping_add(1),
            m.words[1] ^ ECHO_XOR,
            m.words[2].reverse_bits(),
            m.badge,
        ]
    });
    println!("ipctest: echo server stopped: {e}");
    1
}

fn badge_server() -> i32 {
    let e = sys::serve(FIRST, |m| [m.badge, 0, 0, 0]);
    println!("ipctest: badge server stopped: {e}");
    1
}

/// Takes one call and never answers.
fn stuck_server() -> i32 {
    let got = sys::ipc_recv(FIRST, MsgInfo::default());
    println!("ipctest: stuck server took a call: {}", got.is_ok());
    loop {
        sys::sleep_ns(1_000_000_000);
    }
}

/// Calls once; exits 0 if the reply is its expected badge `n`, else the
/// error's code (or 100 for a wrong reply).
fn client(n: u64) -> i32 {
    match sys::ipc_call(FIRST, MsgInfo::words(1), [n, 0, 0, 0]) {
        Ok(r) if r.words[0] == n => 0,
        Ok(_) => 100,
        Err(e) => e.code() as i32,
    }
}

/// Waits on the notification in slot 2; exits with the bits it got.
fn waiter() -> i32 {
    match sys::notification_wait(FIRST, sys::WAIT_FOREVER) {
        Ok(bits) => bits as i32,
        Err(e) => 1000 + e.code() as i32,
    }
}

/// Receives a capability into slot 10 and calls through it; answers the
/// original call with the inner reply's first word.
fn transfer_server() -> i32 {
    let got = sys::ipc_recv(
        FIRST,
        MsgInfo {
            cap_slot: 10,
            ..MsgInfo::default()
        },
    );
    let Ok(m) = got else { return 1 };
    let inner = if m.info.cap_received {
        sys::ipc_call(Handle(10), MsgInfo::words(1), [41, 0, 0, 0])
            .map(|r| r.words[0])
            .unwrap_or(2)
    } else {
        3
    };
    let _ = sys::ipc_reply(
        MsgInfo::words(2),
        [inner, u64::from(m.info.cap_received), 0, 0],
    );
    // Keep the capability until the parent has looked at it.
    loop {
        sys::sleep_ns(1_000_000_000);
    }
}

/// A middle hop: receives on slot 2, calls onward through slot 3, answers
/// with [causal seen here, downstream's answers...].
fn hop() -> i32 {
    let e = sys::serve(FIRST, |m| {
        let here = u64::from(m.info.causal);
        match sys::ipc_call(SECOND, MsgInfo::words(1), [m.words[0], 0, 0, 0]) {
            Ok(r) => [here, r.words[0], r.words[1], 0],
            Err(e) => [here, 1000 + e.code(), 0, 0],
        }
    });
    println!("ipctest: hop stopped: {e}");
    1
}

fn driver() -> i32 {
    let e = sys::serve(FIRST, |m| [u64::from(m.info.causal), 0, 0, 0]);
    println!("ipctest: driver stopped: {e}");
    1
}

// ----- parent modes -----

fn pingpong(c: &mut Checks, n: u64) {
    let Some(ep) = c.ok("endpoint_create", endpoint()) else {
        return;
    };
    let Some(server) = c.ok(
        "start the echo server",
        start(b"echo-server", &[(ep, RECV_PASS)]),
    ) else {
        return;
    };
    let mut bad = 0u64;
    let mut first_error = None;
    let t0 = sys::clock_monotonic();
    for i in 0..n {
        let w = [i, i.wrapping_mul(0x9e37_79b9_7f4a_7c15), !i, 0];
        match sys::ipc_call(ep, MsgInfo::words(3), w) {
            Ok(r) => {
                let want = [i + 1, w[1] ^ ECHO_XOR, w[2].reverse_bits(), 0];
                if r.words != want || r.info.words != 4 {
                    bad += 1;
                }
            }
            Err(e) => {
                first_error.get_or_insert(e);
                bad += 1;
            }
        }
    }
    let ns = sys::clock_monotonic() - t0;
    println!(
        "ipctest: {n} round trips in {} ms ({} ns each)",
        ns / 1_000_000,
        ns / n
    );
    c.check(
        "every reply carried the transformed request",
        bad == 0,
        (bad, first_error),
    );
    stop(server);
    c.expect(
        "a call after the server died fails",
        sys::ipc_call(ep, MsgInfo::words(0), [0; 4]),
        SysError::ObjectGone,
    );
}

/// The echo server as a thread of this process, on endpoint `arg`.
extern "C" fn echo_thread(arg: u64) -> ! {
    let e = sys::serve(Handle(arg as u32), |m| {
        [
            m.words[0].wrapping_add(1),
            m.words[1] ^ ECHO_XOR,
            m.words[2].reverse_bits(),
            m.badge,
        ]
    });
    sys::thread_exit(e.code() as u32)
}

/// Ping-pong with the server as a second thread of this process: the
/// same address space, so no page-table switch between the two.
fn pingpong_threads(c: &mut Checks, n: u64) {
    const STACK: u64 = 16 * 4096;
    const AT: u64 = 0x6000_0000;
    let Some(ep) = c.ok("endpoint_create", endpoint()) else {
        return;
    };
    let Some(base) = c.ok(
        "mem_map a stack",
        sys::mem_map(AT, STACK, ferrous_rt::abi::Perms::READ_WRITE),
    ) else {
        return;
    };
    let Some(t) = c.ok(
        "thread_create the echo server",
        sys::thread_create(
            initial::SELF_SPACE,
            echo_thread,
            base + STACK,
            u64::from(ep.0),
        ),
    ) else {
        return;
    };
    let mut bad = 0u64;
    let t0 = sys::clock_monotonic();
    for i in 0..n {
        let w = [i, !i, i << 3, 0];
        match sys::ipc_call(ep, MsgInfo::words(3), w) {
            Ok(r) if r.words == [i + 1, w[1] ^ ECHO_XOR, w[2].reverse_bits(), 0] => {}
            _ => bad += 1,
        }
    }
    let ns = sys::clock_monotonic() - t0;
    println!(
        "ipctest: {n} round trips between threads of one process in {} ms ({} ns each)",
        ns / 1_000_000,
        ns / n
    );
    c.check("every reply carried the transformed request", bad == 0, bad);
    let _ = t;
}

fn badges(c: &mut Checks) {
    let Some(ep) = c.ok("endpoint_create", endpoint()) else {
        return;
    };
    let Some(server) = c.ok(
        "start the badge server",
        start(b"badge-server", &[(ep, RECV_PASS)]),
    ) else {
        return;
    };
    let mut clients = [None; 3];
    for (i, slot) in clients.iter_mut().enumerate() {
        let badged = Handle(20 + i as u32);
        let badge = i as u64 + 1;
        c.ok(
            "cap_mint a badged send capability",
            sys::cap_mint(ep, badged, SEND_PASS, badge),
        );
        let mut arg = *b"client:0";
        arg[7] = b'0' + badge as u8;
        *slot = c.ok("start a client", start(&arg, &[(badged, Rights::SEND)]));
    }
    for (i, client) in clients.into_iter().enumerate() {
        if let Some(client) = client {
            let s = sys::wait(client.0, sys::WAIT_FOREVER);
            c.check(
                "the server saw the client's own badge",
                s == Ok(Some(ExitStatus::Exited { code: 0 })),
                (i + 1, s),
            );
            stop(client);
        }
    }
    // The badge is the capability's, not the caller's claim.
    let r = sys::ipc_call(Handle(21), MsgInfo::words(1), [99, 0, 0, 0]);
    c.check(
        "a call through badge 2 reports 2",
        matches!(r, Ok(m) if m.words[0] == 2),
        r,
    );
    stop(server);
}

fn server_killed(c: &mut Checks) {
    let Some(ep) = c.ok("endpoint_create", endpoint()) else {
        return;
    };
    let Some(server) = c.ok(
        "start a server that never answers",
        start(b"stuck-server", &[(ep, RECV_PASS)]),
    ) else {
        return;
    };
    let mut clients = [None; 3];
    for slot in clients.iter_mut() {
        *slot = c.ok("start a client", start(b"client:1", &[(ep, Rights::SEND)]));
    }
    sys::sleep_ns(100_000_000);
    for client in clients.iter().flatten() {
        c.expect(
            "the client is still blocked",
            sys::wait(client.0, 0),
            SysError::WouldBlock,
        );
    }
    c.ok("process_kill the server", sys::kill(server.0));
    for client in clients.into_iter().flatten() {
        let s = sys::wait(client.0, sys::WAIT_FOREVER);
        let want = ExitStatus::Exited {
            code: ferrous_rt::abi::ErrorCode::ObjectGone as u32,
        };
        c.check(
            "the client's call failed with ObjectGone",
            s == Ok(Some(want)),
            s,
        );
        stop(client);
    }
    stop(server);
}

fn timeout(c: &mut Checks) {
    let Some(ep) = c.ok("endpoint_create", endpoint()) else {
        return;
    };
    let with = |us| MsgInfo {
        timeout_us: us,
        ..MsgInfo::words(1)
    };
    let t0 = sys::clock_monotonic();
    c.expect(
        "ipc_call with nobody receiving times out",
        sys::ipc_call(ep, with(20_000), [1, 0, 0, 0]),
        SysError::TimedOut,
    );
    let waited = sys::clock_monotonic() - t0;
    c.check(
        "it waited at least the timeout",
        waited >= 20_000_000,
        waited,
    );
    c.expect(
        "ipc_recv with nobody sending times out",
        sys::ipc_recv(ep, with(10_000)),
        SysError::TimedOut,
    );
    let nb = MsgInfo {
        nonblocking: true,
        ..MsgInfo::words(0)
    };
    c.expect(
        "non-blocking ipc_send",
        sys::ipc_send(ep, nb, [0; 4]),
        SysError::WouldBlock,
    );
    c.expect(
        "non-blocking ipc_recv",
        sys::ipc_recv(ep, nb),
        SysError::WouldBlock,
    );
    let Some(n) = c.ok("notification_create", sys::notification_create(MEMORY)) else {
        return;
    };
    c.expect(
        "notification_wait times out",
        sys::notification_wait(n, 10_000_000),
        SysError::TimedOut,
    );
    c.expect(
        "notification_wait with timeout 0 polls",
        sys::notification_wait(n, 0),
        SysError::WouldBlock,
    );
    // A queue left by timed-out callers is empty again: a server now sees
    // only the next call.
    let Some(server) = c.ok(
        "start the echo server",
        start(b"echo-server", &[(ep, RECV_PASS)]),
    ) else {
        return;
    };
    let r = sys::ipc_call(ep, MsgInfo::words(1), [7, 0, 0, 0]);
    c.check(
        "a call after the time-outs is answered",
        matches!(r, Ok(m) if m.words[0] == 8),
        r,
    );
    stop(server);
}

fn notification(c: &mut Checks) {
    let Some(n) = c.ok("notification_create", sys::notification_create(MEMORY)) else {
        return;
    };
    for bit in [1u64, 4, 16] {
        c.ok("notification_signal", sys::notification_signal(n, bit));
    }
    c.check(
        "signals accumulate until taken",
        sys::notification_poll(n) == Ok(21),
        sys::notification_poll(n),
    );
    c.check(
        "taking clears the word",
        sys::notification_poll(n) == Ok(0),
        (),
    );
    let Some(w) = c.ok("start a waiter", start(b"waiter", &[(n, Rights::WAIT)])) else {
        return;
    };
    sys::sleep_ns(50_000_000);
    c.expect(
        "the waiter is blocked",
        sys::wait(w.0, 0),
        SysError::WouldBlock,
    );
    c.ok(
        "notification_signal 0x30",
        sys::notification_signal(n, 0x30),
    );
    let s = sys::wait(w.0, sys::WAIT_FOREVER);
    c.check(
        "the waiter woke with the bits",
        s == Ok(Some(ExitStatus::Exited { code: 0x30 })),
        s,
    );
    stop(w);
    let ro = Handle(30);
    c.ok(
        "cap_mint a wait-only notification",
        sys::cap_mint(n, ro, Rights::WAIT, 0),
    );
    c.expect(
        "notification_signal needs signal",
        sys::notification_signal(ro, 1),
        SysError::MissingRight {
            arg: 0,
            missing: Rights::SIGNAL,
        },
    );
}

fn transfer(c: &mut Checks) {
    let Some(ep) = c.ok("endpoint_create", endpoint()) else {
        return;
    };
    let Some(inner) = c.ok("endpoint_create (to pass)", endpoint()) else {
        return;
    };
    let Some(server) = c.ok(
        "start the transfer server",
        start(b"transfer-server", &[(ep, RECV_PASS)]),
    ) else {
        return;
    };
    let Some(echo) = c.ok(
        "start an echo server on the inner endpoint",
        start(b"echo-server", &[(inner, RECV_PASS)]),
    ) else {
        return;
    };
    let send_only = Handle(31);
    c.ok(
        "cap_mint a send capability to pass",
        sys::cap_mint(inner, send_only, SEND_PASS, 0),
    );
    let info = MsgInfo {
        cap_slot: 31,
        ..MsgInfo::words(0)
    };
    let r = sys::ipc_call(ep, info, [0; 4]);
    c.check(
        "the server received the capability and called through it",
        matches!(r, Ok(m) if m.words[0] == 42 && m.words[1] == 1),
        r,
    );
    let n = sys::cap_revoke(send_only);
    c.check(
        "the transferred copy is derived from ours (revocable)",
        n == Ok(1),
        n,
    );
    stop(server);
    stop(echo);
    let nogrant = Handle(32);
    c.ok(
        "cap_mint without grant",
        sys::cap_mint(inner, nogrant, Rights::SEND | Rights::DERIVE, 0),
    );
    let info = MsgInfo {
        cap_slot: 32,
        nonblocking: true,
        ..MsgInfo::words(0)
    };
    c.expect(
        "sending a capability needs grant",
        sys::ipc_send(inner, info, [0; 4]),
        SysError::MissingRight {
            arg: 1,
            missing: Rights::GRANT,
        },
    );
}

fn chain(c: &mut Checks) {
    let mut eps = [Handle::NULL; 3];
    for e in eps.iter_mut() {
        match c.ok("endpoint_create", endpoint()) {
            Some(h) => *e = h,
            None => return,
        }
    }
    let Some(d) = c.ok("start driver C", start(b"driver", &[(eps[2], RECV_PASS)])) else {
        return;
    };
    let Some(b) = c.ok(
        "start server B",
        start(b"hop", &[(eps[1], RECV_PASS), (eps[2], SEND_PASS)]),
    ) else {
        return;
    };
    let Some(a) = c.ok(
        "start server A",
        start(b"hop", &[(eps[0], RECV_PASS), (eps[1], SEND_PASS)]),
    ) else {
        return;
    };
    let mut ids = [0u64; 2];
    for (k, id) in ids.iter_mut().enumerate() {
        let r = sys::ipc_call(eps[0], MsgInfo::words(1), [k as u64, 0, 0, 0]);
        match r {
            Ok(m) => {
                println!(
                    "ipctest: chain request {k}: causal ids A={} B={} C={}",
                    m.words[0], m.words[1], m.words[2]
                );
                c.check(
                    "one causal ID at every hop",
                    m.words[0] != 0 && m.words[0] == m.words[1] && m.words[1] == m.words[2],
                    m.words,
                );
                *id = m.words[0];
            }
            Err(e) => c.check("the chain answered", false, e),
        }
    }
    c.check("each request has its own causal ID", ids[0] != ids[1], ids);
    stop(a);
    stop(b);
    stop(d);
}

const SHARED: u64 = 2 * 4096;

/// Receives a frame capability into slot 10, maps it read-only (its own
/// address space is slot 3) and answers every call with the sum of its
/// bytes; after a revocation the next read faults and ends it.
fn share_server() -> i32 {
    let Ok(first) = sys::ipc_recv(
        FIRST,
        MsgInfo {
            cap_slot: 10,
            ..MsgInfo::default()
        },
    ) else {
        return 1;
    };
    let mapped = sys::SharedBuf::map(Handle(10), SECOND, 0x7100_0000, false);
    let (true, Ok(buf)) = (first.info.cap_received, mapped) else {
        let _ = sys::ipc_reply(MsgInfo::words(1), [u64::MAX, 0, 0, 0]);
        return 2;
    };
    let sum = |b: &sys::SharedBuf| {
        (0..b.len())
            .map(|i| u64::from(b.read(i).unwrap_or(0)))
            .sum::<u64>()
    };
    let mut reply = [sum(&buf), SHARED, 0, 0];
    loop {
        match sys::ipc_reply_recv(FIRST, MsgInfo::words(2), reply) {
            Ok(_) => reply = [sum(&buf), SHARED, 0, 0],
            Err(e) => return e.code() as i32,
        }
    }
}

fn shared(c: &mut Checks) {
    let Some(frame) = c.ok("frame_create 8 KiB", sys::frame_create(MEMORY, SHARED)) else {
        return;
    };
    let Some(buf) = c.ok(
        "frame_map it here, read-write",
        sys::SharedBuf::map(frame, initial::SELF_SPACE, 0x7000_0000, true),
    ) else {
        return;
    };
    let mut want = 0u64;
    for i in 0..buf.len() {
        let v = (i * 7 % 251) as u8;
        buf.write(i, v);
        want += u64::from(v);
    }
    let Some(ep) = c.ok("endpoint_create", endpoint()) else {
        return;
    };
    // The server gets the endpoint (slot 2) and its own address space
    // (slot 3, mapping only).
    let Some(mem) = c.ok("memory_split", sys::memory_split(MEMORY, CHILD_BYTES)) else {
        return;
    };
    let grants = [
        Grant::new(CONSOLE, Rights::WRITE),
        Grant::new(ep, RECV_PASS),
        Grant::child_space(Rights::READ | Rights::WRITE),
    ];
    let Some(server) = c.ok(
        "start the share server",
        sys::spawn(MODULE, mem, b"share-server", &grants),
    ) else {
        return;
    };
    let send = MsgInfo {
        cap_slot: frame.0 as u8,
        ..MsgInfo::words(0)
    };
    let r = sys::ipc_call(ep, send, [0; 4]);
    c.check(
        "the server mapped the frame we sent and read our bytes",
        matches!(r, Ok(m) if m.words == [want, SHARED, 0, 0]),
        (r, want),
    );
    // Changes show through at once: the same physical pages.
    buf.write(0, buf.read(0).unwrap_or(0).wrapping_add(1));
    let r = sys::ipc_call(ep, MsgInfo::words(0), [0; 4]);
    c.check(
        "a write here is seen there",
        matches!(r, Ok(m) if m.words[0] == want + 1),
        r,
    );
    // Revoking our frame capability deletes the server's copy, and with it
    // the server's mapping: its next read faults.
    let n = sys::cap_revoke(frame);
    c.check(
        "cap_revoke of the frame deleted the server's copy",
        n == Ok(1),
        n,
    );
    let r = sys::ipc_call(ep, MsgInfo::words(0), [0; 4]);
    c.expect(
        "the server died reading the unmapped pages",
        r,
        SysError::ObjectGone,
    );
    let s = sys::wait(server, sys::WAIT_FOREVER);
    c.check(
        "it ended by a page fault (exception 14)",
        s == Ok(Some(ExitStatus::Faulted { vector: 14 })),
        s,
    );
    c.check(
        "our own mapping still works",
        buf.read(1) == Some(7),
        buf.read(1),
    );
    let _ = sys::cap_delete(server);
    let _ = sys::cap_delete(mem);
}

fn reply_errors(c: &mut Checks) {
    c.expect(
        "ipc_reply with no call to answer",
        sys::ipc_reply(MsgInfo::words(0), [0; 4]),
        SysError::NoPendingReply,
    );
    let Some(ep) = c.ok("endpoint_create", endpoint()) else {
        return;
    };
    // A client calls with a short timeout; we take the call late and
    // answer after it gave up.
    let Some(client) = c.ok("start a client", start(b"client:5", &[(ep, Rights::SEND)])) else {
        return;
    };
    let got = sys::ipc_recv(ep, MsgInfo::default());
    c.check(
        "received the client's call",
        matches!(got, Ok(m) if m.info.is_call),
        got,
    );
    c.ok("process_kill the caller", sys::kill(client.0));
    let _ = sys::wait(client.0, sys::WAIT_FOREVER);
    c.expect(
        "ipc_reply to a caller that is gone",
        sys::ipc_reply(MsgInfo::words(1), [5, 0, 0, 0]),
        SysError::CallerGone,
    );
    c.expect(
        "the reply right was used up",
        sys::ipc_reply(MsgInfo::words(0), [0; 4]),
        SysError::NoPendingReply,
    );
    stop(client);
}
