use super::*;
use crate::trace::model::build;
use crate::trace::synth::{CLIENT, SERVER, ipc_chain};

#[test]
fn intervals_with_reasons_and_durations() {
    let t = ipc_chain().decode();
    let tl = build(&t);
    let got: Vec<(i128, i128, String)> = intervals(&t, &tl, CLIENT, Window::default())
        .iter()
        .map(|c| (c.start, c.end, why(&t, &c.interval)))
        .collect();
    assert_eq!(
        got,
        [
            (
                1020,
                1410,
                "blocked on reply, until woken by T2(server)".to_string()
            ),
            (
                1410,
                1500,
                "ready (woken by T2(server)), waiting for a CPU".to_string()
            ),
        ]
    );
}

#[test]
fn the_window_cuts_intervals() {
    let t = ipc_chain().decode();
    let tl = build(&t);
    // 0.2 .. 1.2 µs: the server's first block (150..1010) is cut to
    // 200..1010, its ready time 1010..1100 whole; 1220.. is outside.
    let w = Window::from_us(Some(0.2), Some(1.2));
    let got: Vec<(i128, i128)> = intervals(&t, &tl, SERVER, w)
        .iter()
        .map(|c| (c.start, c.end))
        .collect();
    assert_eq!(got, [(200, 1010), (1010, 1100)]);
}

#[test]
fn report_lists_running_time_intervals_and_totals() {
    let t = ipc_chain().decode();
    let tl = build(&t);
    let r = explain(&t, &tl, SERVER, Window::default());
    assert!(r.starts_with("T2(server) from 0.000 to 2.000 µs:"), "{r}");
    assert!(
        r.contains("ran 0.290 µs (14.5%) in 3 slices on cpu1"),
        "{r}"
    );
    assert!(
        r.contains("       0.150        1.010        0.860  blocked on endpoint_recv 7, until woken by T1(client)"),
        "{r}"
    );
    assert!(
        r.contains("blocked on endpoint_recv 7, still blocked when the trace ends"),
        "{r}"
    );
    assert!(r.contains("blocked on endpoint_recv"), "{r}");
    assert!(
        r.contains("ready after a wake                    0.110 µs (5.5%) in 2 intervals"),
        "{r}"
    );
    let none = explain(&t, &tl, 99, Window::default());
    assert!(none.contains("does not appear in the trace"), "{none}");
}
