// npm run bench -- search [--quick] [--checkpoint=DIR]: the code search (agent/codeSearch.ts) from
// DoorKey-8x8 start grids with grid cells as codes: stepped on code indices, each distinct
// neighbourhood once (worldmodel/nn/localStep.ts), against through the local heads on every cell of
// every row. Checks that both find the same Q (float32 rounding apart), then alternated rounds,
// medians, the ratio; and on indices the search with training's untried bonus, with the codes the
// env has shown (planner.search.observed: a lookup per cell, and a graph of its own), and the searches
// sharing one stepper (as an evaluation's do: the weights stay fixed, so it computes each
// neighbourhood once for all of them), and with a search memo as well (each code's rows and value
// once for all of them; checked to give the same Q bit for bit).
// Without --checkpoint, DoorKey-8x8's model and search with its per-task entry (experiments/efficiency)
// at its initial weights (its graph branches wide and ends shallow);
// with one (a cells agent's checkpoint folder), that agent's model, value, search settings, start
// grids from its replay buffer and the steps it took (the untried bonus's).
import * as tf from "@tensorflow/tfjs";
import { ImaginationAgent } from "../agent/agent.ts";
import { type AgentConfig, parseAgentConfig } from "../agent/config.ts";
import { SearchMemo, type SearchModel, type SearchOptions, searchCodes } from "../agent/codeSearch.ts";
import { loadAgent } from "../agent/load.ts";
import { TakenSteps } from "../agent/takenSteps.ts";
import { initBackend } from "../backend/init.ts";
import { Rng } from "../common/rng.ts";
import { ReplayBuffer } from "../data/replayBuffer.ts";
import { makeBare } from "../envs/index.ts";
import { PER_TASK } from "../experiments/efficiency/efficiency.ts";
import { WorldModel, envShapeOf } from "../worldmodel/model.ts";
import { median, printTable } from "./timing.ts";

interface Workload {
  model: WorldModel;
  /** Discrete actions. */
  actions: number;
  /** The search's settings, without the untried bonus. */
  opts: SearchOptions;
  taken: TakenSteps;
  /** The untried bonus (the agent's, else 0.1). */
  bonus: number;
  /** Start grids' observations. */
  starts: ArrayLike<number>[];
  about: string;
  dispose(): void;
}

export async function benchSearch(args: string[]): Promise<void> {
  const info = await initBackend();
  const quick = args.includes("--quick");
  const rounds = quick ? 2 : 4;
  const checkpoint = args.find((a) => a.startsWith("--checkpoint="))?.slice("--checkpoint=".length);
  const work = checkpoint ? await fromCheckpoint(checkpoint, quick ? 3 : 6) : initialModel(quick ? 2 : 4);
  const { model, opts, taken, actions } = work;
  const throughHeads: SearchModel = Object.assign(Object.create(model), { indexStepper: undefined });
  const starts = work.starts.map((obs) => tf.tidy(() => model.encode(model.preprocess(obs, 1))));
  const untried = { ...opts, untried: { seen: taken.seen, bonus: work.bonus } };
  const nodes: number[] = [];
  for (const z0 of starts) {
    const [fast, slow] = [searchCodes(model, z0, actions, opts), searchCodes(throughHeads, z0, actions, opts)];
    const worst = Math.max(...fast.q.map((q, a) => Math.abs(q - slow.q[a]!) / Math.max(1, Math.abs(q))));
    if (fast.nodes !== slow.nodes || worst > 1e-4)
      throw new Error(`bench search: on indices ${fast.nodes} nodes, Q off by ${worst}; through heads ${slow.nodes}`);
    nodes.push(fast.nodes);
  }
  // A memo shared by all searches (as an evaluation's): the same Q bit for bit, met afresh or again.
  const [memo, memoStepper] = [new SearchMemo(), model.indexStepper()!];
  for (const z0 of [...starts, ...starts]) {
    const [fast, memoed] = [
      searchCodes(model, z0, actions, opts),
      searchCodes(model, z0, actions, { ...opts, stepper: memoStepper, memo }),
    ];
    if (memoed.nodes !== fast.nodes || memoed.q.some((q, a) => q !== fast.q[a]))
      throw new Error(
        `bench search: with a memo ${memoed.nodes} nodes, Q ${memoed.q}; without ${fast.nodes}, ${fast.q}`,
      );
  }
  // Milliseconds per search over all start grids, one call each.
  const time = (m: SearchModel, o: SearchOptions) => {
    const t0 = performance.now();
    for (const z0 of starts) searchCodes(m, z0, actions, o);
    return (performance.now() - t0) / starts.length;
  };
  const observed = { ...opts, shown: taken.shown };
  const times: Record<"heads" | "indices" | "untried" | "observed" | "kept" | "memo", number[]> = {
    heads: [],
    indices: [],
    untried: [],
    observed: [],
    kept: [],
    memo: [],
  };
  time(model, untried); // warm-up
  for (let r = 0; r < rounds; r++) {
    times.heads.push(time(throughHeads, opts));
    times.indices.push(time(model, opts));
    times.untried.push(time(model, untried));
    times.observed.push(time(model, observed));
    times.kept.push(time(model, { ...opts, stepper: model.indexStepper() }));
    // An evaluation's searches: one stepper and one memo for all (each start searched twice, as an
    // episode's consecutive searches meet mostly the codes of the one before).
    const [s, m] = [model.indexStepper(), new SearchMemo()];
    const t0 = performance.now();
    for (const z0 of starts)
      for (let i = 0; i < 2; i++) searchCodes(model, z0, actions, { ...opts, stepper: s, memo: m });
    times.memo.push((performance.now() - t0) / (2 * starts.length));
  }
  const shownNodes = starts.map((z0) => searchCodes(model, z0, actions, observed).nodes);
  tf.dispose(starts);
  work.dispose();
  const [heads, indices] = [median(times.heads), median(times.indices)];
  const [withUntried, withObserved] = [median(times.untried), median(times.observed)];
  const [kept, memoed] = [median(times.kept), median(times.memo)];
  console.log(
    `# ${work.about}; ${starts.length} start grids (${Math.min(...nodes)}-${Math.max(...nodes)} nodes), ` +
      `${rounds} alternating rounds, medians; backend ${info.kind}; the same Q checked`,
  );
  printTable([
    { search: "through the heads, every cell", "ms/search": heads, ratio: 1 },
    { search: "on code indices", "ms/search": indices, ratio: indices / heads },
    { search: "on code indices, untried bonus", "ms/search": withUntried, ratio: withUntried / heads },
    {
      search: `on code indices, observed codes (${Math.min(...shownNodes)}-${Math.max(...shownNodes)} nodes)`,
      "ms/search": withObserved,
      ratio: withObserved / heads,
    },
    { search: "on code indices, one stepper for all", "ms/search": kept, ratio: kept / heads },
    { search: "one stepper and memo, each start twice", "ms/search": memoed, ratio: memoed / heads },
  ]);
}

