//! Unit tests, one behaviour each: ordering, round-robin, preemption,
//! budgets, placement, balancing, stealing, events and errors.

use super::*;
use std::string::ToString;
use std::vec::Vec;

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

#[test]
fn strict_priority_order() {
    let mut s = sched(1);
    let order = [5, 20, 10, 63, 0];
    let ids: Vec<_> = order.iter().map(|&p| start(&mut s, p)).collect();
    let mut log = Log::default();
    let mut ran = Vec::new();
    let mut next = s.pick_next(C0, 0, &mut log.s());
    while let Some(t) = next {
        ran.push(s.priority(t).unwrap().0);
        s.check_invariants().unwrap();
        next = s.exit_current(C0, 0, &mut log.s());
    }
    assert_eq!(ran, [63, 20, 10, 5, 0]);
    let events = log.take();
    let reasons: Vec<_> = picks(&events).into_iter().map(|(_, r)| r).collect();
    assert_eq!(reasons[0], PickReason::HighestPriority);
    assert_eq!(*reasons.last().unwrap(), PickReason::OnlyRunnable);
    assert_eq!(events.last(), Some(&Event::Idle { cpu: C0 }));
    assert_eq!(s.current(C0), None);
    for t in ids {
        assert_eq!(s.state(t), Ok(ThreadState::Exited));
    }
}

#[test]
fn round_robin_within_a_level() {
    let mut s = sched(1);
    let ids: Vec<_> = (0..3).map(|_| start(&mut s, 10)).collect();
    let mut log = Log::default();
    let mut now = 0;
    let mut turns = vec![s.pick_next(C0, now, &mut log.s()).unwrap()];
    for _ in 0..30 * 10 {
        now += MS;
        if s.tick(C0, now, &mut log.s()) {
            turns.push(s.pick_next(C0, now, &mut log.s()).unwrap());
        }
        s.check_invariants().unwrap();
    }
    // One slice each, in turn.
    assert_eq!(turns.len(), 31);
    for (k, t) in turns.iter().enumerate() {
        assert_eq!(*t, ids[k % 3]);
    }
    for &t in &ids {
        assert_eq!(s.stats(t).unwrap().runtime_ns, 10 * SLICE);
    }
    let events = log.take();
    let slice_preempts = events
        .iter()
        .filter(|e| {
            matches!(
                e,
                Event::Preempt {
                    reason: PreemptReason::SliceExpired,
                    ..
                }
            )
        })
        .count();
    assert_eq!(slice_preempts, 30);
    assert!(
        picks(&events)[1..]
            .iter()
            .all(|&(_, r)| r == PickReason::RoundRobin)
    );
}

#[test]
fn a_lone_thread_keeps_running_past_its_slice() {
    let mut s = sched(1);
    let t = start(&mut s, 10);
    let lower = start(&mut s, 3);
    let mut log = Log::default();
    assert_eq!(s.pick_next(C0, 0, &mut log.s()), Some(t));
    log.take();
    for k in 1..=50 {
        assert!(!s.tick(C0, k * MS, &mut log.s()));
    }
    // pick_next without a reason to switch changes nothing.
    assert_eq!(s.pick_next(C0, 50 * MS, &mut log.s()), Some(t));
    assert_eq!(log.take(), []);
    assert_eq!(s.state(lower), Ok(ThreadState::Ready { cpu: C0 }));
    // An equal-priority arrival gets the CPU at the next tick.
    let peer = start(&mut s, 10);
    assert!(s.tick(C0, 51 * MS, &mut log.s()));
    assert_eq!(s.pick_next(C0, 51 * MS, &mut log.s()), Some(peer));
}

#[test]
fn a_woken_higher_priority_thread_preempts() {
    let mut s = sched(1);
    let a = start(&mut s, 5);
    let b = start(&mut s, 5);
    let high = add(&mut s, 30);
    let mut log = Log::default();
    assert_eq!(s.pick_next(C0, 0, &mut log.s()), Some(a));
    for k in 1..=4 {
        assert!(!s.tick(C0, k * MS, &mut log.s()));
    }
    // A lower-priority wake does not disturb it.
    let low = add(&mut s, 1);
    assert_eq!(
        s.make_ready(low, WakeReason::Interrupt, 4 * MS, &mut log.s()),
        Ok(None)
    );
    log.take();
    assert_eq!(
        s.make_ready(high, WakeReason::ByThread(a), 4 * MS, &mut log.s()),
        Ok(Some(C0))
    );
    assert!(s.needs_resched(C0));
    assert_eq!(s.pick_next(C0, 4 * MS, &mut log.s()), Some(high));
    assert_eq!(
        log.take(),
        [
            Event::Wake {
                thread: high,
                cpu: C0,
                reason: WakeReason::ByThread(a)
            },
            Event::Preempt {
                cpu: C0,
                thread: a,
                reason: PreemptReason::HigherPriority { by: high }
            },
            Event::Pick {
                cpu: C0,
                thread: high,
                priority: Priority(30),
                reason: PickReason::HighestPriority
            },
        ]
    );
    // `a` kept its place ahead of `b` and the rest of its slice: 6 ms more.
    assert_eq!(s.exit_current(C0, 5 * MS, &mut log.s()), Some(a));
    for k in 6..11 {
        assert!(!s.tick(C0, k * MS, &mut log.s()));
    }
    assert!(s.tick(C0, 11 * MS, &mut log.s()));
    assert_eq!(s.pick_next(C0, 11 * MS, &mut log.s()), Some(b));
    assert_eq!(s.stats(a).unwrap().runtime_ns, SLICE);
    assert_eq!(s.stats(a).unwrap().preempted, 2);
    assert_eq!(s.stats(high).unwrap().runtime_ns, MS);
}

#[test]
fn waking_onto_an_idle_cpu_asks_for_a_reschedule() {
    let mut s = sched(2);
    let t = add(&mut s, 1);
    let cpu = s.make_ready(t, WakeReason::Created, 0, &mut nop()).unwrap();
    assert_eq!(cpu, Some(C0));
    // Placement spreads: C0 has a ready thread, so C1 is less loaded.
    let u = add(&mut s, 1);
    assert_eq!(
        s.make_ready(u, WakeReason::Created, 0, &mut nop()),
        Ok(Some(C1))
    );
}

