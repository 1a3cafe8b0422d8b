use super::*;
use crate::trace::synth::{BOOT_TSC, CLIENT, DRIVER, SERVER, Synth, ipc_chain, tw};
use ferrous_trace::EventType as E;

fn runs_of(tl: &Timeline, thread: u64) -> Vec<(u16, u64, u64)> {
    let mut v: Vec<_> = tl
        .runs
        .iter()
        .filter(|r| r.thread == thread)
        .map(|r| (r.cpu, r.start - BOOT_TSC, r.end - BOOT_TSC))
        .collect();
    v.sort_unstable();
    v
}

fn off_of(tl: &Timeline, thread: u64) -> Vec<(u64, u64, Off, Ended)> {
    let mut v: Vec<_> = tl
        .off
        .iter()
        .filter(|i| i.thread == thread)
        .map(|i| (i.start - BOOT_TSC, i.end - BOOT_TSC, i.off, i.ended))
        .collect();
    v.sort_by_key(|x| x.0);
    v
}

#[test]
fn run_slices_and_switch_counts() {
    let t = ipc_chain().decode();
    let tl = build(&t);
    assert_eq!(tl.cpus, [0, 1]);
    assert_eq!(runs_of(&tl, CLIENT), [(0, 100, 1030), (0, 1500, 2000)]);
    assert_eq!(
        runs_of(&tl, SERVER),
        [(1, 100, 160), (1, 1100, 1230), (1, 1330, 1430)]
    );
    assert_eq!(runs_of(&tl, DRIVER), [(1, 160, 210), (1, 1230, 1330)]);
    assert!(tl.runs.iter().any(|r| r.thread == CLIENT && r.open));
    assert_eq!(tl.switches[&0], 3);
    assert_eq!(tl.switches[&1], 7);
    let cpu = tl.cpu_time();
    assert_eq!((cpu[&CLIENT], cpu[&SERVER], cpu[&DRIVER]), (1430, 290, 150));
}

#[test]
fn blocked_then_ready_intervals() {
    let t = ipc_chain().decode();
    let tl = build(&t);
    let recv = Off::Blocked {
        reason: 2,
        object: 7,
    };
    assert_eq!(
        off_of(&tl, SERVER),
        [
            (150, 1010, recv, Ended::Woken { by: CLIENT }),
            (
                1010,
                1100,
                Off::Ready(ReadyCause::Woken { by: CLIENT }),
                Ended::Ran { cpu: 1 }
            ),
            (
                1220,
                1310,
                Off::Blocked {
                    reason: 3,
                    object: 0
                },
                Ended::Woken { by: DRIVER }
            ),
            (
                1310,
                1330,
                Off::Ready(ReadyCause::Woken { by: DRIVER }),
                Ended::Ran { cpu: 1 }
            ),
            (1420, 2000, recv, Ended::TraceEnd),
        ]
    );
}

#[test]
fn preemption_yield_and_lost_switches() {
    let (a, b) = (tw(1), tw(2));
    let mut s = Synth::new(2);
    s.switch(0, 0, 0, a, 0)
        .rec(10, 0, a, E::SchedPreempt, 0, [a, b, 0, 0])
        .switch(11, 0, a, b, 5)
        .switch(20, 0, b, a, 1) // b yields
        .switch(30, 0, a, b, 3) // a's time slice ends
        // a shows up on cpu1 with no switch away from it on cpu0 recorded,
        // b on cpu0 has no switch away either: the trace ends
        .switch(40, 1, 0, a, 0)
        .rec(50, 1, a, E::SchedIdle, 0, [0; 4]);
    let tl = build(&s.decode());
    assert_eq!(
        off_of(&tl, a),
        [
            (
                11,
                20,
                Off::Ready(ReadyCause::Preempted { by: b }),
                Ended::Ran { cpu: 0 }
            ),
            (
                30,
                40,
                Off::Ready(ReadyCause::Preempted { by: 0 }),
                Ended::Ran { cpu: 1 }
            ),
            (50, 50, Off::Ready(ReadyCause::Descheduled), Ended::TraceEnd),
        ]
    );
    assert_eq!(
        off_of(&tl, b)[0],
        (
            20,
            30,
            Off::Ready(ReadyCause::Yielded),
            Ended::Ran { cpu: 0 }
        )
    );
    assert_eq!(runs_of(&tl, a), [(0, 0, 11), (0, 20, 30), (1, 40, 50)]);
    assert_eq!(runs_of(&tl, b), [(0, 11, 20), (0, 30, 50)]);
}

