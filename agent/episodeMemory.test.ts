import { describe, expect, it } from "vitest";
import { EpisodeMemory } from "./episodeMemory.ts";

describe("EpisodeMemory", () => {
  it("reads back what toJson wrote, through JSON text", () => {
    const m = new EpisodeMemory(4);
    m.visits.set("a", 3);
    m.noOps.set("a", new Set([0, 2]));
    m.tried.set("b", [1, 0, 2]);
    m.last = { key: "b", action: 2 };
    m.codes.add([1, 3]);
    m.codes.add([0, 0]);
    const back = EpisodeMemory.fromJson(JSON.parse(JSON.stringify(m.toJson())), 4);
    expect(back.toJson()).toEqual(m.toJson());
    expect(back.noOps.get("a")).toEqual(new Set([0, 2]));
    expect(back.codes.size).toBe(2);
    expect(Array.from(back.codes.tensor().dataSync())).toEqual([1, 7, 0, 4]);
  });

  it("refuses a malformed memory, naming the field", () => {
    const json = { ...new EpisodeMemory(4).toJson(), visits: [["a", -1]] };
    expect(() => EpisodeMemory.fromJson(json, 4)).toThrow(/episode memory: visits\.0\.1/);
    expect(() => EpisodeMemory.fromJson({ ...json, visits: [], codes: ["1,x"] }, 4)).toThrow(/codes\.0/);
  });
});
