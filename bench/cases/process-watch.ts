// Watch one process through Linux /proc while a transfer runs: resident memory (VmRSS in
// /proc/<pid>/status, sampled every 50 ms), bytes it sent to the storage layer (write_bytes in
// /proc/<pid>/io, proc(5)) and files it opened (links in /proc/<pid>/fd).
import fs from 'node:fs';

export interface WatchResult {
  /** VmRSS just before the transfer. */
  baselineRssBytes: number;
  /** Highest VmRSS seen during the transfer. */
  peakRssBytes: number;
  /** write_bytes after minus before: what the process caused to be written to disk. */
  diskWriteBytes: number;
  /** Files (not sockets or pipes) the process held open during the transfer but not before. */
  newFiles: string[];
}

const SAMPLE_MS = 50;

export function readRssBytes(pid: number): number {
  const m = /^VmRSS:\s+(\d+) kB$/m.exec(fs.readFileSync(`/proc/${pid}/status`, 'utf8'));
  return m ? Number(m[1]) * 1024 : NaN;
}

export function readDiskWriteBytes(pid: number): number {
  try {
    const m = /^write_bytes:\s+(\d+)$/m.exec(fs.readFileSync(`/proc/${pid}/io`, 'utf8'));
    return m ? Number(m[1]) : NaN;
  } catch {
    return NaN; // /proc/<pid>/io needs ptrace-read access; NaN reports "n/a".
  }
}

function openFiles(pid: number): Set<string> {
  const files = new Set<string>();
  let fds: string[];
  try { fds = fs.readdirSync(`/proc/${pid}/fd`); } catch { return files; }
  for (const fd of fds) {
    try {
      const link = fs.readlinkSync(`/proc/${pid}/fd/${fd}`);
      // socket:[..], pipe:[..] and anon_inode:.. are not files; a deleted temp file reads "/path (deleted)".
      if (link.startsWith('/') && !link.startsWith('/dev/')) files.add(link);
    } catch { /* the fd closed between readdir and readlink */ }
  }
  return files;
}

/** Start watching `pid`; call the returned function when the transfer is over. */
export function watchProcess(pid: number): () => WatchResult {
  const baselineRssBytes = readRssBytes(pid);
  const writesBefore = readDiskWriteBytes(pid);
  const filesBefore = openFiles(pid);
  let peakRssBytes = baselineRssBytes;
  const newFiles = new Set<string>();
  const sample = () => {
    try {
      peakRssBytes = Math.max(peakRssBytes, readRssBytes(pid));
      for (const f of openFiles(pid)) if (!filesBefore.has(f)) newFiles.add(f);
    } catch { /* the process is gone; the transfer will fail and say so */ }
  };
  const timer = setInterval(sample, SAMPLE_MS);
  return () => {
    clearInterval(timer);
    sample();
    return { baselineRssBytes, peakRssBytes, diskWriteBytes: readDiskWriteBytes(pid) - writesBefore, newFiles: [...newFiles] };
  };
}
