/**
 * Topic to NATS subject mapping: injective, and never a wildcard.
 *
 * NATS splits subjects into tokens at `.`, reads a `*` or `>` token as a
 * wildcard, and forbids whitespace. A topic may hold all of these
 * (`job.progress:42`), so each topic becomes exactly one token of safe
 * characters: ASCII letters, digits and `-:%@+=,` stay as they are; every
 * other UTF-16 code unit is escaped, as `_` and two lowercase hex digits
 * below U+0100, or `~` and four above. Each escape has a fixed length and
 * `_` and `~` are never left unescaped, so the encoding reads back in one way
 * only: two topics never share a subject. Code units (not code points) are
 * encoded, so lone surrogates stay distinct too.
 *
 * @module
 */

import { escapeCodeUnits } from "../../core/escape.ts";

const SAFE = /^[A-Za-z0-9\-:%@+=,]*$/;
const SAFE_CHAR = /[A-Za-z0-9\-:%@+=,]/;
/** A prefix: one or more `.`-separated tokens of printable ASCII without wildcards. */
const PREFIX = /^[!-)+-\-/-=?-~]+(?:\.[!-)+-\-/-=?-~]+)*$/;

/**
 * Encodes a topic as one NATS subject token (see the module docs).
 *
 * @param topic The topic.
 * @returns The token: never empty of meaning, no `.`, `*`, `>` or whitespace.
 *
 * @example
 * ```ts
 * import { subjectToken } from "@alkdev/pubsub/nats";
 *
 * console.log(subjectToken("job.progress:42")); // "job_2eprogress:42"
 * console.log(subjectToken("a:>")); // "a:_3e"
 * ```
 */
export function subjectToken(topic: string): string {
  return SAFE.test(topic) ? topic : escapeCodeUnits(topic, SAFE_CHAR);
}

/**
 * Checks a subject prefix: one or more `.`-separated, non-empty tokens of
 * printable ASCII with no `*` or `>` anywhere.
 *
 * @param prefix The candidate.
 * @returns The prefix.
 * @throws {TypeError} If it is not a valid prefix.
 *
 * @example
 * ```ts
 * import { checkSubjectPrefix } from "@alkdev/pubsub/nats";
 *
 * console.log(checkSubjectPrefix("app.events")); // "app.events"
 * ```
 */
export function checkSubjectPrefix(prefix: string): string {
  if (typeof prefix !== "string" || !PREFIX.test(prefix)) {
    throw new TypeError(
      `Cannot use ${
        JSON.stringify(prefix)
      } as a NATS subject prefix: it must be non-empty "."-separated tokens of printable ASCII without "*" or ">"`,
    );
  }
  return prefix;
}
