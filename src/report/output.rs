//! Files the reports write, so that a reader never sees half of one: [`AtomicFile`] writes under a
//! temporary name beside the destination (`<name>.partial`), syncs, and renames it over the
//! destination only when told to [`commit`](AtomicFile::commit); [`Scratch`] is a writer's working
//! space, gone once dropped. One place, so that `report.json`, the rendered formats and a merged
//! report are written the same way and no failure leaves a temporary file behind.

use std::fs::File;
use std::io::{self, BufWriter, Read, Seek, Write};
use std::path::{Path, PathBuf};

/// The suffix of a file being written; tests look for it to prove none is left behind.
const PARTIAL: &str = ".partial";

/// Writes are gathered this much at a time: a report is written in many small pieces.
const BUFFER: usize = 1 << 16;

/// A file that appears at its destination whole or not at all.
///
/// Dropped without [`commit`](AtomicFile::commit) (an error, a report that could not be read), the
/// temporary file is removed and the destination is left as it was.
pub struct AtomicFile {
    /// `None` once committed or discarded.
    out: Option<BufWriter<File>>,
    partial: PathBuf,
    dest: PathBuf,
}

impl AtomicFile {
    /// Creates the destination's folder, if missing, and the temporary file beside it.
    pub fn create(dest: &Path) -> io::Result<AtomicFile> {
        if let Some(dir) = dest.parent().filter(|d| !d.as_os_str().is_empty()) {
            std::fs::create_dir_all(dir)?;
        }
        let partial = sibling(dest, PARTIAL);
        let file = File::create(&partial)?;
        Ok(AtomicFile {
            out: Some(BufWriter::with_capacity(BUFFER, file)),
            partial,
            dest: dest.to_path_buf(),
        })
    }

    /// Where the file goes once committed.
    pub fn path(&self) -> &Path {
        &self.dest
    }

    /// Where it is written until then: what a write error names.
    pub fn partial_path(&self) -> &Path {
        &self.partial
    }

    /// Flushes, syncs (so that the rename never publishes a file whose bytes are not on disk yet)
    /// and renames the temporary file over the destination. On failure the temporary file is
    /// removed.
    pub fn commit(mut self) -> io::Result<()> {
        let out = self.out.take().ok_or_else(closed)?;
        let done = out
            .into_inner()
            .map_err(|e| e.into_error())
            .and_then(|f| f.sync_all())
            .and_then(|()| std::fs::rename(&self.partial, &self.dest));
        if done.is_err() {
            let _ = std::fs::remove_file(&self.partial);
        }
        done
    }

    fn writer(&mut self) -> io::Result<&mut BufWriter<File>> {
        self.out.as_mut().ok_or_else(closed)
    }
}

fn closed() -> io::Error {
    io::Error::other("the file was committed already")
}

impl Write for AtomicFile {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        self.writer()?.write(buf)
    }

    fn write_all(&mut self, buf: &[u8]) -> io::Result<()> {
        self.writer()?.write_all(buf)
    }

    fn flush(&mut self) -> io::Result<()> {
        self.writer()?.flush()
    }
}

impl Drop for AtomicFile {
    fn drop(&mut self) {
        if let Some(out) = self.out.take() {
            // What is still buffered is thrown away, not written: the file goes.
            let (file, _) = out.into_parts();
            drop(file);
            let _ = std::fs::remove_file(&self.partial);
        }
    }
}

/// Scratch space for a writer that writes its parts in another order than it reads them (HTML:
/// failures first), removed once dropped: at once where an open file can be removed, so that not
/// even a crash leaves it behind.
pub struct Scratch {
    file: File,
    /// `None` once removed.
    path: Option<PathBuf>,
}

impl Scratch {
    /// Beside `dest`: `<name>.cases.partial`.
    pub fn beside(dest: &Path) -> io::Result<Scratch> {
        Scratch::create(sibling(dest, ".cases.partial"))
    }

    /// In the system's temporary folder, under a name no other scratch file of this process has
    /// (for a document written to a stream, which has no folder of its own).
    pub fn in_temp_dir() -> io::Result<Scratch> {
        static N: std::sync::atomic::AtomicUsize = std::sync::atomic::AtomicUsize::new(0);
        let n = N.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        Scratch::create(std::env::temp_dir().join(format!(
            "gws-conform-{}-{n}.cases.partial",
            std::process::id()
        )))
    }

    fn create(path: PathBuf) -> io::Result<Scratch> {
        let file = std::fs::OpenOptions::new()
            .read(true)
            .write(true)
            .create(true)
            .truncate(true)
            .open(&path)?;
        let path = if cfg!(unix) && std::fs::remove_file(&path).is_ok() {
            None
        } else {
            Some(path)
        };
        Ok(Scratch { file, path })
    }
}

impl Drop for Scratch {
    fn drop(&mut self) {
        if let Some(p) = &self.path {
            let _ = std::fs::remove_file(p);
        }
    }
}

impl Read for Scratch {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        self.file.read(buf)
    }
}

impl Write for Scratch {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        self.file.write(buf)
    }

    fn flush(&mut self) -> io::Result<()> {
        self.file.flush()
    }
}

impl Seek for Scratch {
    fn seek(&mut self, pos: io::SeekFrom) -> io::Result<u64> {
        self.file.seek(pos)
    }
}

/// `path` with `suffix` appended to its file name.
fn sibling(path: &Path, suffix: &str) -> PathBuf {
    let mut name = path.file_name().unwrap_or_default().to_os_string();
    name.push(suffix);
    path.with_file_name(name)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn names(dir: &Path) -> Vec<String> {
        let mut names: Vec<String> = std::fs::read_dir(dir)
            .unwrap()
            .map(|e| e.unwrap().file_name().into_string().unwrap())
            .collect();
        names.sort();
        names
    }

    #[test]
    fn a_committed_file_appears_whole_and_its_temporary_is_gone() {
        let dir = tempfile::tempdir().unwrap();
        let dest = dir.path().join("sub/report.json");
        let mut f = AtomicFile::create(&dest).unwrap();
        assert_eq!(f.partial_path(), dir.path().join("sub/report.json.partial"));
        f.write_all(b"{}").unwrap();
        assert!(!dest.exists(), "not before the commit");
        f.commit().unwrap();
        assert_eq!(std::fs::read(&dest).unwrap(), b"{}");
        assert_eq!(names(&dir.path().join("sub")), ["report.json"]);
    }

    #[test]
    fn a_file_dropped_without_commit_leaves_the_destination_as_it_was() {
        let dir = tempfile::tempdir().unwrap();
        let dest = dir.path().join("summary.md");
        std::fs::write(&dest, "old").unwrap();
        let mut f = AtomicFile::create(&dest).unwrap();
        f.write_all(b"new").unwrap();
        drop(f);
        assert_eq!(std::fs::read_to_string(&dest).unwrap(), "old");
        assert_eq!(names(dir.path()), ["summary.md"]);
    }

    #[test]
    fn a_scratch_file_reads_back_what_was_written_and_leaves_nothing() {
        let dir = tempfile::tempdir().unwrap();
        let mut s = Scratch::beside(&dir.path().join("report.html")).unwrap();
        s.write_all(b"abc").unwrap();
        s.seek(io::SeekFrom::Start(1)).unwrap();
        let mut back = String::new();
        s.read_to_string(&mut back).unwrap();
        assert_eq!(back, "bc");
        drop(s);
        assert!(names(dir.path()).is_empty());
    }
}
