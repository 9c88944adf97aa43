//! A worker's process group: the runtime process leads it, and everything it starts (a
//! `bootstrap` script's interpreter, its children) belongs to it. The group is what is
//! measured against `MemorySize` and what is killed when the worker goes.
//!
//! Signalling a group by id is only safe while that id cannot name another group: Linux
//! does not reuse a pid while its process is a zombie, so the leader is never reaped before
//! its group is killed. Its exit is watched through a pidfd, which reports the exit without
//! reaping.
//!
//! The unsafe code of the workspace lives here (`unsafe_code` is denied everywhere else):
//! three libc calls, each with its SAFETY note.

use std::collections::HashMap;
use std::os::fd::{FromRawFd, OwnedFd};
use std::path::Path;
use std::sync::{Arc, Mutex, OnceLock};
use std::time::{Duration, Instant};

use tokio::io::unix::AsyncFd;

/// A readiness handle that fires when `pid` exits, without reaping it (Linux 5.3+ `pidfd`).
/// `None` when the kernel has no pidfd: the caller then learns of the exit only by reaping.
#[allow(unsafe_code)]
pub fn exit_watch(pid: u32) -> Option<AsyncFd<OwnedFd>> {
    let pid = libc::pid_t::try_from(pid).ok().filter(|p| *p > 0)?;
    // SAFETY: pidfd_open takes a pid and flags and returns a new descriptor or -1; it
    // touches no memory of ours.
    let fd = unsafe { libc::syscall(libc::SYS_pidfd_open, pid, 0) };
    let fd = i32::try_from(fd).ok().filter(|fd| *fd >= 0)?;
    // SAFETY: `fd` was just returned by the kernel and nothing else owns it.
    let owned = unsafe { OwnedFd::from_raw_fd(fd) };
    // SAFETY: the descriptor moves into the AsyncFd, which alone closes it, on drop.
    unsafe { AsyncFd::register_with_interest(owned, tokio::io::Interest::READABLE) }.ok()
}

/// The right to kill a process group, held while its leader is not reaped (alive or a
/// zombie), so its id still names this group. Whoever reaps the leader kills through this
/// handle first; after that, or after one kill, it does nothing.
#[derive(Clone)]
pub struct Group(Arc<Mutex<Option<u32>>>);

impl Group {
    pub fn new(pgid: u32) -> Group {
        Group(Arc::new(Mutex::new(Some(pgid))))
    }

    /// Sends SIGKILL to every process of the group, unless that was done already.
    pub fn kill(&self) {
        let mut pgid = self.0.lock().unwrap_or_else(|p| p.into_inner());
        if let Some(pgid) = pgid.take() {
            kill(pgid);
        }
    }
}

/// Sends SIGKILL to every process of the group `pgid`. The caller must hold the leader
/// unreaped, so `pgid` still names this group.
#[allow(unsafe_code)]
fn kill(pgid: u32) {
    let Some(pgid) = libc::pid_t::try_from(pgid).ok().filter(|p| *p > 1) else {
        return;
    };
    // SAFETY: kill(2) only takes integers; a negative pid names the process group, which
    // the caller guarantees is still ours (its leader is not reaped).
    unsafe {
        libc::kill(-pgid, libc::SIGKILL);
    }
}

/// How old the memory snapshot may be before it is taken again: every worker watching its
/// memory shares one scan of `/proc` per interval, whatever the number of workers.
const FRESH: Duration = Duration::from_millis(40);

struct Snapshot {
    taken: Instant,
    /// Resident bytes per process group.
    resident: HashMap<u32, u64>,
}

static SNAPSHOT: Mutex<Option<Snapshot>> = Mutex::new(None);

/// Resident memory of the whole group `pgid`, in bytes: the sum over every process whose
/// process group is `pgid` (Linux `/proc`). `None` when no process of the group is left.
pub fn resident(pgid: u32) -> Option<u64> {
    let mut snapshot = SNAPSHOT.lock().unwrap_or_else(|p| p.into_inner());
    if snapshot.as_ref().is_none_or(|s| s.taken.elapsed() >= FRESH) {
        *snapshot = Some(Snapshot {
            taken: Instant::now(),
            resident: scan(Path::new("/proc")),
        });
    }
    snapshot.as_ref()?.resident.get(&pgid).copied()
}