#[test]
fn budget_throttles_and_refills_at_the_period_boundary() {
    let mut s = sched(1);
    let budget = Budget {
        period_ns: 10 * MS,
        quota_ns: 2 * MS,
    };
    let h = s.add_thread(Priority(20), None, Some(budget)).unwrap();
    let l = add(&mut s, 1);
    let mut log = Log::default();
    s.make_ready(h, WakeReason::Created, 0, &mut log.s())
        .unwrap();
    s.make_ready(l, WakeReason::Created, 0, &mut log.s())
        .unwrap();
    assert_eq!(s.pick_next(C0, 0, &mut log.s()), Some(h));
    log.take();
    let mut per_period = Vec::new();
    let mut last = 0;
    for k in 1..=50 {
        let now = k * MS;
        if s.tick(C0, now, &mut log.s()) {
            s.pick_next(C0, now, &mut log.s());
        }
        s.check_invariants().unwrap();
        if k == 3 {
            assert_eq!(s.state(h), Ok(ThreadState::Throttled));
            assert_eq!(s.current(C0), Some(l));
            assert_eq!(s.next_refill(), Some(10 * MS));
        }
        if k % 10 == 0 {
            let run = s.stats(h).unwrap().runtime_ns;
            per_period.push(run - last);
            last = run;
        }
    }
    assert_eq!(per_period, [2 * MS; 5]);
    assert_eq!(s.stats(l).unwrap().runtime_ns, 40 * MS);
    let events = log.take();
    assert_eq!(
        events[..2],
        [
            Event::Preempt {
                cpu: C0,
                thread: h,
                reason: PreemptReason::BudgetExhausted
            },
            Event::Pick {
                cpu: C0,
                thread: l,
                priority: Priority(1),
                reason: PickReason::OnlyRunnable
            },
        ]
    );
    assert_eq!(
        events[2],
        Event::Wake {
            thread: h,
            cpu: C0,
            reason: WakeReason::Refill
        }
    );
    let stats = s.stats(h).unwrap();
    assert_eq!((stats.throttled, stats.woken), (5, 6));
}

#[test]
fn a_thread_woken_over_budget_waits_for_the_refill() {
    let mut s = sched(1);
    let budget = Budget {
        period_ns: 10 * MS,
        quota_ns: 2 * MS,
    };
    let t = s.add_thread(Priority(20), None, Some(budget)).unwrap();
    s.make_ready(t, WakeReason::Created, 0, &mut nop()).unwrap();
    s.pick_next(C0, 0, &mut nop());
    // Blocks after 3 ms: over quota, but blocking wins.
    assert_eq!(
        s.block_current(C0, BlockReason::Sleep, 3 * MS, &mut nop()),
        None
    );
    assert_eq!(
        s.make_ready(t, WakeReason::Timeout, 4 * MS, &mut nop()),
        Ok(None)
    );
    assert_eq!(s.state(t), Ok(ThreadState::Throttled));
    assert!(!s.tick(C0, 9 * MS, &mut nop()));
    assert!(s.tick(C0, 10 * MS, &mut nop()));
    assert_eq!(s.state(t), Ok(ThreadState::Ready { cpu: C0 }));
    // Raising the quota releases a throttled thread at once.
    s.pick_next(C0, 10 * MS, &mut nop());
    s.tick(C0, 12 * MS, &mut nop());
    s.pick_next(C0, 12 * MS, &mut nop());
    assert_eq!(s.state(t), Ok(ThreadState::Throttled));
    let bigger = Budget {
        period_ns: 10 * MS,
        quota_ns: 5 * MS,
    };
    assert_eq!(
        s.set_budget(t, Some(bigger), 13 * MS, &mut nop()),
        Ok(Some(C0))
    );
    assert_eq!(s.pick_next(C0, 13 * MS, &mut nop()), Some(t));
    // Cutting the quota below what a ready thread used throttles it.
    let other = start(&mut s, 30);
    assert_eq!(s.pick_next(C0, 14 * MS, &mut nop()), Some(other));
    let smaller = Budget {
        period_ns: 10 * MS,
        quota_ns: MS,
    };
    assert_eq!(
        s.set_budget(t, Some(smaller), 14 * MS, &mut nop()),
        Ok(None)
    );
    assert_eq!(s.state(t), Ok(ThreadState::Throttled));
    s.check_invariants().unwrap();
}

#[test]
fn affinity_is_respected() {
    let mut s = sched(3);
    let busy = pinned(&mut s, 10, C2);
    let t = pinned(&mut s, 5, C2);
    let mut log = Log::default();
    s.make_ready(busy, WakeReason::Created, 0, &mut log.s())
        .unwrap();
    assert_eq!(s.pick_next(C2, 0, &mut log.s()), Some(busy));
    // C0 and C1 are idle, yet `t` queues behind `busy` on C2.
    assert_eq!(
        s.make_ready(t, WakeReason::Created, 0, &mut log.s()),
        Ok(None)
    );
    assert_eq!(s.state(t), Ok(ThreadState::Ready { cpu: C2 }));
    assert!(!s.tick(C0, MS, &mut log.s()));
    assert_eq!(s.pick_next(C0, MS, &mut log.s()), None);
    assert_eq!(s.balance(MS, &mut log.s()), 0);
    assert_eq!(s.state(t), Ok(ThreadState::Ready { cpu: C2 }));
    // Re-pinning a ready thread moves it.
    log.take();
    assert_eq!(s.set_affinity(t, Some(C1), &mut log.s()), Ok(Some(C1)));
    assert_eq!(
        log.take(),
        [Event::Migrate {
            thread: t,
            from: C2,
            to: C1,
            reason: MigrateReason::Affinity
        }]
    );
    // Re-pinning a running thread moves it at its next pick.
    assert_eq!(s.set_affinity(busy, Some(C0), &mut log.s()), Ok(Some(C2)));
    assert_eq!(s.pick_next(C2, MS, &mut log.s()), None);
    assert_eq!(s.state(busy), Ok(ThreadState::Ready { cpu: C0 }));
    s.check_invariants().unwrap();
}

