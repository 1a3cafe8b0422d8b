//! Host side of kernel tracing: decoding the binary stream the kernel
//! writes to COM2 (`trace.out=serial`), exporting it for Perfetto,
//! summarising it, explaining a thread's time, and judging scenarios by
//! it.
//!
//! - [`stream`]: bytes → [`stream::Trace`] (records in timestamp order,
//!   thread names, losses, damage).
//! - [`text`]: one stable line per record (what scenarios match).
//! - [`model`]: per-CPU run slices and per-thread off-CPU intervals.
//! - [`chains`]: records grouped by causal id.
//! - [`chrome`]: Chrome trace-event JSON with IPC flows.
//! - [`summary`], [`explain`]: the reports.
//! - [`check`]: scenario expectations and JSON validation.
//! - [`cmd`]: `cargo xtask trace`.

pub mod chains;
pub mod check;
pub mod chrome;
pub mod cmd;
pub mod explain;
pub mod model;
pub mod stream;
pub mod summary;
pub mod text;
pub mod threads;

#[cfg(test)]
mod synth;

pub use check::Expectations;
pub use cmd::run;

use std::path::Path;

/// A scenario's trace, judged.
pub struct Judged {
    /// Every unmet expectation (empty: all met).
    pub why: Vec<String>,
    /// The decoded records as text (empty if the stream did not decode).
    pub text: String,
}

/// Decodes `<run_dir>/trace.bin`, writes `trace.log` (records),
/// `trace.txt` (summary) and, if JSON is checked, `trace.json` next to
/// it, and judges it against `e`.
pub fn judge_run(run_dir: &Path, e: &Expectations) -> Judged {
    let bin = crate::qemu::trace_path(run_dir);
    let trace = match stream::Trace::read(&bin) {
        Ok(t) => t,
        Err(err) => {
            return Judged {
                why: vec![format!("trace: {err}")],
                text: String::new(),
            };
        }
    };
    let text = text::render(&trace);
    let json = match cmd::write_outputs(&trace, run_dir, "trace") {
        Ok(out) => (e.json || e.flows.is_some())
            .then(|| std::fs::read_to_string(&out.json).ok())
            .flatten(),
        Err(err) => {
            return Judged {
                why: vec![format!("trace: {err}")],
                text,
            };
        }
    };
    Judged {
        why: check::judge(e, &text, json.as_deref()),
        text,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_run_directory_is_decoded_exported_and_judged() {
        let dir = std::env::temp_dir().join(format!("xtask-trace-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let bin = crate::qemu::trace_path(&dir);
        std::fs::write(&bin, synth::ipc_chain().bytes()).unwrap();
        let e = Expectations {
            log: vec!["cpu1 T2(server) ipc.recv thread=3 endpoint=7".into()],
            absent: vec!["cap.denied".into()],
            json: true,
            flows: Some(6),
            flow_threads: 3,
        };
        let j = judge_run(&dir, &e);
        assert!(j.why.is_empty(), "{:?}", j.why);
        assert_eq!(j.text.lines().count(), 32);
        for f in ["trace.json", "trace.txt", "trace.log"] {
            assert!(dir.join(f).is_file(), "{f}");
        }
        let stricter = Expectations {
            flows: Some(7),
            ..e
        };
        assert_eq!(judge_run(&dir, &stricter).why.len(), 1);
        std::fs::write(&bin, b"").unwrap();
        let empty = judge_run(&dir, &Expectations::default());
        assert!(
            empty.why[0].contains("empty trace stream"),
            "{:?}",
            empty.why
        );
        std::fs::remove_dir_all(&dir).unwrap();
    }
}
