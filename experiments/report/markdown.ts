// The Markdown the experiments write (headings, paragraphs, lists, pipe tables, inline code, bold,
// links and images) as HTML, so the report page needs no library and no network.

const escapeHtml = (s: string) => s.replaceAll("&", "&amp;").replaceAll("<", "&lt;").replaceAll(">", "&gt;").replaceAll('"', "&quot;");

/** Inline Markdown: `code`, **bold**, ![alt](src), [text](href); links may be rewritten (e.g. made relative). */
export function inline(text: string, link: (href: string) => string = (h) => h): string {
  const parts = text.split(/(`[^`]*`)/);
  return parts
    .map((p) => {
      if (p.startsWith("`") && p.endsWith("`") && p.length >= 2) return `<code>${escapeHtml(p.slice(1, -1))}</code>`;
      return escapeHtml(p)
        .replace(/!\[([^\]]*)\]\(([^)\s]+)\)/g, (_, alt: string, src: string) => `<img src="${link(src)}" alt="${alt}">`)
        .replace(/\[([^\]]+)\]\(([^)\s]+)\)/g, (_, t: string, href: string) => `<a href="${link(href)}">${t}</a>`)
        .replace(/\*\*([^*]+)\*\*/g, "<strong>$1</strong>");
    })
    .join("");
}

const cells = (line: string) => line.trim().replace(/^\|/, "").replace(/\|$/, "").split("|").map((c) => c.trim());

/** Block Markdown to HTML; headings are shifted down by `headingShift` levels (to nest documents). */
export function markdownToHtml(md: string, opts: { headingShift?: number; link?: (href: string) => string } = {}): string {
  const lines = md.split("\n");
  const out: string[] = [];
  const shift = opts.headingShift ?? 0;
  let i = 0;
  while (i < lines.length) {
    const line = lines[i]!;
    const heading = /^(#{1,6})\s+(.*)$/.exec(line);
    if (heading) {
      const level = Math.min(6, heading[1]!.length + shift);
      out.push(`<h${level}>${inline(heading[2]!, opts.link)}</h${level}>`);
      i++;
    } else if (line.trim().startsWith("|") && /^\s*\|?\s*:?-{3,}/.test(lines[i + 1] ?? "")) {
      const head = cells(line);
      i += 2;
      const body: string[][] = [];
      while (i < lines.length && lines[i]!.trim().startsWith("|")) body.push(cells(lines[i++]!));
      out.push(`<table><thead><tr>${head.map((h) => `<th>${inline(h, opts.link)}</th>`).join("")}</tr></thead><tbody>${body.map((r) => `<tr>${r.map((c) => `<td>${inline(c, opts.link)}</td>`).join("")}</tr>`).join("")}</tbody></table>`);
    } else if (/^\s*[-*]\s+/.test(line)) {
      const items: string[] = [];
      while (i < lines.length && /^\s*[-*]\s+/.test(lines[i]!)) items.push(lines[i++]!.replace(/^\s*[-*]\s+/, ""));
      out.push(`<ul>${items.map((t) => `<li>${inline(t, opts.link)}</li>`).join("")}</ul>`);
    } else if (line.trim() === "") {
      i++;
    } else {
      const para: string[] = [];
      while (i < lines.length && lines[i]!.trim() !== "" && !/^(#{1,6})\s/.test(lines[i]!) && !lines[i]!.trim().startsWith("|") && !/^\s*[-*]\s+/.test(lines[i]!)) para.push(lines[i++]!);
      out.push(`<p>${inline(para.join(" "), opts.link)}</p>`);
    }
  }
  return out.join("\n");
}
