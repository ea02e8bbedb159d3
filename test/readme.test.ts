// The README's examples must run as written: every ```ts block that follows a
// `<!-- readme-test: REGEX -->` line runs with tsx, and its output must match REGEX.
import { execFileSync } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";

const root = join(import.meta.dirname, "..");
const readme = readFileSync(join(root, "README.md"), "utf8");
const examples = [...readme.matchAll(/<!-- readme-test: (.*?) -->\s*```ts\n([\s\S]*?)```/g)].map((m) => ({
  expect: new RegExp(m[1]!, "m"),
  code: m[2]!,
}));

describe("the README's TypeScript examples", () => {
  it("are marked for testing", () => expect(examples.length).toBeGreaterThanOrEqual(3));
  it.each(examples.map((e, i) => [i, e] as const))(
    "example %i runs and prints what it should",
    (i, example) => {
      const file = join(root, `.readme-example-${process.pid}-${i}.ts`);
      const out = mkdtempSync(join(root, ".readme-out-"));
      try {
        writeFileSync(file, example.code.replaceAll('"results/', `"${out}/`));
        const stdout = execFileSync(join(root, "node_modules/.bin/tsx"), [file], {
          cwd: root,
          encoding: "utf8",
          timeout: 240_000,
        });
        expect(stdout.trim()).toMatch(example.expect);
      } finally {
        rmSync(file, { force: true });
        rmSync(out, { recursive: true, force: true });
      }
    },
    240_000,
  );
});
