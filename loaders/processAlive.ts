// Whether a process is alive, for the lock files and stale temporary folders that the
// embedding cache, the phantom generator and the importer clean up after killed runs.

/** Whether process `pid` is alive (signal 0 probes without signalling; EPERM: alive, not ours). */
export function pidAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === "EPERM";
  }
}
