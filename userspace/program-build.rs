//! The build script of every user program (each Cargo.toml names it with
//! `build = "../program-build.rs"`): links the program with
//! `userspace/user.ld` as a static non-PIE executable at 0x400000 (the
//! target's default is a static PIE), like kernel/build.rs does for the
//! kernel, without debug info. Only for the bare-metal target.
fn main() {
    let dir = std::env::var("CARGO_MANIFEST_DIR").expect("cargo sets CARGO_MANIFEST_DIR");
    let target = std::env::var("TARGET").unwrap_or_default();
    if target == "x86_64-unknown-none" {
        let script = std::path::Path::new(&dir).join("../user.ld");
        let script = script.display();
        println!("cargo:rustc-link-arg-bins=-T{script}");
        println!("cargo:rustc-link-arg-bins=--no-pie");
        // Boot modules travel in RAM: without debug info they are a tenth
        // of the size, so a dozen of them still fit a 64 MiB machine.
        println!("cargo:rustc-link-arg-bins=--strip-debug");
        println!("cargo:rerun-if-changed={script}");
    }
}
