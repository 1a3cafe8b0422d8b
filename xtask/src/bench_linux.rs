//! The Linux peer for `cargo xtask bench`, built from scratch: Debian's
//! packaged kernel and busybox-static (`apt-get download`), the static C
//! benchmark bench/linux/fbench.c (gcc), and an initramfs written here.
//!
//! Everything lives under target/bench/linux/:
//!
//! ```text
//! debs/                      the downloaded .deb files (kept as a cache)
//! kernel/boot/vmlinuz-*      the kernel, taken out of linux-image-*.deb
//! busybox/bin/busybox        busybox-static, extracted with dpkg-deb -x
//! fbench                     gcc -O2 -static bench/linux/fbench.c
//! initramfs.cpio             /init (= fbench), /bin/busybox, /dev/console ...
//! ```

use crate::bench_cpio::Cpio;
use crate::build;
use crate::qemu;
use std::fs;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

/// The meta-package whose dependency names the current kernel package.
const KERNEL_META: &str = "linux-image-amd64";
const BUSYBOX: &str = "busybox-static";

/// A Linux guest ready to boot.
#[derive(Debug, Clone)]
pub struct LinuxGuest {
    pub kernel: PathBuf,
    pub initrd: PathBuf,
    /// The .deb files it came from.
    pub kernel_deb: String,
    pub busybox_deb: String,
}

pub fn dir() -> PathBuf {
    build::target_dir().join("bench").join("linux")
}

/// The kernel command line; `quick` or `full` reaches fbench as argv[1].
pub fn append(quick: bool) -> String {
    format!(
        "console=ttyS0 quiet panic=-1 -- {}",
        if quick { "quick" } else { "full" }
    )
}

fn apt(args: &[&str], cwd: Option<&Path>) -> Result<String, String> {
    let mut c = Command::new(args[0]);
    c.args(&args[1..])
        .env("DEBIAN_FRONTEND", "noninteractive")
        .stdin(Stdio::null());
    if let Some(d) = cwd {
        c.current_dir(d);
    }
    let out = c
        .output()
        .map_err(|e| format!("cannot start {}: {e}", args[0]))?;
    if out.status.success() {
        Ok(String::from_utf8_lossy(&out.stdout).into_owned())
    } else {
        Err(format!(
            "{} failed ({}): {}",
            args.join(" "),
            out.status,
            String::from_utf8_lossy(&out.stderr).trim()
        ))
    }
}

fn apt_update() -> Result<(), String> {
    if !qemu::is_root() {
        return Err(
            "the Debian package lists are needed: run `sudo apt-get update` \
                    (or run cargo xtask bench as root)"
                .into(),
        );
    }
    println!("xtask: apt-get update");
    apt(&["apt-get", "update", "-q"], None).map(|_| ())
}

/// The first dependency of `linux-image-amd64` that names a kernel image,
/// from `apt-cache show` output (`linux-image-6.1.0-56-amd64 (= 6.1.192-2)`).
pub fn kernel_package_from_show(show: &str) -> Option<String> {
    let deps = show.lines().find_map(|l| l.strip_prefix("Depends:"))?;
    deps.split([',', '|'])
        .map(|d| d.split_whitespace().next().unwrap_or(""))
        .find(|n| n.starts_with("linux-image-") && *n != KERNEL_META)
        .map(String::from)
}

fn resolve_kernel_package() -> Result<String, String> {
    let show = || {
        apt(
            &["apt-cache", "show", "--no-all-versions", KERNEL_META],
            None,
        )
    };
    if let Some(p) = show().ok().as_deref().and_then(kernel_package_from_show) {
        return Ok(p);
    }
    apt_update()?;
    let text = show()?;
    kernel_package_from_show(&text)
        .ok_or_else(|| format!("cannot tell the kernel package from {KERNEL_META}'s Depends"))
}

/// `apt-get download` into `debs`; on failure (stale lists) update and retry.
fn download(debs: &Path, package: &str) -> Result<(), String> {
    println!("xtask: apt-get download {package}");
    fs::create_dir_all(debs).map_err(|e| format!("creating {}: {e}", debs.display()))?;
    if apt(&["apt-get", "download", "-q", package], Some(debs)).is_ok() {
        return Ok(());
    }
    apt_update()?;
    apt(&["apt-get", "download", "-q", package], Some(debs)).map(|_| ())
}

