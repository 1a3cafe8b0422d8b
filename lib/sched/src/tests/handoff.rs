//! Direct handoff (IPC call and reply): when it switches straight to the
//! woken thread and when it is refused, leaving everything alone.

use super::*;

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
