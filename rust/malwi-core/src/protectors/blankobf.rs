//! BlankOBF: `exec`/`getattr` reached through `__import__('builtins')`, `marshal.loads` of a code
//! object, module names spelled as `bytes([...])`, names made only of underscores and
//! `globals()['...']` lookups.

use super::import_chain::{getattr_of_import, ImportLine};
use super::text::Source;
use super::{Findings, Names, Protector, Sig, Tally};

pub(super) struct Blankobf<'a> {
    /// `__`, `___`, ...
    underscore: Names<'a>,
    /// `getattr(__import__...`.
    getattr_import: Tally,
    /// `globals()['...']`.
    globals_dispatch: Tally,
}

impl<'a> Blankobf<'a> {
    pub(super) fn new() -> Self {
        Blankobf { underscore: Names::new(), getattr_import: Tally::default(), globals_dispatch: Tally::default() }
    }

    /// Whether `name` is made only of underscores (`__`, `___`, ...), counted here.
    pub(super) fn underscore_name(&mut self, name: &'a str, line: u32) -> bool {
        let bytes = name.as_bytes();
        let underscores = bytes[0] == b'_' && bytes.len() >= 2 && bytes.iter().all(|&c| c == b'_');
        if underscores {
            self.underscore.add(name, line);
        }
        underscores
    }

    pub(super) fn ident(&mut self, src: &Source, name: &str, end: usize, line: u32) {
        match name {
            "getattr" if getattr_of_import(src, end) => self.getattr_import.add(line),
            "globals" if src.at(end, b"()[") && matches!(src.bytes.get(end + 3), Some(b'\'' | b'"')) => {
                self.globals_dispatch.add(line)
            }
            _ => {}
        }
    }

    /// A line holding `__import__` has ended.
    pub(super) fn end_line(&mut self, f: &ImportLine, line: u32, found: &mut Findings) {
        if f.exec && f.marshal && f.loads {
            found.record(Protector::Blankobf, Sig::ExecMarshal, line, 0.6, || {
                "exec of __import__('marshal').loads(...)".to_string()
            });
        }
        if f.builtins && (f.exec || f.getattr) {
            found.record(Protector::Blankobf, Sig::ImportBuiltins, line, 0.5, || {
                "exec/getattr through __import__('builtins')".to_string()
            });
        }
        if f.bytes_list {
            found.record(Protector::Blankobf, Sig::BytesDecodedImport, line, 0.5, || {
                "module names hidden as bytes([...]) next to __import__".to_string()
            });
        }
    }

    /// `idents`: identifiers in the file (at least 1).
    pub(super) fn finish(&self, idents: u32, found: &mut Findings) {
        let u = &self.underscore;
        let long_names = u.distinct.iter().filter(|name| name.len() >= 3).count();
        if u.count >= 10 && long_names >= 2 && u.count * 100 >= idents * 3 {
            let (count, line, distinct) = (u.count, u.line, u.distinct.len());
            found.record(Protector::Blankobf, Sig::UnderscoreNames, line, 0.6, || {
                format!("{count} uses of {distinct} underscore-only names")
            });
        }
        let Tally { count, line } = self.getattr_import;
        if count >= 3 {
            found.record(Protector::Blankobf, Sig::GetattrImport, line, 0.35, || {
                format!("{count} getattr(__import__(...)) dispatches")
            });
        }
        let Tally { count, line } = self.globals_dispatch;
        if count >= 10 {
            found.record(Protector::Blankobf, Sig::GlobalsDispatch, line, 0.3, || {
                format!("{count} globals()['...'] lookups")
            });
        }
    }
}

#[cfg(test)]
mod tests {
    use super::super::test_support::*;
    use super::super::Protector;

    #[test]
    fn blankobf() {
        let blob = "\\xe3\\x00\\x00\\x00".repeat(20);
        let banner = format!(
            "# Obfuscated with BlankOBF\n# https://github.com/Blank-c/BlankOBF\n\
             ____ = __import__(bytes([98, 117, 105, 108, 116, 105, 110, 115]).decode())\n\
             _____ = getattr(____, bytes([101, 120, 101, 99]).decode())\n\
             _____(__import__('marshal').loads(b'{blob}'))\n"
        );
        let detection = py(&banner);
        assert_protected(&detection, Protector::Blankobf);
        assert_eq!(evidence(&detection, Protector::Blankobf, "banner").line, 1);
        assert_eq!(evidence(&detection, Protector::Blankobf, "bytes([...])").line, 3);

        // Without the banner: builtins/marshal chains and underscore-only names.
        let plain = format!(
            "___ = __import__('builtins')\n\
             ____ = getattr(___, 'exec')\n\
             _____ = __import__('marshal')\n\
             ______ = __import__('zlib')\n\
             __import__('builtins').exec(__import__('marshal').loads(__import__('zlib').decompress(b'{blob}')))\n\
             ____(_____.loads(______.decompress(b'{blob}')))\n\
             ___.print(____, _____, ______)\n"
        );
        let detection = py(&plain);
        assert_protected(&detection, Protector::Blankobf);
        assert_eq!(evidence(&detection, Protector::Blankobf, "marshal").line, 5);
        assert_eq!(evidence(&detection, Protector::Blankobf, "builtins").line, 5);
        assert_eq!(evidence(&detection, Protector::Blankobf, "underscore-only").line, 1);
    }
}
