// World-model checkpoints in the TensorFlow.js format: a folder with model.json (config, env shape,
// code versions and a standard weightsManifest) and one binary weights file, so the weights load
// with tf.io in the browser and under tfjs-node too. The weights file is named by its content hash
// and written before model.json (each atomically): a crash leaves the previous checkpoint intact.
import { createHash } from "node:crypto";
import { existsSync, readFileSync, readdirSync, rmSync } from "node:fs";
import { join } from "node:path";
import * as tf from "@tensorflow/tfjs";
import { writeFileAtomic } from "../common/atomicWrite.ts";
import { gitCommit } from "../common/provenance.ts";
import { parseWorldModelConfig } from "./config.ts";
import { WorldModel, type EnvShape } from "./model.ts";

const FORMAT = "gumbel-worlds/world-model";
const VERSION = 1;

interface ModelJson {
  format: string;
  version: number;
  config: unknown;
  envShape: EnvShape;
  seed: number;
  versions: { tfjs: string; commit: string };
  weightsManifest: { paths: string[]; weights: tf.io.WeightsManifestEntry[] }[];
}

export class CheckpointError extends Error {
  override name = "CheckpointError";
}

export async function saveWorldModel(model: WorldModel, dir: string): Promise<void> {
  const named = [...model.namedVariables(), ...model.namedState()].map(([name, tensor]) => ({ name, tensor }));
  const { data, specs } = await tf.io.encodeWeights(named);
  const bytes = new Uint8Array(data as ArrayBuffer);
  const file = `weights-${sha256(bytes).slice(0, 16)}.bin`;
  writeFileAtomic(join(dir, file), bytes);
  const json: ModelJson = {
    format: FORMAT,
    version: VERSION,
    config: model.config,
    envShape: model.shape,
    seed: model.seed,
    versions: { tfjs: tf.version.tfjs, commit: gitCommit() },
    weightsManifest: [{ paths: [file], weights: specs }],
  };
  writeFileAtomic(join(dir, "model.json"), JSON.stringify(json, null, 1) + "\n");
  for (const f of readdirSync(dir))
    if (/^weights-[0-9a-f]+\.bin$/.test(f) && f !== file) rmSync(join(dir, f), { force: true });
}

const sha256 = (bytes: Uint8Array) => createHash("sha256").update(bytes).digest("hex");

function readModelJson(dir: string): ModelJson {
  const path = join(dir, "model.json");
  if (!existsSync(path)) throw new CheckpointError(`loadWorldModel: no model.json in ${dir}`);
  let json: ModelJson;
  try {
    json = JSON.parse(readFileSync(path, "utf8")) as ModelJson;
  } catch (err) {
    throw new CheckpointError(`loadWorldModel: ${path} is not valid JSON (${(err as Error).message})`);
  }
  if (json?.format !== FORMAT)
    throw new CheckpointError(`loadWorldModel: ${path} is not a world-model checkpoint (format '${json?.format}')`);
  if (json.version !== VERSION)
    throw new CheckpointError(
      `loadWorldModel: ${path} has version ${json.version}; this code reads version ${VERSION}`,
    );
  return json;
}

/** Copies a checkpoint's weights into `model`; shapes and names must match exactly. */
export function loadWeightsInto(model: WorldModel, dir: string): void {
  const json = readModelJson(dir);
  if (JSON.stringify(json.envShape) !== JSON.stringify(model.shape)) {
    throw new CheckpointError(
      `loadWorldModel: ${dir} was trained on another env shape (${JSON.stringify(json.envShape.obsShape)}, ${JSON.stringify(json.envShape.action)}) than the model (${JSON.stringify(model.shape.obsShape)}, ${JSON.stringify(model.shape.action)})`,
    );
  }
  const group = json.weightsManifest[0]!;
  const name = group.paths[0]!;
  const path = join(dir, name);
  if (!/^weights-[0-9a-f]{16}\.bin$/.test(name) || !existsSync(path))
    throw new CheckpointError(`loadWorldModel: ${dir}/model.json names a weights file '${name}' that is not there`);
  const buffer = readFileSync(path);
  if (`weights-${sha256(buffer).slice(0, 16)}.bin` !== name)
    throw new CheckpointError(`loadWorldModel: ${path} is corrupt (its contents do not match the hash in its name)`);
  const tensors = tf.io.decodeWeights(
    buffer.buffer.slice(buffer.byteOffset, buffer.byteOffset + buffer.byteLength),
    group.weights,
  );
  try {
    const targets = [...model.namedVariables(), ...model.namedState()];
    const expected = new Set(targets.map(([n]) => n));
    const extra = Object.keys(tensors).filter((n) => !expected.has(n));
    if (extra.length)
      throw new CheckpointError(
        `loadWorldModel: ${dir} has weights the model lacks: ${extra.join(", ")} (config mismatch?)`,
      );
    for (const [name, variable] of targets) {
      const t = tensors[name];
      if (!t) throw new CheckpointError(`loadWorldModel: ${dir} lacks weight '${name}' (config mismatch?)`);
      if (t.shape.join() !== variable.shape.join()) {
        throw new CheckpointError(
          `loadWorldModel: weight '${name}' has shape [${t.shape.join(", ")}] in ${dir}, the model expects [${variable.shape.join(", ")}]`,
        );
      }
    }
    for (const [name, variable] of targets) variable.assign(tensors[name]!);
    model.revision++;
  } finally {
    tf.dispose(Object.values(tensors));
  }
}

/** Builds the model a checkpoint describes and loads its weights. */
export function loadWorldModel(dir: string): WorldModel {
  const json = readModelJson(dir);
  const model = new WorldModel(parseWorldModelConfig(json.config), json.envShape, json.seed);
  try {
    loadWeightsInto(model, dir);
  } catch (err) {
    model.dispose();
    throw err;
  }
  return model;
}
