// Before any test: the embedded default (phantom dataset + demo bundle), as `npm run dev`
// makes it. It runs as `npm run setup` does (`fetalclip setup`), in its own Node process with tsx: the phantom
// writer's worker threads load tsx themselves, which vitest's module runner cannot host.
import {execFileSync} from "node:child_process";
import {join} from "node:path";
import {repoRoot} from "./shared.js";

export default function setup(): void {
  execFileSync(process.execPath, ["--import", "tsx", join(repoRoot, "loaders", "cli.ts"), "setup"], {cwd: repoRoot, stdio: ["ignore", "inherit", "inherit"]});
}
