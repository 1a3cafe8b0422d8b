//! Property tests: random operation sequences on 1–4 CPUs against a model
//! of each thread's life cycle, checking the invariants and the pick rule
//! after every step; then round-robin fairness (also with threads passing
//! the CPU by direct handoff) and budget enforcement.

use crate::*;
use proptest::prelude::*;
use std::vec::Vec;

const US: u64 = 1_000;
const MS: u64 = 1_000_000;

#[derive(Clone, Debug)]
enum Op {
    Add {
        priority: u8,
        affinity: Option<u16>,
        /// (quota, period) in ms; some are invalid.
        budget: Option<(u64, u64)>,
    },
    MakeReady(usize),
    Pick(u16),
    Tick {
        cpu: u16,
        dt_us: u64,
        then_pick: bool,
    },
    Yield(u16),
    Block(u16),
    Exit(u16),
    SetPriority(usize, u8),
    SetAffinity(usize, Option<u16>),
    SetBudget(usize, Option<(u64, u64)>),
    Balance,
    Remove(usize),
    /// The current thread of `cpu` hands it to thread `k`; on a policy
    /// refusal, the general path instead. If `targeted`, `cpu` counts only
    /// CPUs with a current thread and `k` only blocked threads (where there
    /// are any), so that most handoffs can succeed.
    Handoff {
        cpu: u16,
        k: usize,
        targeted: bool,
    },
}

fn budget() -> impl Strategy<Value = Option<(u64, u64)>> {
    proptest::option::weighted(0.3, (0u64..6, 0u64..12))
}

fn op() -> impl Strategy<Value = Op> {
    // CPU 4 never exists: some calls name a bad CPU.
    let cpu = || 0u16..5;
    // Mostly a few levels, so round-robin happens; sometimes out of range.
    let priority = || prop_oneof![3 => 0u8..4, 1 => 0u8..68];
    prop_oneof![
        3 => (priority(), proptest::option::weighted(0.3, cpu()), budget())
            .prop_map(|(priority, affinity, budget)| Op::Add { priority, affinity, budget }),
        4 => any::<usize>().prop_map(Op::MakeReady),
        3 => cpu().prop_map(Op::Pick),
        5 => (cpu(), 0u64..4_000, any::<bool>())
            .prop_map(|(cpu, dt_us, then_pick)| Op::Tick { cpu, dt_us, then_pick }),
        1 => cpu().prop_map(Op::Yield),
        2 => cpu().prop_map(Op::Block),
        1 => cpu().prop_map(Op::Exit),
        1 => (any::<usize>(), priority()).prop_map(|(k, p)| Op::SetPriority(k, p)),
        1 => (any::<usize>(), proptest::option::of(cpu()))
            .prop_map(|(k, c)| Op::SetAffinity(k, c)),
        1 => (any::<usize>(), budget()).prop_map(|(k, b)| Op::SetBudget(k, b)),
        1 => Just(Op::Balance),
        1 => any::<usize>().prop_map(Op::Remove),
        3 => (cpu(), any::<usize>(), proptest::bool::weighted(0.8))
            .prop_map(|(cpu, k, targeted)| Op::Handoff { cpu, k, targeted }),
    ]
}

/// A thread's life cycle as the model sees it; `Runnable` covers ready,
/// running and throttled, which depend on placement and budgets.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Kind {
    New,
    Runnable,
    Blocked,
    Exited,
    Removed,
}

fn kind_of(s: &Scheduler, t: ThreadId) -> Kind {
    match s.state(t) {
        Ok(ThreadState::New) => Kind::New,
        Ok(ThreadState::Ready { .. } | ThreadState::Running { .. } | ThreadState::Throttled) => {
            Kind::Runnable
        }
        Ok(ThreadState::Blocked(_)) => Kind::Blocked,
        Ok(ThreadState::Exited) => Kind::Exited,
        Err(SchedError::NoSuchThread(_)) => Kind::Removed,
        Err(e) => panic!("state({t}) failed: {e}"),
    }
}

fn wrong_state<T>(r: &Result<T, SchedError>) -> bool {
    matches!(r, Err(SchedError::WrongState { .. }))
}

