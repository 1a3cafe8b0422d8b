//! Finding (or installing) QEMU and OVMF, and running Ferrous under them.
//! TCG only: KVM on these machines cannot run OVMF (see docs/adr/0001).

use crate::build::{self, Artifacts};
use crate::cli::{Gdb, Guest, Run};
use crate::esp::{self, EspTweaks};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, ExitStatus, Stdio};

pub const QEMU: &str = "qemu-system-x86_64";
const DEBIAN_PACKAGES: [&str; 2] = ["qemu-system-x86", "ovmf"];
/// `isa-debug-exit` statuses: (value << 1) | 1 for the kernel's 0x10 / 0x11.
pub const EXIT_PASS: i32 = 33;
pub const EXIT_FAIL: i32 = 35;
/// The loader's clean stop (it writes 0x12 before powering off).
pub const EXIT_LOADER_STOP: i32 = 37;

/// OVMF as a single image for `-bios`, or split code + variable store.
#[derive(Debug, Clone)]
pub enum Firmware {
    Bios(PathBuf),
    Pflash { code: PathBuf, vars: PathBuf },
}

#[derive(Debug, Clone)]
pub struct Tools {
    pub qemu: PathBuf,
    pub firmware: Firmware,
}

pub fn which(name: &str) -> Option<PathBuf> {
    std::env::var_os("PATH").and_then(|paths| {
        std::env::split_paths(&paths)
            .map(|d| d.join(name))
            .find(|p| p.is_file())
    })
}

fn find_firmware() -> Option<Firmware> {
    if let Some(p) = std::env::var_os("FERROUS_OVMF") {
        return Some(Firmware::Bios(PathBuf::from(p)));
    }
    let bios = Path::new("/usr/share/ovmf/OVMF.fd");
    if bios.is_file() {
        return Some(Firmware::Bios(bios.into()));
    }
    let code = Path::new("/usr/share/OVMF/OVMF_CODE_4M.fd");
    let vars = Path::new("/usr/share/OVMF/OVMF_VARS_4M.fd");
    (code.is_file() && vars.is_file()).then(|| Firmware::Pflash {
        code: code.into(),
        vars: vars.into(),
    })
}

pub fn is_root() -> bool {
    // Effective uid is the second field of "Uid:" in /proc/self/status.
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|s| {
            s.lines()
                .find(|l| l.starts_with("Uid:"))
                .and_then(|l| l.split_whitespace().nth(2).map(|u| u == "0"))
        })
        .unwrap_or(false)
}

fn apt_install() -> Result<(), String> {
    println!(
        "xtask: installing Debian packages {} (apt-get)",
        DEBIAN_PACKAGES.join(" ")
    );
    build::run_checked(
        Command::new("apt-get")
            .args(["update", "-q"])
            .env("DEBIAN_FRONTEND", "noninteractive"),
    )?;
    build::run_checked(
        Command::new("apt-get")
            .args(["install", "-y", "-q", "--no-install-recommends"])
            .args(DEBIAN_PACKAGES)
            .env("DEBIAN_FRONTEND", "noninteractive"),
    )
}

/// QEMU and OVMF, installed from Debian's packages if missing and we are root.
pub fn ensure_tools() -> Result<Tools, String> {
    let found = || Some((which(QEMU)?, find_firmware()?));
    if let Some((qemu, firmware)) = found() {
        return Ok(Tools { qemu, firmware });
    }
    if !is_root() {
        return Err(format!(
            "{QEMU} or the OVMF firmware is missing. Install the Debian packages: \
             sudo apt-get install {} (or point FERROUS_OVMF at an OVMF.fd)",
            DEBIAN_PACKAGES.join(" ")
        ));
    }
    apt_install()?;
    let (qemu, firmware) = found().ok_or_else(|| {
        format!(
            "installed {} but still cannot find {QEMU} and OVMF",
            DEBIAN_PACKAGES.join(" ")
        )
    })?;
    Ok(Tools { qemu, firmware })
}

/// Where the serial console goes.
pub enum Serial<'a> {
    /// This terminal, with QEMU's monitor multiplexed (Ctrl-A X quits).
    Terminal,
    File(&'a Path),
}

pub struct Machine<'a> {
    pub smp: u32,
    pub mem: &'a str,
    pub esp: &'a Path,
    /// Folder for per-run files (a copy of the OVMF variable store).
    pub run_dir: &'a Path,
    pub serial: Serial<'a>,
    pub gdb: bool,
}

