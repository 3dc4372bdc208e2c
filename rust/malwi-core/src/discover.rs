//! Where the files of a scan are found.
//!
//! Discovery walks directories (sorted, no symlinks followed, VCS folders skipped, `.malwiignore`
//! and caller-given exclude patterns honoured) and picks files by extension or `#!` line; the
//! files it passes over are sniffed for archive magic (a zip renamed `cert.crt`), at most one
//! 512-byte read each, so the caller can unpack and scan them.

use std::io::Read;
use std::path::{Path, PathBuf};
use std::rc::Rc;

use ignore::gitignore::{Gitignore, GitignoreBuilder};

use crate::error::Error;
use crate::language::Language;

/// Files larger than this are not sniffed for archive magic (the default unpack limit: a bigger
/// archive would be refused anyway).
pub const DEFAULT_MAX_ARCHIVE_SIZE: u64 = 1024 * 1024 * 1024;
/// Files smaller than this are not sniffed: no archive holding code is that small.
pub const MIN_ARCHIVE_SIZE: u64 = 64;
/// How much of a file the archive sniff reads (a tar header is 512 bytes).
const SNIFF_BYTES: usize = 512;

/// File names that say "archive", the one list of them: such a file found inside a tree is a
/// nested archive, not a disguised one, and one named on the command line is unpacked.
pub const ARCHIVE_SUFFIXES: &[&str] = &[
    ".tar.gz", ".tgz", ".tar.bz2", ".tbz2", ".tbz", ".tar.xz", ".txz", ".tar", ".zip", ".whl", ".egg", ".jar", ".war",
    ".apk", ".nupkg", ".gz", ".bz2", ".xz",
];

/// Whether a file name ends like an archive's (case-insensitive).
pub fn is_archive_name(name: &str) -> bool {
    let lower = name.to_ascii_lowercase();
    ARCHIVE_SUFFIXES.iter().any(|suffix| lower.ends_with(suffix))
}

/// Directories that never hold the code of a package or project.
const SKIPPED_DIRECTORIES: &[&str] =
    &[".git", ".hg", ".svn", ".bzr", "__pycache__", ".mypy_cache", ".pytest_cache", ".tox", ".nox"];

/// The per-directory ignore file, read with gitignore syntax and semantics.
pub const IGNORE_FILE_NAME: &str = ".malwiignore";

