// Tables from rows of records: Markdown for READMEs, CSV for everything else.
import type { Row } from "./plots.ts";

export function markdownTable(rows: Row[]): string {
  if (rows.length === 0) return "(no rows)\n";
  const keys = Object.keys(rows[0]!);
  const cell = (v: string | number | undefined) =>
    typeof v !== "number"
      ? (v ?? "")
      : Number.isInteger(v)
        ? String(v)
        : Math.abs(v) >= 100
          ? v.toFixed(1)
          : v.toPrecision(4);
  return (
    [
      `| ${keys.join(" | ")} |`,
      `|${keys.map(() => "---").join("|")}|`,
      ...rows.map((r) => `| ${keys.map((k) => cell(r[k])).join(" | ")} |`),
    ].join("\n") + "\n"
  );
}

export function csv(rows: Row[]): string {
  if (rows.length === 0) return "";
  const keys = Object.keys(rows[0]!);
  return [keys.join(","), ...rows.map((r) => keys.map((k) => String(r[k] ?? "")).join(","))].join("\n") + "\n";
}
