//! Links the kernel at its higher-half address with our linker script.
//! The target's default is a static PIE; we link a plain static executable
//! (`--no-pie`) so the loader needs no relocation step. Code is still
//! position-independent, so nothing assumes the low 2 GiB.
fn main() {
    let dir = std::env::var("CARGO_MANIFEST_DIR").expect("cargo sets CARGO_MANIFEST_DIR");
    let target = std::env::var("TARGET").unwrap_or_default();
    if target == "x86_64-unknown-none" {
        println!("cargo:rustc-link-arg-bins=-T{dir}/arch/x86_64/linker.ld");
        println!("cargo:rustc-link-arg-bins=--no-pie");
        println!("cargo:rerun-if-changed={dir}/arch/x86_64/linker.ld");
    }
}