/// The files a scan will compile, and what it passed over.
#[derive(Debug, Default)]
pub struct Discovery {
    pub files: Vec<(PathBuf, Language)>,
    /// Regular files whose extension (or lack of one) is not compiled.
    pub skipped_by_extension: usize,
    /// Symbolic links, which are never followed.
    pub skipped_links: usize,
    /// Entries of walked directories matched by a `.malwiignore` or exclude pattern. An ignored
    /// directory is pruned unread and counts as one entry, not as the files it holds.
    pub skipped_ignored: usize,
    /// `.malwiignore` files below a walked root: not read (see `DiscoverOptions::ignore_files`).
    pub ignored_ignore_files: Vec<PathBuf>,
    /// Entries that could not be listed or inspected, and unusable `.malwiignore` lines.
    pub errors: Vec<(PathBuf, String)>,
    /// Files skipped by extension whose content is an archive: `(path, kind, disguised)`, kind
    /// one of `zip`, `gzip`, `bzip2`, `xz`, `tar` (see [`archive_kind`]); `disguised` when the
    /// name does not say archive (`cert.crt` holding a zip), else a plain nested archive. They
    /// also count in `skipped_by_extension`.
    pub archives: Vec<(PathBuf, &'static str, bool)>,
    /// Files that say a package starts in their folder or is installed there (see
    /// [`is_manifest`]): `setup.py`, `pyproject.toml`, `setup.cfg`, `package.json`, a
    /// distribution's `*.dist-info/RECORD` or `*.egg-info/installed-files.txt`. Listed whether
    /// or not they are compiled, so the caller can tell which package each file belongs to.
    pub manifests: Vec<PathBuf>,
    /// Compiled Python (`.pyc`, `.pyo`) outside `__pycache__` with no `.py` beside it: Python
    /// imports such a file as it is, and malwi cannot read bytecode, so it is not scanned.
    pub sourceless: Vec<PathBuf>,
}

/// File names that mark a package's root folder.
pub const MANIFEST_NAMES: &[&str] = &["setup.py", "pyproject.toml", "setup.cfg", "package.json"];

/// Whether a file marks a package: by name, or as an installed distribution's file list.
pub fn is_manifest(path: &Path) -> bool {
    let Some(name) = path.file_name().and_then(|n| n.to_str()) else { return false };
    if MANIFEST_NAMES.contains(&name) {
        return true;
    }
    let folder = path.parent().and_then(|p| p.file_name()).and_then(|n| n.to_str()).unwrap_or("");
    (name == "RECORD" && folder.ends_with(".dist-info"))
        || (name == "installed-files.txt" && folder.ends_with(".egg-info"))
}

/// How [`discover_with`] chooses files.
#[derive(Clone, Debug)]
pub struct DiscoverOptions {
    /// Extensions (without dots) to compile; `None` means every supported one, plus
    /// extension-less scripts recognised by their `#!` line.
    pub extensions: Option<Vec<String>>,
    /// Extra patterns in gitignore syntax (from `[tool.malwi] exclude`), applied to walked
    /// entries below `exclude_base`. They rank below every `.malwiignore`, as git ranks
    /// `.git/info/exclude` below `.gitignore` files, so a `.malwiignore` can re-include with `!`.
    pub exclude: Vec<String>,
    /// The directory `exclude` patterns are relative to; `None` means the current directory.
    pub exclude_base: Option<PathBuf>,
    /// Read the `.malwiignore` at the root of each walked directory (it applies to the whole
    /// tree). Only at the root: a nested one could arrive with a dependency (`node_modules/x/
    /// .malwiignore` saying `*`) and hide that dependency; nested ones are listed in
    /// `ignored_ignore_files` instead. Switch this off for trees that are not trusted at all
    /// (downloaded packages, archives).
    pub ignore_files: bool,
    /// Files skipped by extension of `MIN_ARCHIVE_SIZE..=max_archive_size` bytes get their
    /// first 512 bytes read and are listed in `Discovery::archives` when those are archive magic.
    /// 0 reads nothing.
    pub max_archive_size: u64,
}

impl Default for DiscoverOptions {
    fn default() -> Self {
        DiscoverOptions {
            extensions: None,
            exclude: Vec::new(),
            exclude_base: None,
            ignore_files: true,
            max_archive_size: DEFAULT_MAX_ARCHIVE_SIZE,
        }
    }
}

/// Finds the files to compile under `paths`, honouring `.malwiignore` files. `extensions`
/// (without dots) restricts the set; by default every supported extension counts, and
/// extension-less scripts are recognised by their `#!` line.
pub fn discover(paths: &[PathBuf], extensions: Option<&[String]>) -> Result<Discovery, Error> {
    discover_with(paths, &DiscoverOptions { extensions: extensions.map(<[String]>::to_vec), ..Default::default() })
}

/// Finds the files to compile under `paths` (files and directories).
///
/// Directory walks honour `.malwiignore` files (when `options.ignore_files`) and the exclude
/// patterns: ignored files are passed over and ignored directories pruned. Paths named in
/// `paths` themselves are never ignored: whoever names a file or directory wants it scanned,
/// and only the entries found inside a named directory are matched. An invalid exclude pattern
/// is a [`Error::Config`]; an invalid `.malwiignore` line only an entry in `errors`.
pub fn discover_with(paths: &[PathBuf], options: &DiscoverOptions) -> Result<Discovery, Error> {
    let extensions = options.extensions.as_deref();
    let wanted: Vec<String> = match extensions {
        Some(list) => list.iter().map(|e| e.trim_start_matches('.').to_ascii_lowercase()).collect(),
        None => Language::DEFAULT_EXTENSIONS.iter().map(|e| e.to_string()).collect(),
    };
    for e in &wanted {
        if Language::from_extension(e).is_none() {
            return Err(Error::UnsupportedLanguage(format!(".{e}")));
        }
    }
    let exclude = exclude_matcher(&options.exclude, options.exclude_base.as_deref())?;
    let mut discovery = Discovery::default();
    for path in paths {
        let metadata =
            std::fs::symlink_metadata(path).map_err(|e| Error::Io { path: path.clone(), message: e.to_string() })?;
        if metadata.is_dir() {
            let ignores = Ignores {
                read_files: options.ignore_files,
                exclude: exclude.as_ref(),
                max_archive_size: options.max_archive_size,
            };
            walk(path, &wanted, &ignores, &mut discovery);
        } else {
            let choice =
                Choice { wanted: &wanted, shebangs: extensions.is_none(), max_archive_size: options.max_archive_size };
            classify_file(path, &metadata, &choice, &mut discovery);
        }
    }
    Ok(discovery)
}

/// What a walk passes over besides VCS folders and symlinks.
struct Ignores<'a> {
    read_files: bool,
    /// The exclude patterns, with the absolute directory they are rooted at.
    exclude: Option<&'a (PathBuf, Gitignore)>,
    max_archive_size: u64,
}