/// What OVMF boots.
enum Media<'a> {
    /// Ferrous: the loader from an ESP served from a host folder (vvfat).
    Esp(&'a Path),
    /// A Linux kernel (its EFI stub) and initramfs handed over through
    /// fw_cfg, as `-kernel`, `-initrd` and `-append`.
    Kernel {
        kernel: &'a Path,
        initrd: &'a Path,
        append: &'a str,
    },
}

/// The machine every guest gets: board, CPU model, accelerator, memory,
/// firmware, devices and serial port. Ferrous and the Linux benchmark peer
/// differ only in `media`.
fn machine(
    tools: &Tools,
    smp: u32,
    mem: &str,
    run_dir: &Path,
    media: &Media,
    serial: &Serial,
) -> Result<Command, String> {
    let mut c = Command::new(&tools.qemu);
    // -nodefaults drops the CD-ROM OVMF would try first; -vga std keeps a
    // framebuffer (GOP) so the hand-over of one stays tested.
    c.args([
        "-machine",
        "q35",
        "-cpu",
        "max",
        "-accel",
        "tcg",
        "-nodefaults",
    ]);
    c.args(["-vga", "std"]);
    c.args(["-m", mem, "-smp", &smp.to_string()]);
    match &tools.firmware {
        Firmware::Bios(p) => {
            c.arg("-bios").arg(p);
        }
        Firmware::Pflash { code, vars } => {
            let copy = run_dir.join("OVMF_VARS.fd");
            std::fs::copy(vars, &copy).map_err(|e| format!("copying OVMF vars: {e}"))?;
            c.arg("-drive").arg(format!(
                "if=pflash,format=raw,readonly=on,file={}",
                code.display()
            ));
            c.arg("-drive")
                .arg(format!("if=pflash,format=raw,file={}", copy.display()));
        }
    }
    match media {
        Media::Esp(esp) => {
            c.arg("-drive")
                .arg(format!("format=raw,file=fat:rw:{}", esp.display()));
        }
        Media::Kernel {
            kernel,
            initrd,
            append,
        } => {
            c.arg("-kernel").arg(kernel);
            c.arg("-initrd").arg(initrd);
            c.args(["-append", append]);
        }
    }
    c.args(["-nic", "none", "-no-reboot", "-display", "none"]);
    c.args(["-device", "isa-debug-exit,iobase=0xf4,iosize=0x04"]);
    // With -nodefaults the -serial options become the ISA UARTs in order:
    // the first COM1 (0x3F8, the console), the second COM2 (0x2F8), where
    // `trace.out=serial` streams the binary trace. A guest that leaves
    // COM2 alone leaves an empty file.
    match serial {
        Serial::Terminal => {
            c.args(["-serial", "mon:stdio"]);
        }
        Serial::File(p) => {
            c.arg("-serial").arg(format!("file:{}", p.display()));
        }
    }
    c.arg("-serial")
        .arg(format!("file:{}", trace_path(run_dir).display()));
    if let Serial::File(_) = serial {
        c.args(["-monitor", "none"]);
    }
    Ok(c)
}

/// Where a run's COM2 (the binary trace stream) is written.
pub fn trace_path(run_dir: &Path) -> PathBuf {
    run_dir.join("trace.bin")
}

/// The one QEMU configuration every run uses (tests, run, gdb, bench).
pub fn command(tools: &Tools, m: &Machine) -> Result<Command, String> {
    let mut c = machine(
        tools,
        m.smp,
        m.mem,
        m.run_dir,
        &Media::Esp(m.esp),
        &m.serial,
    )?;
    if m.gdb {
        c.args(["-s", "-S"]);
    }
    Ok(c)
}

/// A Linux guest for `cargo xtask bench`: the same machine as [`command`]
/// gives Ferrous, booting `kernel` + `initrd` through OVMF and fw_cfg.
pub struct LinuxMachine<'a> {
    pub smp: u32,
    pub mem: &'a str,
    pub kernel: &'a Path,
    pub initrd: &'a Path,
    /// The kernel command line.
    pub append: &'a str,
    pub run_dir: &'a Path,
    pub serial: Serial<'a>,
}