/// Files in `dir` whose names satisfy `pick`, sorted by name.
fn files(dir: &Path, pick: impl Fn(&str) -> bool) -> Vec<PathBuf> {
    let mut v: Vec<PathBuf> = fs::read_dir(dir)
        .into_iter()
        .flatten()
        .flatten()
        .map(|e| e.path())
        .filter(|p| p.file_name().and_then(|n| n.to_str()).is_some_and(&pick))
        .collect();
    v.sort();
    v
}

fn is_kernel_deb(name: &str) -> bool {
    name.starts_with("linux-image-")
        && name.contains("-amd64_")
        && !name.starts_with(&format!("{KERNEL_META}_"))
        && name.ends_with(".deb")
}

fn file_name(p: &Path) -> String {
    p.file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default()
}

/// The kernel's .deb (downloaded unless cached) and its extracted vmlinuz.
fn kernel(dir: &Path) -> Result<(PathBuf, String), String> {
    let debs = dir.join("debs");
    let root = dir.join("kernel");
    let deb = match files(&debs, is_kernel_deb).pop() {
        Some(d) => d,
        None => {
            let pkg = resolve_kernel_package()?;
            download(&debs, &pkg)?;
            files(&debs, is_kernel_deb)
                .pop()
                .ok_or_else(|| format!("apt-get download {pkg} left no .deb"))?
        }
    };
    let boot = root.join("boot");
    if let Some(k) = files(&boot, |n| n.starts_with("vmlinuz-")).pop() {
        return Ok((k, file_name(&deb)));
    }
    // Only boot/vmlinuz-*: the package's modules would be hundreds of MiB.
    println!("xtask: extracting boot/vmlinuz-* from {}", file_name(&deb));
    fs::create_dir_all(&root).map_err(|e| format!("creating {}: {e}", root.display()))?;
    let mut dpkg = Command::new("dpkg-deb")
        .arg("--fsys-tarfile")
        .arg(&deb)
        .stdout(Stdio::piped())
        .spawn()
        .map_err(|e| format!("cannot start dpkg-deb: {e}"))?;
    let tar_in = dpkg.stdout.take().ok_or("no pipe from dpkg-deb")?;
    let tar = Command::new("tar")
        .arg("-x")
        .arg("-C")
        .arg(&root)
        .args(["--wildcards", "./boot/vmlinuz-*"])
        .stdin(tar_in)
        .status()
        .map_err(|e| format!("cannot start tar: {e}"))?;
    let dpkg = dpkg.wait().map_err(|e| format!("dpkg-deb: {e}"))?;
    if !tar.success() || !dpkg.success() {
        return Err(format!(
            "extracting vmlinuz from {} failed (dpkg-deb {dpkg}, tar {tar})",
            deb.display()
        ));
    }
    let k = files(&boot, |n| n.starts_with("vmlinuz-"))
        .pop()
        .ok_or_else(|| format!("{} holds no boot/vmlinuz-*", deb.display()))?;
    Ok((k, file_name(&deb)))
}

/// busybox-static's .deb (downloaded unless cached), extracted.
fn busybox(dir: &Path) -> Result<(PathBuf, String), String> {
    let debs = dir.join("debs");
    let root = dir.join("busybox");
    let pick = |n: &str| n.starts_with(&format!("{BUSYBOX}_")) && n.ends_with(".deb");
    let deb = match files(&debs, pick).pop() {
        Some(d) => d,
        None => {
            download(&debs, BUSYBOX)?;
            files(&debs, pick)
                .pop()
                .ok_or("apt-get download busybox-static left no .deb")?
        }
    };
    let bin = root.join("bin").join("busybox");
    if !bin.is_file() {
        println!("xtask: dpkg-deb -x {}", file_name(&deb));
        build::run_checked(Command::new("dpkg-deb").arg("-x").arg(&deb).arg(&root))?;
    }
    if !bin.is_file() {
        return Err(format!("{} has no bin/busybox", deb.display()));
    }
    Ok((bin, file_name(&deb)))
}