/// How [`classify_file`] decides about one file.
struct Choice<'a> {
    wanted: &'a [String],
    /// Extension-less files with a `#!python`/`#!node` line count.
    shebangs: bool,
    /// See `DiscoverOptions::max_archive_size`.
    max_archive_size: u64,
}

/// The `.malwiignore` files in force in a directory, the deepest first.
struct IgnoreLayer {
    /// Absolute directory of the `.malwiignore`; the matcher sees paths relative to it.
    dir: PathBuf,
    matcher: Gitignore,
    parent: Option<Rc<IgnoreLayer>>,
}

/// A directory waiting to be walked.
struct PendingDir {
    /// The path as reported (below the root the caller named).
    path: PathBuf,
    /// The same directory made absolute, symlinks in the named root resolved: the form ignore
    /// patterns are matched against, so that `exclude_base` and the walk agree.
    absolute: PathBuf,
    layers: Option<Rc<IgnoreLayer>>,
}

fn exclude_matcher(patterns: &[String], base: Option<&Path>) -> Result<Option<(PathBuf, Gitignore)>, Error> {
    if patterns.is_empty() {
        return Ok(None);
    }
    let base = match base {
        Some(base) => base.to_path_buf(),
        None => std::env::current_dir().map_err(|e| Error::Io { path: ".".into(), message: e.to_string() })?,
    };
    let base = absolute_form(&base);
    let mut builder = GitignoreBuilder::new(&base);
    for pattern in patterns {
        builder.add_line(None, pattern).map_err(|e| Error::Config(format!("exclude pattern {pattern:?}: {e}")))?;
    }
    let matcher = builder.build().map_err(|e| Error::Config(format!("exclude patterns: {e}")))?;
    Ok(Some((base, matcher)))
}

/// `path` made absolute with symlinks and `..` resolved where the file system allows.
fn absolute_form(path: &Path) -> PathBuf {
    std::fs::canonicalize(path).or_else(|_| std::path::absolute(path)).unwrap_or_else(|_| path.to_path_buf())
}

/// Reads a `.malwiignore` into a matcher rooted at `dir`. Unreadable files and bad lines become
/// entries in `errors`; the lines that parse still count.
fn read_ignore_file(file: &Path, dir: &Path, errors: &mut Vec<(PathBuf, String)>) -> Option<Gitignore> {
    let bytes = match std::fs::read(file) {
        Ok(bytes) => bytes,
        Err(e) => {
            errors.push((file.to_path_buf(), e.to_string()));
            return None;
        }
    };
    let text = String::from_utf8_lossy(&bytes);
    let mut builder = GitignoreBuilder::new(dir);
    for (number, line) in text.lines().enumerate() {
        let line = if number == 0 { line.trim_start_matches('\u{feff}') } else { line };
        if let Err(e) = builder.add_line(Some(file.to_path_buf()), line) {
            errors.push((file.to_path_buf(), format!("line {}: {e}", number + 1)));
        }
    }
    match builder.build() {
        Ok(matcher) if matcher.is_empty() => None,
        Ok(matcher) => Some(matcher),
        Err(e) => {
            errors.push((file.to_path_buf(), e.to_string()));
            None
        }
    }
}

/// Whether the entry at `absolute` is ignored: the deepest `.malwiignore` with a matching
/// pattern decides (a `!` pattern re-includes), then the exclude patterns.
fn is_ignored(absolute: &Path, is_dir: bool, layers: Option<&IgnoreLayer>, ignores: &Ignores<'_>) -> bool {
    let mut layer = layers;
    while let Some(current) = layer {
        if let Ok(relative) = absolute.strip_prefix(&current.dir) {
            let matched = current.matcher.matched(relative, is_dir);
            if !matched.is_none() {
                return matched.is_ignore();
            }
        }
        layer = current.parent.as_deref();
    }
    match ignores.exclude {
        Some((base, matcher)) => match absolute.strip_prefix(base) {
            Ok(relative) => matcher.matched(relative, is_dir).is_ignore(),
            Err(_) => false,
        },
        None => false,
    }
}

