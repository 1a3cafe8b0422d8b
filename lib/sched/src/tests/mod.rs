//! Unit tests, one behaviour each, by topic: `order` (priority,
//! round-robin, preemption), `budget`, `placement` (CPUs, balancing,
//! stealing), `events` (reasons, `Display`, errors), `handoff`; `props`
//! holds the property tests. The helpers here are shared.

use super::*;
use std::string::ToString;
use std::vec::Vec;

mod budget;
mod events;
mod handoff;
mod order;
mod placement;
mod props;

const MS: u64 = 1_000_000;
const SLICE: u64 = 10 * MS;
const C0: CpuId = CpuId(0);
const C1: CpuId = CpuId(1);
const C2: CpuId = CpuId(2);

fn sched(cpus: u16) -> Scheduler {
    Scheduler::new(Config {
        cpus,
        time_slice_ns: SLICE,
    })
}

/// Collects events; `s()` is the sink to pass, `take()` drains.
#[derive(Default)]
struct Log(Vec<Event>);

impl Log {
    fn s(&mut self) -> impl FnMut(Event) + '_ {
        |e| self.0.push(e)
    }

    fn take(&mut self) -> Vec<Event> {
        core::mem::take(&mut self.0)
    }
}

fn nop() -> impl FnMut(Event) {
    |_| {}
}

fn add(s: &mut Scheduler, priority: u8) -> ThreadId {
    s.add_thread(Priority(priority), None, None).unwrap()
}

fn pinned(s: &mut Scheduler, priority: u8, cpu: CpuId) -> ThreadId {
    s.add_thread(Priority(priority), Some(cpu), None).unwrap()
}

fn start(s: &mut Scheduler, priority: u8) -> ThreadId {
    let t = add(s, priority);
    s.make_ready(t, WakeReason::Created, 0, &mut nop()).unwrap();
    t
}

/// Queues ready, unpinned threads on `cpu` regardless of placement: pinned
/// there first, then unpinned in place.
fn pile(s: &mut Scheduler, cpu: CpuId, priorities: &[u8]) -> Vec<ThreadId> {
    priorities
        .iter()
        .map(|&p| {
            let t = pinned(s, p, cpu);
            s.make_ready(t, WakeReason::Created, 0, &mut nop()).unwrap();
            s.set_affinity(t, None, &mut nop()).unwrap();
            t
        })
        .collect()
}

fn picks(events: &[Event]) -> Vec<(ThreadId, PickReason)> {
    events
        .iter()
        .filter_map(|e| match *e {
            Event::Pick { thread, reason, .. } => Some((thread, reason)),
            _ => None,
        })
        .collect()
}
