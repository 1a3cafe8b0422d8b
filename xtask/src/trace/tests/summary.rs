use super::*;
use crate::trace::chains::chains;
use crate::trace::model::build;
use crate::trace::synth::{CLIENT, DRIVER, SERVER, Synth, ipc_chain, tw};
use ferrous_trace::EventType as E;

#[test]
fn numbers_of_the_ipc_chain() {
    let t = ipc_chain().decode();
    let (tl, ch) = (build(&t), chains(&t));
    let n = numbers(&t, &tl, &ch);
    assert_eq!(n.by_event["sched.switch"], 10);
    assert_eq!(n.by_event["ipc.call"], 2);
    assert_eq!(n.by_event["trace.name"], 3);
    assert_eq!(n.syscalls[&2], (2, 1));
    assert_eq!(n.cpu_ns[&CLIENT], 1430);
    assert_eq!(n.cpu_ns[&SERVER], 290);
    assert_eq!(n.cpu_ns[&DRIVER], 150);
    assert_eq!(n.per_cpu[&0], (3, 1430));
    assert_eq!(n.per_cpu[&1], (7, 440));
    assert_eq!(n.traced_ns, 2000);
    assert_eq!((n.chains, n.longest_hops), (1, 6));
    assert_eq!(ch[0].messages(&t), 2);
    assert_eq!(ch[0].threads(), [CLIENT, SERVER, DRIVER]);
}

#[test]
fn rendered_summary() {
    let t = ipc_chain().decode();
    let s = render(&t, &build(&t), &chains(&t));
    for want in [
        "trace: 32 records, 2 CPUs, 2.000 µs traced (from 0.000 to 2.000 µs after boot), TSC 1000.000 MHz",
        "stream: complete; the kernel wrote 32 records\n",
        "lost records: 0\n",
        "undecodable blocks: 0\n",
        "  sched.switch              10\n",
        "  debug_write                    2         1\n",
        "  T1(client)                            1.430 µs   71.5%\n",
        "  cpu1         7 context switches, busy          0.440 µs (22.0%)\n",
        "IPC causal chains: 1 (2 messages, 7 records with a causal id)",
        "longest: causal 42 with 6 hops across 3 threads: T1(client) → T2(server) → T3(driver)",
        "chains by length: 6 hops: 1",
    ] {
        assert!(s.contains(want), "missing {want:?} in\n{s}");
    }
}

#[test]
fn losses_truncation_and_damage_are_reported() {
    let mut x = Synth::new(2);
    x.rec(1, 0, 0, E::TraceLost, 0, [4, 0, 0, 0])
        .rec(2, 1, 0, E::TraceLost, 0, [3, 0, 0, 0])
        .rec(3, 1, tw(1), E::SchedIdle, 0, [0; 4]);
    x.end = false;
    let mut bytes = x.bytes();
    bytes.extend_from_slice(&[0xEE; 64]);
    let t = crate::trace::stream::decode(&bytes).unwrap();
    let s = render(&t, &build(&t), &chains(&t));
    assert!(s.contains("stream: TRUNCATED"), "{s}");
    assert!(s.contains("lost records: 7 (cpu0 4, cpu1 3)"), "{s}");
    assert!(s.contains("undecodable blocks: 1\n  block 4: "), "{s}");
    assert!(
        s.contains("system calls (from syscall.exit):\n  none recorded"),
        "{s}"
    );
}
