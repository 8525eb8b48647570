//! A damaged data directory: truncated and bit-flipped files, one at a time. The
//! server either refuses to start, naming the problem, or starts and serves only
//! items exactly as they were written (a consistent earlier state) — never wrong data.

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use std::collections::BTreeMap;
use std::io::{BufRead, BufReader, Read};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use common::{s, Server};

fn copy_dir(from: &Path, to: &Path) {
    std::fs::create_dir_all(to).unwrap();
    for e in std::fs::read_dir(from).unwrap() {
        let e = e.unwrap();
        let target = to.join(e.file_name());
        if e.file_type().unwrap().is_dir() {
            copy_dir(&e.path(), &target);
        } else {
            std::fs::copy(e.path(), &target).unwrap();
        }
    }
}

fn files(dir: &Path, out: &mut Vec<PathBuf>) {
    for e in std::fs::read_dir(dir).unwrap() {
        let e = e.unwrap();
        if e.file_type().unwrap().is_dir() {
            files(&e.path(), out);
        } else if e.metadata().unwrap().len() > 0 && e.file_name() != "lock" {
            out.push(e.path());
        }
    }
}

/// The end of a file's non-zero content (journals are preallocated with zeros).
fn used_len(path: &Path) -> u64 {
    let bytes = std::fs::read(path).unwrap();
    bytes.iter().rposition(|b| *b != 0).map_or(0, |i| i as u64 + 1)
}

/// A way to damage one file.
type Damage = Box<dyn Fn(&Path)>;

enum Started {
    /// Its stderr and exit code.
    Refused(String, Option<i32>),
    Running(Server),
}

/// Starts a server on `dir`: refused (with its stderr) or running.
fn start(dir: &Path) -> Started {
    let mut child = Command::new(env!("CARGO_BIN_EXE_stator"))
        .args(["serve", "--port", "0", "--log-level", "error", "--data-dir", dir.to_str().unwrap()])
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut line = String::new();
    let mut stdout = BufReader::new(child.stdout.take().unwrap());
    let _ = stdout.read_line(&mut line);
    if line.contains("listening") {
        let port = line.split("http://127.0.0.1:").nth(1).and_then(|r| r.split(' ').next()).unwrap().parse().unwrap();
        return Started::Running(Server::adopt(child, port, Some(dir.to_path_buf())));
    }
    let deadline = Instant::now() + Duration::from_secs(10);
    let mut status = None;
    while status.is_none() && Instant::now() < deadline {
        status = child.try_wait().unwrap();
        std::thread::sleep(Duration::from_millis(20));
    }
    let _ = child.kill();
    let _ = child.wait();
    let mut err = String::new();
    let _ = child.stderr.take().unwrap().read_to_string(&mut err);
    Started::Refused(err, status.and_then(|s| s.code()))
}

#[tokio::test]
async fn damaged_files_are_refused_or_recovered_never_served_wrong() {
    let base = tempfile::tempdir().unwrap();
    let mut written: BTreeMap<String, String> = BTreeMap::new();
    {
        let server = Server::start_durable(base.path());
        let db = server.client();
        common::create_table(&db, "dmg", false).await;
        for i in 0..40 {
            let (k, v) = (format!("k{i:02}"), format!("value-{i}-{}", "x".repeat(i * 7)));
            db.put_item().table_name("dmg").item("pk", s(&k)).item("v", s(&v)).send().await.unwrap();
            written.insert(k, v);
        }
        assert_eq!(server.terminate().code(), Some(0));
    }
    let mut all = Vec::new();
    files(base.path(), &mut all);
    let (mut refused, mut recovered, mut cases) = (0, 0, 0);
    for file in &all {
        let rel = file.strip_prefix(base.path()).unwrap().to_path_buf();
        let len = used_len(file).max(1);
        let mut damages: Vec<(String, Damage)> = Vec::new();
        for frac in [0u64, 1, 3, 5, 7] {
            let at = len * frac / 8;
            damages.push((
                format!("flip {} at {at}", rel.display()),
                Box::new(move |p: &Path| {
                    let mut b = std::fs::read(p).unwrap();
                    let i = (at as usize).min(b.len() - 1);
                    b[i] ^= 0xa5;
                    std::fs::write(p, b).unwrap();
                }),
            ));
        }
        for frac in [0u64, 1, 2, 6] {
            let at = len * frac / 8;
            damages.push((
                format!("truncate {} to {at}", rel.display()),
                Box::new(move |p: &Path| {
                    std::fs::OpenOptions::new().write(true).open(p).unwrap().set_len(at).unwrap();
                }),
            ));
        }
        for (what, damage) in damages {
            cases += 1;
            let dir = tempfile::tempdir().unwrap();
            copy_dir(base.path(), dir.path());
            damage(&dir.path().join(&rel));
            match start(dir.path()) {
                Started::Refused(err, code) => {
                    refused += 1;
                    assert!(err.contains("cannot open the store"), "{what}: refused without a clear message: {err}");
                    assert_eq!(code, Some(1), "{what}: did not exit cleanly: {err}");
                }
                Started::Running(server) => {
                    recovered += 1;
                    let db = server.client();
                    match db.scan().table_name("dmg").send().await {
                        Ok(page) => {
                            for item in page.items() {
                                let k = item["pk"].as_s().unwrap();
                                assert_eq!(
                                    Some(item["v"].as_s().unwrap()),
                                    written.get(k),
                                    "{what}: served an item that was never written"
                                );
                            }
                        }
                        Err(e) => {
                            let code = e.as_service_error().and_then(|se| se.meta().code()).unwrap_or("").to_string();
                            assert!(
                                code == "ResourceNotFoundException" || code == "InternalServerError",
                                "{what}: {e:?}"
                            );
                        }
                    }
                }
            }
        }
    }
    eprintln!("damaged store: {cases} cases over {} files: {refused} refused, {recovered} recovered", all.len());
    assert!(refused > 0, "no damage was detected at all");
}
