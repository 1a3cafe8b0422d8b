//! What each CPU ran and why each thread was not running, derived from the
//! scheduler's records. Built once, used by the JSON export, the summary
//! and `--explain`.
//!
//! - A CPU runs a thread from the `sched.switch` to it until the next
//!   `sched.switch` or `sched.idle` on that CPU (the CPU's own record of
//!   what it ran wins over a switch's `from` argument, which only fills in
//!   a CPU's first slice).
//! - A thread is *blocked* from its `sched.block` until the `sched.wake`
//!   of it, then *ready* until a CPU switches to it. A thread switched away
//!   while running is ready again: preempted (`sched.preempt` before the
//!   switch says by whom; `by` 0 is the time slice), yielded, or
//!   descheduled for a reason the trace does not say.
//! - Lost records are tolerated: a switch to a thread ends whatever state
//!   it was in (a block with no wake ends "with no wake recorded").

use super::stream::Trace;
use ferrous_trace::{EventType, SwitchReason};
use std::collections::BTreeMap;

/// A CPU running a thread over `[start, end]` (TSC).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RunSlice {
    pub cpu: u16,
    pub thread: u64,
    pub start: u64,
    pub end: u64,
    /// Still running when the trace ends.
    pub open: bool,
}

/// Why a ready thread was not running.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ReadyCause {
    /// Woken by thread `by` (0: the kernel, an interrupt or a timeout).
    Woken {
        by: u64,
    },
    /// Preempted by thread `by` (0: its time slice ended).
    Preempted {
        by: u64,
    },
    Yielded,
    /// Created (`process.thread_start`), not yet run.
    Spawned,
    /// Switched away with no reason recorded.
    Descheduled,
}

/// A thread's state while it was not running.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Off {
    /// Blocked on `reason` ([`ferrous_trace::BlockReason`] number; 0 if
    /// not recorded) and `object`.
    Blocked {
        reason: u64,
        object: u64,
    },
    Ready(ReadyCause),
}

/// How an [`OffInterval`] ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Ended {
    /// A `sched.wake` by thread `by` (blocked intervals).
    Woken {
        by: u64,
    },
    /// A CPU switched to the thread (for a blocked interval: with no wake
    /// recorded).
    Ran {
        cpu: u16,
    },
    Exited,
    /// Still so when the trace ends.
    TraceEnd,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct OffInterval {
    pub thread: u64,
    pub start: u64,
    pub end: u64,
    pub off: Off,
    pub ended: Ended,
}

#[derive(Debug, Clone, Default)]
pub struct Timeline {
    /// In order of their end.
    pub runs: Vec<RunSlice>,
    /// In order of their end.
    pub off: Vec<OffInterval>,
    /// `sched.switch` records per CPU.
    pub switches: BTreeMap<u16, u64>,
    /// Every CPU seen (the header's count, and any record's CPU).
    pub cpus: Vec<u16>,
    /// First and last timestamp.
    pub start: u64,
    pub end: u64,
}

impl Timeline {
    /// TSC ticks each thread ran, over all CPUs.
    pub fn cpu_time(&self) -> BTreeMap<u64, u64> {
        let mut m = BTreeMap::new();
        for r in &self.runs {
            *m.entry(r.thread).or_default() += r.end - r.start;
        }
        m
    }

    /// TSC ticks each CPU ran any thread.
    pub fn busy(&self) -> BTreeMap<u16, u64> {
        let mut m = BTreeMap::new();
        for r in &self.runs {
            *m.entry(r.cpu).or_default() += r.end - r.start;
        }
        m
    }
}

#[derive(Debug, Clone, Copy)]
enum State {
    Running,
    Blocked {
        since: u64,
        reason: u64,
        object: u64,
    },
    Ready {
        since: u64,
        cause: ReadyCause,
    },
    Exited,
}

#[derive(Debug, Default)]
struct Thread {
    state: Option<State>,
    /// A `sched.preempt` while running: who takes the CPU.
    preempt_by: Option<u64>,
    /// A `sched.wake` while still running (it raced its own block).
    early_wake: Option<u64>,
}

#[derive(Default)]
struct Builder {
    t: Timeline,
    threads: BTreeMap<u64, Thread>,
    /// Per CPU: the running thread and since when.
    current: BTreeMap<u16, (u64, u64)>,
    first_seen: BTreeMap<u16, u64>,
}