pub fn linux_command(tools: &Tools, m: &LinuxMachine) -> Result<Command, String> {
    machine(
        tools,
        m.smp,
        m.mem,
        m.run_dir,
        &Media::Kernel {
            kernel: m.kernel,
            initrd: m.initrd,
            append: m.append,
        },
        &m.serial,
    )
}

/// Deterministic, instruction-counted time for `cargo xtask bench --icount`:
/// the virtual clock (and the TSC) advances 1 ns per guest instruction.
pub const ICOUNT_ARGS: [&str; 2] = ["-icount", "shift=0"];

/// The first line of `qemu-system-x86_64 --version`.
pub fn version(tools: &Tools) -> String {
    Command::new(&tools.qemu)
        .arg("--version")
        .stdin(Stdio::null())
        .output()
        .ok()
        .and_then(|o| {
            String::from_utf8_lossy(&o.stdout)
                .lines()
                .next()
                .map(|l| l.trim().to_string())
        })
        .unwrap_or_else(|| "unknown".into())
}

/// How a QEMU run ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RunEnd {
    /// The kernel reported success through isa-debug-exit.
    Pass,
    /// The kernel reported failure (panic, exception, failed test).
    Fail,
    /// The loader refused to boot, said why, and stopped the machine.
    LoaderStop,
    /// QEMU exited 0: the guest reset or powered off without a verdict;
    /// with -no-reboot a triple fault ends this way.
    Reset,
    /// Killed after the time limit.
    Timeout,
    /// Any other exit status: QEMU itself failed.
    QemuError(i32),
}

pub fn classify(status: ExitStatus) -> RunEnd {
    match status.code() {
        Some(EXIT_PASS) => RunEnd::Pass,
        Some(EXIT_FAIL) => RunEnd::Fail,
        Some(EXIT_LOADER_STOP) => RunEnd::LoaderStop,
        Some(0) => RunEnd::Reset,
        Some(c) => RunEnd::QemuError(c),
        None => RunEnd::QemuError(-1),
    }
}

/// Has QEMU ended, and how? `None` while it still runs.
pub fn try_end(child: &mut Child) -> Result<Option<RunEnd>, String> {
    child
        .try_wait()
        .map(|s| s.map(classify))
        .map_err(|e| format!("waiting for QEMU: {e}"))
}

/// Ends a run that overstayed its time limit.
pub fn kill(child: &mut Child) {
    let _ = child.kill();
    let _ = child.wait();
}

/// Builds and lays out the ESP for an interactive run under target/qemu/NAME.
fn prepare_interactive(
    release: bool,
    cmdline: &[String],
    name: &str,
) -> Result<(Tools, Artifacts, PathBuf), String> {
    let tools = ensure_tools()?;
    let art = build::build_all(release)?;
    let dir = build::target_dir().join("qemu").join(name);
    esp::prepare(
        &dir.join("esp"),
        &art,
        &cmdline.join(" "),
        &EspTweaks::default(),
    )?;
    Ok((tools, art, dir))
}

pub fn run_interactive(opts: &Run) -> Result<(), String> {
    let (tools, _art, dir) = prepare_interactive(opts.release, &opts.cmdline, "run")?;
    let Guest { smp, mem } = &opts.guest;
    let esp = dir.join("esp");
    let mut cmd = command(
        &tools,
        &Machine {
            smp: *smp,
            mem,
            esp: &esp,
            run_dir: &dir,
            serial: Serial::Terminal,
            gdb: false,
        },
    )?;
    eprintln!("xtask: {}", build::describe(&cmd));
    eprintln!("xtask: serial console follows; quit with Ctrl-A X");
    let status = cmd
        .status()
        .map_err(|e| format!("cannot start {QEMU}: {e}"))?;
    match classify(status) {
        RunEnd::Pass => Ok(()),
        RunEnd::Fail => Err("the kernel reported failure".into()),
        RunEnd::LoaderStop => Err("the loader refused to boot (see its message above)".into()),
        // Ctrl-A X, a power-off or a reset (-no-reboot): the session is over.
        RunEnd::Reset => {
            eprintln!("xtask: QEMU exited (quit, power-off or reset)");
            Ok(())
        }
        other => Err(format!("QEMU ended with {other:?}")),
    }
}

