// The README's table of agent options says which tasks' efficiency entries set each option
// ("set per task"); it must name exactly the tasks whose PER_TASK entry sets one of the row's options.
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { PER_TASK } from "./efficiency.ts";

/** The names the README gives the tasks. */
const SHORT: Record<string, string> = {
  "Catch-v0": "Catch",
  "GridEmpty-v0-8x8": "GridEmpty-8x8",
  "GridFourRooms-v0-11x11": "FourRooms-11",
  "GridDoorKey-v0-5x5": "DoorKey-5x5",
  "GridDoorKey-v0-8x8": "DoorKey-8x8",
  "GridLavaGap-v0": "LavaGap",
  "Breakout-v0": "Breakout",
  "PointMass-v0": "PointMass",
};

interface Row {
  /** The options' paths in the agent config; a row's later names sit beside its first. */
  paths: string[];
  tasks: string[];
}

function optionRows(readme: string): Row[] {
  const lines = readme.split("\n").map((l) => l.trim());
  const header = lines.findIndex((l) => /^\| option\s*\| unset\s*\| set per task/.test(l));
  if (header < 0) throw new Error("README: no options table");
  const rows: Row[] = [];
  for (const line of lines.slice(header + 2)) {
    if (!line.startsWith("|")) break;
    const [options, , perTask] = line
      .split("|")
      .slice(1)
      .map((c) => c.trim());
    const names = [...options!.matchAll(/`([^`]+)`/g)].map((m) => m[1]!);
    const parent = names[0]!.split(".").slice(0, -1);
    const paths = names.map((n, i) => (i === 0 || n.includes(".") ? n : [...parent, n].join(".")));
    const tasks = perTask ? perTask.split(",").map((t) => t.split(":")[0]!.trim()) : [];
    rows.push({ paths, tasks });
  }
  return rows;
}

function setAt(entry: Record<string, unknown>, path: string): boolean {
  let at: unknown = entry;
  for (const key of path.split(".")) {
    if (typeof at !== "object" || at === null) return false;
    at = (at as Record<string, unknown>)[key];
  }
  return at !== undefined && at !== null && at !== false;
}

describe("the README's agent options table", () => {
  const rows = optionRows(readFileSync(join(import.meta.dirname, "../../README.md"), "utf8"));

  it("has its rows", () => expect(rows.length).toBeGreaterThanOrEqual(10));

  it("names, per option, the tasks whose efficiency entry sets it", () => {
    const wrong = rows.flatMap(({ paths, tasks }) => {
      const setting = Object.entries(PER_TASK)
        .filter(([, entry]) => paths.some((p) => setAt(entry, p)))
        .map(([task]) => SHORT[task] ?? task);
      return [...setting].sort().join(", ") === [...tasks].sort().join(", ")
        ? []
        : [
            `${paths.join(", ")}: README says ${tasks.join(", ") || "none"}, PER_TASK sets it on ${setting.join(", ") || "none"}`,
          ];
    });
    expect(wrong).toEqual([]);
  });

  it("reads a row's options and tasks, and whether an entry sets an option", () => {
    const one = optionRows(
      "| option | unset | set per task | what |\n| - | - | - | - |\n| `value.returnCap` | off | DoorKey-8x8 | caps |\n",
    );
    expect(one).toEqual([{ paths: ["value.returnCap"], tasks: ["DoorKey-8x8"] }]);
    expect(setAt(PER_TASK["Breakout-v0"]!, "value.returnCap")).toBe(true);
    expect(setAt(PER_TASK["Catch-v0"] ?? {}, "value.returnCap")).toBe(false);
  });
});
