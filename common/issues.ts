// A schema's complaints on one line, each naming its field: errors that say what to fix.
import type { z } from "zod";

/** "path: message; path: message" ("(root)" for the whole value). */
export function issuesLine(error: z.ZodError): string {
  return error.issues.map((i) => `${i.path.join(".") || "(root)"}: ${i.message}`).join("; ");
}