impl Builder {
    fn close_off(&mut self, thread: u64, start: u64, end: u64, off: Off, ended: Ended) {
        self.t.off.push(OffInterval {
            thread,
            start,
            end: end.max(start),
            off,
            ended,
        });
    }

    /// `cpu` stops running its current thread at `ts`; `to` runs next.
    fn stop_cpu(&mut self, cpu: u16, ts: u64, reason: Option<u64>, to: u64) {
        let Some((thread, since)) = self.current.remove(&cpu) else {
            return;
        };
        self.t.runs.push(RunSlice {
            cpu,
            thread,
            start: since,
            end: ts.max(since),
            open: false,
        });
        let th = self.threads.entry(thread).or_default();
        let preempt = th.preempt_by.take();
        th.early_wake = None;
        if !matches!(th.state, Some(State::Running) | None) {
            return; // blocked (or woken, or gone) before the switch
        }
        let cause = match (preempt, reason.and_then(SwitchReason::from_raw)) {
            (Some(by), _) => ReadyCause::Preempted { by },
            (None, Some(SwitchReason::Exit)) => {
                th.state = Some(State::Exited);
                return;
            }
            (None, Some(SwitchReason::Block)) => {
                th.state = Some(State::Blocked {
                    since: ts,
                    reason: 0,
                    object: 0,
                });
                return;
            }
            (None, Some(SwitchReason::Yield)) => ReadyCause::Yielded,
            (None, Some(SwitchReason::Timeslice)) => ReadyCause::Preempted { by: 0 },
            (None, Some(SwitchReason::WakePriority)) => ReadyCause::Preempted { by: to },
            (None, None) => ReadyCause::Descheduled,
        };
        th.state = Some(State::Ready { since: ts, cause });
    }

    /// `cpu` starts running `thread` at `ts`.
    fn start_cpu(&mut self, cpu: u16, thread: u64, ts: u64) {
        // Running elsewhere too? That CPU's switch away was lost.
        let elsewhere: Vec<u16> = self
            .current
            .iter()
            .filter(|&(&c, &(t, _))| c != cpu && t == thread)
            .map(|(&c, _)| c)
            .collect();
        for c in elsewhere {
            if let Some((_, since)) = self.current.remove(&c) {
                self.t.runs.push(RunSlice {
                    cpu: c,
                    thread,
                    start: since,
                    end: ts.max(since),
                    open: false,
                });
            }
        }
        let th = self.threads.entry(thread).or_default();
        let prev = th.state.replace(State::Running);
        th.early_wake = None;
        th.preempt_by = None;
        match prev {
            Some(State::Blocked {
                since,
                reason,
                object,
            }) => self.close_off(
                thread,
                since,
                ts,
                Off::Blocked { reason, object },
                Ended::Ran { cpu },
            ),
            Some(State::Ready { since, cause }) => {
                self.close_off(thread, since, ts, Off::Ready(cause), Ended::Ran { cpu })
            }
            _ => {}
        }
        self.current.insert(cpu, (thread, ts));
    }

    fn block(&mut self, thread: u64, ts: u64, reason: u64, object: u64) {
        let th = self.threads.entry(thread).or_default();
        if let Some(by) = th.early_wake.take() {
            // Woken before it blocked: it never stopped.
            self.close_off(
                thread,
                ts,
                ts,
                Off::Blocked { reason, object },
                Ended::Woken { by },
            );
            return;
        }
        th.state = Some(State::Blocked {
            since: ts,
            reason,
            object,
        });
    }

    fn wake(&mut self, thread: u64, ts: u64, by: u64) {
        let th = self.threads.entry(thread).or_default();
        match th.state {
            Some(State::Blocked {
                since,
                reason,
                object,
            }) => {
                th.state = Some(State::Ready {
                    since: ts,
                    cause: ReadyCause::Woken { by },
                });
                self.close_off(
                    thread,
                    since,
                    ts,
                    Off::Blocked { reason, object },
                    Ended::Woken { by },
                );
            }
            Some(State::Running) => th.early_wake = Some(by),
            None => {
                th.state = Some(State::Ready {
                    since: ts,
                    cause: ReadyCause::Woken { by },
                })
            }
            Some(State::Ready { .. } | State::Exited) => {}
        }
    }