#[test]
fn wake_racing_block_and_missing_wake() {
    let (a, b) = (tw(1), tw(2));
    let mut s = Synth::new(1);
    s.switch(0, 0, 0, a, 0)
        // b wakes a before a's own block is recorded: a never stops
        .rec(5, 0, b, E::SchedWake, 0, [a, b, 0, 0])
        .rec(6, 0, a, E::SchedBlock, 0, [2, 9, 0, 0])
        // a blocks for real; its wake is lost
        .rec(10, 0, a, E::SchedBlock, 0, [3, 0, 0, 0])
        .switch(11, 0, a, 0, 2)
        .switch(30, 0, 0, a, 0)
        .rec(40, 0, a, E::ProcessThreadExit, 0, [a, 0, 0, 0])
        .switch(41, 0, a, 0, 4);
    let tl = build(&s.decode());
    assert_eq!(
        off_of(&tl, a),
        [
            (
                6,
                6,
                Off::Blocked {
                    reason: 2,
                    object: 9
                },
                Ended::Woken { by: b }
            ),
            (
                10,
                30,
                Off::Blocked {
                    reason: 3,
                    object: 0
                },
                Ended::Ran { cpu: 0 }
            ),
        ]
    );
    assert_eq!(runs_of(&tl, a), [(0, 0, 11), (0, 30, 41)]);
}

#[test]
fn a_cpus_first_switch_credits_from_since_the_cpus_first_record() {
    let (a, b) = (tw(1), tw(2));
    let mut s = Synth::new(1);
    s.rec(5, 0, a, E::SyscallEnter, 0, [1, 0, 0, 0])
        .switch(20, 0, a, b, 1);
    let tl = build(&s.decode());
    assert_eq!(runs_of(&tl, a), [(0, 5, 20)]);
    assert_eq!(tl.cpus, [0]);
}

#[test]
fn switches_without_from_or_reason_still_make_slices() {
    // A kernel that writes `from` = 0 and no reason: the CPU's own record
    // of what it ran decides, and the switch-away has no stated cause.
    let (a, b) = (tw(1), tw(2));
    let mut s = Synth::new(1);
    s.switch(0, 0, 0, a, 0)
        .switch(10, 0, 0, b, 0)
        .rec(15, 0, b, E::SchedBlock, 0, [2, 3, 0, 0])
        .switch(20, 0, 0, a, 0)
        .rec(25, 0, a, E::SchedWake, 0, [b, a, 0, 0])
        .rec(30, 0, 0, E::SchedIdle, 0, [0; 4]);
    let tl = build(&s.decode());
    assert_eq!(runs_of(&tl, a), [(0, 0, 10), (0, 20, 30)]);
    assert_eq!(runs_of(&tl, b), [(0, 10, 20)]);
    assert_eq!(
        off_of(&tl, a)[0],
        (
            10,
            20,
            Off::Ready(ReadyCause::Descheduled),
            Ended::Ran { cpu: 0 }
        )
    );
    assert_eq!(
        off_of(&tl, b),
        [
            (
                15,
                25,
                Off::Blocked {
                    reason: 2,
                    object: 3
                },
                Ended::Woken { by: a }
            ),
            (
                25,
                30,
                Off::Ready(ReadyCause::Woken { by: a }),
                Ended::TraceEnd
            ),
        ]
    );
}
