// A replay buffer of whole episodes in typed arrays, sampling sequences o_0..o_H for multi-step
// world-model training (H = horizon), with a mask that is 0 past an episode's end.
//
// Storage is step-major: slot i holds an observation o_i and, unless it is the last observation of
// its episode, the transition out of it: action a_i, reward r_i and terminated d_i (for o_i -> o_{i+1}).
// Episodes are appended step by step (addFirst, then addStep per transition) and never interleave.
//
// File format (save/load, version 2): the ASCII magic "GWRB", a uint32 little-endian header length,
// a JSON header {version, obsShape, obsDtype, actionSize, size}, then the arrays back to back, each
// 8-byte aligned: obs, actions (float32), rewards (float32), terminated (uint8), hasNext (uint8);
// last, the SHA-256 of everything before it (32 bytes): a flipped byte anywhere is refused on load.
import { createHash } from "node:crypto";
import { readFileSync } from "node:fs";
import { writeFileAtomic } from "../common/atomicWrite.ts";
import type { Rng } from "../common/rng.ts";
import { allocate, type DType, type TypedArray } from "../envs/core/spaces.ts";

const MAGIC = "GWRB";
const VERSION = 2;
const DIGEST = 32;

export interface BufferSpec {
  /** Shape of one observation. */
  obsShape: readonly number[];
  obsDtype: DType;
  /** Values per action: 1 for a Discrete action (its index), n for a Box [n]. */
  actionSize: number;
  /** Maximum number of stored observations. */
  capacity: number;
}

/** A batch of B sequences of H transitions. */
export interface SequenceBatch {
  batch: number;
  horizon: number;
  /** [B, H+1, ...obsShape] in the stored dtype. */
  obs: TypedArray;
  /** [B, H, actionSize]. */
  actions: Float32Array;
  /** [B, H]: r_t of the transition o_t -> o_{t+1}. */
  rewards: Float32Array;
  /** [B, H]: 1 when o_{t+1} is terminal. */
  terminated: Uint8Array;
  /** [B, H]: 1 while transition t exists (0 after the episode ended: terminated or cut). */
  mask: Float32Array;
  /**
   * Where the observations came from: the buffer's id and each observation's slot [B, H+1]. Slots are
   * never rewritten (the buffer only appends), so a cache of a frozen encoder's codes can key on them.
   */
  source?: { buffer: number; slots: Int32Array };
}

export class ReplayBufferError extends Error {
  override name = "ReplayBufferError";
}

let buffers = 0;

export class ReplayBuffer {
  /** Unique per buffer in this process (SequenceBatch.source). */
  readonly id = ++buffers;
  readonly spec: BufferSpec;
  readonly obsSize: number;
  private obs: TypedArray;
  private actions: Float32Array;
  private rewards: Float32Array;
  private terminated: Uint8Array;
  /** 1 when slot i has a transition to slot i + 1. */
  private hasNext: Uint8Array;
  private open = false;
  /** Slots with a transition, rebuilt after additions (sampling would otherwise scan the buffer every batch). */
  private startsCache: Int32Array | undefined;
  /** Slots less than `horizon` transitions before a rewarded or terminal one, per horizon (rebuilt likewise). */
  private eventStartsCache = new Map<number, Int32Array>();
  /** Slot of the open episode's first observation (slots before it belong to ended episodes). */
  private openStart = 0;
  /** discountedReturns' cache: filled for the slots before `upTo`, for one gamma. */
  private returnsCache = { gamma: Number.NaN, upTo: 0, values: new Float32Array(0) };
  size = 0;
  episodes = 0;

  constructor(spec: BufferSpec) {
    if (!Number.isInteger(spec.capacity) || spec.capacity < 2)
      throw new ReplayBufferError(`ReplayBuffer: 'capacity' must be an integer >= 2, got ${spec.capacity}`);
    if (!Number.isInteger(spec.actionSize) || spec.actionSize < 1)
      throw new ReplayBufferError(`ReplayBuffer: 'actionSize' must be a positive integer, got ${spec.actionSize}`);
    this.spec = { ...spec, obsShape: [...spec.obsShape] };
    this.obsSize = spec.obsShape.reduce((a, b) => a * b, 1);
    this.obs = allocate(spec.obsDtype, spec.capacity * this.obsSize);
    this.actions = new Float32Array(spec.capacity * spec.actionSize);
    this.rewards = new Float32Array(spec.capacity);
    this.terminated = new Uint8Array(spec.capacity);
    this.hasNext = new Uint8Array(spec.capacity);
  }