pub fn run_gdb(opts: &Gdb) -> Result<(), String> {
    let (tools, art, dir) = prepare_interactive(opts.release, &opts.cmdline, "gdb")?;
    let Guest { smp, mem } = &opts.guest;
    let esp = dir.join("esp");
    let log = dir.join("serial.log");
    let gdb_cmd = format!("gdb -q {} -ex 'target remote :1234'", art.kernel.display());
    let launch = opts.launch;
    let mut cmd = command(
        &tools,
        &Machine {
            smp: *smp,
            mem,
            esp: &esp,
            run_dir: &dir,
            serial: if launch {
                Serial::File(&log)
            } else {
                Serial::Terminal
            },
            gdb: true,
        },
    )?;
    if !launch {
        eprintln!("xtask: QEMU is paused with a gdb stub on :1234. In another terminal run:");
        eprintln!("    {gdb_cmd}");
        eprintln!(
            "xtask: (e.g. `break ferrous_kernel::kmain`, then `continue`); serial console follows"
        );
        let status = cmd
            .status()
            .map_err(|e| format!("cannot start {QEMU}: {e}"))?;
        println!("xtask: QEMU ended with {:?}", classify(status));
        return Ok(());
    }
    let gdb = which("gdb").ok_or("gdb is not installed (Debian package gdb)")?;
    let mut qemu = cmd
        .stdin(Stdio::null())
        .spawn()
        .map_err(|e| format!("cannot start {QEMU}: {e}"))?;
    eprintln!("xtask: serial console in {}", log.display());
    let status = Command::new(gdb)
        .arg("-q")
        .arg(&art.kernel)
        .args(["-ex", "target remote :1234"])
        .status();
    let _ = qemu.kill();
    let _ = qemu.wait();
    status.map(|_| ()).map_err(|e| format!("gdb: {e}"))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn args(c: &Command) -> Vec<String> {
        c.get_args()
            .map(|a| a.to_string_lossy().into_owned())
            .collect()
    }

    fn tools() -> Tools {
        Tools {
            qemu: "qemu-system-x86_64".into(),
            firmware: Firmware::Bios("/fw/OVMF.fd".into()),
        }
    }

    #[test]
    fn ferrous_arguments_are_unchanged_but_for_the_trace_port() {
        let c = command(
            &tools(),
            &Machine {
                smp: 2,
                mem: "512M",
                esp: Path::new("/e"),
                run_dir: Path::new("/r"),
                serial: Serial::File(Path::new("/r/serial.log")),
                gdb: true,
            },
        )
        .unwrap();
        let want = "-machine q35 -cpu max -accel tcg -nodefaults -vga std -m 512M -smp 2 \
                    -bios /fw/OVMF.fd -drive format=raw,file=fat:rw:/e -nic none -no-reboot \
                    -display none -device isa-debug-exit,iobase=0xf4,iosize=0x04 \
                    -serial file:/r/serial.log -serial file:/r/trace.bin -monitor none -s -S";
        assert_eq!(args(&c), want.split_whitespace().collect::<Vec<_>>());
    }

    #[test]
    fn linux_gets_the_same_machine_with_a_kernel_instead_of_the_esp() {
        let c = linux_command(
            &tools(),
            &LinuxMachine {
                smp: 1,
                mem: "512M",
                kernel: Path::new("/l/vmlinuz"),
                initrd: Path::new("/l/initramfs.cpio"),
                append: "console=ttyS0 quiet",
                run_dir: Path::new("/r"),
                serial: Serial::File(Path::new("/r/linux.log")),
            },
        )
        .unwrap();
        let a = args(&c);
        let at = a.iter().position(|x| x == "-kernel").unwrap();
        assert_eq!(
            a[at..at + 6],
            [
                "-kernel",
                "/l/vmlinuz",
                "-initrd",
                "/l/initramfs.cpio",
                "-append",
                "console=ttyS0 quiet"
            ]
        );
        let ferrous = args(
            &command(
                &tools(),
                &Machine {
                    smp: 1,
                    mem: "512M",
                    esp: Path::new("/e"),
                    run_dir: Path::new("/r"),
                    serial: Serial::File(Path::new("/r/linux.log")),
                    gdb: false,
                },
            )
            .unwrap(),
        );
        let mut rest = a.clone();
        rest.drain(at..at + 6);
        let esp = ferrous.iter().position(|x| x == "-drive").unwrap();
        let mut f = ferrous.clone();
        f.drain(esp..esp + 2);
        assert_eq!(rest, f, "everything but the boot media is shared");
    }
}
