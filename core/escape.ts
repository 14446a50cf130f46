/**
 * `escapeCodeUnits`: the reversible escaping of text into a restricted
 * character set that the NATS subject and PostgreSQL channel mappings share.
 * Internal: adapters import it from this file; it is not part of the public
 * API.
 *
 * @module
 */

/**
 * Escapes `text` one UTF-16 code unit at a time: a unit matching `safeChar`
 * (a one-character pattern that must not match `_` or `~`) stays as it is;
 * every other becomes `_` and two lowercase hex digits below U+0100, or `~`
 * and four hex digits above. Every escape has a fixed length and `_`/`~`
 * never stand for themselves, so the result reads back in one way only.
 * Lone surrogates stay distinct (no UTF-8 round trip).
 *
 * @param text The text.
 * @param safeChar Matches one character that needs no escape.
 * @param limit Stops as soon as the result is longer than this (the caller
 *   then uses another form); `Infinity` escapes everything.
 * @returns The escaped text, or a prefix of it longer than `limit`.
 *
 * @example
 * ```ts
 * import { escapeCodeUnits } from "./escape.ts";
 *
 * console.log(escapeCodeUnits("a.b_✓", /[a-z]/)); // "a_2eb_5f~2713"
 * ```
 */
export function escapeCodeUnits(text: string, safeChar: RegExp, limit: number = Infinity): string {
  let out = "";
  for (let i = 0; i < text.length && out.length <= limit; i++) {
    const ch = text[i];
    if (safeChar.test(ch)) {
      out += ch;
      continue;
    }
    const code = text.charCodeAt(i);
    out += code < 0x100 ? "_" + code.toString(16).padStart(2, "0") : "~" + code.toString(16).padStart(4, "0");
  }
  return out;
}
