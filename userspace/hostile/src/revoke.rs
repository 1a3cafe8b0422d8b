//! `revoke`: after `cap_revoke` returns, nothing acts through what it
//! removed. On one CPU the revoking process keeps running after the call,
//! so it looks before a woken thread could clean up after itself:
//!
//! - a child blocked in `ipc_recv` through a lent endpoint capability is
//!   out of the queue at once: a send right after the revoke finds no
//!   receiver (`WouldBlock`), and the child wakes with `ObjectGone`;
//! - a child blocked in `ipc_send` through a lent capability has its
//!   message dropped: a receive right after finds nothing, and the child
//!   wakes with `ObjectGone`;
//! - a mapping made through a derived frame capability is gone when the
//!   revoke of its parent returns: the same address can be mapped again.

use ferrous_rt::abi::{
    ErrorCode, ExitStatus, Grant, Handle, MsgInfo, Perms, Rights, SysError, initial,
};
use ferrous_rt::checks::Checks;
use ferrous_rt::sys;

use crate::MODULE;

/// Free slots for the capabilities this mode derives.
const LENT: Handle = Handle(210);
const MIDDLE: Handle = Handle(211);
const LEAF: Handle = Handle(212);
const AT: u64 = 0x20_0000_0000;
/// In the child: the lent endpoint.
const CHILD_ENDPOINT: Handle = Handle(2);

fn nonblocking() -> MsgInfo {
    MsgInfo {
        nonblocking: true,
        ..MsgInfo::words(1)
    }
}

/// Lends `endpoint` to a child in `mode`, waits until it is blocked,
/// revokes the loan, runs `after` at once, then returns the child's exit
/// status.
fn lend_and_revoke(
    c: &mut Checks,
    endpoint: Handle,
    mode: &[u8],
    after: impl FnOnce(&mut Checks),
) -> Option<ExitStatus> {
    c.ok(
        "mint a capability to lend",
        sys::cap_mint(endpoint, LENT, Rights::ALL, 0),
    )?;
    let budget = c.ok(
        "split a budget for the child",
        sys::memory_split(initial::MEMORY, 1 << 20),
    )?;
    let grants = [
        Grant::new(initial::CONSOLE, Rights::WRITE),
        Grant::new(
            LENT,
            Rights::SEND | Rights::RECEIVE | Rights::GRANT | Rights::DERIVE,
        ),
    ];
    let child = c.ok("spawn the child", sys::spawn(MODULE, budget, mode, &grants))?;
    // It blocks within a few of its time slices.
    sys::sleep_ns(50_000_000);
    let early = sys::wait(child, 0);
    c.expect("the child is blocked", early, SysError::WouldBlock);
    let n = sys::cap_revoke(LENT);
    c.check("cap_revoke took the child's copy", n == Ok(1), n);
    after(c);
    let status = sys::wait(child, sys::WAIT_FOREVER);
    let _ = sys::cap_delete(child);
    let _ = sys::cap_delete(LENT);
    let _ = sys::cap_delete(budget);
    c.ok("wait for the child", status).flatten()
}

pub fn revoke() -> i32 {
    let mut c = Checks::new("hostile");
    let gone = ExitStatus::Exited {
        code: ErrorCode::ObjectGone as u32,
    };
    if let Some(endpoint) = c.ok("make an endpoint", sys::endpoint_create(initial::MEMORY)) {
        let status = lend_and_revoke(&mut c, endpoint, b"revoke-recv", |c| {
            // No receiver: `WouldBlock`; or, on another CPU, the woken
            // child has already ended and the endpoint it served closed
            // with it (`ObjectGone`). Never delivered.
            let sent = sys::ipc_send(endpoint, nonblocking(), [7, 0, 0, 0]);
            c.check(
                "a send right after the revoke finds no receiver",
                matches!(sent, Err(SysError::WouldBlock | SysError::ObjectGone)),
                sent,
            );
        });
        c.check(
            "the revoked receiver woke with ObjectGone",
            status == Some(gone),
            status,
        );
        let _ = sys::cap_delete(endpoint);
    }
    // A fresh endpoint: the first one closed with the receiver that bound it.
    if let Some(endpoint) = c.ok(
        "make another endpoint",
        sys::endpoint_create(initial::MEMORY),
    ) {
        let status = lend_and_revoke(&mut c, endpoint, b"revoke-send", |c| {
            let got = sys::ipc_recv(endpoint, nonblocking());
            c.expect(
                "the revoked sender's message was dropped",
                got,
                SysError::WouldBlock,
            );
        });
        c.check(
            "the revoked sender woke with ObjectGone",
            status == Some(gone),
            status,
        );
        let _ = sys::cap_delete(endpoint);
    }
    // A mapping through a derived frame capability ends with the revoke.
    if let Some(frame) = c.ok("make a frame", sys::frame_create(initial::MEMORY, 4096)) {
        c.ok(
            "derive a frame capability",
            sys::cap_mint(frame, MIDDLE, Rights::ALL, 0),
        );
        c.ok(
            "and one below it",
            sys::cap_mint(MIDDLE, LEAF, Rights::ALL, 0),
        );
        c.ok(
            "map the frame through the lowest one",
            sys::frame_map(LEAF, initial::SELF_SPACE, AT, Perms::READ),
        );
        let n = sys::cap_revoke(MIDDLE);
        c.check("cap_revoke took the lowest one", n == Ok(1), n);
        let again = sys::frame_map(frame, initial::SELF_SPACE, AT, Perms::READ);
        c.check(
            "its mapping was gone when cap_revoke returned",
            again.is_ok(),
            again,
        );
        let _ = sys::cap_delete(MIDDLE);
        let _ = sys::cap_delete(frame);
    }
    c.finish("revoke")
}

/// Blocks in `ipc_recv` on the lent endpoint; exits with the error's code
/// (or 100 if a message came).
pub fn revoke_recv() -> i32 {
    match sys::ipc_recv(CHILD_ENDPOINT, MsgInfo::words(0)) {
        Ok(_) => 100,
        Err(e) => e.code() as i32,
    }
}

/// Blocks in `ipc_send` on the lent endpoint; exits with the error's code
/// (or 100 if it was received).
pub fn revoke_send() -> i32 {
    match sys::ipc_send(CHILD_ENDPOINT, MsgInfo::words(1), [9, 0, 0, 0]) {
        Ok(()) => 100,
        Err(e) => e.code() as i32,
    }
}
