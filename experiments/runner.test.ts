// Resuming: a record counts as done when its config is the planned one, whatever its keys' order.
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { recordPath } from "./records.ts";
import { recordDone } from "./runner.ts";

const dir = mkdtempSync(join(tmpdir(), "runner-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const planned = (run: string, config: { seed: number } & Record<string, unknown>) => ({ run, config });

describe("recordDone", () => {
  writeFileSync(recordPath(dir, "a"), JSON.stringify({ config: { seed: 0, model: { lr: 0.003, batch: 128 } } }));

  it("is false without a record, true for the same config in another key order", () => {
    expect(recordDone(dir, planned("b", { seed: 0 }))).toBe(false);
    expect(recordDone(dir, planned("a", { model: { batch: 128, lr: 0.003 }, seed: 0 }))).toBe(true);
  });

  it("refuses a record made with another config, naming it", () => {
    expect(() => recordDone(dir, planned("a", { seed: 0, model: { lr: 0.001, batch: 128 } }))).toThrow(
      /a\.json was made with another config/,
    );
  });
});
