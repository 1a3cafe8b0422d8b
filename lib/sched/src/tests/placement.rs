//! Which CPU: affinity, wake placement, balancing, stealing and offline
//! CPUs.

use super::*;

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
