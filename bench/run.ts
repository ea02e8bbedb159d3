// npm run bench -- <name> [options]: performance figures measured in one run, medians, with ratios.
import { runMain } from "../experiments/cli.ts";
import { benchAgent } from "./agent.ts";
import { benchBackend } from "./backend.ts";
import { benchEnvs } from "./envs.ts";
import { benchEvaluation } from "./evaluation.ts";
import { benchImagined } from "./imagined.ts";
import { benchKernels } from "./kernels.ts";
import { benchSearch } from "./search.ts";
import { benchTidyRead } from "./tidyRead.ts";
import { benchVersions } from "./versions.ts";
import { benchWorldModel } from "./worldmodel.ts";

const BENCHES: Record<string, { run: (args: string[]) => void | Promise<void>; about: string }> = {
  backend: {
    run: benchBackend,
    about:
      "ms/step and GFLOP/s of W1 (MLP) and W5 (ST-GS rollout) on cpu, stock wasm, project wasm (XNNPACK and native GEMM), PyTorch [--quick] [--no-torch]",
  },
  worldmodel: {
    run: benchWorldModel,
    about:
      "world-model training steps/s (batch 256, H 5): the tape-based loss and gradient against the fused pass [--quick] [--backend=NAME]",
  },
  agent: {
    run: benchAgent,
    about:
      "agent update and planner scoring call against a PyTorch port (checked, alternated), kernel calls, plan ms [--quick] [--json] [--no-torch] [--backend=NAME]",
  },
  envs: {
    run: benchEnvs,
    about: "env steps/s: make()'d, bare, 64-env vector, vector with rendering [--quick] [ids...]",
  },
  imagined: {
    run: benchImagined,
    about:
      "the value's imagined backups on FourRooms-11 with grid cells as codes: heads on every cell against each distinct neighbourhood once [--quick]",
  },
  kernels: {
    run: benchKernels,
    about:
      "a cells agent's update and act with each project WASM kernel that keeps the stock values (Concat, SplitV, Sum, Tile) against the stock one, two copies alternated, outputs checked equal [--quick] [--checkpoint=DIR]",
  },
  search: {
    run: benchSearch,
    about:
      "the code search on DoorKey-8x8 with grid cells as codes: through the heads on every cell against on code indices, each neighbourhood once [--quick] [--checkpoint=DIR]",
  },
  evaluation: {
    run: benchEvaluation,
    about:
      "a searching agent's evaluation: start codes met again answered from their first search's Q against a search every act, alternated, actions checked equal [--quick] [--checkpoint=DIR] [--rounds=N] [--episodes=N]",
  },
  versions: {
    run: benchVersions,
    about:
      "this tree's agent code against another tree's (a checkout with this node_modules) on one checkpoint: act and update ms, alternated rounds, outputs compared --baseline=DIR --checkpoint=DIR [--quick] [--rounds=N] [--steps=N]",
  },
  tidy: {
    run: benchTidyRead,
    about:
      "reading a tf.tidy scope's results: returned from inside it against tidyReadAll (the cells search's read) [--quick]",
  },
};

const [name, ...rest] = process.argv.slice(2);
if (name === undefined || name === "--help" || name === "-h") {
  console.log(
    `usage: npm run bench -- <name> [options]\n${Object.entries(BENCHES)
      .map(([k, b]) => `  ${k.padEnd(10)} ${b.about}`)
      .join("\n")}`,
  );
} else {
  await runMain(async () => {
    const bench = BENCHES[name];
    if (bench === undefined)
      throw new Error(
        `bench: unknown benchmark '${name}' (known: ${Object.keys(BENCHES).join(", ")}; npm run bench -- --help)`,
      );
    await bench.run(rest);
  });
}
