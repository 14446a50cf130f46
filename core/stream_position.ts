/**
 * Stream positions on the wire (the `"recover"` feature): checking a
 * `{"epoch", "offset"}` object from a peer, and encoding and decoding a data
 * frame that carries one beside its envelope. Shared by the WebSocket and
 * iroh transports.
 *
 * @module
 */

import { type Codec, decodeEnvelope, jsonCodec, toEnvelope } from "./envelope.ts";
import { EnvelopeError } from "./errors.ts";
import type { SubscribedInfo } from "./hub_history.ts";
import type { StreamPosition } from "./topic_history.ts";
import { describe } from "./topic.ts";
import type { EventEnvelope } from "./types.ts";

/** The longest epoch accepted from a peer, in UTF-16 code units. */
export const MAX_EPOCH_LENGTH = 64;

/**
 * Reads a stream position sent by a peer: an object with a non-empty string
 * `epoch` of at most {@linkcode MAX_EPOCH_LENGTH} characters and a
 * non-negative safe-integer `offset`; `undefined` for anything else.
 *
 * @param value The decoded JSON value.
 * @returns The position, or `undefined`.
 *
 * @example
 * ```ts
 * import { parsePosition } from "@alkdev/pubsub";
 *
 * console.log(parsePosition({ epoch: "e1", offset: 3 })); // { epoch: "e1", offset: 3 }
 * console.log(parsePosition({ epoch: "e1", offset: -1 })); // undefined
 * ```
 */
export function parsePosition(value: unknown): StreamPosition | undefined {
  if (value === null || typeof value !== "object" || Array.isArray(value)) return undefined;
  const { epoch, offset } = value as Record<string, unknown>;
  if (typeof epoch !== "string" || epoch.length === 0 || epoch.length > MAX_EPOCH_LENGTH) return undefined;
  if (typeof offset !== "number" || !Number.isSafeInteger(offset) || offset < 0) return undefined;
  return { epoch, offset };
}

/**
 * Encodes a positioned data frame: the envelope's keys, then `offset` and
 * `epoch` (`{"type":…,"id":…,"payload":…,"offset":7,"epoch":"9f2c41a07be3"}`
 * with the JSON codec). Given the envelope's plain JSON frame, it appends the
 * two keys to it instead of encoding the payload again; given only the
 * frame, it decodes it when it cannot append to it.
 *
 * @param codec The codec.
 * @param envelope The envelope, or `undefined` to take it from `frame`.
 * @param position Its position.
 * @param frame The envelope's plain frame, if at hand.
 * @returns The frame.
 *
 * @example
 * ```ts
 * import { encodePositioned, jsonCodec } from "@alkdev/pubsub";
 *
 * console.log(encodePositioned(jsonCodec, { type: "t", id: "1", payload: 1 }, { epoch: "e", offset: 2 }));
 * // {"type":"t","id":"1","payload":1,"offset":2,"epoch":"e"}
 * ```
 */
export function encodePositioned(
  codec: Codec,
  envelope: EventEnvelope | undefined,
  position: StreamPosition,
  frame?: string | Uint8Array,
): string | Uint8Array {
  // A JSON object's last key wins, so the appended ones hold even if a sender's frame had its own. Epochs this
  // library makes are hexadecimal; another epoch (from a custom upstream) takes the encoding path.
  if (
    codec === jsonCodec && typeof frame === "string" && frame.charCodeAt(frame.length - 1) === CLOSE_BRACE &&
    HEX.test(position.epoch)
  ) {
    return `${frame.slice(0, -1)},"offset":${position.offset},"epoch":"${position.epoch}"}`;
  }
  if (envelope === undefined) {
    if (frame === undefined) throw new TypeError("encodePositioned needs the envelope or its frame");
    envelope = decodeEnvelope(frame, codec);
  }
  const { type, id, payload } = envelope;
  return codec.encode({ type, id, payload, offset: position.offset, epoch: position.epoch } as EventEnvelope);
}

const CLOSE_BRACE = 125; // "}"
const HEX = /^[0-9a-f]{1,64}$/;

/**
 * Decodes a data frame that may carry a position: the envelope (checked like
 * `decodeEnvelope` does), and the position if the frame has a valid one.
 *
 * @param data The frame.
 * @param codec The codec.
 * @returns The envelope and its position, if any.
 * @throws {EnvelopeError} If the frame is not a valid envelope.
 *
 * @example
 * ```ts
 * import { decodePositioned } from "@alkdev/pubsub";
 *
 * const { envelope, position } = decodePositioned('{"type":"t","id":"1","payload":1,"offset":2,"epoch":"e"}');
 * console.log(envelope, position); // { type: "t", id: "1", payload: 1 } { epoch: "e", offset: 2 }
 * ```
 */
export function decodePositioned(
  data: string | Uint8Array,
  codec: Codec = jsonCodec,
): { envelope: EventEnvelope; position: StreamPosition | undefined } {
  let decoded: unknown;
  try {
    decoded = codec.decode(data);
  } catch (error) {
    if (error instanceof EnvelopeError) throw error;
    const preview = typeof data === "string" ? data : `<${data.byteLength} bytes>`;
    throw new EnvelopeError(`Cannot decode envelope data ${describe(preview)}`, { cause: error });
  }
  const envelope = toEnvelope(decoded);
  return { envelope, position: parsePosition(decoded) };
}

/**
 * Reads the position info a hub attaches to its subscribe answer (see
 * {@linkcode SubscribedInfo}): a position, and `missed` absent, `null` or a
 * non-negative safe integer; `undefined` for anything else.
 *
 * @param value The decoded JSON value.
 * @returns The info, or `undefined`.
 *
 * @example
 * ```ts
 * import { parseSubscribedInfo } from "@alkdev/pubsub";
 *
 * console.log(parseSubscribedInfo({ epoch: "e1", offset: 3, missed: null })); // { epoch: "e1", offset: 3, missed: null }
 * ```
 */
export function parseSubscribedInfo(value: unknown): SubscribedInfo | undefined {
  const position = parsePosition(value);
  if (position === undefined) return undefined;
  if (!Object.hasOwn(value as object, "missed")) return position;
  const missed = (value as { missed?: unknown }).missed;
  if (missed === null) return { ...position, missed };
  if (typeof missed !== "number" || !Number.isSafeInteger(missed) || missed < 0) return undefined;
  return { ...position, missed };
}
