//! PyArmor: its runtime (`__pyarmor__`, `pyarmor_runtime_000000`, the `__armor_enter__` hooks),
//! the `pytransform` loader of older versions and the header of the encrypted bytes literal.

use super::text::Source;
use super::{Findings, Protector, Sig};

pub(super) fn ident(src: &Source, name: &str, end: usize, line: u32, found: &mut Findings) {
    match name {
        "__pyarmor__" => found
            .record(Protector::Pyarmor, Sig::PyarmorCall, line, 0.9, || "pyarmor runtime call __pyarmor__".to_string()),
        "__armor_enter__" | "__armor_exit__" | "__armor_wrap__" => {
            found.record(Protector::Pyarmor, Sig::ArmorHooks, line, 0.9, || format!("pyarmor hook {name}"))
        }
        "from" if src.module_import(end, b"pytransform").is_some() => {
            found.record(Protector::Pyarmor, Sig::PytransformImport, line, 0.9, || {
                "pyarmor loader: from pytransform import".to_string()
            })
        }
        _ if name.starts_with("pyarmor_runtime") => {
            found.record(Protector::Pyarmor, Sig::PyarmorRuntime, line, 0.9, || format!("pyarmor runtime {name}"))
        }
        _ => {}
    }
}

/// The content of a bytes literal.
pub(super) fn bytes_literal(content: &str, line: u32, found: &mut Findings) {
    if is_pyarmor_header(content.as_bytes()) {
        let head: String = content.chars().take(8).collect();
        found.record(Protector::Pyarmor, Sig::PyarmorHeader, line, 0.9, || {
            format!("pyarmor header b'{head}' in a bytes literal")
        });
    }
}

/// The start of a bytes literal that PyArmor writes: `PYARMOR`, `PY` + six digits of the
/// licence, or `PYARMOR` written as `\x..` escapes.
fn is_pyarmor_header(content: &[u8]) -> bool {
    const ESCAPED: &[u8] = b"\\x50\\x59\\x41\\x52\\x4d\\x4f\\x52";
    content.starts_with(b"PYARMOR")
        || (content.len() >= 8 && content.starts_with(b"PY") && content[2..8].iter().all(u8::is_ascii_digit))
        || (content.len() >= ESCAPED.len()
            && content.starts_with(&ESCAPED[..16])
            && content[16..ESCAPED.len()].eq_ignore_ascii_case(&ESCAPED[16..]))
}

#[cfg(test)]
mod tests {
    use super::super::test_support::*;
    use super::super::Protector;

    #[test]
    fn pyarmor() {
        let stub = "from pytransform import pyarmor_runtime\npyarmor_runtime()\n__pyarmor__(__name__, __file__, b'PYARMOR\\x00\\x00\\x03\\x0b\\x00\\xa7\\x0d\\x0d\\x0a\\x04\\x00')\n";
        let detection = py(stub);
        assert_protected(&detection, Protector::Pyarmor);
        assert!(detection.confidence > 0.99);
        assert_eq!(evidence(&detection, Protector::Pyarmor, "from pytransform import").line, 1);
        assert_eq!(evidence(&detection, Protector::Pyarmor, "pyarmor_runtime").line, 1);
        assert_eq!(evidence(&detection, Protector::Pyarmor, "__pyarmor__").line, 3);
        assert_eq!(evidence(&detection, Protector::Pyarmor, "header").line, 3);

        let v8 = "# Pyarmor 8.5.2 (trial), 000000, 2024-01-01T00:00:00.000000\nfrom pyarmor_runtime_000000 import __pyarmor__\n__pyarmor__(__name__, __file__, b'PY000000\\x00\\x03\\x0b\\x00')\n";
        let detection = py(v8);
        assert_protected(&detection, Protector::Pyarmor);
        assert_eq!(evidence(&detection, Protector::Pyarmor, "banner").line, 1);
        assert_eq!(evidence(&detection, Protector::Pyarmor, "pyarmor_runtime_000000").line, 2);
        assert_eq!(evidence(&detection, Protector::Pyarmor, "b'PY000000").line, 3);

        // Talking about pyarmor in strings and comments is not using it.
        assert_clean(&py("# see pyarmor docs\nHELP = \"call __pyarmor__ and pyarmor_runtime\"\n"));
    }
}
