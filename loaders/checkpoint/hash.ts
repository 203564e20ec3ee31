// Content hashes of checkpoints, streamed so a 1.7 GB file is never held in memory.
import {createHash} from "node:crypto";
import {createReadStream} from "node:fs";
import {pipeline} from "node:stream/promises";

/** Hex SHA-256 of a file's bytes. */
export async function sha256File(path: string): Promise<string> {
  const hash = createHash("sha256");
  await pipeline(createReadStream(path, {highWaterMark: 1 << 20}), hash);
  return hash.digest("hex");
}