#[test]
fn wake_placement_prefers_the_last_cpu() {
    let mut s = sched(2);
    let t = start(&mut s, 10);
    assert_eq!(s.pick_next(C0, 0, &mut nop()), Some(t));
    s.block_current(C0, BlockReason::Ipc, MS, &mut nop());
    // C0 runs lower-priority work: `t` goes back there.
    let low = pinned(&mut s, 3, C0);
    s.make_ready(low, WakeReason::Created, MS, &mut nop())
        .unwrap();
    s.pick_next(C0, MS, &mut nop());
    assert_eq!(
        s.make_ready(t, WakeReason::Interrupt, 2 * MS, &mut nop()),
        Ok(Some(C0))
    );
    s.pick_next(C0, 2 * MS, &mut nop());
    s.block_current(C0, BlockReason::Ipc, 3 * MS, &mut nop());
    // Now C0 runs higher-priority work: `t` goes to the idle C1.
    let high = pinned(&mut s, 40, C0);
    s.make_ready(high, WakeReason::Created, 3 * MS, &mut nop())
        .unwrap();
    s.pick_next(C0, 3 * MS, &mut nop());
    let mut log = Log::default();
    assert_eq!(
        s.make_ready(t, WakeReason::Interrupt, 4 * MS, &mut log.s()),
        Ok(Some(C1))
    );
    assert_eq!(
        log.take()[0],
        Event::Migrate {
            thread: t,
            from: C0,
            to: C1,
            reason: MigrateReason::Balance {
                from_load: 2,
                to_load: 0
            }
        }
    );
}

#[test]
fn balance_moves_lowest_priority_unpinned_ready_threads() {
    let mut s = sched(3);
    let ready = pile(&mut s, C0, &[10, 3, 7, 3, 12]);
    let pin = pinned(&mut s, 1, C0);
    s.make_ready(pin, WakeReason::Created, 0, &mut nop())
        .unwrap();
    assert_eq!(s.pick_next(C0, 0, &mut nop()), Some(ready[4]));
    assert_eq!(s.load(C0), 6);
    let mut log = Log::default();
    let moved = s.balance(MS, &mut log.s());
    s.check_invariants().unwrap();
    assert_eq!(moved, 4);
    assert_eq!((s.load(C0), s.load(C1), s.load(C2)), (2, 2, 2));
    // The running and the pinned thread stayed.
    assert_eq!(s.current(C0), Some(ready[4]));
    assert_eq!(s.state(pin), Ok(ThreadState::Ready { cpu: C0 }));
    let events = log.take();
    // Lowest priority first, newest of a level first; loads before the move.
    assert_eq!(
        events[0],
        Event::Migrate {
            thread: ready[3],
            from: C0,
            to: C1,
            reason: MigrateReason::Balance {
                from_load: 6,
                to_load: 0
            }
        }
    );
    let order: Vec<_> = events
        .iter()
        .map(|e| match *e {
            Event::Migrate { thread, .. } => thread,
            _ => panic!("unexpected {e:?}"),
        })
        .collect();
    assert_eq!(order, [ready[3], ready[1], ready[2], ready[0]]);
    // Balanced: a second pass does nothing.
    assert_eq!(s.balance(2 * MS, &mut log.s()), 0);
}

#[test]
fn an_idle_cpu_steals_from_the_busiest() {
    let mut s = sched(3);
    let on0 = pile(&mut s, C0, &[10, 9, 9]);
    let pin = pinned(&mut s, 20, C1);
    s.make_ready(pin, WakeReason::Created, 0, &mut nop())
        .unwrap();
    let on1 = pile(&mut s, C1, &[15])[0];
    s.pick_next(C0, 0, &mut nop());
    s.pick_next(C1, 0, &mut nop());
    assert_eq!(s.current(C1), Some(pin));
    // C2 is idle and C0 (load 3) is busiest: it takes C0's best waiting
    // thread, the older of the two 9s.
    assert!(s.tick(C2, MS, &mut nop()));
    let mut log = Log::default();
    assert_eq!(s.pick_next(C2, MS, &mut log.s()), Some(on0[1]));
    assert_eq!(
        log.take(),
        [
            Event::Migrate {
                thread: on0[1],
                from: C0,
                to: C2,
                reason: MigrateReason::Steal
            },
            Event::Pick {
                cpu: C2,
                thread: on0[1],
                priority: Priority(9),
                reason: PickReason::Stolen { from: C0 }
            },
        ]
    );
    // Loads are now 2, 2, 1: C2 steals again when it has nothing (ties go to
    // the lower CPU number).
    assert_eq!(s.exit_current(C2, 2 * MS, &mut log.s()), Some(on0[2]));
    assert_eq!(s.exit_current(C2, 3 * MS, &mut log.s()), Some(on1));
    // Only the running and pinned threads are left: nothing to steal.
    assert_eq!(s.exit_current(C2, 4 * MS, &mut log.s()), None);
    assert!(!s.tick(C2, 5 * MS, &mut log.s()));
    s.check_invariants().unwrap();
}

#[test]
fn yield_rotates_within_the_level() {
    let mut s = sched(1);
    let a = start(&mut s, 8);
    let b = start(&mut s, 8);
    let mut log = Log::default();
    s.pick_next(C0, 0, &mut log.s());
    log.take();
    s.yield_now(C0, MS, &mut log.s());
    assert_eq!(s.current(C0), Some(b));
    // The kernel's follow-up pick_next is a no-op.
    assert_eq!(s.pick_next(C0, MS, &mut log.s()), Some(b));
    assert_eq!(
        log.take(),
        [
            Event::Preempt {
                cpu: C0,
                thread: a,
                reason: PreemptReason::Yielded
            },
            Event::Pick {
                cpu: C0,
                thread: b,
                priority: Priority(8),
                reason: PickReason::RoundRobin
            },
        ]
    );
    s.exit_current(C0, 2 * MS, &mut nop());
    s.yield_now(C0, 3 * MS, &mut log.s());
    assert_eq!(s.current(C0), Some(a));
    assert_eq!(picks(&log.take()), [(a, PickReason::OnlyRunnable)]);
    assert_eq!(s.stats(a).unwrap().yielded, 2);
}

