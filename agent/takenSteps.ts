// The (cell neighbourhood, action) pairs (worldmodel/nn/localStep.ts) of every step the agent took in
// the env, for the search's optimism about the others (planner.search.untried). Read from the replay
// buffer as it grows, so a run resumed from a checkpoint rebuilds them from its buffer.
import * as tf from "@tensorflow/tfjs";
import type { ReplayBuffer } from "../data/replayBuffer.ts";
import type { WorldModel } from "../worldmodel/model.ts";
import { CellActionSet } from "../worldmodel/nn/localStep.ts";

/** Observations encoded per batch while reading the buffer. */
const CHUNK = 512;

export class TakenSteps {
  readonly seen: CellActionSet;
  /** Slots before this one have been read. */
  private upTo = 0;

  /** For `model`'s cell keys (it must step on code indices) under `actions` Discrete actions. */
  constructor(
    private readonly model: WorldModel,
    actions: number,
  ) {
    if (!model.indexStepper())
      throw new Error("agent config: planner.search.untried needs a model stepped on code indices (encoder 'cells')");
    this.seen = new CellActionSet(actions);
  }

  /** Adds the keys of the buffer's transitions since the last call. */
  read(buffer: ReplayBuffer): void {
    const end = buffer.size - 1; // the last slot may yet get its transition
    const slots: number[] = [];
    for (let i = this.upTo; i < end; i++) if (buffer.actionAt(i)) slots.push(i);
    this.upTo = Math.max(this.upTo, end);
    if (slots.length === 0) return;
    const stepper = this.model.indexStepper()!;
    const obs = buffer.observations();
    const size = buffer.obsSize;
    for (let at = 0; at < slots.length; at += CHUNK) {
      const part = slots.slice(at, at + CHUNK);
      const flat = new Float32Array(part.length * size);
      part.forEach((slot, j) => flat.set(obs.subarray(slot * size, (slot + 1) * size), j * size));
      const m = this.model;
      const ids = tf.tidy(() => m.indices(m.encode(m.preprocess(flat, part.length))).dataSync());
      stepper.markSeen(
        ids as Int32Array,
        part.map((slot) => buffer.actionAt(slot)![0]!),
        this.seen,
      );
    }
  }
}
