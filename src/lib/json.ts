// JSON from files the project did not write: JSON.parse silently keeps the last of
// two equal keys, so a header or config could say two things at once. This parser
// refuses duplicate keys (after unescaping: "a" and "\u0061" are the same key).

export class JsonFormatError extends Error {
  constructor(source: string, message: string) {
    super(`${source}: ${message}`);
    this.name = "JsonFormatError";
  }
}

const WHITESPACE = new Set([0x20, 0x09, 0x0a, 0x0d]);

/**
 * Walks valid JSON text (already accepted by JSON.parse) and throws at the first
 * object that repeats a key, naming its path (e.g. `$.visual.proj`).
 */
function checkDuplicateKeys(text: string, source: string): void {
  let at = 0;
  const skipSpace = (): void => {
    while (at < text.length && WHITESPACE.has(text.charCodeAt(at))) at++;
  };
  /** The end (exclusive) of the string token starting at `at` (a quote). */
  const stringEnd = (start: number): number => {
    let i = start + 1;
    for (;;) {
      const c = text.charCodeAt(i);
      if (c === 0x22) return i + 1;
      i += c === 0x5c ? 2 : 1;
    }
  };
  // An explicit stack, so deeply nested hostile input cannot overflow the call stack.
  type Frame = {keys: Set<string> | null; path: string; index: number};
  const stack: Frame[] = [];
  const valueEnd = (): void => {
    // Scalars: skip to the next structural character.
    while (at < text.length) {
      const c = text.charCodeAt(at);
      if (c === 0x2c || c === 0x7d || c === 0x5d || WHITESPACE.has(c)) return;
      at++;
    }
  };
  skipSpace();
  const startValue = (path: string): void => {
    const c = text.charCodeAt(at);
    if (c === 0x7b) {
      stack.push({keys: new Set(), path, index: 0});
      at++;
    } else if (c === 0x5b) {
      stack.push({keys: null, path, index: 0});
      at++;
    } else if (c === 0x22) {
      at = stringEnd(at);
    } else {
      valueEnd();
    }
  };
  startValue("$");
  while (stack.length > 0) {
    skipSpace();
    const frame = stack[stack.length - 1]!;
    const c = text.charCodeAt(at);
    if (c === 0x7d || c === 0x5d) {
      stack.pop();
      at++;
      continue;
    }
    if (c === 0x2c) {
      at++;
      skipSpace();
    }
    if (frame.keys) {
      const end = stringEnd(at);
      const key = JSON.parse(text.slice(at, end)) as string;
      if (frame.keys.has(key)) throw new JsonFormatError(source, `duplicate key ${JSON.stringify(key)} in ${frame.path}: the file is ambiguous or corrupt`);
      frame.keys.add(key);
      at = end;
      skipSpace();
      at++; // the colon
      skipSpace();
      startValue(/^[A-Za-z_][A-Za-z0-9_]*$/.test(key) ? `${frame.path}.${key}` : `${frame.path}[${JSON.stringify(key)}]`);
    } else {
      startValue(`${frame.path}[${frame.index++}]`);
    }
  }
}

/** JSON.parse that also refuses duplicate object keys; errors name `source`. */
export function parseJsonStrict(text: string, source: string): unknown {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (error) {
    throw new JsonFormatError(source, `not valid JSON (${(error as Error).message})`);
  }
  checkDuplicateKeys(text, source);
  return value;
}
