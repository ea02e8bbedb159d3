// The README's usage example must run as written.
import { execFileSync } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { expect, it } from "vitest";

const root = join(import.meta.dirname, "..");

it("the README's TypeScript example runs", () => {
  const readme = readFileSync(join(root, "README.md"), "utf8");
  const block = /```ts\n([\s\S]*?)```/.exec(readme)?.[1];
  expect(block, "README has a ```ts example").toBeDefined();
  const file = join(root, `.readme-example-${process.pid}.ts`);
  const out = mkdtempSync(join(root, ".readme-out-"));
  try {
    writeFileSync(file, block!.replaceAll('"results/', `"${out}/`));
    const stdout = execFileSync(join(root, "node_modules/.bin/tsx"), [file], { cwd: root, encoding: "utf8" });
    expect(stdout.trim()).toMatch(/^147 3200 64 /);
  } finally {
    rmSync(file, { force: true });
    rmSync(out, { recursive: true, force: true });
  }
});