/// gcc and a static libc, installed from Debian if missing and we are root.
fn ensure_gcc() -> Result<(), String> {
    let libc = Path::new("/usr/lib/x86_64-linux-gnu/libc.a");
    if qemu::which("gcc").is_some() && libc.is_file() {
        return Ok(());
    }
    if !qemu::is_root() {
        return Err("gcc and a static libc are needed: sudo apt-get install gcc libc6-dev".into());
    }
    apt_update()?;
    println!("xtask: apt-get install gcc libc6-dev");
    apt(
        &[
            "apt-get",
            "install",
            "-y",
            "-q",
            "--no-install-recommends",
            "gcc",
            "libc6-dev",
        ],
        None,
    )
    .map(|_| ())
}

fn compile_fbench(dir: &Path) -> Result<PathBuf, String> {
    ensure_gcc()?;
    let src = build::root().join("bench").join("linux").join("fbench.c");
    let out = dir.join("fbench");
    let o = Command::new("gcc")
        .args(["-O2", "-static", "-Wall", "-Wextra", "-o"])
        .arg(&out)
        .arg(&src)
        .stdin(Stdio::null())
        .output()
        .map_err(|e| format!("cannot start gcc: {e}"))?;
    if !o.status.success() {
        return Err(format!(
            "gcc {} failed:\n{}",
            src.display(),
            String::from_utf8_lossy(&o.stderr)
        ));
    }
    Ok(out)
}

/// The initramfs: fbench as /init, busybox (what fork-exec-wait runs),
/// /dev/console so /init has a console, and mount points.
pub fn initramfs(fbench: &[u8], busybox: &[u8]) -> Vec<u8> {
    let mut c = Cpio::new();
    c.dir("dev", 0o755);
    c.char_dev("dev/console", 0o600, 5, 1);
    c.dir("proc", 0o555);
    c.dir("sys", 0o555);
    c.dir("tmp", 0o1777);
    c.dir("bin", 0o755);
    c.file("bin/busybox", 0o755, busybox);
    c.symlink("bin/sh", "busybox");
    c.symlink("bin/true", "busybox");
    c.file("init", 0o755, fbench);
    c.finish()
}

/// Downloads (once), extracts (once), compiles and packs the Linux guest.
pub fn prepare() -> Result<LinuxGuest, String> {
    let dir = dir();
    fs::create_dir_all(&dir).map_err(|e| format!("creating {}: {e}", dir.display()))?;
    let (kernel, kernel_deb) = kernel(&dir)?;
    let (busybox, busybox_deb) = busybox(&dir)?;
    let fbench = compile_fbench(&dir)?;
    let read = |p: &Path| fs::read(p).map_err(|e| format!("reading {}: {e}", p.display()));
    let cpio = initramfs(&read(&fbench)?, &read(&busybox)?);
    let initrd = dir.join("initramfs.cpio");
    fs::write(&initrd, cpio).map_err(|e| format!("writing {}: {e}", initrd.display()))?;
    Ok(LinuxGuest {
        kernel,
        initrd,
        kernel_deb,
        busybox_deb,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn kernel_package_comes_from_the_meta_package_depends() {
        let show = "Package: linux-image-amd64\nVersion: 6.1.192-2\n\
                    Depends: linux-image-6.1.0-56-amd64 (= 6.1.192-2)\nDescription: x\n";
        assert_eq!(
            kernel_package_from_show(show).as_deref(),
            Some("linux-image-6.1.0-56-amd64")
        );
        assert_eq!(kernel_package_from_show("Package: x\n"), None);
    }

    #[test]
    fn kernel_debs_are_told_from_the_meta_package() {
        assert!(is_kernel_deb(
            "linux-image-6.1.0-56-amd64_6.1.192-2_amd64.deb"
        ));
        assert!(!is_kernel_deb("linux-image-amd64_6.1.192-2_amd64.deb"));
        assert!(!is_kernel_deb(
            "busybox-static_1%3a1.35.0-4+deb12u1+b1_amd64.deb"
        ));
    }

    #[test]
    fn command_line_passes_the_mode_to_init() {
        assert!(append(true).ends_with(" -- quick"));
        assert!(append(false).ends_with(" -- full"));
        assert!(append(false).starts_with("console=ttyS0 "));
    }
}
