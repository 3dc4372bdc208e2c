//! Python `__import__` chains, judged line by line. pyobfuscate and BlankOBF write their loaders
//! as one-liners of `__import__('zlib')`, `lambda`, `exec` and `marshal`; what a physical line
//! holding `__import__` is made of goes to [`super::pyobfuscate`] and [`super::blankobf`] when
//! the line ends, and the flags start over.

use super::text::Source;

/// What one physical line holds.
#[derive(Default)]
pub(super) struct ImportLine {
    pub(super) imports: u32,
    pub(super) lambda: bool,
    pub(super) exec: bool,
    /// A decoding function: `b64decode`, `decompress`, `unhexlify`, ...
    pub(super) decoder: bool,
    /// A string naming a decoding module: `'zlib'`, `'base64'`, `'marshal'`, ...
    pub(super) decoder_module: bool,
    pub(super) loads: bool,
    pub(super) marshal: bool,
    pub(super) builtins: bool,
    /// `getattr(__import__...`.
    pub(super) getattr: bool,
    /// `[::-1]`.
    pub(super) reversed: bool,
    /// `bytes([`.
    pub(super) bytes_list: bool,
}

impl ImportLine {
    pub(super) fn ident(&mut self, src: &Source, name: &str, end: usize) {
        match name {
            "__import__" => self.imports += 1,
            "lambda" => self.lambda = true,
            "exec" | "eval" => self.exec = true,
            "decompress" | "b64decode" | "b32decode" | "b16decode" | "b85decode" | "a85decode" | "unhexlify"
            | "decodebytes" | "urlsafe_b64decode" => self.decoder = true,
            "loads" => self.loads = true,
            "marshal" => self.marshal = true,
            "builtins" => self.builtins = true,
            "bytes" if src.at(src.skip_spaces(end), b"([") => self.bytes_list = true,
            "getattr" if getattr_of_import(src, end) => self.getattr = true,
            _ => {}
        }
    }

    /// A string literal's content: module names passed to `__import__`.
    pub(super) fn literal(&mut self, content: &str) {
        match content {
            "zlib" | "base64" | "lzma" | "bz2" | "gzip" | "binascii" | "codecs" => self.decoder_module = true,
            "marshal" => {
                self.decoder_module = true;
                self.marshal = true;
            }
            "builtins" => self.builtins = true,
            _ => {}
        }
    }

    pub(super) fn open_bracket(&mut self, src: &Source, at: usize) {
        if src.at(at, b"[::-1]") {
            self.reversed = true;
        }
    }
}

/// Whether `(__import__` follows a `getattr` that ends at `end`.
pub(super) fn getattr_of_import(src: &Source, end: usize) -> bool {
    let j = src.skip_spaces(end);
    src.at(j, b"(") && src.at(src.skip_spaces(j + 1), b"__import__")
}
