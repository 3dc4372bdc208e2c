//! A scratch folder for unit tests, removed when the test ends (passing or panicking), so test
//! runs leave nothing behind in the temporary folder.

use std::ops::Deref;
use std::path::{Path, PathBuf};

pub(crate) struct Scratch(PathBuf);

impl Scratch {
    /// An empty folder named after the test and the process (tests run in parallel threads).
    pub(crate) fn new(name: &str) -> Self {
        let dir = std::env::temp_dir().join(format!("malwi-test-{name}-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).unwrap();
        Scratch(dir)
    }
}

impl Deref for Scratch {
    type Target = Path;

    fn deref(&self) -> &Path {
        &self.0
    }
}

impl AsRef<Path> for Scratch {
    fn as_ref(&self) -> &Path {
        &self.0
    }
}

impl Drop for Scratch {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

#[test]
fn a_scratch_folder_is_removed_with_its_files() {
    let path = {
        let scratch = Scratch::new("scratch-itself");
        std::fs::create_dir_all(scratch.join("a/b")).unwrap();
        std::fs::write(scratch.join("a/b/c.py"), "x = 1").unwrap();
        assert!(scratch.join("a/b/c.py").is_file());
        scratch.to_path_buf()
    };
    assert!(!path.exists());
}
