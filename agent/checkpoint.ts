// Agent checkpoints: everything a run needs to continue after an interruption, in one folder per
// checkpoint (ckpt-<step>/): the world model (its TensorFlow.js checkpoint), value and optimiser
// weights (TensorFlow.js weights format), the replay buffer and the loop's state (JSON). `latest.json`
// names the newest complete checkpoint and is replaced atomically after the folder is written, so a
// crash at any moment leaves the previous checkpoint usable; older folders are removed after that.
import { existsSync, mkdirSync, readFileSync, readdirSync, rmSync } from "node:fs";
import { join } from "node:path";
import * as tf from "@tensorflow/tfjs";
import type { NamedTensor } from "../worldmodel/train.ts";
import { writeFileAtomic } from "../common/atomicWrite.ts";
import { ReplayBuffer } from "../worldmodel/data/replayBuffer.ts";
import { loadWeightsInto, saveWorldModel } from "../worldmodel/checkpoint.ts";
import type { Learner } from "./agent.ts";

const FORMAT = "gumbel-worlds/agent-checkpoint";
const VERSION = 2; // 2: the value heads as one ensemble, flat AdamW slots

export class AgentCheckpointError extends Error {
  override name = "AgentCheckpointError";
}

export async function saveAgentCheckpoint(root: string, agent: Learner, buffer: ReplayBuffer, state: { step: number } & Record<string, unknown>): Promise<string> {
  const name = `ckpt-${state.step}`;
  const dir = join(root, name);
  rmSync(dir, { recursive: true, force: true });
  mkdirSync(dir, { recursive: true });
  await saveWorldModel(agent.model, join(dir, "worldmodel"));
  const groups = await agent.optimizerWeights();
  const named: NamedTensor[] = agent.extraVariables().map(([n, v]) => ({ name: `agent/${n}`, tensor: v }));
  // Optimiser slots are positional (tfjs names them after process-local variable ids): store them by index.
  for (const [g, ws] of Object.entries(groups)) ws.forEach((w, i) => named.push({ name: `optimizer/${g}/${String(i).padStart(4, "0")}`, tensor: w.tensor }));
  const { data, specs } = await tf.io.encodeWeights(named);
  writeFileAtomic(join(dir, "agent.bin"), new Uint8Array(data as ArrayBuffer));
  buffer.save(join(dir, "buffer.gwrb"));
  writeFileAtomic(join(dir, "state.json"), JSON.stringify({ format: FORMAT, version: VERSION, weights: specs, state }, null, 1) + "\n");
  writeFileAtomic(join(root, "latest.json"), JSON.stringify({ checkpoint: name, step: state.step }) + "\n");
  for (const f of readdirSync(root)) if (/^ckpt-\d+$/.test(f) && f !== name) rmSync(join(root, f), { recursive: true, force: true });
  return dir;
}

/** The newest complete checkpoint under `root`, if any. */
export function latestCheckpoint(root: string): string | undefined {
  const pointer = join(root, "latest.json");
  if (!existsSync(pointer)) return undefined;
  const { checkpoint } = JSON.parse(readFileSync(pointer, "utf8")) as { checkpoint: string };
  const dir = join(root, checkpoint);
  if (!existsSync(join(dir, "state.json"))) throw new AgentCheckpointError(`latestCheckpoint: ${pointer} names ${dir}, which is incomplete`);
  return dir;
}

/** Loads weights and optimiser state into `agent` (built with the same config); returns the buffer (room for `capacity` observations) and the loop state. */
export async function loadAgentCheckpoint<S>(dir: string, agent: Learner, capacity: number): Promise<{ buffer: ReplayBuffer; state: S }> {
  const json = JSON.parse(readFileSync(join(dir, "state.json"), "utf8")) as { format: string; version: number; weights: tf.io.WeightsManifestEntry[]; state: S };
  if (json.format !== FORMAT || json.version !== VERSION) throw new AgentCheckpointError(`loadAgentCheckpoint: ${dir} is not a version-${VERSION} agent checkpoint`);
  loadWeightsInto(agent.model, join(dir, "worldmodel"));
  const bytes = readFileSync(join(dir, "agent.bin"));
  const tensors = tf.io.decodeWeights(bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.byteLength), json.weights);
  try {
    for (const [n, v] of agent.extraVariables()) {
      const t = tensors[`agent/${n}`];
      if (!t || t.shape.join() !== v.shape.join()) throw new AgentCheckpointError(`loadAgentCheckpoint: ${dir} has no weight '${n}' of shape [${v.shape.join(", ")}] (config mismatch?)`);
      v.assign(t);
    }
    const groups: Record<string, NamedTensor[]> = {};
    for (const k of Object.keys(tensors).sort()) {
      const m = /^optimizer\/(.+)\/\d{4}$/.exec(k);
      if (m) (groups[m[1]!] ??= []).push({ name: k, tensor: tf.clone(tensors[k]!) });
    }
    await agent.setOptimizerWeights(groups);
    // The optimisers' variables share these clones' data (reference-counted): the clones can go.
    tf.dispose(Object.values(groups).flatMap((g) => g.map((w) => w.tensor)));
  } finally {
    tf.dispose(Object.values(tensors));
  }
  return { buffer: ReplayBuffer.load(join(dir, "buffer.gwrb"), capacity), state: json.state };
}