/// Resident bytes per process group, from every `/proc/<pid>/stat` under `proc`.
fn scan(proc: &Path) -> HashMap<u32, u64> {
    let page = page_size();
    let mut groups = HashMap::new();
    let Ok(entries) = std::fs::read_dir(proc) else {
        return groups;
    };
    let mut buf = String::with_capacity(512);
    for entry in entries.flatten() {
        if !entry
            .file_name()
            .as_encoded_bytes()
            .iter()
            .all(u8::is_ascii_digit)
        {
            continue;
        }
        buf.clear();
        let read = std::fs::File::open(entry.path().join("stat"))
            .and_then(|mut f| std::io::Read::read_to_string(&mut f, &mut buf));
        if let Some((pgrp, pages)) = read.ok().and_then(|_| parse_stat(&buf)) {
            *groups.entry(pgrp).or_insert(0) += pages * page;
        }
    }
    groups
}

/// The process group and resident pages in a `/proc/<pid>/stat` line. The command name
/// (field 2) may hold spaces and parentheses, so fields are counted from its closing one.
fn parse_stat(stat: &str) -> Option<(u32, u64)> {
    let (_, rest) = stat.rsplit_once(')')?;
    // From field 3 (state): pgrp is field 5, rss field 24.
    let mut fields = rest.split_ascii_whitespace();
    let pgrp = fields.nth(2)?.parse().ok()?;
    let rss = fields.nth(18)?.parse().ok()?;
    Some((pgrp, rss))
}

#[allow(unsafe_code)]
fn page_size() -> u64 {
    static PAGE: OnceLock<u64> = OnceLock::new();
    *PAGE.get_or_init(|| {
        // SAFETY: sysconf only reads a system constant.
        let size = unsafe { libc::sysconf(libc::_SC_PAGESIZE) };
        u64::try_from(size).ok().filter(|s| *s > 0).unwrap_or(4096)
    })
}

/// Peak resident memory (`VmHWM`) of one process, in bytes.
pub fn peak(pid: u32) -> Option<u64> {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).ok()?;
    status
        .lines()
        .find_map(|l| l.strip_prefix("VmHWM:"))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse::<u64>().ok())
        .map(|kb| kb * 1024)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn stat_lines_are_read_past_odd_command_names() {
        let rest = (0..30).map(|n| n.to_string()).collect::<Vec<_>>().join(" ");
        // Fields 3.. are `0 1 2 ...`: pgrp (field 5) is 2, rss (field 24) is 21.
        assert_eq!(parse_stat(&format!("42 (a) b (c)) {rest}")), Some((2, 21)));
        assert_eq!(parse_stat("42 (sh) R 1 9"), None);
        assert_eq!(parse_stat("garbage"), None);
    }

    #[test]
    fn memory_counts_every_process_of_the_group() {
        // A shell leading its own group, with a child that holds ~64 MB resident: the
        // group's memory includes the child's (the shell alone holds a few MB).
        let mut cmd = std::process::Command::new("sh");
        cmd.args([
            "-c",
            "python3 -c 'import time; b = bytearray(64 << 20); time.sleep(60)' & wait",
        ])
        .stdout(std::process::Stdio::null());
        std::os::unix::process::CommandExt::process_group(&mut cmd, 0);
        let mut child = cmd.spawn().unwrap();
        let pgid = child.id();
        let mut seen = 0;
        for _ in 0..400 {
            seen = resident(pgid).unwrap_or(0);
            if seen > 64 << 20 {
                break;
            }
            std::thread::sleep(std::time::Duration::from_millis(25));
        }
        let leader = peak(pgid).unwrap_or(0);
        let group = Group::new(pgid);
        group.kill();
        group.kill();
        let _ = child.wait();
        assert!(seen > 64 << 20, "group resident memory {seen}");
        assert!(leader < 32 << 20, "the shell's own peak {leader}");
    }
}
