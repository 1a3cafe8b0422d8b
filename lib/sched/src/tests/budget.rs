//! Budgets: throttling at the quota and refilling at the period.

use super::*;

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
