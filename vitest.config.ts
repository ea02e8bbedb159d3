import { defineConfig } from "vitest/config";

export default defineConfig({
  test: {
    include: ["**/*.test.ts"],
    exclude: ["node_modules/**"],
    reporters: ["default", "./test/summaryReporter.ts"],
    // Two cores: two workers. Numeric tests get room; anything needing minutes belongs in bench/.
    maxWorkers: 2,
    testTimeout: 60_000,
  },
});
