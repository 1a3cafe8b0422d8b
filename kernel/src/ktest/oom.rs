//! Out of heap on system-call paths (issue 14): with the heap made to fail
//! on purpose (`mm::heap::fail_after`), the calls return `OutOfMemory` and
//! leave everything as it was; none panics.

use super::{Outcome, ensure};
use crate::cap::{self, Object, Parent};
use crate::memory::Memory;
use crate::mm::heap;
use alloc::vec::Vec;
use ferrous_abi::{Handle, Rights, SysError, Sysno};

/// Runs `op` with the heap failing after `n` allocations.
fn failing<R>(n: usize, op: impl FnOnce() -> R) -> R {
    heap::fail_after(Some(n));
    let r = op();
    heap::fail_after(None);
    r
}

pub fn run(_boot: &crate::Boot) -> Outcome {
    let (caps0, objects0) = cap::counts();

    // A capability table always needs fresh heap: refused, nothing made.
    let r = failing(0, cap::create_cspace);
    ensure(
        r == Err(SysError::OutOfMemory),
        "create_cspace without heap did not fail with OutOfMemory",
    )?;
    ensure(
        cap::counts() == (caps0, objects0),
        "a refused create_cspace left something",
    )?;
    log::info!("oom: create_cspace without heap fails with OutOfMemory");

    // Capabilities into a fresh table until one needs heap (the object
    // table or the derivation tree grows), each with the heap failing at
    // once: every refusal is OutOfMemory and changes nothing.
    let s = cap::create_cspace().map_err(|_| "create_cspace failed")?;
    let mut refused = 0;
    let mut slot = 1u32;
    while slot < ferrous_abi::CSPACE_SLOTS && refused == 0 {
        let before = cap::counts();
        let r = failing(0, || {
            cap::insert(
                s,
                Some(slot),
                Object::Console,
                Rights::ALL,
                Parent::None,
                Sysno::CapCopy,
            )
        });
        match r {
            Ok(_) => slot += 1,
            Err(SysError::OutOfMemory) => {
                refused += 1;
                ensure(
                    cap::counts() == before,
                    "a refused insert changed the counts",
                )?;
                ensure(
                    cap::object_id(s, Handle(slot)).is_none(),
                    "a refused insert filled its slot",
                )?;
            }
            Err(_) => return Err("insert failed with another error"),
        }
    }
    ensure(
        refused > 0,
        "no insert needed heap: the test proves nothing",
    )?;
    cap::check_invariants().map_err(|_| "invariants broken after refused inserts")?;
    // The refused insert, now with heap: the source of a copy into the
    // next slot, the heap failing at each allocation in turn until the
    // copy succeeds.
    cap::insert(
        s,
        Some(slot),
        Object::Console,
        Rights::ALL,
        Parent::None,
        Sysno::CapCopy,
    )
    .map_err(|_| "insert with heap failed")?;
    let (src, slot) = (slot, slot + 1);
    let mut n = 0;
    loop {
        let before = cap::counts();
        let r = failing(n, || {
            cap::mint(s, Sysno::CapCopy, Handle(src), Handle(slot), Rights::ALL, 0)
        });
        match r {
            Ok(()) => break,
            Err(SysError::OutOfMemory) => {
                ensure(cap::counts() == before, "a refused copy changed the counts")?;
            }
            Err(e) => {
                log::error!("oom: copy: {e:?}");
                return Err("copy failed with another error");
            }
        }
        n += 1;
        ensure(n < 16, "copy never succeeded")?;
    }
    cap::check_invariants().map_err(|_| "invariants broken after refused copies")?;
    cap::destroy_cspace(s);
    ensure(
        cap::counts() == (caps0, objects0),
        "capabilities or objects leaked",
    )?;
    log::info!(
        "oom: capability inserts and copies without heap fail with OutOfMemory, nothing changed"
    );

    // Endpoints and notifications until their table must grow: the
    // refusal refunds the charge.
    let memory = Memory::root(1 << 30);
    let mut endpoints = Vec::new();
    let mut notifications = Vec::new();
    endpoints
        .try_reserve(4096)
        .and_then(|()| notifications.try_reserve(4096))
        .map_err(|_| "no heap for the test's lists")?;
    let mut refused = (0, 0);
    while endpoints.len() < 4096 && (refused.0 == 0 || refused.1 == 0) {
        let available = memory.available();
        if refused.0 == 0 {
            match failing(0, || crate::ipc::create_endpoint(0, memory.clone())) {
                // alloc: reserved above (try_reserve(4096))
                Ok(e) => endpoints.push(e),
                Err(SysError::OutOfMemory) => {
                    refused.0 += 1;
                    ensure(
                        memory.available() == available,
                        "a refused endpoint kept its charge",
                    )?;
                }
                Err(_) => return Err("endpoint_create failed with another error"),
            }
        }
        let available = memory.available();
        if refused.1 == 0 {
            match failing(0, || crate::ipc::create_notification(memory.clone())) {
                // alloc: reserved above (try_reserve(4096))
                Ok(n) => notifications.push(n),
                Err(SysError::OutOfMemory) => {
                    refused.1 += 1;
                    ensure(
                        memory.available() == available,
                        "a refused notification kept its charge",
                    )?;
                }
                Err(_) => return Err("notification_create failed with another error"),
            }
        }
    }
    ensure(
        refused.0 > 0 && refused.1 > 0,
        "no endpoint or notification needed heap",
    )?;
    for e in endpoints.drain(..) {
        crate::ipc::close_endpoint(e.id());
    }
    for n in notifications.drain(..) {
        crate::ipc::close_notification(n.id());
    }
    ensure(
        memory.available() == 1 << 30,
        "endpoint or notification charges not refunded",
    )?;
    log::info!(
        "oom: endpoint and notification creation without heap fails with OutOfMemory, charge refunded"
    );
    Ok(())
}