#[test]
fn block_and_wake_report_reasons() {
    let mut s = sched(1);
    let a = start(&mut s, 8);
    let b = start(&mut s, 4);
    let mut log = Log::default();
    s.pick_next(C0, 0, &mut log.s());
    log.take();
    assert_eq!(
        s.block_current(C0, BlockReason::WaitQueue(7), MS, &mut log.s()),
        Some(b)
    );
    assert_eq!(
        s.state(a),
        Ok(ThreadState::Blocked(BlockReason::WaitQueue(7)))
    );
    assert_eq!(
        s.make_ready(a, WakeReason::ByThread(b), 2 * MS, &mut log.s()),
        Ok(Some(C0))
    );
    let text: Vec<_> = log.take().iter().map(ToString::to_string).collect();
    assert_eq!(
        text,
        [
            "cpu0: T0 blocked: waiting on queue 0x7",
            "cpu0: runs T1 (priority 4): only runnable thread",
            "T0 ready on cpu0: woken by T1",
        ]
    );
    assert_eq!(s.stats(a).unwrap().blocked, 1);
    assert_eq!(
        s.make_ready(a, WakeReason::Timeout, 2 * MS, &mut log.s()),
        Err(SchedError::WrongState {
            thread: a,
            state: ThreadState::Ready { cpu: C0 }
        })
    );
}

#[test]
fn display_explains() {
    let t = ThreadId {
        index: 7,
        generation: 3,
    };
    let u = ThreadId {
        index: 2,
        generation: 0,
    };
    let cases: [(&dyn core::fmt::Display, &str); 14] = [
        (&t, "T7"),
        (
            &PreemptReason::SliceExpired,
            "preempted: time slice expired",
        ),
        (&WakeReason::ByThread(t), "woken by T7"),
        (
            &Event::Preempt {
                cpu: C1,
                thread: u,
                reason: PreemptReason::HigherPriority { by: t },
            },
            "cpu1: T2 preempted by higher-priority T7",
        ),
        (
            &Event::Preempt {
                cpu: C0,
                thread: u,
                reason: PreemptReason::BudgetExhausted,
            },
            "cpu0: T2 preempted: budget exhausted for this period",
        ),
        (
            &Event::Pick {
                cpu: C0,
                thread: u,
                priority: Priority(5),
                reason: PickReason::Stolen { from: C2 },
            },
            "cpu0: runs T2 (priority 5): stolen from cpu2",
        ),
        (&Event::Idle { cpu: C1 }, "cpu1: idle: nothing runnable"),
        (
            &Event::Block {
                cpu: C0,
                thread: u,
                reason: BlockReason::Join(t),
            },
            "cpu0: T2 blocked: joining T7",
        ),
        (
            &Event::Wake {
                thread: u,
                cpu: C1,
                reason: WakeReason::Refill,
            },
            "T2 ready on cpu1: budget refilled",
        ),
        (
            &Event::Migrate {
                thread: u,
                from: C0,
                to: C1,
                reason: MigrateReason::Balance {
                    from_load: 4,
                    to_load: 1,
                },
            },
            "T2 moved cpu0 -> cpu1: load balance (load 4 vs 1)",
        ),
        (&Event::Exit { thread: u, cpu: C0 }, "cpu0: T2 exited"),
        (&BlockReason::Other("page fault"), "page fault"),
        (&ThreadState::Ready { cpu: C2 }, "ready on cpu2"),
        (
            &SchedError::WrongState {
                thread: t,
                state: ThreadState::Exited,
            },
            "T7 is exited",
        ),
    ];
    for (value, text) in cases {
        assert_eq!(value.to_string(), text);
    }
}

#[test]
fn stale_ids_are_detected() {
    let mut s = sched(1);
    let a = start(&mut s, 1);
    s.pick_next(C0, 0, &mut nop());
    assert_eq!(
        s.remove(a),
        Err(SchedError::WrongState {
            thread: a,
            state: ThreadState::Running { cpu: C0 }
        })
    );
    s.exit_current(C0, 5, &mut nop());
    let stats = s.remove(a).unwrap();
    assert_eq!((stats.runtime_ns, stats.scheduled), (5, 1));
    assert_eq!(s.state(a), Err(SchedError::NoSuchThread(a)));
    assert_eq!(s.remove(a), Err(SchedError::NoSuchThread(a)));
    assert_eq!(
        s.make_ready(a, WakeReason::Created, 0, &mut nop()),
        Err(SchedError::NoSuchThread(a))
    );
    // The slot is reused under a new generation.
    let b = add(&mut s, 1);
    assert_eq!((b.index, b.generation), (a.index, a.generation + 1));
    assert_eq!(s.state(a), Err(SchedError::NoSuchThread(a)));
    assert_eq!(s.state(b), Ok(ThreadState::New));
    assert_eq!(s.threads(), 1);
    let never = ThreadId {
        index: 99,
        generation: 0,
    };
    assert_eq!(s.stats(never), Err(SchedError::NoSuchThread(never)));
    // A slot whose generation would wrap is retired, not reused.
    let b = s.force_generation(b, u32::MAX);
    s.remove(b).unwrap();
    assert_ne!(add(&mut s, 1).index, b.index);
    s.check_invariants().unwrap();
}

#[test]
fn misuse_is_an_error_not_a_panic() {
    let mut s = sched(2);
    let t = add(&mut s, 1);
    assert_eq!(
        s.add_thread(Priority(64), None, None),
        Err(SchedError::BadPriority(64))
    );
    assert_eq!(
        s.add_thread(Priority(1), Some(C2), None),
        Err(SchedError::BadCpu(C2))
    );
    let bad = Budget {
        period_ns: 5,
        quota_ns: 6,
    };
    assert_eq!(
        s.add_thread(Priority(1), None, Some(bad)),
        Err(SchedError::BadBudget(bad))
    );
    let zero = Budget {
        period_ns: 0,
        quota_ns: 0,
    };
    assert_eq!(
        s.set_budget(t, Some(zero), 0, &mut nop()),
        Err(SchedError::BadBudget(zero))
    );
    assert_eq!(
        s.set_priority(t, Priority(200), &mut nop()),
        Err(SchedError::BadPriority(200))
    );
    assert_eq!(
        s.set_affinity(t, Some(CpuId(9)), &mut nop()),
        Err(SchedError::BadCpu(CpuId(9)))
    );
    assert_eq!(Priority::new(63), Ok(Priority::MAX));
    assert_eq!(Priority::new(64), Err(SchedError::BadPriority(64)));
    // Methods without a Result ignore an unknown CPU.
    let far = CpuId(u16::MAX);
    assert_eq!(s.pick_next(far, 0, &mut nop()), None);
    assert!(!s.tick(far, 0, &mut nop()));
    s.yield_now(far, 0, &mut nop());
    assert_eq!(
        s.block_current(far, BlockReason::Sleep, 0, &mut nop()),
        None
    );
    assert_eq!(s.exit_current(far, 0, &mut nop()), None);
    assert_eq!(s.current(far), None);
    assert_eq!(s.load(far), 0);
    assert!(!s.needs_resched(far));
    assert_eq!(s.queued(far).count(), 0);
    // Blocking or exiting with nothing running only picks.
    assert_eq!(s.block_current(C0, BlockReason::Sleep, 0, &mut nop()), None);
    // Time going backwards charges nothing.
    s.make_ready(t, WakeReason::Created, 100, &mut nop())
        .unwrap();
    s.pick_next(C0, 100, &mut nop());
    s.tick(C0, 50, &mut nop());
    s.tick(C0, 120, &mut nop());
    assert_eq!(s.stats(t).unwrap().runtime_ns, 20);
    s.check_invariants().unwrap();
    // Zero CPUs and a zero slice are clamped.
    let z = Scheduler::new(Config {
        cpus: 0,
        time_slice_ns: 0,
    });
    assert_eq!((z.cpus(), z.time_slice_ns()), (1, 1));
}

