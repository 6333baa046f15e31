const ESCAPES: Record<string, string> = { '"': '"', '\\': '\\', '/': '/', b: '\b', f: '\f', n: '\n', r: '\r', t: '\t' };

/**
 * The decoded value of string field `field` in a JSON object that is still being written, as far as it is
 * complete: `{"code": "print(1)\nx` → `print(1)` + newline + `x`. An escape cut in half is left out until
 * its rest arrives, so the result only ever grows as `text` grows (what a stream of deltas needs).
 * Returns undefined while the field has not started.
 */
export function partialStringField(text: string, field: string): string | undefined {
  const start = new RegExp(`"${field}"\\s*:\\s*"`).exec(text);
  if (!start) return undefined;
  let out = '';
  for (let i = start.index + start[0].length; i < text.length; i++) {
    const ch = text[i]!;
    if (ch === '"') break;
    if (ch !== '\\') {
      out += ch;
      continue;
    }
    const next = text[i + 1];
    if (next === undefined) break;
    if (next === 'u') {
      const hex = text.slice(i + 2, i + 6);
      if (!/^[0-9a-fA-F]{4}$/.test(hex)) break;
      out += String.fromCharCode(parseInt(hex, 16));
      i += 5;
      continue;
    }
    out += ESCAPES[next] ?? next;
    i += 1;
  }
  return out;
}

/** The whole value of a string field once the arguments are complete JSON, else the partial reading. */
export function stringField(text: string, field: string): string | undefined {
  try {
    const value = (JSON.parse(text) as Record<string, unknown> | null)?.[field];
    if (typeof value === 'string') return value;
  } catch {
    // still being written, or not JSON at all
  }
  return partialStringField(text, field);
}
