/**
 * `errorReporter`: how the broker adapters (Redis, NATS, PostgreSQL) call
 * their `onError` option. Internal: adapters import it from this file; it
 * is not part of the public API.
 *
 * @module
 */

import type { PubSubError } from "./errors.ts";

/**
 * Wraps an adapter's `onError` option: the returned function calls it, or
 * by default prints `<logPrefix> <operation> on <place>:` and the error
 * with `console.error`; if `onError` throws, that is logged too, so nothing
 * is ever thrown into a client's callback.
 *
 * @param onError The user's option, if any.
 * @param logPrefix The adapter's log prefix, e.g. `"[@alkdev/pubsub/redis]"`.
 * @param place The context key naming where it happened (`"channel"`, `"subject"`).
 * @returns The reporting function.
 *
 * @example
 * ```ts
 * import { errorReporter } from "./error_reporter.ts";
 * import { EnvelopeError } from "./errors.ts";
 *
 * const report = errorReporter<{ operation: string; channel?: string }>(undefined, "[demo]", "channel");
 * report(new EnvelopeError("bad"), { operation: "message", channel: "c" }); // [demo] message on c: EnvelopeError ...
 * ```
 */
export function errorReporter<C extends { operation: string }>(
  onError: ((error: PubSubError, context: C) => void) | undefined,
  logPrefix: string,
  place: keyof C,
): (error: PubSubError, context: C) => void {
  const handler = onError ?? ((error: PubSubError, context: C): void => {
    const at = context[place];
    console.error(`${logPrefix} ${at === undefined ? context.operation : `${context.operation} on ${at}`}:`, error);
  });
  return (error, context) => {
    try {
      handler(error, context);
    } catch (thrown) {
      console.error(`${logPrefix} onError threw:`, thrown);
    }
  };
}
