// A checkpoint is read back before latest.json moves to it and the older ones go: here the disk
// "loses" bytes of the second checkpoint's agent.bin, and the first stays the latest, intact.
import { mkdtempSync, readdirSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it, vi } from "vitest";
import { initBackend } from "../backend/init.ts";
import { latestCheckpoint } from "./checkpoint.ts";
import { trainAgent } from "./train.ts";

const lossy = { enabled: false };
vi.mock("../common/atomicWrite.ts", async (importOriginal) => {
  const original = await importOriginal<typeof import("../common/atomicWrite.ts")>();
  return {
    ...original,
    writeFileAtomic: (path: string, data: string | Uint8Array) => {
      const bytes =
        lossy.enabled && path.endsWith("agent.bin") && typeof data !== "string"
          ? data.subarray(0, data.length - 1)
          : data;
      original.writeFileAtomic(path, bytes);
    },
  };
});

const root = mkdtempSync(join(tmpdir(), "ckpt-save-"));
afterAll(() => rmSync(root, { recursive: true, force: true }));
beforeAll(async () => {
  await initBackend({ backend: "wasm" });
});

describe("saving a checkpoint", () => {
  it("keeps the previous checkpoint as the latest when the new one does not read back", async () => {
    const run = {
      env: "Catch-v0",
      steps: 120,
      seedSteps: 40,
      pretrainUpdates: 2,
      modelPretrainUpdates: 0,
      evalEvery: 60,
      evalEpisodes: 1,
      worldModel: { batch: 8 },
      value: { batch: 8 },
    };
    const dir = join(root, "run");
    let evals = 0;
    // onEval runs before each checkpoint: the first is written whole, the second's agent.bin loses its last byte.
    const result = trainAgent(run, { checkpointDir: dir, onEval: () => void (lossy.enabled = ++evals >= 2) });
    await expect(result).rejects.toThrow(/ckpt-120 is corrupt or incomplete: agent.bin does not match its checksum/);
    expect(latestCheckpoint(dir)).toMatch(/ckpt-60$/);
    expect(
      readdirSync(dir)
        .filter((f) => f.startsWith("ckpt-"))
        .sort(),
    ).toEqual(["ckpt-120", "ckpt-60"]);
  }, 120_000);
});
