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

/** RFC 4180: a cell with a comma, quote or line break is quoted, its quotes doubled (CIs such as "[0.2, 0.6]"). */
const csvCell = (v: string | number | undefined): string => {
  const s = String(v ?? "");
  return /[",\r\n]/.test(s) ? `"${s.replaceAll('"', '""')}"` : s;
};

export function csv(rows: Row[]): string {
  if (rows.length === 0) return "";
  const keys = Object.keys(rows[0]!);
  return [keys.map(csvCell).join(","), ...rows.map((r) => keys.map((k) => csvCell(r[k])).join(","))].join("\n") + "\n";
}

/** Reads what csv() writes: rows keyed by the header, numbers where a cell is one. */
export function parseCsv(text: string): Row[] {
  const records: string[][] = [];
  let row: string[] = [];
  let cell = "";
  let quoted = false;
  for (let i = 0; i < text.length; i++) {
    const c = text[i]!;
    if (quoted) {
      if (c === '"' && text[i + 1] === '"') {
        cell += '"';
        i++;
      } else if (c === '"') quoted = false;
      else cell += c;
    } else if (c === '"') quoted = true;
    else if (c === ",") {
      row.push(cell);
      cell = "";
    } else if (c === "\n" || c === "\r") {
      if (c === "\r" && text[i + 1] === "\n") i++;
      row.push(cell);
      records.push(row);
      row = [];
      cell = "";
    } else cell += c;
  }
  if (cell !== "" || row.length) records.push([...row, cell]);
  const [header, ...body] = records;
  if (!header) return [];
  const value = (s: string): string | number => (s.trim() !== "" && Number.isFinite(Number(s)) ? Number(s) : s);
  return body.map((r) => Object.fromEntries(header.map((k, j) => [k, value(r[j] ?? "")])));
}

/** A number as status lines print it: whole numbers as they are, others to 3 decimals without trailing zeros. */
export const fmt3 = (x: number) => (Number.isInteger(x) ? String(x) : x.toFixed(3).replace(/0+$/, ""));
