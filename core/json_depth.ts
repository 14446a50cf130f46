/**
 * The nesting limit for JSON from a peer: a cheap scan that refuses text
 * nested deeper than {@linkcode MAX_JSON_DEPTH} before `JSON.parse` builds one
 * object per level. Used by {@linkcode jsonCodec} and by every adapter's
 * control-frame parser.
 *
 * @module
 */

/**
 * The deepest nesting of arrays and objects accepted in JSON from a peer
 * (envelopes decoded by `jsonCodec`, and control frames). The envelope object
 * itself is level 1, so a payload may nest 63 levels.
 *
 * @example
 * ```ts
 * import { MAX_JSON_DEPTH } from "@alkdev/pubsub";
 *
 * console.log(MAX_JSON_DEPTH); // 64
 * ```
 */
export const MAX_JSON_DEPTH = 64;

const QUOTE = 0x22; // "
const BACKSLASH = 0x5c; // \
const OPEN_ARRAY = 0x5b; // [
const OPEN_OBJECT = 0x7b; // {
const CLOSE_ARRAY = 0x5d; // ]
const CLOSE_OBJECT = 0x7d; // }

/**
 * Whether JSON `text` opens more than `max` arrays and objects inside one
 * another. String contents are skipped, so a `[` inside a string does not
 * count. Does not validate the JSON: it only bounds what a parse of it could
 * nest. Allocates nothing.
 *
 * @param text JSON text.
 * @param max The deepest nesting allowed. @default {MAX_JSON_DEPTH}
 * @returns `true` if the text nests deeper than `max`.
 *
 * @example
 * ```ts
 * import { jsonTooDeep } from "@alkdev/pubsub";
 *
 * console.log(jsonTooDeep("[[1]]", 1), jsonTooDeep('["[[["]', 1)); // true false
 * ```
 */
export function jsonTooDeep(text: string, max: number = MAX_JSON_DEPTH): boolean {
  const n = text.length;
  // Nesting deeper than max needs more than max opening brackets: most texts have far fewer, which native searches
  // count much faster than the scan below walks the text.
  if (n <= max || fewOpeners(text, max)) return false;
  let depth = 0;
  for (let i = 0; i < n; i++) {
    const c = text.charCodeAt(i);
    if (c === QUOTE) {
      // Jump to the closing quote (a native search: string contents are most of a typical payload); a quote after an
      // odd run of backslashes is escaped.
      let end = text.indexOf('"', i + 1);
      while (end !== -1) {
        let k = end - 1;
        while (text.charCodeAt(k) === BACKSLASH) k--;
        if ((end - 1 - k) % 2 === 0) break;
        end = text.indexOf('"', end + 1);
      }
      if (end === -1) return false; // an unterminated string: JSON.parse refuses it without nesting
      i = end;
    } else if (c === OPEN_ARRAY || c === OPEN_OBJECT) {
      if (++depth > max) return true;
    } else if (c === CLOSE_ARRAY || c === CLOSE_OBJECT) depth--;
  }
  return false;
}

/** Whether `text` holds at most `max` `[` and `{` characters (inside strings or not). */
function fewOpeners(text: string, max: number): boolean {
  let count = 0;
  for (let i = text.indexOf("["); i !== -1; i = text.indexOf("[", i + 1)) if (++count > max) return false;
  for (let i = text.indexOf("{"); i !== -1; i = text.indexOf("{", i + 1)) if (++count > max) return false;
  return true;
}

/**
 * `JSON.parse` for text from a peer: refuses text nested deeper than `max`
 * (see {@linkcode jsonTooDeep}) before parsing it.
 *
 * @param text JSON text.
 * @param reviver Passed to `JSON.parse`.
 * @param max The deepest nesting allowed. @default {MAX_JSON_DEPTH}
 * @returns The parsed value.
 * @throws {SyntaxError} If the text nests too deep or is not JSON.
 *
 * @example
 * ```ts
 * import { parseBoundedJson } from "@alkdev/pubsub";
 *
 * console.log(parseBoundedJson('["sub","ping:1"]')); // ["sub", "ping:1"]
 * try {
 *   parseBoundedJson("[".repeat(100) + "]".repeat(100));
 * } catch (error) {
 *   console.log((error as SyntaxError).message); // JSON text nests deeper than 64 arrays and objects
 * }
 * ```
 */
export function parseBoundedJson(
  text: string,
  reviver?: (key: string, value: unknown) => unknown,
  max: number = MAX_JSON_DEPTH,
): unknown {
  // Valid JSON nested deeper than max needs max + 1 openers and as many closers: shorter text (most frames) goes
  // straight to JSON.parse, which parses it within the bound or refuses it.
  if (text.length > 2 * max + 1 && jsonTooDeep(text, max)) {
    throw new SyntaxError(`JSON text nests deeper than ${max} arrays and objects`);
  }
  return JSON.parse(text, reviver);
}
