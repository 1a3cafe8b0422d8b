//! `swarm n seed count`: a parent that starts `n` fuzzers at once (copies
//! of itself from slot 4, in `peer` mode, seeds `seed`, `seed + 1`, ...),
//! each with a share of its memory and a *shared endpoint* they all serve
//! and call, so capabilities travel between the processes. It waits for
//! them and checks that every one exited 0 and that its budget
//! (`memory_info` of slot 3) is back to what it was before.

use ferrous_rt::abi::{ExitStatus, Grant, Handle, PAGE_SIZE, Rights, WAIT_FOREVER, initial};
use ferrous_rt::{println, sys};

/// Starts `n` peers and checks that they all exit 0 and that this
/// process's budget comes back whole.
pub fn swarm(n: u64, seed: u64, count: u64) -> i32 {
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