  /** Starts an episode with its first observation. */
  addFirst(obs: ArrayLike<number>): void {
    this.checkObs(obs);
    this.ensureRoom();
    this.obs.set(obs, this.size * this.obsSize);
    this.hasNext[this.size] = 0;
    this.openStart = this.size;
    this.size++;
    this.episodes++;
    this.open = true;
  }

  /** Appends the transition (action, reward, terminated) from the last observation to `nextObs`. */
  addStep(action: number | ArrayLike<number>, reward: number, terminated: boolean, nextObs: ArrayLike<number>): void {
    if (!this.open) throw new ReplayBufferError("ReplayBuffer.addStep: call addFirst() to start an episode first");
    if (!Number.isFinite(reward))
      throw new ReplayBufferError(`ReplayBuffer.addStep: reward must be finite, got ${reward}`);
    this.checkObs(nextObs);
    const a = typeof action === "number" ? [action] : action;
    if (a.length !== this.spec.actionSize)
      throw new ReplayBufferError(
        `ReplayBuffer.addStep: expected ${this.spec.actionSize} action values, got ${a.length}`,
      );
    this.ensureRoom();
    const i = this.size - 1;
    this.actions.set(a, i * this.spec.actionSize);
    this.rewards[i] = reward;
    this.terminated[i] = terminated ? 1 : 0;
    this.hasNext[i] = 1;
    this.startsCache = undefined;
    this.eventStartsCache.clear();
    this.obs.set(nextObs, this.size * this.obsSize);
    this.hasNext[this.size] = 0;
    this.size++;
    if (terminated) this.open = false;
  }

  /**
   * Reopens the last episode (a loaded buffer's, which a resumed run goes on with); false when there
   * is none to reopen (the buffer is empty, or its last transition ended the episode).
   */
  continueEpisode(): boolean {
    if (this.size === 0 || (this.size > 1 && this.hasNext[this.size - 2] === 1 && this.terminated[this.size - 2] === 1))
      return false;
    this.openStart = this.episodeOf(this.size - 1)[0];
    this.open = true;
    return true;
  }

  /** The actions of the open episode so far, in order (a view per step). */
  openEpisodeActions(): Float32Array[] {
    if (!this.open) return [];
    const out: Float32Array[] = [];
    for (let i = this.openStart; i < this.size - 1; i++) out.push(this.actionAt(i)!);
    return out;
  }

  /** Ends the current episode without termination (time limit). */
  endEpisode(): void {
    this.open = false;
  }

  /** Number of stored transitions. */
  get transitions(): number {
    return this.starts().length;
  }

  private starts(): Int32Array {
    if (this.startsCache === undefined) {
      const list: number[] = [];
      for (let i = 0; i < this.size; i++) if (this.hasNext[i]) list.push(i);
      this.startsCache = Int32Array.from(list);
    }
    return this.startsCache;
  }

  /**
   * Slots from which a sequence of `horizon` transitions meets a rewarded or terminal transition
   * within its episode: nextEvent[i] = 0 at an event, else nextEvent[i + 1] + 1 while the episode goes on.
   */
  private eventStarts(horizon: number): Int32Array {
    let cached = this.eventStartsCache.get(horizon);
    if (cached === undefined) {
      const list: number[] = [];
      let next = Infinity;
      for (let i = this.size - 1; i >= 0; i--) {
        if (!this.hasNext[i]) {
          next = Infinity;
          continue;
        }
        next = this.rewards[i] !== 0 || this.terminated[i] ? 0 : next + 1;
        if (next < horizon) list.push(i);
      }
      cached = Int32Array.from(list.reverse());
      this.eventStartsCache.set(horizon, cached);
    }
    return cached;
  }

