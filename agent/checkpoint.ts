// Agent checkpoints: everything a run needs to continue after an interruption, in one folder per
// checkpoint (ckpt-<step>/): the world model (its TensorFlow.js checkpoint), value and optimiser
// weights (TensorFlow.js weights format), the replay buffer and the loop's state (JSON). `latest.json`
// names the newest complete checkpoint and is replaced atomically after the folder is written and
// read back, so a crash at any moment leaves the previous checkpoint usable; older folders are
// removed after that. Every file is verified on load: the world model's weights by the hash in their
// name, the buffer by its SHA-256 trailer, agent.bin and the loop state by SHA-256s in state.json
// (the state's over its canonical JSON); a corrupt checkpoint is refused with one line.
import { createHash } from "node:crypto";
import { existsSync, mkdirSync, readFileSync, readdirSync, rmSync } from "node:fs";
import { join } from "node:path";
import * as tf from "@tensorflow/tfjs";
import type { NamedTensor } from "../worldmodel/train.ts";
import { writeFileAtomic } from "../common/atomicWrite.ts";
import { canonicalJson } from "../common/canonicalJson.ts";
import { ReplayBuffer } from "../data/replayBuffer.ts";
import { loadWeightsInto, saveWorldModel } from "../worldmodel/checkpoint.ts";
import type { Learner } from "./learner.ts";

const FORMAT = "gumbel-worlds/agent-checkpoint";
const VERSION = 3; // 2: the value heads as one ensemble, flat AdamW slots; 3: checksums

export class AgentCheckpointError extends Error {
  override name = "AgentCheckpointError";
}

/**
 * Writes ckpt-<step> under root, reads it back, points latest.json at it, then removes the older
 * ones: all of them (keepOlder false), none (true), or all but those named in keepOlder.
 */
export async function saveAgentCheckpoint(
  root: string,
  agent: Learner,
  buffer: ReplayBuffer,
  state: { step: number } & Record<string, unknown>,
  keepOlder: boolean | readonly string[] = false,
): Promise<string> {
  const name = `ckpt-${state.step}`;
  const dir = join(root, name);
  rmSync(dir, { recursive: true, force: true });
  mkdirSync(dir, { recursive: true });
  await saveWorldModel(agent.model, join(dir, "worldmodel"));
  const groups = await agent.optimizerWeights();
  const named: NamedTensor[] = agent.extraVariables().map(([n, v]) => ({ name: `agent/${n}`, tensor: v }));
  // Optimiser slots are positional (tfjs names them after process-local variable ids): store them by index.
  for (const [g, ws] of Object.entries(groups))
    ws.forEach((w, i) => named.push({ name: `optimizer/${g}/${String(i).padStart(4, "0")}`, tensor: w.tensor }));
  const { data, specs } = await tf.io.encodeWeights(named);
  const bin = new Uint8Array(data as ArrayBuffer);
  writeFileAtomic(join(dir, "agent.bin"), bin);
  buffer.save(join(dir, "buffer.gwrb"));
  const json: StateJson = {
    format: FORMAT,
    version: VERSION,
    weights: specs,
    agentBin: sha256(bin),
    state,
    stateSha256: sha256(canonicalJson(state)),
  };
  writeFileAtomic(join(dir, "state.json"), JSON.stringify(json, null, 1) + "\n");
  verifyCheckpoint(dir); // read back before the older checkpoints go
  writeFileAtomic(latestPointer(root), JSON.stringify({ checkpoint: name, step: state.step }) + "\n");
  if (keepOlder === true) return dir;
  const spared = new Set(keepOlder || []);
  for (const f of readdirSync(root))
    if (/^ckpt-\d+$/.test(f) && f !== name && !spared.has(f)) rmSync(join(root, f), { recursive: true, force: true });
  return dir;
}

export interface StateJson {
  format: string;
  version: number;
  weights: tf.io.WeightsManifestEntry[];
  agentBin: string;
  state: { step: number } & Record<string, unknown>;
  stateSha256: string;
}

const sha256 = (x: Uint8Array | string) => createHash("sha256").update(x).digest("hex");

