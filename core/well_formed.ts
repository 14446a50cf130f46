/**
 * Well-formed UTF-16: the check behind topic names and incoming envelopes.
 * Internal to core (not re-exported).
 *
 * @module
 */

/** A lone surrogate: a code point of category Cs (in `u` mode, a valid pair is one code point, not Cs). */
const LONE_SURROGATE = /\p{Cs}/u;

/** The check where `String.prototype.isWellFormed` is missing: no lone surrogate. */
export function wellFormedFallback(value: string): boolean {
  return !LONE_SURROGATE.test(value);
}

const native = (String.prototype as { isWellFormed?: () => boolean }).isWellFormed;

/** Whether `value` is well-formed UTF-16: `String.prototype.isWellFormed`, or {@linkcode wellFormedFallback}. */
export const isWellFormed: (value: string) => boolean = typeof native === "function"
  ? (value) => (value as unknown as { isWellFormed(): boolean }).isWellFormed()
  : wellFormedFallback;

/** What follows the quoted value in the error message for a string that is not well-formed. */
export const NOT_WELL_FORMED =
  "is not well-formed UTF-16: it holds a lone surrogate, which a UTF-8 transport turns into U+FFFD";