/** DoorKey-8x8's model (its per-task entry) at its initial weights; taken steps from random walks. */
function initialModel(count: number): Workload {
  const actions = 6;
  const env = makeBare("GridDoorKey-v0", { size: 8 });
  const agentConfig = parseAgentConfig({
    env: "GridDoorKey-v0",
    envOptions: { size: 8 },
    ...PER_TASK["GridDoorKey-v0-8x8"],
  });
  const config = agentConfig.worldModel;
  const model = new WorldModel(config, envShapeOf(env), 0);
  const rng = new Rng(1);
  const buffer = new ReplayBuffer({ obsShape: [8, 8, 3], obsDtype: "uint8", actionSize: 1, capacity: 2000 });
  const starts: ArrayLike<number>[] = [];
  for (let seed = 0; seed < 10; seed++) {
    const [obs] = env.reset({ seed });
    if (seed < count) starts.push(obs as Uint8Array);
    buffer.addFirst(obs as Uint8Array);
    for (let t = 0; t < 100; t++) {
      const a = rng.int(actions);
      const [next, reward, terminated] = env.step(a);
      buffer.addStep(a, reward, terminated, next as Uint8Array);
      if (terminated) break;
    }
    buffer.endEpisode();
  }
  const taken = new TakenSteps(model, actions, true);
  taken.read(buffer);
  return {
    model,
    actions,
    taken,
    ...searchSettings(agentConfig),
    starts,
    about: "DoorKey-8x8 per-task model at its initial weights",
    dispose: () => model.dispose(),
  };
}

/** A searching agent's settings as the bench runs them: its search (no value) and its untried bonus, else 0.1. */
function searchSettings(config: AgentConfig): Pick<Workload, "opts" | "bonus"> {
  const { depth, maxNodes, rewardOnEnding, untried } = config.planner.search!;
  return { opts: { depth, maxNodes, rewardOnEnding, gamma: config.value.gamma }, bonus: untried ?? 0.1 };
}

/** A cells agent's checkpoint: its model, value and search settings; start grids spread over its buffer. */
async function fromCheckpoint(dir: string, count: number): Promise<Workload> {
  const { agent, config, buffer, step } = await loadAgent(dir);
  const search = config.planner.search;
  if (!(agent instanceof ImaginationAgent) || !search || !agent.model.indexStepper())
    throw new Error(
      `bench search: ${dir} is not a searching agent with a cells model (planner.search, encoder 'cells')`,
    );
  if (agent.spec.kind !== "discrete") throw new Error(`bench search: ${dir}'s actions are not Discrete`);
  const settings = searchSettings(config);
  const taken = new TakenSteps(agent.model, agent.spec.n, true);
  taken.read(buffer);
  const size = buffer.obsSize;
  const obs = buffer.observations();
  const starts = Array.from({ length: count }, (_, i) => {
    const slot = Math.floor(((i + 0.5) * (buffer.size - 1)) / count);
    return obs.slice(slot * size, (slot + 1) * size);
  });
  return {
    model: agent.model,
    actions: agent.spec.n,
    taken,
    bonus: settings.bonus,
    starts,
    opts: { ...settings.opts, value: (z) => agent.value.value(z) },
    about: `${config.env} agent at step ${step} (${dir})`,
    dispose: () => agent.dispose(),
  };
}
