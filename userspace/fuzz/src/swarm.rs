//! `swarm n seed count`: a parent that starts `n` fuzzers at once (copies
//! of itself from slot 4, in `peer` mode, seeds `seed`, `seed + 1`, ...),
//! each with a share of its memory and a *shared endpoint* they all serve
//! and call, so capabilities travel between the processes. It waits for
//! them and checks that every one exited 0 and that its budget
//! (`memory_info` of slot 3) is back to what it was before.
//!
//! With `faults every`, once the fuzzers are started every `every`-th
//! kernel heap allocation fails until they have all ended
//! (`fault_inject`, through the trace capability init grants a `!`
//! program in slot 5): every allocating call may then fail with
//! `OutOfMemory`, which the fuzzers count like any other error, and the
//! kernel must neither panic nor leak.

use crate::through_faults;
use ferrous_rt::abi::{ExitStatus, Grant, Handle, PAGE_SIZE, Rights, WAIT_FOREVER, initial};
use ferrous_rt::{println, sys};

/// The trace capability of a `!` program (init's grant).
const TRACE: Handle = Handle(5);

/// Starts `n` peers and checks that they all exit 0 and that this
/// process's budget comes back whole; with `faults` > 0, under fault
/// injection.
pub fn swarm(n: u64, seed: u64, count: u64, faults: u32) -> i32 {
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
                Grant::child_space(sys::SPACE_RIGHTS),
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
    if faults > 0 {
        match sys::fault_inject(TRACE, faults) {
            Ok(_) => {
                println!(
                    "fuzz: swarm: fault injection on, 1 in {faults} kernel heap allocations fails"
                )
            }
            Err(e) => {
                println!("fuzz: swarm: FAIL fault_inject: {e}");
                failed += 1;
            }
        }
    }
    for (seed, (process, memory)) in children {
        match through_faults(|| sys::wait(process, WAIT_FOREVER)) {
            Ok(Some(ExitStatus::Exited { code: 0 })) => {}
            other => {
                println!("fuzz: swarm: FAIL fuzzer {seed} ended: {other:?}");
                failed += 1;
            }
        }
        let _ = through_faults(|| sys::cap_delete(process));
        let _ = through_faults(|| sys::cap_delete(memory));
    }
    if faults > 0 {
        let _ = sys::fault_inject(TRACE, 0);
        println!("fuzz: swarm: fault injection off");
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
