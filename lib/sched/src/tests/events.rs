//! What the scheduler reports: block and wake reasons, `Display`, stale
//! IDs and misuse as errors.

use super::*;

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