fn walk(root: &Path, wanted: &[String], ignores: &Ignores<'_>, discovery: &mut Discovery) {
    let mut pending = vec![PendingDir { path: root.to_path_buf(), absolute: absolute_form(root), layers: None }];
    while let Some(PendingDir { path: dir, absolute: absolute_dir, mut layers }) = pending.pop() {
        let entries = match std::fs::read_dir(&dir) {
            Ok(entries) => entries,
            Err(e) => {
                discovery.errors.push((dir, e.to_string()));
                continue;
            }
        };
        let mut entries: Vec<_> = entries.filter_map(|e| e.ok()).collect();
        entries.sort_by_key(|e| e.file_name());
        if ignores.read_files {
            // Found among the entries already listed: no extra system call for directories
            // without one. A symlinked `.malwiignore` is not followed, like any other link.
            let ignore_file =
                entries.iter().find(|e| e.file_name() == IGNORE_FILE_NAME && e.file_type().is_ok_and(|t| t.is_file()));
            if let Some(entry) = ignore_file {
                if dir.as_path() != root {
                    discovery.ignored_ignore_files.push(entry.path());
                } else if let Some(matcher) = read_ignore_file(&entry.path(), &absolute_dir, &mut discovery.errors) {
                    layers = Some(Rc::new(IgnoreLayer { dir: absolute_dir.clone(), matcher, parent: layers }));
                }
            }
        }
        let mut subdirectories = Vec::new();
        let choice = Choice {
            wanted,
            shebangs: wanted.len() == Language::DEFAULT_EXTENSIONS.len(),
            max_archive_size: ignores.max_archive_size,
        };
        for entry in entries {
            let path = entry.path();
            let metadata = match std::fs::symlink_metadata(&path) {
                Ok(metadata) => metadata,
                Err(e) => {
                    discovery.errors.push((path, e.to_string()));
                    continue;
                }
            };
            let name = entry.file_name();
            let is_dir = metadata.is_dir();
            if is_dir && SKIPPED_DIRECTORIES.iter().any(|skip| name == *skip) {
                continue;
            }
            let matching = layers.is_some() || ignores.exclude.is_some();
            if matching && is_ignored(&absolute_dir.join(&name), is_dir, layers.as_deref(), ignores) {
                discovery.skipped_ignored += 1;
                continue;
            }
            if is_dir {
                subdirectories.push(PendingDir { path, absolute: absolute_dir.join(&name), layers: layers.clone() });
            } else {
                classify_file(&path, &metadata, &choice, discovery);
            }
        }
        // Reverse so that popping visits subdirectories in sorted order.
        pending.extend(subdirectories.into_iter().rev());
    }
}

fn classify_file(path: &Path, metadata: &std::fs::Metadata, choice: &Choice<'_>, discovery: &mut Discovery) {
    if metadata.file_type().is_symlink() {
        discovery.skipped_links += 1;
        return;
    }
    if !metadata.is_file() {
        discovery.skipped_by_extension += 1;
        return;
    }
    if is_manifest(path) {
        discovery.manifests.push(path.to_path_buf());
    }
    let extension = path.extension().and_then(|e| e.to_str()).map(|e| e.to_ascii_lowercase());
    if let Some(e) = &extension {
        if choice.wanted.iter().any(|w| w == e) {
            if let Some(language) = Language::from_extension(e) {
                discovery.files.push((path.to_path_buf(), language));
                return;
            }
        }
    }
    if matches!(extension.as_deref(), Some("pyc" | "pyo")) && !path.with_extension("py").exists() {
        discovery.sourceless.push(path.to_path_buf());
    }
    // Skipped by extension. One read at most serves both the `#!` line and the archive sniff.
    let size = metadata.len();
    // Not files named as source code (`.py` left out by `--extensions js`): a zip is never one.
    let source_name = extension.as_deref().is_some_and(|e| Language::from_extension(e).is_some());
    let sniff =
        !source_name && choice.max_archive_size > 0 && (MIN_ARCHIVE_SIZE..=choice.max_archive_size).contains(&size);
    let shebang = extension.is_none() && choice.shebangs;
    let head = if sniff || shebang { read_head(path, if sniff { SNIFF_BYTES } else { 256 }).ok() } else { None };
    if let Some(head) = &head {
        if shebang {
            if let Some(language) = Language::from_shebang(head) {
                discovery.files.push((path.to_path_buf(), language));
                return;
            }
        }
        if sniff {
            if let Some(kind) = archive_kind(head) {
                let disguised = !path.file_name().and_then(|n| n.to_str()).is_some_and(is_archive_name);
                discovery.archives.push((path.to_path_buf(), kind, disguised));
            }
        }
    }
    discovery.skipped_by_extension += 1;
}

