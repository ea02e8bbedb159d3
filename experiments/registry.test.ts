// User experiments: registered from a module loaded with --import, they run, resume and summarise
// like the built-in ones; bad names and duplicates are refused.
import { execFileSync } from "node:child_process";
import { existsSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { z } from "zod";
import { EXPERIMENTS, registerExperiment, type ExperimentParts } from "./registry.ts";

const root = join(import.meta.dirname, "..");
// Inside the project (a gitignored folder), as a user's module would be: it imports zod from node_modules.
mkdirSync(join(root, ".vitest-cache"), { recursive: true });
const dir = mkdtempSync(join(root, ".vitest-cache", "user-exp-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const parts = (name: string): ExperimentParts => ({
  name,
  title: "t",
  schema: z.object({}),
  quick: {},
  plan: () => [],
  execute: () => ({ metrics: {}, summary: "" }),
  paths: (d) => ({ recordsDir: join(d, `${name}-records`), outPrefix: join(d, name) }),
  summarise: async () => [],
});

describe("registerExperiment", () => {
  it("adds an experiment, and refuses duplicates and names that are not plain", () => {
    registerExperiment(parts("userTest"));
    expect(EXPERIMENTS.userTest?.title).toBe("t");
    // Without `progress` a run's status adds nothing; with it, what it says of the evaluations.
    const evals = [{ step: 100, return: 1, success: 1 }];
    expect(EXPERIMENTS.userTest?.progress({ seed: 0 }, evals, "r")).toBeUndefined();
    registerExperiment({ ...parts("userProgress"), progress: (c, es, d) => `seed ${c.seed}: ${es.length} in ${d}` });
    expect(EXPERIMENTS.userProgress?.progress({ seed: 2 }, evals, "r")).toBe("seed 2: 1 in r");
    delete EXPERIMENTS.userProgress;
    expect(() => registerExperiment(parts("userTest"))).toThrow(/already registered/);
    expect(() => registerExperiment(parts("e4"))).toThrow(/already registered/);
    expect(() => registerExperiment(parts("../x"))).toThrow(/not a valid name/);
    delete EXPERIMENTS.userTest;
  });

  // Three tsx processes: about 23 s on a busy 2-core machine.
  it("npm run exp -- <name> --import file: a user's experiment runs, writes records and its summary, and resumes", {
    timeout: 120_000,
  }, () => {
    const module = join(dir, "coins.ts");
    writeFileSync(
      module,
      `import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { z } from "zod";
import { Rng } from ${JSON.stringify(join(root, "common/rng.ts"))};
import { readRecords } from ${JSON.stringify(join(root, "experiments/records.ts"))};
import { registerExperiment } from ${JSON.stringify(join(root, "experiments/registry.ts"))};

registerExperiment({
  name: "coins",
  title: "Coins: the share of heads in n flips",
  schema: z.object({ seeds: z.number().int().min(1).default(3), flips: z.number().int().min(1).default(100) }).strict(),
  quick: { seeds: 1, flips: 10 },
  plan: (cfg) => Array.from({ length: cfg.seeds }, (_, seed) => ({ run: \`coins-seed\${seed}\`, config: { seed, flips: cfg.flips } })),
  execute: (c) => {
    const rng = new Rng(c.seed);
    let heads = 0;
    for (let i = 0; i < c.flips; i++) heads += rng.float() < 0.5 ? 1 : 0;
    return { metrics: { heads: heads / c.flips }, summary: \`heads \${heads}\` };
  },
  paths: (d) => ({ recordsDir: join(d, "coins-records"), outPrefix: join(d, "coins") }),
  summarise: async (recordsDir, outPrefix) => {
    const rows = readRecords(recordsDir).map((r) => \`| \${r.run} | \${r.metrics.heads} |\`);
    writeFileSync(\`\${outPrefix}.md\`, ["| run | heads |", "|---|---|", ...rows].join("\\n") + "\\n");
    return [\`\${outPrefix}.md\`];
  },
});
`,
    );
    const results = join(dir, "results");
    const run = () =>
      execFileSync(
        join(root, "node_modules/.bin/tsx"),
        [
          join(root, "experiments/run.ts"),
          "coins",
          "--import",
          module,
          "--results",
          results,
          "--allow-outside-results",
          "--backend",
          "cpu",
        ],
        { cwd: root, encoding: "utf8", env: { ...process.env, CI: "1" } },
      );
    const first = run();
    expect(first).toContain("3 to run");
    expect(readdirSync(join(results, "coins-records")).sort()).toEqual([
      "coins-seed0.json",
      "coins-seed1.json",
      "coins-seed2.json",
    ]);
    const table = readFileSync(join(results, "coins.md"), "utf8");
    expect(table.split("\n").filter((l) => l.startsWith("| coins-seed"))).toHaveLength(3);
    expect(run()).toContain("3 have records, 0 to run");
    // Without the module the experiment is unknown: commander names the command it does not know.
    expect(() =>
      execFileSync(join(root, "node_modules/.bin/tsx"), [join(root, "experiments/run.ts"), "coins"], {
        cwd: root,
        encoding: "utf8",
        stdio: "pipe",
      }),
    ).toThrow(/unknown command 'coins'/);
    expect(existsSync(join(results, "coins.md"))).toBe(true);
  });
});
