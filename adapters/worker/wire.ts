/**
 * The wire format: what the adapter posts. One message is an array whose
 * first item is {@linkcode WIRE_TAG}, followed by one or more
 * `type, id, payload` triples:
 *
 * ```
 * ["@alkdev/pubsub/worker@1", "user.updated", "42", { name: "Ada" }]
 * ["@alkdev/pubsub/worker@1", "tick", "a", 1, "tick", "a", 2]   // a batch
 * ```
 *
 * A message that is not an array starting with the tag is someone else's
 * (a port may be shared with other code) and is ignored silently. A tagged
 * message that is malformed is reported as an {@linkcode EnvelopeError}.
 *
 * @module
 */

import { EnvelopeError } from "../../core/errors.ts";
import { toEnvelope } from "../../core/envelope.ts";
import type { EventEnvelope } from "../../core/types.ts";

/**
 * The first item of every message the adapter posts; the version is part of
 * the tag, so a future format never reads as this one.
 *
 * @example
 * ```ts
 * import { WIRE_TAG } from "@alkdev/pubsub/worker";
 *
 * console.log(WIRE_TAG); // "@alkdev/pubsub/worker@1"
 * ```
 */
export const WIRE_TAG = "@alkdev/pubsub/worker@1";

/**
 * Reads one message. Returns `false` for a message that is not the adapter's.
 * Each valid envelope goes to `onEnvelope`; each invalid one (or a malformed
 * message) goes to `onError`, and the others in the same message still go
 * through. @internal
 */
export function readWireMessage(
  data: unknown,
  onEnvelope: (envelope: EventEnvelope) => void,
  onError: (error: EnvelopeError) => void,
): boolean {
  if (!Array.isArray(data) || data[0] !== WIRE_TAG) return false;
  const length = data.length;
  if (length < 4 || (length - 1) % 3 !== 0) {
    onError(
      new EnvelopeError(
        `Expected a worker message to hold the tag and then type, id, payload triples, got ${length} items`,
      ),
    );
    return true;
  }
  for (let i = 1; i < length; i += 3) {
    const envelope = { type: data[i], id: data[i + 1], payload: data[i + 2] };
    // Fast path for the valid case; core's toEnvelope builds the error otherwise.
    if (typeof envelope.type === "string" && envelope.type.length > 0 && typeof envelope.id === "string") {
      onEnvelope(envelope as EventEnvelope);
      continue;
    }
    try {
      toEnvelope(envelope);
    } catch (error) {
      onError(error as EnvelopeError);
    }
  }
  return true;
}

/**
 * Liveness probes: `[PING_TAG, n]` asks the other side to answer
 * `[PONG_TAG, n]`. Every target answers pings, whether or not it probes
 * itself; peers of an older version ignore both (untagged for them).
 */
export const PING_TAG = "@alkdev/pubsub/worker@1:ping";
/** The answer to {@linkcode PING_TAG}. */
export const PONG_TAG = "@alkdev/pubsub/worker@1:pong";
