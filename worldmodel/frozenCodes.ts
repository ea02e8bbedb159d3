// The codes of a frozen encoder, kept per replay slot. Once the encoder stops learning (and the
// observation statistics are fixed: they are fitted once, before the first update) an observation
// always maps to the same code, so each stored observation is encoded once instead of every time a
// batch replays it. On PointMass's keypoint encoder that forward was about half of an update.
// Codes are FSQ levels, so the float rounding of another batch composition does not change them.
import type { SequenceBatch } from "../data/replayBuffer.ts";
import type { WorldModel } from "./model.ts";
import { tidyRead } from "../backend/tidyRead.ts";

export class FrozenCodes {
  /** The buffer and model revision the codes belong to. */
  private key = "";
  private codes = new Float32Array(0);
  private known = new Uint8Array(0);

  constructor(private readonly model: WorldModel) {}

  /**
   * Codes [B * (H+1) * codeSize] of the batch's observations in its own (sequence, step) order,
   * encoding only the slots not seen before; undefined when the batch does not say where it came from.
   */
  of(b: SequenceBatch): Float32Array | undefined {
    if (!b.source) return undefined;
    const { buffer, slots } = b.source;
    const key = `${buffer}/${this.model.revision}`;
    if (key !== this.key) this.clear(key);
    const K = this.model.codeSize;
    const size = this.model.obsSize;
    this.grow(slots.reduce((m, s) => Math.max(m, s + 1), 0));
    const missing: number[] = []; // positions in the batch whose slot has no code yet (each slot once)
    const queued = new Set<number>();
    slots.forEach((slot, i) => {
      if (!this.known[slot] && !queued.has(slot)) {
        queued.add(slot);
        missing.push(i);
      }
    });
    if (missing.length) {
      const obs = new Float32Array(missing.length * size);
      missing.forEach((i, j) => obs.set(b.obs.subarray(i * size, (i + 1) * size), j * size));
      const fresh = tidyRead(() => this.model.encode(this.model.preprocess(obs, missing.length))) as Float32Array;
      missing.forEach((i, j) => {
        this.codes.set(fresh.subarray(j * K, (j + 1) * K), slots[i]! * K);
        this.known[slots[i]!] = 1;
      });
    }
    const out = new Float32Array(slots.length * K);
    slots.forEach((slot, i) => out.set(this.codes.subarray(slot * K, (slot + 1) * K), i * K));
    return out;
  }

  /** Forgets every code (batches from another buffer, or new weights or statistics). */
  private clear(key: string): void {
    this.key = key;
    this.codes = new Float32Array(0);
    this.known = new Uint8Array(0);
  }

  private grow(slots: number): void {
    if (slots <= this.known.length) return;
    const n = Math.max(slots, 2 * this.known.length, 1024);
    const codes = new Float32Array(n * this.model.codeSize);
    codes.set(this.codes);
    const known = new Uint8Array(n);
    known.set(this.known);
    this.codes = codes;
    this.known = known;
  }
}