/// The archive format `head` (a file's first bytes) starts with, by magic number: `zip` (also
/// an empty one), `gzip`, `bzip2`, `xz`, or `tar` (`ustar` at offset 257, which needs the
/// first 262 bytes).
pub fn archive_kind(head: &[u8]) -> Option<&'static str> {
    if head.starts_with(b"PK\x03\x04") || head.starts_with(b"PK\x05\x06") {
        Some("zip")
    } else if head.starts_with(&[0x1f, 0x8b, 0x08]) {
        Some("gzip")
    } else if head.len() >= 4 && head.starts_with(b"BZh") && (b'1'..=b'9').contains(&head[3]) {
        Some("bzip2")
    } else if head.starts_with(&[0xfd, b'7', b'z', b'X', b'Z', 0x00]) {
        Some("xz")
    } else if head.get(257..262) == Some(b"ustar".as_slice()) {
        Some("tar")
    } else {
        None
    }
}

/// A file's language: by extension, else (for extension-less scripts) by its `#!` line.
pub fn language_of(path: &Path) -> Option<Language> {
    match path.extension().and_then(|e| e.to_str()) {
        Some(extension) => Language::from_extension(extension),
        None => read_head(path, 256).ok().and_then(|head| Language::from_shebang(&head)),
    }
}

