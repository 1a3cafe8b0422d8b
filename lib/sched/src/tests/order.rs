//! Which thread runs: strict priority, round-robin within a level,
//! preemption, yield, priority changes and wait queues.

use super::*;

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
