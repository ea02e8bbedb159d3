// The experiments' Markdown as HTML for the report page, through markdown-it with raw HTML off:
// text is escaped, and links and images keep only relative and http(s) URLs (no javascript:,
// data: or file:), so a results folder's or a summary's content cannot run script on the page.
import MarkdownIt from "markdown-it";
import type { Token } from "markdown-it";

/** Escapes text for an HTML element's content or a double-quoted attribute value. */
export const escapeHtml = (s: string): string =>
  s
    .replaceAll("&", "&amp;")
    .replaceAll("<", "&lt;")
    .replaceAll(">", "&gt;")
    .replaceAll('"', "&quot;")
    .replaceAll("'", "&#39;");

/** Relative (no scheme, not protocol-relative) or http(s). */
export const safeUrl = (url: string): boolean => {
  const u = url.trim();
  return (
    /^https?:\/\//i.test(u) || (!/^[a-z][a-z0-9+.-]*:/i.test(u) && !u.startsWith("//") && !/[\u0000-\u001f]/.test(u))
  );
};

function renderer(opts: { headingShift?: number; link?: (href: string) => string }): InstanceType<typeof MarkdownIt> {
  const md = new MarkdownIt({ html: false, linkify: false, typographer: false });
  md.validateLink = safeUrl;
  const link = opts.link ?? ((h: string) => h);
  const shift = opts.headingShift ?? 0;
  // After parsing: URLs rewritten (made relative to the page), headings shifted.
  md.core.ruler.push("report_rewrite", (state) => {
    const visit = (tokens: Token[]) => {
      for (const t of tokens) {
        if (t.type === "heading_open" || t.type === "heading_close")
          t.tag = `h${Math.min(6, Number(t.tag.slice(1)) + shift)}`;
        for (const attr of ["href", "src"]) {
          const url = t.attrGet(attr);
          if (url !== null) t.attrSet(attr, link(String(url)));
        }
        if (t.children) visit(t.children);
      }
    };
    visit(state.tokens);
  });
  return md;
}

/** Inline Markdown (code, emphasis, links, images) as HTML; `link` may rewrite URLs (e.g. make them relative). */
export function inline(text: string, link?: (href: string) => string): string {
  return renderer({ link }).renderInline(text);
}

/** Block Markdown to HTML; headings are shifted down by `headingShift` levels (to nest documents). */
export function markdownToHtml(
  md: string,
  opts: { headingShift?: number; link?: (href: string) => string } = {},
): string {
  return renderer(opts).render(md);
}