  /**
   * B sequences of H transitions, each starting at a uniformly drawn transition. Past an episode's
   * end the mask is 0 and the last observation is repeated (its actions and rewards are 0).
   * `eventFraction`: this share of the B sequences starts instead at a slot drawn uniformly from those
   * whose sequence meets a nonzero reward or a termination (sparse goals are otherwise ~0.2% of
   * a batch); the uniform rest keeps every transition in reach.
   */
  sample(batch: number, horizon: number, rng: Rng, eventFraction = 0): SequenceBatch {
    if (!Number.isInteger(horizon) || horizon < 1)
      throw new ReplayBufferError(`ReplayBuffer.sample: 'horizon' must be a positive integer, got ${horizon}`);
    if (!(eventFraction >= 0 && eventFraction <= 1))
      throw new ReplayBufferError(`ReplayBuffer.sample: 'eventFraction' must be in [0, 1], got ${eventFraction}`);
    const starts = this.starts();
    if (starts.length === 0) throw new ReplayBufferError("ReplayBuffer.sample: the buffer holds no transition yet");
    const events = eventFraction > 0 ? this.eventStarts(horizon) : new Int32Array(0);
    const eventCount = events.length > 0 ? Math.round(eventFraction * batch) : 0;
    const { actionSize } = this.spec;
    const out: SequenceBatch = {
      batch,
      horizon,
      obs: allocate(this.spec.obsDtype, batch * (horizon + 1) * this.obsSize),
      actions: new Float32Array(batch * horizon * actionSize),
      rewards: new Float32Array(batch * horizon),
      terminated: new Uint8Array(batch * horizon),
      mask: new Float32Array(batch * horizon),
      source: { buffer: this.id, slots: new Int32Array(batch * (horizon + 1)) },
    };
    const slots = out.source!.slots;
    for (let b = 0; b < batch; b++) {
      let i = b < eventCount ? events[rng.int(events.length)]! : starts[rng.int(starts.length)]!;
      out.obs.set(this.obs.subarray(i * this.obsSize, (i + 1) * this.obsSize), b * (horizon + 1) * this.obsSize);
      slots[b * (horizon + 1)] = i;
      let alive = true;
      for (let t = 0; t < horizon; t++) {
        const k = b * horizon + t;
        alive = alive && this.hasNext[i] === 1;
        if (alive) {
          out.actions.set(this.actions.subarray(i * actionSize, (i + 1) * actionSize), k * actionSize);
          out.rewards[k] = this.rewards[i]!;
          out.terminated[k] = this.terminated[i]!;
          out.mask[k] = 1;
          i++;
        }
        out.obs.set(
          this.obs.subarray(i * this.obsSize, (i + 1) * this.obsSize),
          (b * (horizon + 1) + t + 1) * this.obsSize,
        );
        slots[b * (horizon + 1) + t + 1] = i;
      }
    }
    return out;
  }

  /**
   * Each slot's discounted return to its episode's end, G_i = r_i + gamma G_{i+1}, for the
   * transitions of episodes that ended by termination (a whole episode's return); NaN elsewhere (an
   * episode cut by a time limit or still going, an episode's last observation). Filled once per
   * ended episode: the slots never change after.
   */
  discountedReturns(gamma: number): Float32Array {
    const cache = this.returnsCache;
    if (cache.gamma !== gamma || cache.values.length !== this.spec.capacity)
      this.returnsCache = { gamma, upTo: 0, values: new Float32Array(this.spec.capacity).fill(Number.NaN) };
    const c = this.returnsCache;
    const end = this.open ? this.openStart : this.size;
    let g = Number.NaN;
    for (let i = end - 1; i >= c.upTo; i--) {
      if (!this.hasNext[i]) {
        g = i > 0 && this.hasNext[i - 1] && this.terminated[i - 1] ? 0 : Number.NaN;
        continue;
      }
      g = this.rewards[i]! + gamma * g;
      c.values[i] = g;
    }
    c.upTo = Math.max(c.upTo, end);
    return c.values;
  }

  /** The first and the last slot of the episode that holds `slot` (the last so far while it is open). */
  episodeOf(slot: number): [number, number] {
    if (!Number.isInteger(slot) || slot < 0 || slot >= this.size)
      throw new ReplayBufferError(`ReplayBuffer.episodeOf: slot ${slot} is not in 0..${this.size - 1}`);
    let [first, last] = [slot, slot];
    while (first > 0 && this.hasNext[first - 1] === 1) first--;
    while (this.hasNext[last] === 1) last++;
    return [first, last];
  }

  /** The action values taken from slot i (a view), or undefined where no transition leaves it. */
  actionAt(slot: number): Float32Array | undefined {
    if (!(slot >= 0 && slot < this.size && this.hasNext[slot])) return undefined;
    const k = this.spec.actionSize;
    return this.actions.subarray(slot * k, (slot + 1) * k);
  }

  /** Whether the transition from slot i paid (a reward other than 0) or ended the episode; false where none leaves it. */
  eventfulAt(slot: number): boolean {
    return this.actionAt(slot) !== undefined && (this.rewards[slot] !== 0 || this.terminated[slot] === 1);
  }