/** Reads a checkpoint's state.json and checks its own and agent.bin's checksums; returns the manifest. */
export function verifyCheckpoint(dir: string): StateJson {
  const fail = (why: string): never => {
    throw new AgentCheckpointError(`checkpoint ${dir} is corrupt or incomplete: ${why}`);
  };
  let json: StateJson;
  try {
    json = JSON.parse(readFileSync(join(dir, "state.json"), "utf8")) as StateJson;
  } catch (err) {
    return fail(`state.json unreadable (${(err as Error).message})`);
  }
  if (json?.format !== FORMAT) fail("state.json is not an agent checkpoint's");
  if (json.version !== VERSION)
    throw new AgentCheckpointError(
      `loadAgentCheckpoint: ${dir} is a version-${json.version} agent checkpoint; this code reads version ${VERSION}`,
    );
  if (typeof json.state !== "object" || json.state === null || sha256(canonicalJson(json.state)) !== json.stateSha256)
    fail("the loop state in state.json does not match its checksum");
  if (!Number.isInteger(json.state.step) || json.state.step < 0)
    fail(`the state's step is ${JSON.stringify(json.state.step)}`);
  if (!existsSync(join(dir, "agent.bin")) || sha256(readFileSync(join(dir, "agent.bin"))) !== json.agentBin)
    fail("agent.bin does not match its checksum");
  return json;
}

/** The file under a run's checkpoint folder that names its newest checkpoint. */
export function latestPointer(root: string): string {
  return join(root, "latest.json");
}

/** Whether a run's checkpoint folder holds a checkpoint (its latest.json was written). */
export function hasCheckpoint(root: string): boolean {
  return existsSync(latestPointer(root));
}

/** The newest complete checkpoint under `root`, if any. */
export function latestCheckpoint(root: string): string | undefined {
  const pointer = latestPointer(root);
  if (!existsSync(pointer)) return undefined;
  let checkpoint: unknown;
  try {
    checkpoint = (JSON.parse(readFileSync(pointer, "utf8")) as { checkpoint?: unknown })?.checkpoint;
  } catch (err) {
    throw new AgentCheckpointError(`latestCheckpoint: ${pointer} is unreadable (${(err as Error).message})`);
  }
  if (typeof checkpoint !== "string" || !/^ckpt-\d+$/.test(checkpoint))
    throw new AgentCheckpointError(
      `latestCheckpoint: ${pointer} names no checkpoint folder (got ${JSON.stringify(checkpoint)})`,
    );
  const dir = join(root, checkpoint);
  if (!existsSync(join(dir, "state.json")))
    throw new AgentCheckpointError(`latestCheckpoint: ${pointer} names ${dir}, which is incomplete`);
  return dir;
}

/**
 * The checkpoint `dir` names: a run's checkpoint folder (the one holding latest.json) gives its
 * latest, a ckpt-N folder itself; `who` starts the error where there is none.
 */
export function checkpointAt(dir: string, who: string): string {
  const ckpt = hasCheckpoint(dir) ? latestCheckpoint(dir) : dir;
  if (!ckpt || !existsSync(join(ckpt, "state.json")))
    throw new AgentCheckpointError(`${who}: no agent checkpoint in ${dir}`);
  return ckpt;
}

/** Loads weights and optimiser state into `agent` (built with the same config); returns the buffer (room for `capacity` observations) and the loop state. */
export async function loadAgentCheckpoint<S>(
  dir: string,
  agent: Learner,
  capacity: number,
  /** The manifest, when the caller already read it with verifyCheckpoint (to build the agent from its config). */
  json: StateJson = verifyCheckpoint(dir),
): Promise<{ buffer: ReplayBuffer; state: S }> {
  const buffer = ReplayBuffer.load(join(dir, "buffer.gwrb"), capacity); // verified before any weight changes
  loadWeightsInto(agent.model, join(dir, "worldmodel"));
  const bytes = readFileSync(join(dir, "agent.bin"));
  const tensors = tf.io.decodeWeights(
    bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.byteLength),
    json.weights,
  );
  try {
    for (const [n, v] of agent.extraVariables()) {
      const t = tensors[`agent/${n}`];
      if (!t || t.shape.join() !== v.shape.join())
        throw new AgentCheckpointError(
          `loadAgentCheckpoint: ${dir} has no weight '${n}' of shape [${v.shape.join(", ")}] (config mismatch?)`,
        );
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
  return { buffer, state: json.state as unknown as S };
}
