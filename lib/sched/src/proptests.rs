//! Property tests: random operation sequences on 1–4 CPUs against a model
//! of each thread's life cycle, checking the invariants and the pick rule
//! after every step; then round-robin fairness and budget enforcement.

use super::*;
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