#[test]
fn set_priority_reorders_and_asks_for_preemption() {
    let mut s = sched(1);
    let a = start(&mut s, 10);
    let b = start(&mut s, 5);
    let c = start(&mut s, 5);
    s.pick_next(C0, 0, &mut nop());
    assert_eq!(s.queued(C0).collect::<Vec<_>>(), [b, c]);
    // Raising a ready thread above the running one.
    assert_eq!(s.set_priority(c, Priority(11), &mut nop()), Ok(Some(C0)));
    assert_eq!(s.queued(C0).collect::<Vec<_>>(), [c, b]);
    let mut log = Log::default();
    assert_eq!(s.pick_next(C0, MS, &mut log.s()), Some(c));
    assert_eq!(
        log.take()[0],
        Event::Preempt {
            cpu: C0,
            thread: a,
            reason: PreemptReason::HigherPriority { by: c }
        }
    );
    // Lowering the running thread below a ready one.
    assert_eq!(s.set_priority(c, Priority(10), &mut nop()), Ok(None));
    assert_eq!(s.set_priority(c, Priority(2), &mut nop()), Ok(Some(C0)));
    assert_eq!(s.pick_next(C0, 2 * MS, &mut nop()), Some(a));
    assert_eq!(s.priority(c), Ok(Priority(2)));
    s.check_invariants().unwrap();
}

#[test]
fn pick_is_constant_time_in_the_number_of_ready_threads() {
    // The pick reads the bitmap's top bit and that level's head; neither
    // depends on how many threads wait. Check it picks right at both sizes.
    for n in [10u32, 1000] {
        let mut s = sched(1);
        let ids: Vec<_> = (0..n).map(|i| start(&mut s, (i % 64) as u8)).collect();
        // The first thread of the highest level present.
        let want = if n < 64 { ids[n as usize - 1] } else { ids[63] };
        assert_eq!(s.pick_next(C0, 0, &mut nop()), Some(want));
        let mut prev = u8::MAX;
        for _ in 1..n.min(200) {
            let t = s.exit_current(C0, 0, &mut nop()).unwrap();
            let p = s.priority(t).unwrap().0;
            assert!(p <= prev);
            prev = p;
            let queued_max = s.queued(C0).next().map(|q| s.priority(q).unwrap().0);
            assert!(queued_max.is_none_or(|q| q <= p));
        }
        s.check_invariants().unwrap();
    }
}

#[test]
fn wait_queue_is_priority_ordered_then_fifo() {
    let id = |index| ThreadId {
        index,
        generation: 0,
    };
    let mut q = WaitQueue::new();
    assert!(q.is_empty());
    for (t, p) in [(0, 5), (1, 9), (2, 5), (3, 1), (4, 9)] {
        q.push(id(t), Priority(p)).unwrap();
    }
    assert_eq!(
        q.push(id(2), Priority(3)),
        Err(SchedError::AlreadyQueued(id(2)))
    );
    assert_eq!(
        q.push(id(7), Priority(64)),
        Err(SchedError::BadPriority(64))
    );
    assert_eq!(q.len(), 5);
    assert_eq!(
        q.iter().collect::<Vec<_>>(),
        [id(1), id(4), id(0), id(2), id(3)]
    );
    assert!(q.remove(id(4)));
    assert!(!q.remove(id(4)));
    assert_eq!(q.peek(), Some(id(1)));
    let order: Vec<_> = core::iter::from_fn(|| q.pop()).collect();
    assert_eq!(order, [id(1), id(0), id(2), id(3)]);
    assert_eq!(q.pop(), None);
}

#[test]
fn offline_cpus_get_no_unpinned_work() {
    let mut s = sched(4);
    for c in 1..4 {
        s.set_online(CpuId(c), false).unwrap();
    }
    assert!(s.is_online(C0) && !s.is_online(C1));
    for _ in 0..5 {
        let t = start(&mut s, 10);
        assert_eq!(
            s.state(t).unwrap().cpu(),
            Some(C0),
            "placed on an offline CPU"
        );
    }
    // Balancing has nowhere to go either.
    assert_eq!(s.balance(0, &mut nop()), 0);
    // A thread pinned to an offline CPU waits there for it.
    let p = pinned(&mut s, 10, C2);
    s.make_ready(p, WakeReason::Created, 0, &mut nop()).unwrap();
    assert_eq!(s.state(p).unwrap().cpu(), Some(C2));
    assert_eq!(
        s.set_online(CpuId(9), true),
        Err(SchedError::BadCpu(CpuId(9)))
    );
    s.check_invariants().unwrap();
}

#[test]
fn balance_rescues_work_stranded_on_an_offline_cpu() {
    let mut s = sched(3);
    let stranded = pile(&mut s, C2, &[5]);
    s.set_online(C2, false).unwrap();
    // One thread is no imbalance between online CPUs, but C2 never runs.
    let mut log = Log::default();
    assert_eq!(s.balance(0, &mut log.s()), 1);
    let cpu = s.state(stranded[0]).unwrap().cpu();
    assert!(
        cpu == Some(C0) || cpu == Some(C1),
        "still stranded: {cpu:?}"
    );
    assert!(
        log.take()
            .iter()
            .any(|e| matches!(e, Event::Migrate { from: C2, .. }))
    );
    s.check_invariants().unwrap();
}

