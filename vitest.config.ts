import {defineConfig} from "vitest/config";

export default defineConfig({
  test: {
    include: ["tests/**/*.test.ts"],
    // The embedded default (phantom + demo bundle) is made once, before the workers start,
    // so tests that read it never race to import the same bundle.
    globalSetup: ["tests/globalSetup.ts"],
    testTimeout: 120_000,
    hookTimeout: 300_000,
    pool: "forks",
    fileParallelism: true,
    maxWorkers: 2
  }
});
