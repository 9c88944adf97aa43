//! A worker's process group: the runtime process leads it, and everything it starts (a
//! `bootstrap` script's interpreter, its children) belongs to it. The group is what is
//! measured against `MemorySize` and what is killed when the worker goes.
//!
//! Signalling a group by id is only safe while that id cannot name another group: Linux
//! does not reuse a pid while its process is a zombie, so the leader is never reaped before
//! its group is killed. Its exit is watched through a pidfd, which reports the exit without
//! reaping.

use std::os::fd::{FromRawFd, OwnedFd};
use std::path::Path;

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

/// Sends SIGKILL to every process of the group `pgid`. The caller must hold the leader
/// unreaped (alive or a zombie), so `pgid` still names this group.
#[allow(unsafe_code)]
pub fn kill(pgid: u32) {
    let Some(pgid) = libc::pid_t::try_from(pgid).ok().filter(|p| *p > 1) else {
        return;
    };
    // SAFETY: kill(2) only takes integers; a negative pid names the process group, which
    // the caller guarantees is still ours (its leader is not reaped).
    unsafe {
        libc::kill(-pgid, libc::SIGKILL);
    }
}

/// Resident and peak memory of the whole group `pgid`, in bytes: the sums of `VmRSS` and
/// `VmHWM` over every process whose process group is `pgid` (Linux `/proc`). `None` when
/// no process of the group is left.
pub fn memory(pgid: u32) -> Option<(u64, u64)> {
    let mut total = None;
    for pid in members(Path::new("/proc"), pgid) {
        if let Some((rss, hwm)) = process_memory(pid) {
            let (r, h) = total.get_or_insert((0, 0));
            *r += rss;
            *h += hwm;
        }
    }
    total
}

/// The pids under `proc` whose process group is `pgid`.
fn members(proc: &Path, pgid: u32) -> Vec<u32> {
    let Ok(entries) = std::fs::read_dir(proc) else {
        return Vec::new();
    };
    let mut found = Vec::new();
    let mut buf = String::with_capacity(512);
    for entry in entries.flatten() {
        let Some(pid) = entry
            .file_name()
            .to_str()
            .and_then(|s| s.parse::<u32>().ok())
        else {
            continue;
        };
        buf.clear();
        let read = std::fs::File::open(entry.path().join("stat"))
            .and_then(|mut f| std::io::Read::read_to_string(&mut f, &mut buf));
        if read.is_ok() && stat_pgrp(&buf) == Some(pgid) {
            found.push(pid);
        }
    }
    found
}

/// The process group in a `/proc/<pid>/stat` line. The command name (field 2) may hold
/// spaces and parentheses, so fields are counted from its closing parenthesis.
fn stat_pgrp(stat: &str) -> Option<u32> {
    let (_, rest) = stat.rsplit_once(')')?;
    // state, ppid, pgrp
    rest.split_ascii_whitespace().nth(2)?.parse().ok()
}

/// Resident and peak memory of one process, in bytes.
fn process_memory(pid: u32) -> Option<(u64, u64)> {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).ok()?;
    let field = |name: &str| {
        status
            .lines()
            .find_map(|l| l.strip_prefix(name))
            .and_then(|v| v.trim().trim_end_matches("kB").trim().parse::<u64>().ok())
            .map(|kb| kb * 1024)
    };
    Some((field("VmRSS:")?, field("VmHWM:").unwrap_or(0)))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_group_is_read_past_odd_command_names() {
        assert_eq!(stat_pgrp("42 (a) b (c)) S 1 77 77 0 -1"), Some(77));
        assert_eq!(stat_pgrp("42 (sh) R 1 9 9"), Some(9));
        assert_eq!(stat_pgrp("garbage"), None);
    }

    #[test]
    fn memory_counts_every_process_of_the_group() {
        // A shell leading its own group, with a child that holds ~64 MB resident: the
        // group's memory includes the child's.
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
            seen = memory(pgid).map_or(0, |(rss, _)| rss);
            if seen > 64 << 20 {
                break;
            }
            std::thread::sleep(std::time::Duration::from_millis(25));
        }
        let count = members(Path::new("/proc"), pgid).len();
        kill(pgid);
        let _ = child.wait();
        assert!(count >= 2, "{count} processes in the group");
        assert!(seen > 64 << 20, "group resident memory {seen}");
    }
}