/// Everything a refused handoff must leave alone, as the public API sees it.
#[derive(Debug, PartialEq)]
struct Snapshot {
    states: Vec<Result<ThreadState, SchedError>>,
    stats: Vec<Result<ThreadStats, SchedError>>,
    current: Vec<Option<ThreadId>>,
    queued: Vec<Vec<ThreadId>>,
    loads: Vec<usize>,
}

fn snapshot(s: &Scheduler, ids: &[ThreadId]) -> Snapshot {
    let cpus = (0..s.cpus()).map(CpuId);
    Snapshot {
        states: ids.iter().map(|&t| s.state(t)).collect(),
        stats: ids.iter().map(|&t| s.stats(t)).collect(),
        current: cpus.clone().map(|c| s.current(c)).collect(),
        queued: cpus.clone().map(|c| s.queued(c).collect()).collect(),
        loads: cpus.map(|c| s.load(c)).collect(),
    }
}

/// Asserts that `handoff` is refused with `want` and changes nothing.
fn refused(
    s: &mut Scheduler,
    ids: &[ThreadId],
    cpu: CpuId,
    to: ThreadId,
    now: u64,
    want: HandoffError,
) {
    let before = snapshot(s, ids);
    let mut log = Log::default();
    assert_eq!(
        s.handoff(cpu, BlockReason::Ipc, to, now, &mut log.s()),
        Err(want)
    );
    assert_eq!(log.take(), []);
    assert_eq!(snapshot(s, ids), before);
    s.check_invariants().unwrap();
}

/// `server` (priority `p`) runs from 0 to `ran` and blocks in IPC; then
/// `client` (priority `p`) starts and runs on C0.
fn client_and_server(s: &mut Scheduler, p: u8, ran: u64) -> (ThreadId, ThreadId) {
    let server = start(s, p);
    assert_eq!(s.pick_next(C0, 0, &mut nop()), Some(server));
    assert_eq!(s.block_current(C0, BlockReason::Ipc, ran, &mut nop()), None);
    let client = add(s, p);
    s.make_ready(client, WakeReason::Created, ran, &mut nop())
        .unwrap();
    assert_eq!(s.pick_next(C0, ran, &mut nop()), Some(client));
    (client, server)
}

#[test]
fn handoff_switches_straight_to_the_woken_thread() {
    let mut s = sched(1);
    let (client, server) = client_and_server(&mut s, 10, MS);
    let bg = start(&mut s, 3);
    let load = s.load(C0);
    let mut log = Log::default();
    // call: the client blocks, the server runs at once.
    assert_eq!(
        s.handoff(C0, BlockReason::Ipc, server, 4 * MS, &mut log.s()),
        Ok(())
    );
    assert_eq!(s.current(C0), Some(server));
    assert_eq!(s.state(server), Ok(ThreadState::Running { cpu: C0 }));
    assert_eq!(s.state(client), Ok(ThreadState::Blocked(BlockReason::Ipc)));
    assert_eq!(s.state(bg), Ok(ThreadState::Ready { cpu: C0 }));
    assert_eq!(s.queued(C0).collect::<Vec<_>>(), [bg]);
    assert_eq!(s.load(C0), load);
    s.check_invariants().unwrap();
    let events = log.take();
    assert_eq!(
        events,
        [
            Event::Block {
                cpu: C0,
                thread: client,
                reason: BlockReason::Ipc
            },
            Event::Wake {
                thread: server,
                cpu: C0,
                reason: WakeReason::ByThread(client)
            },
            Event::Pick {
                cpu: C0,
                thread: server,
                priority: Priority(10),
                reason: PickReason::Handoff { from: client }
            },
        ]
    );
    let text: Vec<_> = events.iter().map(ToString::to_string).collect();
    assert_eq!(
        text,
        [
            "cpu0: T1 blocked: waiting for IPC",
            "T0 ready on cpu0: woken by T1",
            "cpu0: runs T0 (priority 10): direct handoff from T1",
        ]
    );
    // Nothing left for the general path to do.
    assert!(!s.needs_resched(C0));
    assert!(!s.tick(C0, 4 * MS, &mut log.s()));
    assert_eq!(s.pick_next(C0, 4 * MS, &mut log.s()), Some(server));
    assert_eq!(log.take(), []);

    // reply_recv: the server blocks again, the client runs.
    assert_eq!(
        s.handoff(C0, BlockReason::Ipc, client, 6 * MS, &mut log.s()),
        Ok(())
    );
    assert_eq!(s.current(C0), Some(client));
    assert_eq!(
        picks(&log.take()),
        [(client, PickReason::Handoff { from: server })]
    );
    s.check_invariants().unwrap();

    // The blocker is charged as a block charges it; the target is counted
    // as woken, scheduled and handed off to.
    let c = s.stats(client).unwrap();
    assert_eq!((c.runtime_ns, c.blocked, c.handoffs), (3 * MS, 1, 1));
    assert_eq!((c.woken, c.scheduled, c.migrated), (2, 2, 0));
    let v = s.stats(server).unwrap();
    assert_eq!((v.runtime_ns, v.blocked, v.handoffs), (3 * MS, 2, 1));
    assert_eq!((v.woken, v.scheduled, v.migrated), (2, 2, 0));
    assert_eq!(s.stats(bg).unwrap().scheduled, 0);
}

#[test]
fn handoff_to_a_thread_last_on_another_cpu_migrates_it() {
    let mut s = sched(2);
    let server = pinned(&mut s, 10, C1);
    s.make_ready(server, WakeReason::Created, 0, &mut nop())
        .unwrap();
    assert_eq!(s.pick_next(C1, 0, &mut nop()), Some(server));
    s.block_current(C1, BlockReason::Ipc, MS, &mut nop());
    s.set_affinity(server, None, &mut nop()).unwrap();
    let client = pinned(&mut s, 10, C0);
    s.make_ready(client, WakeReason::Created, MS, &mut nop())
        .unwrap();
    assert_eq!(s.pick_next(C0, MS, &mut nop()), Some(client));
    let mut log = Log::default();
    s.handoff(C0, BlockReason::Ipc, server, 2 * MS, &mut log.s())
        .unwrap();
    let events = log.take();
    assert_eq!(
        events[1],
        Event::Migrate {
            thread: server,
            from: C1,
            to: C0,
            reason: MigrateReason::Handoff
        }
    );
    assert_eq!(
        events[1].to_string(),
        "T0 moved cpu1 -> cpu0: direct handoff"
    );
    assert_eq!(events.len(), 4);
    assert_eq!(s.stats(server).unwrap().migrated, 1);
    assert_eq!((s.load(C0), s.load(C1)), (1, 0));
    // A pinned target may be handed its own CPU.
    let back = s.handoff(C0, BlockReason::Ipc, client, 3 * MS, &mut nop());
    assert_eq!(back, Ok(()));
    assert_eq!(s.current(C0), Some(client));
    s.check_invariants().unwrap();
}