  /** The stored observations [size, ...obsShape] (a view). */
  observations(): TypedArray {
    return this.obs.subarray(0, this.size * this.obsSize) as TypedArray;
  }

  save(path: string): void {
    const header = JSON.stringify({
      version: VERSION,
      obsShape: this.spec.obsShape,
      obsDtype: this.spec.obsDtype,
      actionSize: this.spec.actionSize,
      size: this.size,
      episodes: this.episodes,
    });
    const parts: Uint8Array[] = [];
    const headerBytes = new TextEncoder().encode(header);
    const prefix = new Uint8Array(8);
    prefix.set(new TextEncoder().encode(MAGIC));
    new DataView(prefix.buffer).setUint32(4, headerBytes.length, true);
    parts.push(prefix, headerBytes);
    const n = this.size;
    for (const arr of [
      this.obs.subarray(0, n * this.obsSize),
      this.actions.subarray(0, n * this.spec.actionSize),
      this.rewards.subarray(0, n),
      this.terminated.subarray(0, n),
      this.hasNext.subarray(0, n),
    ]) {
      parts.push(new Uint8Array((8 - (parts.reduce((a, p) => a + p.length, 0) % 8)) % 8));
      parts.push(new Uint8Array(arr.buffer, arr.byteOffset, arr.byteLength));
    }
    const total = parts.reduce((a, p) => a + p.length, 0);
    const bytes = new Uint8Array(total + DIGEST);
    let offset = 0;
    for (const p of parts) {
      bytes.set(p, offset);
      offset += p.length;
    }
    bytes.set(createHash("sha256").update(bytes.subarray(0, total)).digest(), total);
    writeFileAtomic(path, bytes);
  }

  static load(path: string, capacity?: number): ReplayBuffer {
    const file = new Uint8Array(readFileSync(path));
    if (file.length < 8 + DIGEST || new TextDecoder().decode(file.subarray(0, 4)) !== MAGIC)
      throw new ReplayBufferError(`ReplayBuffer.load: ${path} is not a replay buffer file (no ${MAGIC} magic)`);
    const bytes = file.subarray(0, file.length - DIGEST);
    if (
      !createHash("sha256")
        .update(bytes)
        .digest()
        .equals(file.subarray(file.length - DIGEST))
    ) {
      throw new ReplayBufferError(`ReplayBuffer.load: ${path} is corrupt (its SHA-256 does not match its contents)`);
    }
    const headerLength = new DataView(bytes.buffer, bytes.byteOffset).getUint32(4, true);
    let header: {
      version: number;
      obsShape: number[];
      obsDtype: DType;
      actionSize: number;
      size: number;
      episodes: number;
    };
    try {
      header = JSON.parse(new TextDecoder().decode(bytes.subarray(8, 8 + headerLength)));
    } catch {
      throw new ReplayBufferError(`ReplayBuffer.load: ${path} has an unreadable header`);
    }
    if (header.version !== VERSION)
      throw new ReplayBufferError(
        `ReplayBuffer.load: ${path} has format version ${header.version}, this code reads version ${VERSION}`,
      );
    const buf = new ReplayBuffer({
      obsShape: header.obsShape,
      obsDtype: header.obsDtype,
      actionSize: header.actionSize,
      capacity: Math.max(capacity ?? header.size, header.size, 2),
    });
    let offset = 8 + headerLength;
    const n = header.size;
    for (const target of [
      buf.obs.subarray(0, n * buf.obsSize),
      buf.actions.subarray(0, n * header.actionSize),
      buf.rewards.subarray(0, n),
      buf.terminated.subarray(0, n),
      buf.hasNext.subarray(0, n),
    ]) {
      offset += (8 - (offset % 8)) % 8;
      const len = target.byteLength;
      if (offset + len > bytes.length) throw new ReplayBufferError(`ReplayBuffer.load: ${path} is truncated`);
      new Uint8Array(target.buffer, target.byteOffset, len).set(bytes.subarray(offset, offset + len));
      offset += len;
    }
    buf.size = n;
    buf.episodes = header.episodes;
    return buf;
  }

  private checkObs(obs: ArrayLike<number>): void {
    if (obs.length !== this.obsSize)
      throw new ReplayBufferError(
        `ReplayBuffer: observations must have ${this.obsSize} values (shape [${this.spec.obsShape.join(", ")}]), got ${obs.length}`,
      );
  }

  private ensureRoom(): void {
    if (this.size >= this.spec.capacity)
      throw new ReplayBufferError(`ReplayBuffer: full at capacity ${this.spec.capacity}`);
  }
}
