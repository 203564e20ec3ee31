// Option parsers and option builders shared by the CLI's commands (loaders/cli.ts and
// loaders/commands/*.ts), so each rule and its error message is written once.
import {InvalidArgumentError, Option} from "commander";
import {MODEL_VARIANTS} from "../../src/lib/bundle.js";
import {parseExecutionProvider} from "../session.js";

export function positiveInt(value: string): number {
  const n = Number(value);
  if (!Number.isInteger(n) || n <= 0) throw new InvalidArgumentError(`expected a positive integer, got "${value}"`);
  return n;
}

export function nonNegativeInt(value: string): number {
  const n = Number(value);
  if (!Number.isInteger(n) || n < 0) throw new InvalidArgumentError(`expected a whole number, got "${value}"`);
  return n;
}

export function integer(value: string): number {
  const n = Number(value);
  if (!Number.isInteger(n)) throw new InvalidArgumentError(`expected an integer, got "${value}"`);
  return n;
}

export function positiveNumber(value: string): number {
  const n = Number(value);
  if (!Number.isFinite(n) || n <= 0) throw new InvalidArgumentError(`expected a positive number, got "${value}"`);
  return n;
}

export function nonNegative(value: string): number {
  const n = Number(value);
  if (!Number.isFinite(n) || n < 0) throw new InvalidArgumentError(`expected a non-negative number, got "${value}"`);
  return n;
}

export function seconds(value: string): number {
  const n = Number(value);
  if (!Number.isFinite(n) || n < 0) throw new InvalidArgumentError(`expected a number of seconds, got "${value}"`);
  return n;
}

/** A seed: an integer when it reads as one, else the word itself. */
export function seedValue(value: string): number | string {
  return /^-?\d+$/.test(value) ? Number(value) : value;
}

/** --ep: the execution provider, default auto. */
export const epOption = (): Option =>
  new Option("--ep <provider>", "execution provider: auto (cuda, webgpu, then cpu), cuda, webgpu or cpu").default("auto").argParser(parseExecutionProvider);

/** --variant: which graphs of the bundle to run, default fp32. */
export const variantOption = (description = "graphs to run: fp32, fp16 or int8"): Option =>
  new Option("--variant <variant>", description).choices(MODEL_VARIANTS).default("fp32");
