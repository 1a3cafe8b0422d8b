//! The boot configuration file: keys, defaults and each error.

use crate::MODULE_NAME_LEN;
use crate::bootconf::*;

#[test]
fn parses_a_full_file() {
    let text = "# Ferrous\nkernel = k.elf\n\ncmdline = log=debug test=boot  # why\nmodule = init init.elf\nmodule=sh   shell.elf\n";
    let c = BootConf::parse(text).unwrap();
    assert_eq!(c.kernel, "k.elf");
    assert_eq!(c.cmdline, "log=debug test=boot");
    let mods: Vec<_> = c.modules().collect();
    assert_eq!(mods, [("init", "init.elf"), ("sh", "shell.elf")]);
}

#[test]
fn defaults_when_keys_are_absent() {
    let c = BootConf::parse("").unwrap();
    assert_eq!(c.kernel, DEFAULT_KERNEL);
    assert_eq!(c.cmdline, "");
    assert_eq!(c.modules().count(), 0);
    assert_eq!(BootConf::parse("cmdline =").unwrap().cmdline, "");
}

#[test]
fn every_defect_has_its_error() {
    assert_eq!(
        BootConf::parse("kernel"),
        Err(ConfError::MissingEquals { line: 1 })
    );
    assert_eq!(
        BootConf::parse("\nkernal = x"),
        Err(ConfError::UnknownKey {
            line: 2,
            key: "kernal"
        })
    );
    assert_eq!(
        BootConf::parse("kernel ="),
        Err(ConfError::EmptyValue {
            line: 1,
            key: "kernel"
        })
    );
    assert_eq!(
        BootConf::parse("module = onlyname"),
        Err(ConfError::BadModule { line: 1 })
    );
    assert_eq!(
        BootConf::parse("module = a b c"),
        Err(ConfError::BadModule { line: 1 })
    );
    assert_eq!(
        BootConf::parse("module = a/b f"),
        Err(ConfError::BadModuleName {
            line: 1,
            name: "a/b"
        })
    );
    assert_eq!(
        BootConf::parse("kernel = ..\\x"),
        Err(ConfError::BadPath {
            line: 1,
            path: "..\\x"
        })
    );
    assert_eq!(
        BootConf::parse("module = a .."),
        Err(ConfError::BadPath {
            line: 1,
            path: ".."
        })
    );
    assert_eq!(
        BootConf::parse("kernel = a\nkernel = b"),
        Err(ConfError::Duplicate {
            line: 2,
            key: "kernel"
        })
    );
}

proptest::proptest! {
    #[test]
    fn arbitrary_text_never_panics(text in ".{0,200}") {
        if let Ok(c) = BootConf::parse(&text) {
            for (name, file) in c.modules() {
                proptest::prop_assert!(name.len() <= MODULE_NAME_LEN);
                proptest::prop_assert!(plain_file_name(file));
            }
        }
    }
}
