//! Scratch folders: made under the system's temporary folder, removed when dropped, and removed
//! too when an interrupt ends the tool (the signal handler exits without running any drop).

use std::fs;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Mutex, PoisonError};

use lesson_common::{Exit, fail_with};

/// The folders alive now, for [`remove_all`].
static ALIVE: Mutex<Vec<PathBuf>> = Mutex::new(Vec::new());
static MADE: AtomicUsize = AtomicUsize::new(0);

pub struct Scratch(PathBuf);

impl Scratch {
    /// A new empty folder `course-PURPOSE-PID-N` in the temporary folder, PID this process's id
    /// as the machine sees it (in the tool's PID namespace every run is process 1). Only the
    /// folder itself is made: a TMPDIR that does not exist is an error, never a new folder at the
    /// top of the disk.
    pub fn new(purpose: &str) -> Result<Scratch, Exit> {
        let n = MADE.fetch_add(1, Ordering::SeqCst);
        let base = std::env::temp_dir();
        let dir = base.join(format!("course-{purpose}-{}-{n}", crate::tether::pid()));
        fs::create_dir(&dir).map_err(|e| {
            fail_with(
                format!(
                    "cannot make a scratch folder in {} (the temporary folder: TMPDIR)",
                    base.display()
                ),
                e,
            )
        })?;
        ALIVE
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .push(dir.clone());
        Ok(Scratch(dir))
    }

    pub fn path(&self) -> &Path {
        &self.0
    }
}

impl Drop for Scratch {
    fn drop(&mut self) {
        let _ = fs::remove_dir_all(&self.0);
        ALIVE
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .retain(|dir| *dir != self.0);
    }
}

/// Remove every scratch folder still alive: the interrupt handler's last act.
pub fn remove_all() {
    // try_lock: the handler must not wait on a thread it is about to end.
    if let Ok(alive) = ALIVE.try_lock() {
        for dir in alive.iter() {
            let _ = fs::remove_dir_all(dir);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A folder is made and removed with its contents; remove_all takes those still alive.
    #[test]
    fn made_and_removed() {
        let one = Scratch::new("test").unwrap();
        let two = Scratch::new("test").unwrap();
        assert_ne!(one.path(), two.path());
        fs::write(one.path().join("f"), "x").unwrap();
        let path = one.path().to_path_buf();
        drop(one);
        assert!(!path.exists());
        let kept = two.path().to_path_buf();
        remove_all();
        assert!(!kept.exists());
    }
}