#[test]
fn handoff_keeps_the_rest_of_the_slice() {
    let mut s = sched(1);
    // The server used 4 ms of its slice before blocking.
    let (client, server) = client_and_server(&mut s, 10, 4 * MS);
    let peer = start(&mut s, 10);
    // An equal-priority thread waits, but the server has 6 ms left: it may
    // go first.
    s.handoff(C0, BlockReason::Ipc, server, 5 * MS, &mut nop())
        .unwrap();
    for k in 6..11 {
        assert!(!s.tick(C0, k * MS, &mut nop()));
    }
    // After those 6 ms it is the peer's turn, not a fresh slice.
    assert!(s.tick(C0, 11 * MS, &mut nop()));
    let mut log = Log::default();
    assert_eq!(s.pick_next(C0, 11 * MS, &mut log.s()), Some(peer));
    assert_eq!(
        log.take()[0],
        Event::Preempt {
            cpu: C0,
            thread: server,
            reason: PreemptReason::SliceExpired
        }
    );
    assert_eq!(s.stats(server).unwrap().runtime_ns, 10 * MS);
    assert_eq!(s.queued(C0).collect::<Vec<_>>(), [server]);
    assert_eq!(s.state(client), Ok(ThreadState::Blocked(BlockReason::Ipc)));
    s.check_invariants().unwrap();
}

#[test]
fn handoff_refuses_a_target_whose_slice_is_spent_while_its_level_waits() {
    let mut s = sched(1);
    // The server used its whole slice before blocking.
    let (client, server) = client_and_server(&mut s, 10, SLICE);
    let peer = start(&mut s, 10);
    let ids = [client, server, peer];
    refused(
        &mut s,
        &ids,
        C0,
        server,
        SLICE + MS,
        HandoffError::SliceExpired {
            thread: server,
            waiting: peer,
        },
    );
    // The general path: the server gets a fresh slice behind the peer.
    s.make_ready(server, WakeReason::ByThread(client), SLICE + MS, &mut nop())
        .unwrap();
    assert_eq!(
        s.block_current(C0, BlockReason::Ipc, SLICE + MS, &mut nop()),
        Some(peer)
    );
    // With nobody waiting at its level, a spent slice does not matter.
    let mut s = sched(1);
    let (client, server) = client_and_server(&mut s, 10, SLICE);
    start(&mut s, 9);
    assert_eq!(
        s.handoff(C0, BlockReason::Ipc, server, SLICE + MS, &mut nop()),
        Ok(())
    );
    assert_eq!(s.state(client), Ok(ThreadState::Blocked(BlockReason::Ipc)));
    assert!(!s.needs_resched(C0));
}

#[test]
fn handoff_refuses_when_a_higher_priority_thread_is_ready() {
    let mut s = sched(1);
    let (client, server) = client_and_server(&mut s, 10, MS);
    // Woken while the client runs; the client has not been preempted yet.
    let high = add(&mut s, 11);
    assert_eq!(
        s.make_ready(high, WakeReason::Interrupt, 2 * MS, &mut nop()),
        Ok(Some(C0))
    );
    refused(
        &mut s,
        &[client, server, high],
        C0,
        server,
        2 * MS,
        HandoffError::Outranked {
            thread: server,
            by: high,
        },
    );
    // A ready thread of lower priority does not stop it.
    let mut s = sched(1);
    let (_, server) = client_and_server(&mut s, 10, MS);
    start(&mut s, 9);
    assert_eq!(
        s.handoff(C0, BlockReason::Ipc, server, 2 * MS, &mut nop()),
        Ok(())
    );
}

#[test]
fn handoff_refuses_a_target_over_budget() {
    let mut s = sched(1);
    let budget = Budget {
        period_ns: 10 * MS,
        quota_ns: 2 * MS,
    };
    let server = s.add_thread(Priority(10), None, Some(budget)).unwrap();
    s.make_ready(server, WakeReason::Created, 0, &mut nop())
        .unwrap();
    s.pick_next(C0, 0, &mut nop());
    // Blocks after 3 ms: over its quota for this period.
    s.block_current(C0, BlockReason::Ipc, 3 * MS, &mut nop());
    let client = start(&mut s, 10);
    s.pick_next(C0, 3 * MS, &mut nop());
    refused(
        &mut s,
        &[client, server],
        C0,
        server,
        4 * MS,
        HandoffError::OverBudget(server),
    );
    // The general path would throttle it: the same judgement.
    assert_eq!(
        s.make_ready(server, WakeReason::ByThread(client), 4 * MS, &mut nop()),
        Ok(None)
    );
    assert_eq!(s.state(server), Ok(ThreadState::Throttled));

    // In the next period it is within budget again.
    let mut s = sched(1);
    let server = s.add_thread(Priority(10), None, Some(budget)).unwrap();
    s.make_ready(server, WakeReason::Created, 0, &mut nop())
        .unwrap();
    s.pick_next(C0, 0, &mut nop());
    s.block_current(C0, BlockReason::Ipc, 3 * MS, &mut nop());
    start(&mut s, 10);
    s.pick_next(C0, 3 * MS, &mut nop());
    s.handoff(C0, BlockReason::Ipc, server, 10 * MS, &mut nop())
        .unwrap();
    // ...and the quota applies from there: 2 ms, then throttled.
    assert!(!s.tick(C0, 11 * MS, &mut nop()));
    assert!(s.tick(C0, 12 * MS, &mut nop()));
    let mut log = Log::default();
    s.pick_next(C0, 12 * MS, &mut log.s());
    assert_eq!(
        log.take()[0],
        Event::Preempt {
            cpu: C0,
            thread: server,
            reason: PreemptReason::BudgetExhausted
        }
    );
    s.check_invariants().unwrap();
}