fn to_budget((quota, period): (u64, u64)) -> Budget {
    Budget {
        period_ns: period * MS,
        quota_ns: quota * MS,
    }
}

fn budget_ok(b: Option<(u64, u64)>) -> bool {
    b.is_none_or(|(q, p)| q > 0 && q <= p)
}

/// After a pick on `cpu`: what runs there outranks everything queued there,
/// and an empty CPU has nothing queued.
fn check_pick(s: &Scheduler, cpu: CpuId, picked: Option<ThreadId>) -> Result<(), TestCaseError> {
    prop_assert_eq!(picked, s.current(cpu));
    let top = s.queued(cpu).map(|t| s.priority(t).unwrap()).max();
    match picked {
        Some(t) => prop_assert!(
            top.is_none_or(|p| p <= s.priority(t).unwrap()),
            "{} runs below a queued {:?}",
            t,
            top
        ),
        None => prop_assert_eq!(top, None, "idle with threads queued"),
    }
    Ok(())
}

/// What a refused handoff must leave alone: states, stats, current
/// threads, run queues and loads.
type Observed = (
    Vec<Result<ThreadState, SchedError>>,
    Vec<Result<ThreadStats, SchedError>>,
    Vec<Option<ThreadId>>,
    Vec<Vec<ThreadId>>,
    Vec<usize>,
);

fn observe(s: &Scheduler, ids: &[ThreadId]) -> Observed {
    let cpus = || (0..s.cpus()).map(CpuId);
    (
        ids.iter().map(|&t| s.state(t)).collect(),
        ids.iter().map(|&t| s.stats(t)).collect(),
        cpus().map(|c| s.current(c)).collect(),
        cpus().map(|c| s.queued(c).collect()).collect(),
        cpus().map(|c| s.load(c)).collect(),
    )
}

