//! Building the bare-metal crates with cargo, each for its own target.

use std::path::{Path, PathBuf};
use std::process::Command;

pub const KERNEL_TARGET: &str = "x86_64-unknown-none";
pub const LOADER_TARGET: &str = "x86_64-unknown-uefi";
/// User programs are built for the kernel's target, linked by userspace/user.ld.
pub const USER_TARGET: &str = KERNEL_TARGET;

/// The user programs shipped as boot modules: `(package, name)`. The name is
/// the binary's name, the module's name and, with `.elf`, its file on the
/// ESP. Boot-configuration order, which fixes each module's handle slot
/// (docs/ABI.md, "Handles"): init first.
pub const USER_PROGRAMS: [(&str, &str); 11] = [
    ("ferrous-init", "init"),
    ("ferrous-hello", "hello"),
    ("ferrous-fault", "fault"),
    ("ferrous-spinner", "spinner"),
    ("ferrous-exitcode", "exitcode"),
    ("ferrous-sysbad", "sysbad"),
    ("ferrous-fuzz", "fuzz"),
    ("ferrous-ubench", "ubench"),
    ("ferrous-captest", "captest"),
    ("ferrous-ipctest", "ipctest"),
    ("ferrous-tracetool", "tracetool"),
];

pub struct Artifacts {
    pub kernel: PathBuf,
    pub loader: PathBuf,
    /// `(name, path)` of each user program, in [`USER_PROGRAMS`] order.
    pub user: Vec<(String, PathBuf)>,
}

/// The workspace root (xtask lives one level below it).
pub fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .expect("xtask is inside the workspace")
        .to_path_buf()
}

pub fn target_dir() -> PathBuf {
    std::env::var_os("CARGO_TARGET_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| root().join("target"))
}

pub fn cargo() -> Command {
    let mut c = Command::new(std::env::var("CARGO").unwrap_or_else(|_| "cargo".into()));
    c.current_dir(root());
    c
}

/// Runs a command, turning a non-zero exit into an error naming it.
pub fn run_checked(cmd: &mut Command) -> Result<(), String> {
    let status = cmd
        .status()
        .map_err(|e| format!("cannot start {:?}: {e}", cmd.get_program()))?;
    if status.success() {
        Ok(())
    } else {
        Err(format!("{} failed ({status})", describe(cmd)))
    }
}

pub fn describe(cmd: &Command) -> String {
    let mut s = cmd.get_program().to_string_lossy().into_owned();
    for a in cmd.get_args() {
        s.push(' ');
        s.push_str(&a.to_string_lossy());
    }
    s
}

fn profile_dir(release: bool) -> &'static str {
    if release { "release" } else { "debug" }
}

fn build_one(package: &str, target: &str, release: bool) -> Result<(), String> {
    let mut cmd = cargo();
    cmd.args(["build", "--package", package, "--target", target]);
    if release {
        cmd.arg("--release");
    }
    run_checked(&mut cmd)
}

/// All user programs in one cargo invocation (they share `ferrous-rt`).
fn build_user(release: bool) -> Result<(), String> {
    let mut cmd = cargo();
    cmd.arg("build");
    for (package, _) in USER_PROGRAMS {
        cmd.args(["--package", package]);
    }
    cmd.args(["--target", USER_TARGET]);
    if release {
        cmd.arg("--release");
    }
    run_checked(&mut cmd)
}

pub fn build_all(release: bool) -> Result<Artifacts, String> {
    build_one("ferrous-kernel", KERNEL_TARGET, release)?;
    build_one("ferrous-boot", LOADER_TARGET, release)?;
    build_user(release)?;
    let t = target_dir();
    let p = profile_dir(release);
    let a = Artifacts {
        kernel: t.join(KERNEL_TARGET).join(p).join("ferrous-kernel"),
        loader: t.join(LOADER_TARGET).join(p).join("ferrous-boot.efi"),
        user: USER_PROGRAMS
            .iter()
            .map(|&(_, name)| (name.to_string(), t.join(USER_TARGET).join(p).join(name)))
            .collect(),
    };
    for f in [&a.kernel, &a.loader]
        .into_iter()
        .chain(a.user.iter().map(|(_, f)| f))
    {
        if !f.exists() {
            return Err(format!("build produced no {}", f.display()));
        }
    }
    Ok(a)
}