#[test]
fn handoff_refuses_a_target_that_may_not_run_on_the_cpu() {
    let mut s = sched(2);
    let server = pinned(&mut s, 10, C1);
    s.make_ready(server, WakeReason::Created, 0, &mut nop())
        .unwrap();
    s.pick_next(C1, 0, &mut nop());
    s.block_current(C1, BlockReason::Ipc, MS, &mut nop());
    let client = pinned(&mut s, 10, C0);
    s.make_ready(client, WakeReason::Created, MS, &mut nop())
        .unwrap();
    s.pick_next(C0, MS, &mut nop());
    let ids = [client, server];
    refused(
        &mut s,
        &ids,
        C0,
        server,
        2 * MS,
        HandoffError::Pinned {
            thread: server,
            cpu: C1,
        },
    );
    // Unpinned, it may not be placed on an offline CPU either.
    s.set_affinity(server, None, &mut nop()).unwrap();
    s.set_online(C0, false).unwrap();
    refused(&mut s, &ids, C0, server, 2 * MS, HandoffError::Offline(C0));
    // Pinned to it, it may.
    s.set_affinity(server, Some(C0), &mut nop()).unwrap();
    assert_eq!(
        s.handoff(C0, BlockReason::Ipc, server, 2 * MS, &mut nop()),
        Ok(())
    );
    s.check_invariants().unwrap();
}

#[test]
fn handoff_refuses_without_a_current_thread_or_a_blocked_target() {
    let mut s = sched(2);
    let (client, server) = client_and_server(&mut s, 10, MS);
    let ready = start(&mut s, 3);
    let new = add(&mut s, 10);
    let ids = [client, server, ready, new];
    // C1 runs nothing: there is no caller to block.
    refused(&mut s, &ids, C1, server, 2 * MS, HandoffError::Idle(C1));
    refused(
        &mut s,
        &ids,
        C0,
        client,
        2 * MS,
        HandoffError::ToSelf(client),
    );
    for (t, state) in [(ready, s.state(ready).unwrap()), (new, ThreadState::New)] {
        let want = SchedError::WrongState { thread: t, state };
        refused(&mut s, &ids, C0, t, 2 * MS, HandoffError::Sched(want));
    }
    refused(
        &mut s,
        &ids,
        CpuId(2),
        server,
        2 * MS,
        HandoffError::Sched(SchedError::BadCpu(CpuId(2))),
    );
    // A stale id.
    assert_eq!(s.exit_current(C0, 2 * MS, &mut nop()), Some(ready));
    s.remove(client).unwrap();
    refused(
        &mut s,
        &[server, ready, new],
        C0,
        client,
        3 * MS,
        HandoffError::Sched(SchedError::NoSuchThread(client)),
    );
    // An exited thread is not blocked.
    s.exit_current(C0, 3 * MS, &mut nop());
    s.make_ready(new, WakeReason::Created, 3 * MS, &mut nop())
        .unwrap();
    s.pick_next(C0, 3 * MS, &mut nop());
    refused(
        &mut s,
        &[server, ready, new],
        C0,
        ready,
        4 * MS,
        HandoffError::Sched(SchedError::WrongState {
            thread: ready,
            state: ThreadState::Exited,
        }),
    );
}

#[test]
fn handoff_ping_pong_does_not_starve_its_level() {
    // Two threads that pass the CPU back and forth every 100 us, and a third
    // of the same priority: it still gets its turn once their slices are
    // used up.
    let mut s = sched(1);
    let (a, b) = client_and_server(&mut s, 10, 0);
    let other = start(&mut s, 10);
    let (mut now, mut refusals) = (0, 0);
    while now < 30 * SLICE {
        now += MS / 10;
        if now % MS == 0 && s.tick(C0, now, &mut nop()) {
            s.pick_next(C0, now, &mut nop());
        }
        let Some(x) = s.current(C0).filter(|&x| x != other) else {
            continue;
        };
        let y = if x == a { b } else { a };
        if s.handoff(C0, BlockReason::Ipc, y, now, &mut nop()).is_err() {
            refusals += 1;
            s.make_ready(y, WakeReason::ByThread(x), now, &mut nop())
                .unwrap();
            s.block_current(C0, BlockReason::Ipc, now, &mut nop());
        }
        s.check_invariants().unwrap();
    }
    let ran = s.stats(other).unwrap().runtime_ns;
    // One slice for `other` per turn of the pair, which gets at most two.
    assert!(ran * 3 >= now - 2 * SLICE, "{ran} of {now}");
    assert!(refusals > 0);
    assert!(s.stats(a).unwrap().handoffs > 100);
}

#[test]
fn handoff_display_explains() {
    let t = ThreadId {
        index: 7,
        generation: 3,
    };
    let u = ThreadId {
        index: 2,
        generation: 0,
    };
    let cases: [(&dyn core::fmt::Display, &str); 10] = [
        (&PickReason::Handoff { from: t }, "direct handoff from T7"),
        (&MigrateReason::Handoff, "direct handoff"),
        (
            &HandoffError::Sched(SchedError::BadCpu(C2)),
            "no such CPU cpu2",
        ),
        (
            &HandoffError::Idle(C1),
            "cpu1 has no current thread to block",
        ),
        (&HandoffError::ToSelf(u), "T2 cannot hand off to itself"),
        (
            &HandoffError::Pinned { thread: u, cpu: C1 },
            "T2 is pinned to cpu1",
        ),
        (&HandoffError::Offline(C0), "cpu0 is offline"),
        (
            &HandoffError::OverBudget(u),
            "T2 has used its budget for this period",
        ),
        (
            &HandoffError::Outranked { thread: u, by: t },
            "T2 is outranked by ready T7",
        ),
        (
            &HandoffError::SliceExpired {
                thread: u,
                waiting: t,
            },
            "T2 used its time slice and T7 waits at its priority",
        ),
    ];
    for (value, text) in cases {
        assert_eq!(value.to_string(), text);
    }
    let e: &dyn core::error::Error = &HandoffError::Sched(SchedError::OutOfMemory);
    assert!(e.source().is_some());
    assert!(core::error::Error::source(&HandoffError::Idle(C0)).is_none());
}