fn read_head(path: &Path, limit: usize) -> std::io::Result<Vec<u8>> {
    let mut head = Vec::with_capacity(limit);
    std::fs::File::open(path)?.take(limit as u64).read_to_end(&mut head)?;
    Ok(head)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn temp_dir(name: &str) -> crate::scratch::Scratch {
        crate::scratch::Scratch::new(&format!("batch-{name}"))
    }

    #[test]
    fn discovery_is_sorted_and_skips_what_it_should() {
        let dir = temp_dir("discover");
        std::fs::create_dir_all(dir.join("pkg/.git")).unwrap();
        std::fs::write(dir.join("pkg/.git/hook.py"), "x = 1").unwrap();
        std::fs::write(dir.join("pkg/b.py"), "x = 1").unwrap();
        std::fs::write(dir.join("pkg/a.js"), "x = 1").unwrap();
        std::fs::write(dir.join("pkg/data.json"), "{}").unwrap();
        std::fs::write(dir.join("pkg/tool"), "#!/usr/bin/env python\nprint(1)\n").unwrap();
        #[cfg(unix)]
        std::os::unix::fs::symlink("/etc/passwd", dir.join("pkg/link.py")).unwrap();
        let found = discover(&[dir.to_path_buf()], None).unwrap();
        let names: Vec<_> =
            found.files.iter().map(|(p, _)| p.file_name().unwrap().to_str().unwrap().to_string()).collect();
        assert_eq!(names, ["a.js", "b.py", "tool"]);
        assert_eq!(found.skipped_by_extension, 1);
        #[cfg(unix)]
        assert_eq!(found.skipped_links, 1);
        let only_js = discover(&[dir.to_path_buf()], Some(&["js".to_string()])).unwrap();
        assert_eq!(only_js.files.len(), 1);
        assert_eq!(only_js.files, [(dir.join("pkg").join("a.js"), Language::JavaScript)]);
        assert!(discover(&[dir.join("missing")], None).is_err());
        assert!(discover(&[dir.to_path_buf()], Some(&["rb".to_string()])).is_err());
        // The one of another type is data.json and the one link link.py: without them, none is
        // skipped (pkg/.git is pruned unread).
        std::fs::remove_file(dir.join("pkg/data.json")).unwrap();
        #[cfg(unix)]
        std::fs::remove_file(dir.join("pkg/link.py")).unwrap();
        let rest = discover(&[dir.to_path_buf()], None).unwrap();
        assert_eq!((rest.skipped_by_extension, rest.skipped_links), (0, 0));
    }

    /// Writes `files` (path, contents) under `dir`, creating folders as needed.
    fn write_tree(dir: &Path, files: &[(&str, &str)]) {
        for (name, contents) in files {
            let path = dir.join(name);
            std::fs::create_dir_all(path.parent().unwrap()).unwrap();
            std::fs::write(path, contents).unwrap();
        }
    }

    /// Found files relative to `dir`, with `/` separators.
    fn found_names(found: &Discovery, dir: &Path) -> Vec<String> {
        found.files.iter().map(|(p, _)| p.strip_prefix(dir).unwrap().to_string_lossy().replace('\\', "/")).collect()
    }

    fn discover_in(dir: &Path, options: &DiscoverOptions) -> Discovery {
        discover_with(&[dir.to_path_buf()], options).unwrap()
    }

    #[test]
    fn only_the_root_malwiignore_counts_nested_ones_are_listed() {
        let dir = temp_dir("ignore-nested");
        write_tree(
            &dir,
            &[
                (".malwiignore", "# generated code\n*.js\n\nsecret.py\n"),
                ("a.js", "x = 1"),
                ("a.py", "x = 1"),
                ("sub/.malwiignore", "!keep.js\nlocal.py\n"),
                ("sub/keep.js", "x = 1"),
                ("sub/other.js", "x = 1"),
                ("sub/secret.py", "x = 1"),
                ("sub/local.py", "x = 1"),
                ("local.py", "x = 1"),
            ],
        );
        let found = discover_in(&dir, &DiscoverOptions::default());
        // sub/.malwiignore could have come with a dependency: it neither hides nor re-includes.
        assert_eq!(found_names(&found, &dir), ["a.py", "local.py", "sub/local.py"]);
        // a.js, sub/keep.js, sub/other.js, sub/secret.py
        assert_eq!(found.skipped_ignored, 4);
        assert_eq!(found.ignored_ignore_files, [dir.join("sub/.malwiignore")]);
        assert!(found.errors.is_empty(), "{:?}", found.errors);
        // The shorthand reads `.malwiignore` too; switched off, everything is found.
        let shorthand = discover(&[dir.to_path_buf()], None).unwrap();
        assert_eq!(shorthand.files.len(), 3);
        assert_eq!(found_names(&shorthand, &dir), ["a.py", "local.py", "sub/local.py"]);
        let all = discover_in(&dir, &DiscoverOptions { ignore_files: false, ..Default::default() });
        assert_eq!(all.files.len(), 7);
        assert_eq!(
            found_names(&all, &dir),
            ["a.js", "a.py", "local.py", "sub/keep.js", "sub/local.py", "sub/other.js", "sub/secret.py"]
        );
        assert_eq!(all.skipped_ignored, 0);
    }

    #[test]
    fn negation_re_includes_within_one_file() {
        let dir = temp_dir("ignore-negation");
        write_tree(
            &dir,
            &[(".malwiignore", "*.py\n!main.py\n"), ("main.py", "x = 1"), ("util.py", "x = 1"), ("pkg/main.py", "")],
        );
        let found = discover_in(&dir, &DiscoverOptions::default());
        assert_eq!(found_names(&found, &dir), ["main.py", "pkg/main.py"]);
        assert_eq!(found.skipped_ignored, 1);
    }

    #[test]
    fn directory_patterns_prune_directories_only() {
        let dir = temp_dir("ignore-dirs");
        write_tree(
            &dir,
            &[
                (".malwiignore", "build/\nnode_modules/\n"),
                ("build/a.py", "x = 1"),
                ("build/b.py", "x = 1"),
                ("deep/er/node_modules/left-pad/index.js", "x = 1"),
                ("deep/er/index.js", "x = 1"),
                // A file called `build` is not a directory: kept.
                ("tools/build", "#!/usr/bin/env python\nprint(1)\n"),
            ],
        );
        let found = discover_in(&dir, &DiscoverOptions::default());
        assert_eq!(found_names(&found, &dir), ["deep/er/index.js", "tools/build"]);
        // A pruned directory counts once, whatever it holds.
        assert_eq!(found.skipped_ignored, 2);
    }

    #[test]
    fn anchored_and_double_star_patterns() {
        let dir = temp_dir("ignore-anchored");
        write_tree(
            &dir,
            &[
                (".malwiignore", "/setup.py\ndocs/**/conf.py\n**/fixtures/*.js\n"),
                ("setup.py", "x = 1"),
                ("pkg/setup.py", "x = 1"),
                ("docs/conf.py", "x = 1"),
                ("docs/en/source/conf.py", "x = 1"),
                ("pkg/docs/conf.py", "x = 1"),
                ("a/b/fixtures/x.js", "x = 1"),
                ("fixtures/y.js", "x = 1"),
                ("fixtures/y.py", "x = 1"),
            ],
        );
        let found = discover_in(&dir, &DiscoverOptions::default());
        assert_eq!(found_names(&found, &dir), ["fixtures/y.py", "pkg/setup.py", "pkg/docs/conf.py"]);
        assert_eq!(found.skipped_ignored, 5);
    }

    #[test]
    fn exclude_patterns_are_rooted_at_their_base() {
        let dir = temp_dir("ignore-exclude");
        write_tree(
            &dir,
            &[
                ("setup.py", "x = 1"),
                ("vendor/lib.py", "x = 1"),
                ("pkg/setup.py", "x = 1"),
                ("pkg/vendor/lib.py", "x = 1"),
                (".malwiignore", "!*.snap.py\n"),
                ("pkg/tests/t.snap.py", "x = 1"),
                ("pkg/tests/t.py", "x = 1"),
            ],
        );
        let exclude = ["/setup.py", "vendor/", "*.snap.py"].map(String::from).to_vec();
        // The base spelled with `..`: patterns still line up with the walked paths.
        let options = DiscoverOptions {
            exclude: exclude.clone(),
            exclude_base: Some(dir.join("pkg").join("..")),
            ..Default::default()
        };
        let found = discover_in(&dir, &options);
        // `/setup.py` is anchored at the base; a `.malwiignore` outranks the exclude patterns.
        assert_eq!(found_names(&found, &dir), ["pkg/setup.py", "pkg/tests/t.py", "pkg/tests/t.snap.py"]);
        assert_eq!(found.skipped_ignored, 3);
        // Walking a subdirectory of the base: paths are still matched relative to the base (and
        // the `.malwiignore` above that root is not read).
        let sub = discover_in(&dir.join("pkg"), &options);
        assert_eq!(found_names(&sub, &dir), ["pkg/setup.py", "pkg/tests/t.py"]);
        // Rooted elsewhere, the patterns anchored there do not reach this tree.
        let other = temp_dir("ignore-exclude-other");
        let elsewhere = DiscoverOptions { exclude, exclude_base: Some(other.to_path_buf()), ..Default::default() };
        let unexcluded = discover_in(&dir, &elsewhere);
        assert_eq!(unexcluded.files.len(), 6);
        assert_eq!(
            found_names(&unexcluded, &dir),
            ["setup.py", "pkg/setup.py", "pkg/tests/t.py", "pkg/tests/t.snap.py", "pkg/vendor/lib.py", "vendor/lib.py"]
        );
    }

    #[test]
    fn named_files_and_directories_are_never_ignored() {
        let dir = temp_dir("ignore-named");
        write_tree(&dir, &[(".malwiignore", "*.js\nbuild/\n"), ("a.js", "x = 1"), ("build/b.py", "x = 1")]);
        let options = DiscoverOptions {
            exclude: vec!["*.js".into(), "build/".into()],
            exclude_base: Some(dir.to_path_buf()),
            ..Default::default()
        };
        let found = discover_with(&[dir.join("a.js"), dir.join("build")], &options).unwrap();
        assert_eq!(found_names(&found, &dir), ["a.js", "build/b.py"]);
        assert_eq!(found.skipped_ignored, 0);
    }

    #[test]
    fn bad_patterns_are_reported_not_fatal() {
        let dir = temp_dir("ignore-bad");
        write_tree(&dir, &[(".malwiignore", "*.js\nsrc/{a,b\n"), ("a.js", "x = 1"), ("a.py", "x = 1")]);
        let found = discover_in(&dir, &DiscoverOptions::default());
        assert_eq!(found_names(&found, &dir), ["a.py"]);
        assert_eq!(found.errors.len(), 1, "{:?}", found.errors);
        let (path, message) = &found.errors[0];
        assert_eq!(path, &dir.join(".malwiignore"));
        assert!(message.starts_with("line 2: ") && message.contains("src/{a,b"), "{message}");
        // A bad exclude pattern is the caller's mistake: an error, not a silent skip.
        let options = DiscoverOptions { exclude: vec!["src/{a,b".into()], ..Default::default() };
        assert!(
            matches!(discover_with(&[dir.to_path_buf()], &options), Err(Error::Config(m)) if m.contains("src/{a,b"))
        );
    }

    #[test]
    fn manifests_are_listed_whether_compiled_or_not() {
        let dir = temp_dir("manifests");
        write_tree(
            &dir,
            &[
                ("app/setup.py", "x = 1"),
                ("app/pyproject.toml", ""),
                ("web/package.json", "{}"),
                ("web/node_modules/dep/package.json", "{}"),
                ("site/foo-1.0.dist-info/RECORD", ""),
                ("site/foo-1.0.dist-info/METADATA", ""),
                ("site/bar.egg-info/installed-files.txt", ""),
                ("site/not-a-dist/RECORD", ""),
                ("site/evil.pth", "import os"),
            ],
        );
        let found = discover_in(&dir, &DiscoverOptions::default());
        let names: Vec<String> = found
            .manifests
            .iter()
            .map(|p| p.strip_prefix(&dir).unwrap().to_string_lossy().replace('\\', "/"))
            .collect();
        assert_eq!(
            names,
            [
                "app/pyproject.toml",
                "app/setup.py",
                "site/bar.egg-info/installed-files.txt",
                "site/foo-1.0.dist-info/RECORD",
                "web/package.json",
                "web/node_modules/dep/package.json",
            ]
        );
        // setup.py and .pth files are code as well.
        assert_eq!(found_names(&found, &dir), ["app/setup.py", "site/evil.pth"]);
        assert_eq!(found.files[1].1, Language::Python);
    }

    #[test]
    fn archives_are_found_by_content_not_by_name() {
        let dir = temp_dir("sniff");
        let padding = vec![0u8; 100];
        let with_magic = |magic: &[u8]| [magic, &padding].concat();
        let mut tar = vec![0u8; 600];
        tar[..10].copy_from_slice(b"payload.py");
        tar[257..263].copy_from_slice(b"ustar\0");
        let files: Vec<(&str, Vec<u8>)> = vec![
            ("pkg/__init__.py", b"import zipimport\n".to_vec()),
            ("pkg/cert.crt", with_magic(b"PK\x03\x04")),
            ("pkg/py.typed", with_magic(&[0x1f, 0x8b, 0x08, 0])),
            ("pkg/data.pyc", with_magic(b"BZh9")),
            ("pkg/LICENSE", with_magic(&[0xfd, b'7', b'z', b'X', b'Z', 0])),
            ("pkg/logo.png", tar.clone()),
            ("pkg/vendor/lib.whl", with_magic(b"PK\x05\x06")),
            ("pkg/real.png", with_magic(b"\x89PNG\r\n\x1a\n")),
            ("pkg/tiny.crt", b"PK\x03\x04".to_vec()), // under 64 bytes: not read
            ("pkg/bz.txt", with_magic(b"BZh0")),      // not a block size
            ("pkg/fake.py", with_magic(b"PK\x03\x04")), // a source file: compiled, not sniffed
            ("ignored/hidden.crt", with_magic(b"PK\x03\x04")),
            (".malwiignore", b"ignored/\n".to_vec()),
        ];
        for (name, contents) in &files {
            let path = dir.join(name);
            std::fs::create_dir_all(path.parent().unwrap()).unwrap();
            std::fs::write(path, contents).unwrap();
        }
        let found = discover_in(&dir, &DiscoverOptions::default());
        let archives: Vec<_> = found
            .archives
            .iter()
            .map(|(p, kind, disguised)| {
                (p.strip_prefix(&dir).unwrap().to_string_lossy().replace('\\', "/"), *kind, *disguised)
            })
            .collect();
        let expected = [
            ("pkg/LICENSE", "xz", true),
            ("pkg/cert.crt", "zip", true),
            ("pkg/data.pyc", "bzip2", true),
            ("pkg/logo.png", "tar", true),
            ("pkg/py.typed", "gzip", true),
            ("pkg/vendor/lib.whl", "zip", false),
        ];
        assert_eq!(archives, expected.map(|(p, k, d)| (p.to_string(), k, d)));
        assert_eq!(found_names(&found, &dir), ["pkg/__init__.py", "pkg/fake.py"]);
        // Archives still count as skipped; the ignored folder is pruned unread.
        assert_eq!(found.skipped_by_extension, 10);
        assert_eq!(found.skipped_ignored, 1);
        // A named file is sniffed too; a size cap of 0 reads nothing.
        let named = discover_with(&[dir.join("pkg/cert.crt")], &DiscoverOptions::default()).unwrap();
        assert_eq!(named.archives, [(dir.join("pkg/cert.crt"), "zip", true)]);
        let off = discover_in(&dir, &DiscoverOptions { max_archive_size: 0, ..Default::default() });
        assert!(off.archives.is_empty());
        let small = discover_in(&dir, &DiscoverOptions { max_archive_size: 100, ..Default::default() });
        assert_eq!(small.archives.len(), 0, "{:?}", small.archives);
        assert_eq!(archive_kind(b"ustar"), None);
    }
}
