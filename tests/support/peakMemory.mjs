// Preloaded (node --import) into CLI runs by the hostile-input suite: records the
// process's peak resident memory (kilobytes) in $FETALCLIP_PEAK_FILE at exit. A run
// killed by V8 or the OS writes nothing, which the suite reports as a crash.
// Linux's VmHWM belongs to this program's address space; getrusage's maxRSS would also
// count the parent's memory at fork, as Linux keeps it across execve.
import {readFileSync, writeFileSync} from "node:fs";

function peakKb() {
  try {
    const match = /^VmHWM:\s+(\d+) kB/m.exec(readFileSync("/proc/self/status", "utf8"));
    if (match) return Number(match[1]);
  } catch {
    // not Linux: fall back to getrusage
  }
  return process.resourceUsage().maxRSS;
}

const file = process.env.FETALCLIP_PEAK_FILE;
if (file) process.on("exit", () => writeFileSync(file, String(peakKb())));
