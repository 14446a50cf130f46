/**
 * Topic to PostgreSQL channel mapping: injective up to SHA-256, at most 63
 * bytes, and made of characters that need no care in SQL.
 *
 * A channel is an identifier: at most 63 bytes (`NAMEDATALEN - 1`), case
 * folded unless quoted, and it cannot hold NUL. A topic may hold anything, so:
 *
 * - **Short form** `prefix + token`: the token keeps ASCII letters, digits
 *   and `-:.%@+=,`, and escapes every other UTF-16 code unit as `_` and two
 *   lowercase hex digits below U+0100 (`"` → `_22`, `'` → `_27`, `;` → `_3b`,
 *   `$` → `_24`, NUL → `_00`, `_` → `_5f`), or `~` and four hex digits above.
 *   Every escape has a fixed length and `_`/`~` never stand for themselves,
 *   so a token reads back in one way only.
 * - **Long form** `prefix + "#" + 32 hex digits`, when the short form would
 *   exceed 63 bytes: the first 128 bits of the SHA-256 of the topic's UTF-16
 *   code units (little-endian). `#` never occurs in a token, so the two forms
 *   never meet; two long topics share a channel only on a SHA-256 collision,
 *   and even then the receiver checks each envelope's `(type, id)` before it
 *   delivers.
 *
 * Channels contain only printable ASCII without `"`, `'`, `;`, `$` or
 * whitespace, and are always quoted (`quoteIdentifier`) where SQL names them.
 *
 * @module
 */

import { escapeCodeUnits } from "../../core/escape.ts";
import { sha256 } from "./sha256.ts";

/**
 * The longest identifier PostgreSQL keeps (`NAMEDATALEN - 1`), in bytes:
 * every channel from {@linkcode channelFor} fits.
 *
 * @example
 * ```ts
 * import { channelFor, MAX_CHANNEL_BYTES } from "@alkdev/pubsub/postgres";
 *
 * console.log(channelFor("alk.events:", "x:" + "y".repeat(100)).length <= MAX_CHANNEL_BYTES); // true
 * ```
 */
export const MAX_CHANNEL_BYTES = 63;

/** Long-form channels: prefix, `#`, 32 hex digits. */
const HASH_CHARS = 33;

/** The longest prefix, leaving room for the long form. */
const MAX_PREFIX_BYTES: number = MAX_CHANNEL_BYTES - HASH_CHARS;

const SAFE = /^[A-Za-z0-9\-:.%@+=,]*$/;
const SAFE_CHAR = /[A-Za-z0-9\-:.%@+=,]/;
const PREFIX = /^[A-Za-z0-9_\-:.]+$/;

/**
 * Returns the PostgreSQL channel of a topic under a prefix (see the module
 * docs): `prefix + token` while that fits in 63 bytes, else
 * `prefix + "#" + 32 hex digits` of the topic's SHA-256.
 *
 * @param prefix A prefix accepted by {@linkcode checkChannelPrefix}.
 * @param topic The topic (`topicFor(type, id)`).
 * @returns The channel: at most 63 bytes of printable ASCII.
 *
 * @example
 * ```ts
 * import { channelFor } from "@alkdev/pubsub/postgres";
 *
 * console.log(channelFor("alk.events:", "job.progress:42")); // "alk.events:job.progress:42"
 * console.log(channelFor("alk.events:", "Row's \"id\":1")); // "alk.events:Row_27s_20_22id_22:1"
 * console.log(channelFor("alk.events:", "x:" + "y".repeat(60)).length); // 44
 * ```
 */
export function channelFor(prefix: string, topic: string): string {
  const room = MAX_CHANNEL_BYTES - prefix.length;
  if (topic.length <= room && SAFE.test(topic)) return prefix + topic;
  const token = escapeCodeUnits(topic, SAFE_CHAR, room);
  if (token.length <= room) return prefix + token;
  const units = new Uint8Array(topic.length * 2);
  for (let i = 0; i < topic.length; i++) {
    const code = topic.charCodeAt(i);
    units[i * 2] = code & 0xff;
    units[i * 2 + 1] = code >> 8;
  }
  let hex = "";
  for (const byte of sha256(units).subarray(0, 16)) hex += byte.toString(16).padStart(2, "0");
  return prefix + "#" + hex;
}

/**
 * Checks a channel prefix: 1 to 30 characters of ASCII letters, digits and
 * `_-:.` (so every channel fits in 63 bytes, the long form included).
 *
 * @param prefix The candidate.
 * @returns The prefix.
 * @throws {TypeError} If it is not a valid prefix.
 *
 * @example
 * ```ts
 * import { checkChannelPrefix } from "@alkdev/pubsub/postgres";
 *
 * console.log(checkChannelPrefix("app:")); // "app:"
 * ```
 */
export function checkChannelPrefix(prefix: string): string {
  if (typeof prefix !== "string" || prefix.length > MAX_PREFIX_BYTES || !PREFIX.test(prefix)) {
    throw new TypeError(
      `Cannot use ${
        JSON.stringify(prefix)
      } as a PostgreSQL channel prefix: it must be 1 to ${MAX_PREFIX_BYTES} ASCII letters, digits or "_-:."`,
    );
  }
  return prefix;
}

/**
 * Quotes an SQL identifier: in double quotes, each `"` doubled. The result
 * keeps its case (PostgreSQL folds only unquoted identifiers). Channels from
 * {@linkcode channelFor} never hold a quote; this guards every other caller.
 *
 * @param name The identifier (no NUL: PostgreSQL identifiers cannot hold one).
 * @returns The quoted identifier.
 * @throws {TypeError} If `name` holds NUL.
 *
 * @example
 * ```ts
 * import { quoteIdentifier } from "@alkdev/pubsub/postgres";
 *
 * console.log(quoteIdentifier('alk.events:A"b')); // "\"alk.events:A\"\"b\""
 * ```
 */
export function quoteIdentifier(name: string): string {
  if (name.includes("\0")) throw new TypeError(`Cannot quote ${JSON.stringify(name)} as an identifier: it holds NUL`);
  return '"' + name.replaceAll('"', '""') + '"';
}
