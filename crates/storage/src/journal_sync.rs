//! Syncing fjall's journal without holding its lock (ADR 0013).
//!
//! `Database::persist(SyncData)` holds the journal's writer lock through the
//! `fdatasync`, so every commit that arrives during a sync waits for the disk. The
//! group sync instead (1) hands the journal's buffer to the OS with
//! `persist(Buffer)` — one `write` under the lock — and (2) `fdatasync`s the journal
//! file through a descriptor of its own, outside the lock. `fdatasync` makes the
//! file's data durable whichever descriptor wrote it, so commits go on while the disk
//! works.
//!
//! Which file: fjall writes its journal to `<dir>/<id>.jnl` and rotates to
//! `<id + 1>.jnl` when a memtable is sealed, syncing the old file (`SyncAll`) before
//! it creates the new one. So after step (1), the newest journal file holds the data
//! just handed over, or that data sat in an older file whose rotation has already
//! synced it: syncing the newest file that exists after (1) covers everything written
//! before (1). The newest file is found by trying to open `<id + 1>.jnl` (a path
//! lookup per sync), starting from the highest id present when the store opened. fjall
//! deletes flushed journals oldest first; if the file last synced has been deleted
//! (two rotations, and the middle file already flushed and gone, since the last sync),
//! the directory is searched again for the highest id.

use std::fs::File;
use std::io;
use std::path::{Path, PathBuf};

/// The journal file the group sync `fdatasync`s.
pub(crate) struct ActiveJournal {
    dir: PathBuf,
    id: u64,
    file: File,
}

fn journal_path(dir: &Path, id: u64) -> PathBuf {
    dir.join(format!("{id}.jnl"))
}

/// Opened for writing (some systems sync only writable handles); never written.
fn open(path: &Path) -> io::Result<File> {
    std::fs::OpenOptions::new().append(true).open(path)
}

impl ActiveJournal {
    /// The journal with the highest id in `dir`; `None` if there is none (the caller
    /// then syncs through fjall).
    pub(crate) fn find(dir: &Path) -> io::Result<Option<ActiveJournal>> {
        let mut newest: Option<u64> = None;
        for entry in std::fs::read_dir(dir)? {
            let name = entry?.file_name();
            let Some(id) = name.to_str().and_then(|n| n.strip_suffix(".jnl")).and_then(|n| n.parse::<u64>().ok())
            else {
                continue;
            };
            newest = Some(newest.map_or(id, |n| n.max(id)));
        }
        let Some(id) = newest else { return Ok(None) };
        let file = open(&journal_path(dir, id))?;
        Ok(Some(ActiveJournal { dir: dir.to_path_buf(), id, file }))
    }

    /// Moves on to the newest journal file, then `fdatasync`s it. Call it after the
    /// journal's buffer has been handed to the OS.
    pub(crate) fn sync(&mut self) -> io::Result<()> {
        loop {
            match open(&journal_path(&self.dir, self.id + 1)) {
                Ok(next) => {
                    self.id += 1;
                    self.file = next;
                }
                Err(e) if e.kind() == io::ErrorKind::NotFound => break,
                Err(e) => return Err(e),
            }
        }
        if !journal_path(&self.dir, self.id).exists() {
            // Deleted: flushed, so newer journals exist and the next one may be gone too.
            match ActiveJournal::find(&self.dir)? {
                Some(newest) if newest.id > self.id => *self = newest,
                _ => return Err(io::Error::other("the active journal file is missing")),
            }
        }
        self.file.sync_data()
    }

    /// The id of the journal file the last sync covered.
    #[cfg(test)]
    pub(crate) fn id(&self) -> u64 {
        self.id
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_newest_journal_is_found_and_followed_across_rotations() {
        let dir = tempfile::tempdir().unwrap();
        assert!(ActiveJournal::find(dir.path()).unwrap().is_none());
        for name in ["0.jnl", "2.jnl", "10.jnl", "x.jnl", "3.jnl.tmp", "lock"] {
            std::fs::write(dir.path().join(name), b"").unwrap();
        }
        let mut j = ActiveJournal::find(dir.path()).unwrap().unwrap();
        assert_eq!(j.id(), 10);
        j.sync().unwrap();
        assert_eq!(j.id(), 10);
        // Two rotations since the last sync: the sync follows both.
        std::fs::write(dir.path().join("11.jnl"), b"").unwrap();
        std::fs::write(dir.path().join("12.jnl"), b"").unwrap();
        j.sync().unwrap();
        assert_eq!(j.id(), 12);
        // The sealed files may be deleted; the active one is still synced.
        std::fs::remove_file(dir.path().join("10.jnl")).unwrap();
        std::fs::remove_file(dir.path().join("11.jnl")).unwrap();
        j.sync().unwrap();
        assert_eq!(j.id(), 12);
        // Two rotations since the last sync, and both older files flushed and deleted:
        // the sync finds the newest again.
        std::fs::write(dir.path().join("13.jnl"), b"").unwrap();
        std::fs::write(dir.path().join("14.jnl"), b"").unwrap();
        std::fs::remove_file(dir.path().join("12.jnl")).unwrap();
        std::fs::remove_file(dir.path().join("13.jnl")).unwrap();
        j.sync().unwrap();
        assert_eq!(j.id(), 14);
        // No journal at all: an error, not a silent success.
        std::fs::remove_file(dir.path().join("14.jnl")).unwrap();
        assert!(j.sync().is_err());
    }
}
