// CSV cells with commas, quotes and line breaks survive a write and a read.
import { describe, expect, it } from "vitest";
import { csv, markdownTable, parseCsv } from "./tables.ts";

describe("csv", () => {
  it("quotes cells with commas, quotes or line breaks, and parseCsv reads them back (numbers as numbers)", () => {
    const rows = [
      { env: "Catch-v0", "return CI": "[0.200, 0.600]", note: 'say "hi"', n: 3, x: 0.25 },
      { env: "a\nb", "return CI": "", note: "plain", n: -1, x: 1e-3 },
    ];
    const text = csv(rows);
    expect(text.split("\n")[1]).toBe('Catch-v0,"[0.200, 0.600]","say ""hi""",3,0.25');
    expect(parseCsv(text)).toEqual(rows);
  });

  it("is empty without rows; the Markdown table says so", () => {
    expect(csv([])).toBe("");
    expect(parseCsv("")).toEqual([]);
    expect(markdownTable([])).toBe("(no rows)\n");
  });
});