fn check_all(s: &Scheduler, ids: &[ThreadId], kinds: &[Kind]) -> Result<(), TestCaseError> {
    if let Err(e) = s.check_invariants() {
        return Err(TestCaseError::fail(e));
    }
    for (&t, &k) in ids.iter().zip(kinds) {
        prop_assert_eq!(kind_of(s, t), k, "{}", t);
        // Pinned threads queue only on their CPU; one running elsewhere
        // (re-pinned while running) is due to move at the next pick.
        match (s.affinity(t), s.state(t)) {
            (Ok(Some(a)), Ok(ThreadState::Ready { cpu })) => prop_assert_eq!(cpu, a),
            (Ok(Some(a)), Ok(ThreadState::Running { cpu })) if a != cpu => {
                prop_assert!(s.needs_resched(cpu));
            }
            _ => {}
        }
    }
    let mut running = Vec::new();
    for c in 0..s.cpus() {
        let cpu = CpuId(c);
        if let Some(t) = s.current(cpu) {
            prop_assert_eq!(s.state(t), Ok(ThreadState::Running { cpu }));
            prop_assert!(!running.contains(&t), "{} runs on two CPUs", t);
            running.push(t);
        }
    }
    Ok(())
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(256))]

    #[test]
    fn random_operations_keep_the_invariants(
        cpus in 1u16..=4,
        slice_ms in 1u64..5,
        ops in proptest::collection::vec(op(), 1..150),
    ) {
        let mut s = Scheduler::new(Config { cpus, time_slice_ns: slice_ms * MS });
        let mut ids: Vec<ThreadId> = Vec::new();
        let mut kinds: Vec<Kind> = Vec::new();
        // Whether each thread has a budget (the model does not track use).
        let mut budgeted: Vec<bool> = Vec::new();
        let mut now = 0u64;
        let mut events = Vec::new();
        for op in ops {
            now += 10 * US;
            let mut sink = |e: Event| events.push(e);
            let pick_cpu = match op {
                Op::Pick(c) | Op::Yield(c) | Op::Block(c) | Op::Exit(c) => Some(CpuId(c)),
                _ => None,
            };
            let before = pick_cpu.and_then(|c| s.current(c));
            // Index into the threads created so far (stale ones included).
            let pick = |k: usize| (!ids.is_empty()).then(|| k % ids.len());
            match op {
                Op::Add { priority, affinity, budget } => {
                    let r = s.add_thread(Priority(priority), affinity.map(CpuId), budget.map(to_budget));
                    let expect_ok = priority < 64
                        && affinity.is_none_or(|c| c < cpus)
                        && budget_ok(budget);
                    prop_assert_eq!(r.is_ok(), expect_ok, "{:?}", r);
                    if let Ok(t) = r {
                        prop_assert_eq!(s.state(t), Ok(ThreadState::New));
                        ids.push(t);
                        kinds.push(Kind::New);
                        budgeted.push(budget.is_some());
                    }
                }
                Op::MakeReady(k) => {
                    let Some(k) = pick(k) else { continue };
                    let r = s.make_ready(ids[k], WakeReason::Interrupt, now, &mut sink);
                    match kinds[k] {
                        Kind::New | Kind::Blocked => {
                            let cpu = r.unwrap();
                            if let Some(cpu) = cpu {
                                prop_assert!(s.needs_resched(cpu));
                            }
                            kinds[k] = Kind::Runnable;
                        }
                        Kind::Removed => prop_assert_eq!(r, Err(SchedError::NoSuchThread(ids[k]))),
                        _ => prop_assert!(wrong_state(&r), "{:?}", r),
                    }
                }
                Op::Pick(c) => {
                    let picked = s.pick_next(CpuId(c), now, &mut sink);
                    if c < cpus {
                        check_pick(&s, CpuId(c), picked)?;
                        // Asking again without a change is a no-op.
                        let mut again = Vec::new();
                        prop_assert_eq!(s.pick_next(CpuId(c), now, &mut |e| again.push(e)), picked);
                        prop_assert!(again.is_empty(), "{:?}", again);
                    } else {
                        prop_assert_eq!(picked, None);
                    }
                }
                Op::Tick { cpu, dt_us, then_pick } => {
                    now += dt_us * US;
                    let asked = s.tick(CpuId(cpu), now, &mut sink);
                    if then_pick && cpu < cpus {
                        // `tick` says true exactly when a pick would change
                        // something (every change emits an event).
                        let mut pick_events = Vec::new();
                        let picked = s.pick_next(CpuId(cpu), now, &mut |e| pick_events.push(e));
                        prop_assert_eq!(asked, !pick_events.is_empty(), "{:?}", pick_events);
                        check_pick(&s, CpuId(cpu), picked)?;
                    }
                }
                Op::Yield(c) => {
                    s.yield_now(CpuId(c), now, &mut sink);
                    if c < cpus {
                        check_pick(&s, CpuId(c), s.current(CpuId(c)))?;
                    }
                }
                Op::Block(c) | Op::Exit(c) => {
                    let picked = if matches!(op, Op::Block(_)) {
                        s.block_current(CpuId(c), BlockReason::Other("test"), now, &mut sink)
                    } else {
                        s.exit_current(CpuId(c), now, &mut sink)
                    };
                    if c < cpus {
                        check_pick(&s, CpuId(c), picked)?;
                        if let Some(t) = before {
                            let k = ids.iter().position(|&x| x == t).unwrap();
                            kinds[k] = if matches!(op, Op::Block(_)) { Kind::Blocked } else { Kind::Exited };
                        }
                    }
                }
                Op::SetPriority(k, p) => {
                    let Some(k) = pick(k) else { continue };
                    let r = s.set_priority(ids[k], Priority(p), &mut sink);
                    match kinds[k] {
                        Kind::Removed => prop_assert_eq!(r, Err(SchedError::NoSuchThread(ids[k]))),
                        _ if p >= 64 => prop_assert_eq!(r, Err(SchedError::BadPriority(p))),
                        Kind::Exited => prop_assert!(wrong_state(&r), "{:?}", r),
                        _ => {
                            if let Some(cpu) = r.unwrap() {
                                prop_assert!(s.needs_resched(cpu));
                            }
                            prop_assert_eq!(s.priority(ids[k]), Ok(Priority(p)));
                        }
                    }
                }
                Op::SetAffinity(k, c) => {
                    let Some(k) = pick(k) else { continue };
                    let r = s.set_affinity(ids[k], c.map(CpuId), &mut sink);
                    match kinds[k] {
                        Kind::Removed => prop_assert_eq!(r, Err(SchedError::NoSuchThread(ids[k]))),
                        _ if c.is_some_and(|c| c >= cpus) => prop_assert!(matches!(r, Err(SchedError::BadCpu(_)))),
                        Kind::Exited => prop_assert!(wrong_state(&r), "{:?}", r),
                        _ => {
                            r.unwrap();
                            if let (Some(c), Ok(ThreadState::Ready { cpu })) = (c, s.state(ids[k])) {
                                prop_assert_eq!(cpu, CpuId(c));
                            }
                        }
                    }
                }
                Op::SetBudget(k, b) => {
                    let Some(k) = pick(k) else { continue };
                    let r = s.set_budget(ids[k], b.map(to_budget), now, &mut sink);
                    match kinds[k] {
                        Kind::Removed => prop_assert_eq!(r, Err(SchedError::NoSuchThread(ids[k]))),
                        _ if !budget_ok(b) => prop_assert!(matches!(r, Err(SchedError::BadBudget(_)))),
                        Kind::Exited => prop_assert!(wrong_state(&r), "{:?}", r),
                        _ => {
                            r.unwrap();
                            budgeted[k] = b.is_some();
                        }
                    }
                }
                Op::Balance => {
                    let loads: Vec<_> = (0..cpus).map(|c| s.load(CpuId(c))).collect();
                    let running: Vec<_> = (0..cpus).map(|c| s.current(CpuId(c))).collect();
                    let moved = s.balance(now, &mut sink);
                    prop_assert_eq!(loads.iter().sum::<usize>(), (0..cpus).map(|c| s.load(CpuId(c))).sum::<usize>());
                    prop_assert_eq!(running, (0..cpus).map(|c| s.current(CpuId(c))).collect::<Vec<_>>());
                    // Balanced: no CPU with an unpinned ready thread is 2
                    // above the least loaded one.
                    let min = (0..cpus).map(|c| s.load(CpuId(c))).min().unwrap();
                    for c in 0..cpus {
                        let movable = s.queued(CpuId(c)).any(|t| s.affinity(t) == Ok(None));
                        prop_assert!(!movable || s.load(CpuId(c)) < min + 2);
                    }
                    let min_before = *loads.iter().min().unwrap();
                    prop_assert!(moved == 0 || loads.iter().any(|&l| l >= min_before + 2));
                }
                Op::Remove(k) => {
                    let Some(k) = pick(k) else { continue };
                    let r = s.remove(ids[k]);
                    match kinds[k] {
                        Kind::New | Kind::Exited => {
                            r.unwrap();
                            kinds[k] = Kind::Removed;
                        }
                        Kind::Removed => prop_assert_eq!(r, Err(SchedError::NoSuchThread(ids[k]))),
                        _ => prop_assert!(wrong_state(&r), "{:?}", r),
                    }
                }
                Op::Handoff { cpu, k, targeted } => {
                    let Some(any) = pick(k) else { continue };
                    let blocked: Vec<_> = (0..ids.len()).filter(|&j| kinds[j] == Kind::Blocked).collect();
                    let busy: Vec<_> = (0..cpus).filter(|&c| s.current(CpuId(c)).is_some()).collect();
                    let k = if targeted && !blocked.is_empty() { blocked[k % blocked.len()] } else { any };
                    let cpu = if targeted && !busy.is_empty() { busy[usize::from(cpu) % busy.len()] } else { cpu };
                    let (t, c) = (ids[k], CpuId(cpu));
                    let from = s.current(c);
                    let before = observe(&s, &ids);
                    let mut got = Vec::new();
                    let r = s.handoff(c, BlockReason::Ipc, t, now, &mut |e| got.push(e));
                    // The model's prediction, exact but for budgets and
                    // slices, which it does not track (no CPU goes offline).
                    let expect = if cpu >= cpus {
                        Err(HandoffError::Sched(SchedError::BadCpu(c)))
                    } else if kinds[k] == Kind::Removed {
                        Err(HandoffError::Sched(SchedError::NoSuchThread(t)))
                    } else if from.is_none() {
                        Err(HandoffError::Idle(c))
                    } else if from == Some(t) {
                        Err(HandoffError::ToSelf(t))
                    } else if kinds[k] != Kind::Blocked {
                        Err(HandoffError::Sched(SchedError::WrongState { thread: t, state: s.state(t).unwrap() }))
                    } else if let Some(a) = s.affinity(t).unwrap().filter(|&a| a != c) {
                        Err(HandoffError::Pinned { thread: t, cpu: a })
                    } else {
                        Ok(())
                    };
                    let head = s.queued(c).next();
                    let top = head.map(|h| s.priority(h).unwrap());
                    let priority = s.priority(t).ok();
                    match (expect, r) {
                        (Err(e), r) => prop_assert_eq!(r, Err(e)),
                        (Ok(()), Err(HandoffError::OverBudget(x))) => {
                            prop_assert_eq!(x, t);
                            prop_assert!(budgeted[k], "{} has no budget", t);
                        }
                        (Ok(()), r) if top > priority => prop_assert_eq!(
                            r,
                            Err(HandoffError::Outranked { thread: t, by: head.unwrap() })
                        ),
                        (Ok(()), Err(HandoffError::SliceExpired { thread, waiting })) => {
                            prop_assert_eq!(thread, t);
                            prop_assert_eq!(Some(waiting), head);
                            prop_assert_eq!(top, priority);
                        }
                        (Ok(()), r) => prop_assert_eq!(r, Ok(())),
                    }
                    let after = observe(&s, &ids);
                    match r {
                        Ok(()) => {
                            let from = from.unwrap();
                            let priority = priority.unwrap();
                            let n = got.len();
                            prop_assert!(n == 3 || n == 4, "{:?}", got);
                            prop_assert_eq!(got[0], Event::Block { cpu: c, thread: from, reason: BlockReason::Ipc });
                            if n == 4 {
                                prop_assert!(
                                    matches!(got[1], Event::Migrate { thread, from: f, to, reason: MigrateReason::Handoff }
                                        if thread == t && to == c && f != c),
                                    "{:?}", got[1]
                                );
                            }
                            prop_assert_eq!(got[n - 2], Event::Wake { thread: t, cpu: c, reason: WakeReason::ByThread(from) });
                            prop_assert_eq!(got[n - 1], Event::Pick { cpu: c, thread: t, priority, reason: PickReason::Handoff { from } });
                            prop_assert_eq!(s.state(from), Ok(ThreadState::Blocked(BlockReason::Ipc)));
                            // Queues and loads are untouched; only `cpu`'s
                            // current thread changed.
                            prop_assert_eq!(&after.3, &before.3);
                            prop_assert_eq!(&after.4, &before.4);
                            let (f, kt) = (ids.iter().position(|&x| x == from).unwrap(), k);
                            let (fb, fa) = (before.1[f].unwrap(), after.1[f].unwrap());
                            prop_assert_eq!(fa.blocked, fb.blocked + 1);
                            prop_assert!(fa.runtime_ns >= fb.runtime_ns);
                            let (tb, ta) = (before.1[kt].unwrap(), after.1[kt].unwrap());
                            prop_assert_eq!(
                                (ta.handoffs, ta.woken, ta.scheduled, ta.migrated),
                                (tb.handoffs + 1, tb.woken + 1, tb.scheduled + 1, tb.migrated + u64::from(n == 4))
                            );
                            // Nothing left for the general path to do.
                            prop_assert!(!s.needs_resched(c));
                            check_pick(&s, c, Some(t))?;
                            let mut again = Vec::new();
                            prop_assert_eq!(s.pick_next(c, now, &mut |e| again.push(e)), Some(t));
                            prop_assert!(again.is_empty(), "{:?}", again);
                            kinds[f] = Kind::Blocked;
                            kinds[kt] = Kind::Runnable;
                        }
                        Err(e) => {
                            prop_assert!(got.is_empty(), "{:?}", got);
                            prop_assert_eq!(after, before);
                            let policy = matches!(
                                e,
                                HandoffError::Pinned { .. }
                                    | HandoffError::Offline(_)
                                    | HandoffError::OverBudget(_)
                                    | HandoffError::Outranked { .. }
                                    | HandoffError::SliceExpired { .. }
                            );
                            if policy {
                                // The kernel's general path.
                                let from = from.unwrap();
                                let woke = s.make_ready(t, WakeReason::ByThread(from), now, &mut sink).unwrap();
                                if matches!(e, HandoffError::OverBudget(_)) {
                                    prop_assert_eq!(s.state(t), Ok(ThreadState::Throttled));
                                }
                                let picked = s.block_current(c, BlockReason::Ipc, now, &mut sink);
                                check_pick(&s, c, picked)?;
                                if let Some(w) = woke.filter(|&w| w != c) {
                                    let picked = s.pick_next(w, now, &mut sink);
                                    check_pick(&s, w, picked)?;
                                }
                                kinds[ids.iter().position(|&x| x == from).unwrap()] = Kind::Blocked;
                                kinds[k] = Kind::Runnable;
                            }
                        }
                    }
                    events.extend(got);
                }
            }
            check_all(&s, &ids, &kinds)?;
        }
        // Every event renders.
        for e in &events {
            prop_assert!(!e.to_string().is_empty());
        }
    }

    #[test]
    fn equal_threads_share_one_cpu_fairly(
        k in 2usize..7,
        tick_us in 1u64..1_000,
        ticks_per_slice in 1u64..12,
        slices in 20u64..120,
    ) {
        let dt = tick_us * US;
        let slice = dt * ticks_per_slice;
        let mut s = Scheduler::new(Config { cpus: 1, time_slice_ns: slice });
        let mut sink = |_: Event| {};
        let ids: Vec<_> = (0..k)
            .map(|_| {
                let t = s.add_thread(Priority(12), None, None).unwrap();
                s.make_ready(t, WakeReason::Created, 0, &mut sink).unwrap();
                t
            })
            .collect();
        s.pick_next(CpuId(0), 0, &mut sink);
        let mut now = 0;
        for _ in 0..slices * ticks_per_slice {
            now += dt;
            if s.tick(CpuId(0), now, &mut sink) {
                s.pick_next(CpuId(0), now, &mut sink);
            }
            let runtimes: Vec<_> = ids.iter().map(|&t| s.stats(t).unwrap().runtime_ns).collect();
            let (max, min) = (runtimes.iter().max().unwrap(), runtimes.iter().min().unwrap());
            prop_assert!(max - min <= slice, "runtimes {:?} differ by more than {}", runtimes, slice);
            prop_assert_eq!(runtimes.iter().sum::<u64>(), now);
        }
    }

    #[test]
    fn threads_passing_the_cpu_by_handoff_leave_their_level_its_turns(
        others in 1usize..4,
        tick_us in 100u64..1_000,
        ticks_per_slice in 1u64..8,
        calls_per_tick in 1u64..5,
        slices in 20u64..80,
    ) {
        // `a` and `b` pass the CPU back and forth by handoff several times a
        // tick (the general path when refused); `others` threads of their
        // priority never block. One cycle of the level's round robin is at
        // most a slice (plus a tick) for each other thread and for each of
        // the pair, and gives each other thread a full slice.
        let dt = tick_us * US;
        let slice = dt * ticks_per_slice;
        let cycle = (others as u64 + 2) * (slice + dt);
        let c = CpuId(0);
        let mut s = Scheduler::new(Config { cpus: 1, time_slice_ns: slice });
        let mut sink = |_: Event| {};
        let add = |s: &mut Scheduler| {
            let t = s.add_thread(Priority(12), None, None).unwrap();
            s.make_ready(t, WakeReason::Created, 0, &mut |_| {}).unwrap();
            t
        };
        // `b` runs first and waits for a call.
        let b = add(&mut s);
        s.pick_next(c, 0, &mut sink);
        s.block_current(c, BlockReason::Ipc, 0, &mut sink);
        let a = add(&mut s);
        let rest: Vec<_> = (0..others).map(|_| add(&mut s)).collect();
        prop_assert_eq!(s.pick_next(c, 0, &mut sink), Some(a));
        let mut now = 0;
        for k in 0..slices * ticks_per_slice {
            for j in 1..=calls_per_tick {
                now = k * dt + j * dt / calls_per_tick;
                let Some(x) = s.current(c).filter(|&x| x == a || x == b) else {
                    continue;
                };
                let y = if x == a { b } else { a };
                prop_assert_eq!(s.state(y), Ok(ThreadState::Blocked(BlockReason::Ipc)));
                match s.handoff(c, BlockReason::Ipc, y, now, &mut sink) {
                    Ok(()) => {}
                    Err(HandoffError::SliceExpired { .. }) => {
                        s.make_ready(y, WakeReason::ByThread(x), now, &mut sink).unwrap();
                        s.block_current(c, BlockReason::Ipc, now, &mut sink);
                    }
                    Err(e) => prop_assert!(false, "refused: {}", e),
                }
            }
            if s.tick(c, now, &mut sink) {
                s.pick_next(c, now, &mut sink);
            }
            s.check_invariants().map_err(TestCaseError::fail)?;
        }
        for &t in &rest {
            let ran = s.stats(t).unwrap().runtime_ns;
            prop_assert!(
                ran * cycle >= slice * now.saturating_sub(2 * cycle),
                "{} ran {} of {} (slice {}, cycle {})", t, ran, now, slice, cycle
            );
        }
        let pair = s.stats(a).unwrap().runtime_ns + s.stats(b).unwrap().runtime_ns;
        let total: u64 = rest.iter().map(|&t| s.stats(t).unwrap().runtime_ns).sum::<u64>() + pair;
        prop_assert_eq!(total, now);
    }

    #[test]
    fn a_budget_caps_runtime_per_period(
        tick_us in 10u64..1_000,
        quota_ticks in 1u64..10,
        extra_ticks in 0u64..20,
        periods in 2u64..12,
    ) {
        let dt = tick_us * US;
        let period = dt * (quota_ticks + extra_ticks);
        let quota = dt * quota_ticks;
        let mut s = Scheduler::new(Config::new(1));
        let mut sink = |_: Event| {};
        let budget = Budget { period_ns: period, quota_ns: quota };
        let h = s.add_thread(Priority(40), None, Some(budget)).unwrap();
        let l = s.add_thread(Priority(2), None, None).unwrap();
        s.make_ready(h, WakeReason::Created, 0, &mut sink).unwrap();
        s.make_ready(l, WakeReason::Created, 0, &mut sink).unwrap();
        s.pick_next(CpuId(0), 0, &mut sink);
        let mut now = 0;
        for _ in 0..periods * (quota_ticks + extra_ticks) {
            now += dt;
            if s.tick(CpuId(0), now, &mut sink) {
                s.pick_next(CpuId(0), now, &mut sink);
            }
            if now % period == 0 {
                // The budgeted thread got exactly its quota in each period
                // and the other thread the rest.
                let done = now / period;
                prop_assert_eq!(s.stats(h).unwrap().runtime_ns, done * quota);
                prop_assert_eq!(s.stats(l).unwrap().runtime_ns, done * (period - quota));
                prop_assert_eq!(s.current(CpuId(0)), Some(h));
            }
            s.check_invariants().map_err(TestCaseError::fail)?;
        }
    }

    #[test]
    fn wait_queue_matches_a_sorted_model(
        ops in proptest::collection::vec((0u32..20, 0u8..64, 0u8..3), 1..100),
    ) {
        let mut q = WaitQueue::new();
        // (priority, arrival, index); wake order is max priority, min arrival.
        let mut model: Vec<(u8, usize, u32)> = Vec::new();
        for (arrival, (index, p, action)) in ops.into_iter().enumerate() {
            let t = ThreadId { index, generation: 0 };
            match action {
                0 => {
                    let queued = model.iter().any(|m| m.2 == index);
                    let r = q.push(t, Priority(p));
                    prop_assert_eq!(r.is_ok(), !queued);
                    if !queued {
                        model.push((p, arrival, index));
                    }
                }
                1 => {
                    let best = model
                        .iter()
                        .enumerate()
                        .max_by_key(|(_, m)| (m.0, core::cmp::Reverse(m.1)))
                        .map(|(i, _)| i);
                    let want = best.map(|i| model.remove(i).2);
                    prop_assert_eq!(q.pop().map(|t| t.index), want);
                }
                _ => {
                    let at = model.iter().position(|m| m.2 == index);
                    if let Some(at) = at {
                        model.remove(at);
                    }
                    prop_assert_eq!(q.remove(t), at.is_some());
                }
            }
            prop_assert_eq!(q.len(), model.len());
        }
    }
}
