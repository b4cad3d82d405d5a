import { defineConfig } from "vitest/config"

export default defineConfig({
  test: {
    pool: "forks",
    // two cores: two test files at a time (each real codex run is a heavy process tree)
    poolOptions: { forks: { maxForks: 2, minForks: 1 } },
    projects: [
      {
        test: {
          name: "unit",
          include: ["test/**/*.test.ts"],
          exclude: ["test/e2e/**"],
          testTimeout: 20_000,
        },
      },
      {
        test: {
          name: "e2e",
          include: ["test/e2e/**/*.test.ts"],
          // Real codex and detached processes on two loaded cores: one retry, and `npm test`
          // names every test that needed it (docs/decisions.md), so a flake is seen, not hidden.
          retry: 1,
          testTimeout: 120_000,
          hookTimeout: 60_000,
        },
      },
    ],
  },
})
