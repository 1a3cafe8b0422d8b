//! `hostile`: processes that attack the kernel or each other with legal
//! calls only. Each mode is one class of attack; its scenario passes only
//! if the kernel stays up and the attacker is refused or confined.
//!
//! - `fpu`: x87/SSE state must be private to each thread. This process
//!   puts a marker in `xmm0`, starts `fpu-peer` (another process sharing
//!   no capability with it) and yields many times; after every yield its
//!   own marker must still be there. The peer first checks that it starts
//!   with the initial state (`xmm0` zero, MXCSR 0x1F80), not with this
//!   process's marker, then keeps its own marker across as many yields;
//!   it never may see this one's.
//! - `tables`, `rights`: attacks through mappings (see `mapping`).
//! - `exhaust`: every kernel resource a budget and a table allow, taken
//!   to the refusal (see `exhaust`).
//! - `revoke`: nothing acts through a revoked capability once `cap_revoke`
//!   has returned (see `revoke`).
//! - `ports:<module slot>`: I/O ports only through a capability, only
//!   while held, never the kernel's (see `ports`).
//! - `irq:<module slot>`: interrupt lines through a capability and a
//!   notification, masked until acknowledged, freed when the driver dies
//!   (see `irq`).
#![no_std]
#![no_main]
#![forbid(unsafe_code)]

use ferrous_rt::abi::{ExitStatus, Grant, Handle, Rights, initial};
use ferrous_rt::checks::Checks;
use ferrous_rt::probe::{mxcsr_read, xmm0_read, xmm0_write};
use ferrous_rt::{println, sys};

mod chain;
mod exhaust;
mod irq;
mod mapping;
mod ports;
mod revoke;

ferrous_rt::entry!(main);

/// init puts the program's own module here.
pub(crate) const MODULE: Handle = Handle(4);
const ROUNDS: u32 = 2000;
const MINE: u64 = 0xa11c_e5ec_7e70_0001;
const PEERS: u64 = 0xb0b5_ec7e_7000_0002;
/// MXCSR of a new thread: every SSE exception masked, round to nearest.
const MXCSR_INITIAL: u32 = 0x1f80;

fn main() -> i32 {
    let arg = ferrous_rt::args().next().unwrap_or(b"");
    match arg {
        b"fpu" => fpu(),
        b"fpu-peer" => fpu_peer(),
        b"tables" => mapping::tables(),
        b"tables-child" => mapping::tables_child(),
        b"rights" => mapping::rights(),
        b"rights-child" => mapping::rights_child(),
        b"revoke" => revoke::revoke(),
        b"revoke-recv" => revoke::revoke_recv(),
        b"revoke-send" => revoke::revoke_send(),
        b"split-chain" => chain::split_chain(),
        b"ports-none" => ports::ports_none(),
        b"irq-child" => irq::irq_child(),
        m if m.starts_with(b"irq:") => {
            let slot = core::str::from_utf8(&m[4..])
                .ok()
                .and_then(|s| s.parse().ok());
            match slot {
                Some(slot) => irq::irq(Handle(slot)),
                None => 2,
            }
        }
        b"ports-revoke" => ports::ports_revoke(),
        m if m.starts_with(b"ports:") => {
            let slot = core::str::from_utf8(&m[6..])
                .ok()
                .and_then(|s| s.parse().ok());
            match slot {
                Some(slot) => ports::ports(Handle(slot)),
                None => 2,
            }
        }
        b"exhaust" => exhaust::exhaust(),
        b"exhaust-child" => exhaust::exhaust_child(),
        b"exhaust-done" => exhaust::exhaust_done(),
        _ => {
            println!("hostile: unknown mode {arg:?}");
            2
        }
    }
}

fn fpu() -> i32 {
    let mut c = Checks::new("hostile");
    xmm0_write(MINE);
    let grants = [Grant::new(initial::CONSOLE, Rights::WRITE)];
    let peer = c.ok(
        "spawn a peer that shares nothing",
        sys::spawn(MODULE, initial::MEMORY, b"fpu-peer", &grants),
    );
    let mut lost = 0;
    for _ in 0..ROUNDS {
        sys::yield_now();
        if xmm0_read() != MINE {
            lost += 1;
            xmm0_write(MINE);
        }
    }
    c.check("xmm0 kept across 2000 yields", lost == 0, lost);
    if let Some(peer) = peer {
        let status = sys::wait(peer, sys::WAIT_FOREVER);
        c.check(
            "the peer saw only its own state",
            status == Ok(Some(ExitStatus::Exited { code: 0 })),
            status,
        );
    }
    c.finish("fpu")
}

/// Exits 0 if it started from the initial state and never saw the other
/// process's marker; prints what it saw otherwise.
fn fpu_peer() -> i32 {
    let mut c = Checks::new("hostile-peer");
    let first = xmm0_read();
    c.check("a new process starts with xmm0 zero", first == 0, first);
    let mxcsr = mxcsr_read();
    c.check(
        "a new process starts with the initial MXCSR",
        mxcsr == MXCSR_INITIAL,
        mxcsr,
    );
    xmm0_write(PEERS);
    let (mut leaked, mut lost) = (0, 0);
    for _ in 0..ROUNDS {
        sys::yield_now();
        match xmm0_read() {
            PEERS => {}
            MINE => {
                leaked += 1;
                xmm0_write(PEERS);
            }
            _ => {
                lost += 1;
                xmm0_write(PEERS);
            }
        }
    }
    c.check("never saw the other process's xmm0", leaked == 0, leaked);
    c.check("xmm0 kept across 2000 yields", lost == 0, lost);
    c.finish("fpu-peer")
}

/// Starts this program in `mode` with the console (slot 1) and `grants`
/// (slots 2 and 3), runs `meanwhile`, and returns how the child ended.
pub(crate) fn child_with(
    c: &mut Checks,
    module: Handle,
    mode: &[u8],
    grants: &[Grant],
    meanwhile: impl FnOnce(&mut Checks),
) -> Option<ExitStatus> {
    let budget = c.ok(
        "split a budget for the child",
        sys::memory_split(initial::MEMORY, 1 << 20),
    )?;
    let mut all = [Grant::new(initial::CONSOLE, Rights::WRITE); 3];
    all[1..=grants.len()].copy_from_slice(grants);
    let child = c.ok(
        "spawn the child",
        sys::spawn(module, budget, mode, &all[..=grants.len()]),
    );
    let status = child.and_then(|child| {
        meanwhile(c);
        let s = sys::wait(child, sys::WAIT_FOREVER);
        let _ = sys::cap_delete(child);
        c.ok("wait for the child", s).flatten()
    });
    let _ = sys::cap_delete(budget);
    status
}
