// A tiny, safe renderer for the Markdown-like text of agent reports: headings, paragraphs, bold, inline code, fenced
// code, bullet and numbered lists, pipe tables. Safety by order: every line is HTML-escaped FIRST, and only then are the
// few constructs above turned into tags this file writes itself; no link, image or raw HTML syntax exists, so no
// attribute ever holds server text. Pure (no DOM): returns an HTML string built only from escaped text and fixed tags.

const ESCAPES = { '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' };

export function escapeHtml(s) {
  return String(s).replace(/[&<>"']/g, (c) => ESCAPES[c]);
}

/** Inline constructs on an already escaped line: `code` (content kept literal), then **bold**. */
function inline(escaped) {
  const codes = [];
  let s = escaped.replace(/`([^`]+)`/g, (_m, code) => {
    codes.push(code);
    return `\u0000${codes.length - 1}\u0000`;
  });
  s = s.replace(/\*\*([^*]+?)\*\*/g, '<strong>$1</strong>');
  return s.replace(/\u0000(\d+)\u0000/g, (_m, i) => `<code>${codes[Number(i)]}</code>`);
}

const TABLE_ROW = /^\s*\|.*\|\s*$/;
const TABLE_SEPARATOR = /^\s*\|(\s*:?-{2,}:?\s*\|)+\s*$/;
const BULLET = /^\s*[-*]\s+(.*)$/;
const NUMBERED = /^\s*(\d{1,6})[.)]\s+(.*)$/;
const HEADING = /^(#{1,6})\s+(.*)$/;
const FENCE = /^\s*```/;

function cells(escapedRow) {
  return escapedRow
    .trim()
    .replace(/^\|/, '')
    .replace(/\|$/, '')
    .split('|')
    .map((c) => inline(c.trim()));
}

/** Renders report text to HTML (see the file comment for what is recognised). */
export function renderMarkdown(text) {
  // NUL is our placeholder marker: it never comes from the server text
  const lines = String(text ?? '')
    .replace(/\r\n?/g, '\n')
    .replace(/\u0000/g, '')
    .split('\n')
    .map(escapeHtml);
  const out = [];
  let para = [];
  const flush = () => {
    if (para.length > 0) out.push(`<p>${para.map(inline).join('<br>')}</p>`);
    para = [];
  };
  for (let i = 0; i < lines.length; i++) {
    const line = lines[i];
    if (FENCE.test(line)) {
      flush();
      const code = [];
      for (i++; i < lines.length && !FENCE.test(lines[i]); i++) code.push(lines[i]);
      out.push(`<pre><code>${code.join('\n')}</code></pre>`);
      continue;
    }
    if (line.trim() === '') {
      flush();
      continue;
    }
    const h = HEADING.exec(line);
    if (h) {
      flush();
      const level = Math.min(6, h[1].length + 2); // # → h3: the page and the conversation own h1/h2
      out.push(`<h${level}>${inline(h[2])}</h${level}>`);
      continue;
    }
    if (TABLE_ROW.test(line) && i + 1 < lines.length && TABLE_SEPARATOR.test(lines[i + 1])) {
      flush();
      const head = cells(line);
      const rows = [];
      for (i += 2; i < lines.length && TABLE_ROW.test(lines[i]); i++) rows.push(cells(lines[i]));
      i--;
      out.push(
        `<div class="table-wrap"><table><thead><tr>${head.map((c) => `<th scope="col">${c}</th>`).join('')}</tr></thead><tbody>${rows
          .map((r) => `<tr>${r.map((c) => `<td>${c}</td>`).join('')}</tr>`)
          .join('')}</tbody></table></div>`,
      );
      continue;
    }
    if (BULLET.test(line) || NUMBERED.test(line)) {
      flush();
      const numbered = !BULLET.test(line);
      const re = numbered ? NUMBERED : BULLET;
      const items = [];
      const start = numbered ? Number(NUMBERED.exec(line)[1]) : 1;
      for (; i < lines.length && re.test(lines[i]); i++) {
        const m = re.exec(lines[i]);
        items.push(`<li>${inline(numbered ? m[2] : m[1])}</li>`);
      }
      i--;
      const tag = numbered ? 'ol' : 'ul';
      out.push(`<${tag}${numbered && start !== 1 ? ` start="${start}"` : ''}>${items.join('')}</${tag}>`);
      continue;
    }
    para.push(line);
  }
  flush();
  return out.join('');
}
