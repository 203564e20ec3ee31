// The image paths a command was given: files, folders of PNG/JPEG files, and list
// files (one path per line, "-" for standard input), so a long list never has to
// travel as command-line arguments.
import {readdirSync, readFileSync, statSync} from "node:fs";
import {join} from "node:path";

const IMAGE_EXTENSION = /\.(png|jpe?g)$/i;

async function readAll(stream: NodeJS.ReadableStream): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const chunk of stream) chunks.push(Buffer.isBuffer(chunk) ? chunk : Buffer.from(String(chunk)));
  return Buffer.concat(chunks).toString("utf8");
}

/** Expands `paths` (files and folders) and the list file `listFile` into image file paths, in order. */
export async function imageInputs(paths: readonly string[], listFile?: string): Promise<string[]> {
  const out: string[] = [];
  for (const path of paths) {
    let isDir = false;
    try {
      isDir = statSync(path).isDirectory();
    } catch {
      // a missing file is reported per image by the command, with the others embedded
    }
    if (isDir) {
      const names = readdirSync(path).filter((name) => IMAGE_EXTENSION.test(name)).sort();
      if (names.length === 0) throw new Error(`--images ${path}: the folder holds no PNG or JPEG file`);
      out.push(...names.map((name) => join(path, name)));
    } else out.push(path);
  }
  if (listFile !== undefined) {
    let text: string;
    try {
      text = listFile === "-" ? await readAll(process.stdin) : readFileSync(listFile, "utf8");
    } catch (error) {
      throw new Error(`--images-from ${listFile}: cannot read it (${(error as Error).message})`);
    }
    // One path per line, as given (relative to the working directory, like --images); "#" lines are comments.
    for (const line of text.split(/\r?\n/)) {
      const entry = line.trim();
      if (entry && !entry.startsWith("#")) out.push(entry);
    }
  }
  if (out.length === 0) throw new Error("embed: no image paths given");
  return out;
}