    fn exit(&mut self, thread: u64, ts: u64) {
        let th = self.threads.entry(thread).or_default();
        match th.state.replace(State::Exited) {
            Some(State::Blocked {
                since,
                reason,
                object,
            }) => self.close_off(
                thread,
                since,
                ts,
                Off::Blocked { reason, object },
                Ended::Exited,
            ),
            Some(State::Ready { since, cause }) => {
                self.close_off(thread, since, ts, Off::Ready(cause), Ended::Exited)
            }
            // Running: its run slice ends at the switch away.
            _ => {}
        }
    }

    fn finish(mut self, end: u64) -> Timeline {
        for (cpu, (thread, since)) in std::mem::take(&mut self.current) {
            self.t.runs.push(RunSlice {
                cpu,
                thread,
                start: since,
                end: end.max(since),
                open: true,
            });
        }
        for (thread, th) in std::mem::take(&mut self.threads) {
            match th.state {
                Some(State::Blocked {
                    since,
                    reason,
                    object,
                }) => self.close_off(
                    thread,
                    since,
                    end,
                    Off::Blocked { reason, object },
                    Ended::TraceEnd,
                ),
                Some(State::Ready { since, cause }) => {
                    self.close_off(thread, since, end, Off::Ready(cause), Ended::TraceEnd)
                }
                _ => {}
            }
        }
        self.t
    }
}

/// Derives the timeline of a trace.
pub fn build(trace: &Trace) -> Timeline {
    let (start, end) = trace.span();
    let mut b = Builder::default();
    b.t.start = start;
    b.t.end = end;
    for r in &trace.records {
        let ts = r.timestamp;
        b.first_seen.entry(r.cpu).or_insert(ts);
        let [a0, a1, a2, _] = r.args;
        match r.event {
            EventType::SchedSwitch => {
                *b.t.switches.entry(r.cpu).or_default() += 1;
                if !b.current.contains_key(&r.cpu) && a0 != 0 {
                    // The CPU's first switch: `from` ran since we know.
                    let since = b.first_seen[&r.cpu];
                    b.current.insert(r.cpu, (a0, since));
                    b.threads
                        .entry(a0)
                        .or_default()
                        .state
                        .get_or_insert(State::Running);
                }
                b.stop_cpu(r.cpu, ts, Some(a2), a1);
                if a1 != 0 {
                    b.start_cpu(r.cpu, a1, ts);
                }
            }
            EventType::SchedIdle => b.stop_cpu(r.cpu, ts, None, 0),
            // The fast path's block, wake and switch in one record.
            EventType::SchedHandoff if a0 != 0 && a1 != 0 => {
                let object = r.args[3];
                *b.t.switches.entry(r.cpu).or_default() += 1;
                b.block(a0, ts, a2, object);
                b.wake(a1, ts, a0);
                let block = ferrous_trace::SwitchReason::Block as u64;
                b.stop_cpu(r.cpu, ts, Some(block), a1);
                b.start_cpu(r.cpu, a1, ts);
            }
            EventType::SchedBlock if r.thread != 0 => b.block(r.thread, ts, a0, a1),
            EventType::SchedWake if a0 != 0 => b.wake(a0, ts, a1),
            EventType::SchedPreempt if a0 != 0 => {
                let th = b.threads.entry(a0).or_default();
                if matches!(th.state, Some(State::Running)) {
                    th.preempt_by = Some(a1);
                }
            }
            EventType::ProcessThreadStart if a0 != 0 => {
                b.threads
                    .entry(a0)
                    .or_default()
                    .state
                    .get_or_insert(State::Ready {
                        since: ts,
                        cause: ReadyCause::Spawned,
                    });
            }
            EventType::ProcessThreadExit if a0 != 0 => b.exit(a0, ts),
            _ => {}
        }
    }
    let mut cpus: Vec<u16> = (0..trace.cpus.min(u32::from(u16::MAX)) as u16).collect();
    cpus.extend(b.first_seen.keys());
    cpus.sort_unstable();
    cpus.dedup();
    b.t.cpus = cpus;
    b.finish(end)
}

#[cfg(test)]
#[path = "tests/model.rs"]
mod tests;
