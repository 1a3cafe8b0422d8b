//! QEMU test scenarios: read from tests/scenarios.toml, judged from QEMU's
//! exit status and the serial log.

use crate::qemu::RunEnd;
use serde::Deserialize;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Expect {
    /// The kernel exits through isa-debug-exit with success.
    Pass,
    /// The kernel exits through isa-debug-exit with failure.
    Fail,
    /// Nothing ends the run; the harness must kill it.
    Timeout,
    /// The loader refuses to boot and stops the machine.
    LoaderStop,
    /// The machine resets with no verdict (e.g. a triple fault).
    Reset,
}

/// A broken kernel file to hand the loader instead of the real one.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum BrokenKernel {
    /// Not an ELF file at all.
    Garbage,
    /// The first 100 bytes of the real kernel.
    Truncated,
    /// The real kernel with its text segment marked writable (W^X).
    WritableText,
}

fn default_timeout() -> u64 {
    60
}
fn default_smp() -> u32 {
    1
}
fn default_mem() -> String {
    "512M".into()
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Scenario {
    pub name: String,
    #[serde(default)]
    pub about: String,
    /// Kernel command line.
    #[serde(default)]
    pub cmdline: String,
    pub expect: Expect,
    /// Substrings the serial log must contain.
    #[serde(default)]
    pub log: Vec<String>,
    /// Substrings the serial log must not contain.
    #[serde(default)]
    pub absent: Vec<String>,
    /// Seconds before the run is killed.
    #[serde(default = "default_timeout")]
    pub timeout: u64,
    #[serde(default = "default_smp")]
    pub smp: u32,
    #[serde(default = "default_mem")]
    pub mem: String,
    #[serde(default)]
    pub broken_kernel: Option<BrokenKernel>,
    /// Extra lines for boot.conf.
    #[serde(default)]
    pub boot_conf: Vec<String>,
    /// Trace categories (a `trace=` spec such as `all` or `sched,ipc`).
    /// When set, ` trace.out=serial trace=<spec>` is appended to the
    /// command line, the stream on COM2 is decoded after the run
    /// (target/qemu/NAME/trace.{bin,log,txt,json}) and the `trace_*`
    /// checks apply. A stream that does not decode fails the scenario.
    #[serde(default)]
    pub trace: Option<String>,
    /// Substrings the decoded trace's text must contain; one line per
    /// record, in the format documented in xtask/src/trace/text.rs:
    /// `<µs> cpu<N> <T<n>(name)|idle> <describe(record)>`.
    #[serde(default)]
    pub trace_log: Vec<String>,
    /// Substrings the decoded trace's text must not contain.
    #[serde(default)]
    pub trace_absent: Vec<String>,
    /// Export the Chrome JSON, parse it back and check its shape.
    #[serde(default)]
    pub trace_json: bool,
    /// Require a complete IPC flow (`s` … `f`, one causal id) in the JSON
    /// with at least this many hops (implies `trace_json`).
    #[serde(default)]
    pub trace_flows: Option<u32>,
    /// … across at least this many distinct threads (default 3; only
    /// with `trace_flows`).
    #[serde(default)]
    pub trace_flow_threads: Option<u32>,
}

/// Threads a required flow must cross when `trace_flow_threads` is unset.
pub const DEFAULT_FLOW_THREADS: u32 = 3;

impl Scenario {
    /// The kernel command line: `cmdline`, then the trace options if
    /// `trace` is set.
    pub fn kernel_cmdline(&self) -> String {
        match &self.trace {
            Some(spec) => format!("{} trace.out=serial trace={spec}", self.cmdline)
                .trim_start()
                .to_string(),
            None => self.cmdline.clone(),
        }
    }

    /// What the trace checks ask for.
    pub fn trace_expectations(&self) -> crate::trace::Expectations {
        crate::trace::Expectations {
            log: self.trace_log.clone(),
            absent: self.trace_absent.clone(),
            json: self.trace_json,
            flows: self.trace_flows,
            flow_threads: self.trace_flow_threads.unwrap_or(DEFAULT_FLOW_THREADS),
        }
    }

    fn check_trace_fields(&self) -> Result<(), String> {
        let checks = !self.trace_log.is_empty()
            || !self.trace_absent.is_empty()
            || self.trace_json
            || self.trace_flows.is_some()
            || self.trace_flow_threads.is_some();
        match &self.trace {
            Some(spec) => crate::trace::cmd::check_spec(spec),
            None if checks => Err("trace_* checks need `trace = \"<categories>\"`".into()),
            None => Ok(()),
        }?;
        if self.trace_flow_threads.is_some() && self.trace_flows.is_none() {
            return Err("trace_flow_threads needs trace_flows".into());
        }
        Ok(())
    }
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct ScenarioFile {
    scenario: Vec<Scenario>,
}

pub fn parse(text: &str) -> Result<Vec<Scenario>, String> {
    let file: ScenarioFile = toml::from_str(text).map_err(|e| e.to_string())?;
    let mut names = std::collections::HashSet::new();
    for s in &file.scenario {
        if !names.insert(s.name.as_str()) {
            return Err(format!("scenario `{}` defined twice", s.name));
        }
        if s.name.is_empty()
            || !s
                .name
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_')
        {
            return Err(format!("scenario name `{}` must be [A-Za-z0-9_-]+", s.name));
        }
        if s.timeout == 0 {
            return Err(format!("scenario `{}`: timeout must be positive", s.name));
        }
        s.check_trace_fields()
            .map_err(|e| format!("scenario `{}`: {e}", s.name))?;
    }
    Ok(file.scenario)
}

/// Removes ANSI escape sequences (OVMF's console emits them).
pub fn strip_ansi(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    let mut chars = s.chars().peekable();
    while let Some(c) = chars.next() {
        if c == '\x1b' {
            if chars.peek() == Some(&'[') {
                chars.next();
                for c in chars.by_ref() {
                    if c.is_ascii_alphabetic() {
                        break;
                    }
                }
            }
            continue;
        }
        if c != '\r' {
            out.push(c);
        }
    }
    out
}

fn matches(expect: Expect, end: RunEnd) -> bool {
    matches!(
        (expect, end),
        (Expect::Pass, RunEnd::Pass)
            | (Expect::Fail, RunEnd::Fail)
            | (Expect::Timeout, RunEnd::Timeout)
            | (Expect::LoaderStop, RunEnd::LoaderStop)
            | (Expect::Reset, RunEnd::Reset)
    )
}

/// The verdict: `Ok` or every reason the run did not meet the scenario.
pub fn judge(s: &Scenario, end: RunEnd, log: &str) -> Result<(), Vec<String>> {
    let mut why = Vec::new();
    if !matches(s.expect, end) {
        why.push(format!("expected {:?}, got {end:?}", s.expect));
    }
    for want in &s.log {
        if !log.contains(want.as_str()) {
            why.push(format!("log lacks `{want}`"));
        }
    }
    for bad in &s.absent {
        if log.contains(bad.as_str()) {
            why.push(format!("log contains `{bad}`"));
        }
    }
    if why.is_empty() { Ok(()) } else { Err(why) }
}

/// Makes the kernel file for a [`BrokenKernel`] scenario.
pub fn break_kernel(kind: BrokenKernel, real: &[u8]) -> Result<Vec<u8>, String> {
    Ok(match kind {
        BrokenKernel::Garbage => b"this is not an ELF file\n".repeat(64),
        BrokenKernel::Truncated => real[..real.len().min(100)].to_vec(),
        BrokenKernel::WritableText => {
            let mut k = real.to_vec();
            let field = |at: usize, n: usize| -> Result<u64, String> {
                let b = k.get(at..at + n).ok_or("kernel too short")?;
                let mut v = [0u8; 8];
                v[..n].copy_from_slice(b);
                Ok(u64::from_le_bytes(v))
            };
            let phoff = field(32, 8)? as usize;
            let phentsize = field(54, 2)? as usize;
            let phnum = field(56, 2)? as usize;
            let text = (0..phnum)
                .map(|i| phoff + i * phentsize)
                .find(|&p| field(p, 4) == Ok(1) && field(p + 4, 4).is_ok_and(|f| f & 1 != 0))
                .ok_or("kernel has no executable PT_LOAD")?;
            k[text + 4..text + 8].copy_from_slice(&7u32.to_le_bytes()); // R|W|X
            k
        }
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    const FILE: &str = r#"
        [[scenario]]
        name = "boot"
        cmdline = "test=boot"
        expect = "pass"
        log = ["kernel main reached"]
        absent = ["PANIC"]

        [[scenario]]
        name = "bad-kernel"
        expect = "loader-stop"
        broken_kernel = "garbage"
        timeout = 30
    "#;

    #[test]
    fn parses_with_defaults() {
        let s = parse(FILE).unwrap();
        assert_eq!(s.len(), 2);
        assert_eq!(s[0].smp, 1);
        assert_eq!(s[0].mem, "512M");
        assert_eq!(s[0].timeout, 60);
        assert_eq!(s[1].expect, Expect::LoaderStop);
        assert_eq!(s[1].broken_kernel, Some(BrokenKernel::Garbage));
    }

    #[test]
    fn rejects_typos_and_duplicates() {
        assert!(parse("[[scenario]]\nname='a'\nexpect='pass'\nlogs=[]").is_err());
        assert!(parse("[[scenario]]\nname='a'\nexpect='passed'").is_err());
        assert!(
            parse("[[scenario]]\nname='a'\nexpect='pass'\n[[scenario]]\nname='a'\nexpect='fail'")
                .is_err()
        );
        assert!(parse("[[scenario]]\nname='a b'\nexpect='pass'").is_err());
    }

    #[test]
    fn judge_checks_outcome_and_log() {
        let s = &parse(FILE).unwrap()[0];
        assert!(judge(s, RunEnd::Pass, "... kernel main reached ...").is_ok());
        let e = judge(s, RunEnd::Fail, "KERNEL PANIC").unwrap_err();
        assert_eq!(e.len(), 3, "{e:?}");
        assert!(judge(s, RunEnd::Timeout, "kernel main reached").is_err());
    }

    #[test]
    fn trace_fields_parse_and_extend_the_command_line() {
        let s = &parse(
            "[[scenario]]\nname='t'\ncmdline='test=ipc'\nexpect='pass'\ntrace='sched,ipc'\n\
             trace_log=['ipc.call']\ntrace_absent=['cap.denied']\ntrace_flows=3",
        )
        .unwrap()[0];
        assert_eq!(
            s.kernel_cmdline(),
            "test=ipc trace.out=serial trace=sched,ipc"
        );
        let e = s.trace_expectations();
        assert_eq!(e.log, ["ipc.call"]);
        assert_eq!(e.absent, ["cap.denied"]);
        assert_eq!((e.flows, e.flow_threads), (Some(3), DEFAULT_FLOW_THREADS));
        let plain = &parse(FILE).unwrap()[0];
        assert_eq!(plain.kernel_cmdline(), "test=boot");
        assert!(plain.trace.is_none());
    }

    #[test]
    fn trace_fields_are_checked() {
        let base = "[[scenario]]\nname='t'\nexpect='pass'\n";
        for bad in [
            "trace_log=['x']",
            "trace_json=true",
            "trace='bogus'",
            "trace='sched, ipc'",
            "trace='all'\ntrace_flow_threads=2",
        ] {
            assert!(parse(&format!("{base}{bad}")).is_err(), "{bad}");
        }
        assert!(parse(&format!("{base}trace='all'\ntrace_json=true")).is_ok());
    }

    #[test]
    fn ansi_sequences_are_removed() {
        assert_eq!(
            strip_ansi("\x1b[0m\x1b[2Jhello\r\n\x1b[1;37mworld"),
            "hello\nworld"
        );
    }

    #[test]
    fn writable_text_patch_sets_rwx_on_the_text_segment() {
        // Minimal ELF64 header with one PT_LOAD R|X at phoff 64.
        let mut k = vec![0u8; 64 + 56];
        k[32..40].copy_from_slice(&64u64.to_le_bytes());
        k[54..56].copy_from_slice(&56u16.to_le_bytes());
        k[56..58].copy_from_slice(&1u16.to_le_bytes());
        k[64..68].copy_from_slice(&1u32.to_le_bytes());
        k[68..72].copy_from_slice(&5u32.to_le_bytes());
        let b = break_kernel(BrokenKernel::WritableText, &k).unwrap();
        assert_eq!(&b[68..72], &7u32.to_le_bytes());
        assert_eq!(
            break_kernel(BrokenKernel::Truncated, &k).unwrap().len(),
            100
        );
        assert!(break_kernel(BrokenKernel::WritableText, &k[..40]).is_err());
    }
}
