/**
 * The routed iroh protocol (version 2), spoken by `createIrohHub`'s
 * connections and `connectIrohEventTarget`: the frames of version 1 (4-byte
 * length prefix and the codec's encoding of an envelope), plus control frames
 * whose body is a UTF-8 JSON array, told apart by their first byte `[` (a
 * codec must never start an envelope with it; JSON objects never do). Not
 * exported from the package; see docs/architecture/iroh.md.
 *
 * - spoke → hub: `["hello", 2, credentials?, options?]` (first frame, see
 *   core/handshake.ts), `["sub", topic, rid?]`, `["unsub", topic]`, and with `"recover"`
 *   `["sub", topic, rid|null, since|null]` (core/sub_request.ts);
 * - hub → spoke: `["welcome", 2, info?]` (answers the hello), `["suback", topic, rid?]`,
 *   `["subrefused", topic, reason, message, rid?]`, `["pubrefused", topic, reason, message]`,
 *   and with `"recover"` `["suback", topic, rid|null, info]`, `["sent", topic, position]`
 *   and data frames carrying `offset` and `epoch` (core/stream_position.ts).
 *
 * A zero-length frame is version 1's hello: as a first frame it marks a
 * version 1 peer, which is refused with close code 6; after the handshake
 * it is ignored (a keep-alive).
 *
 * @module
 */

import { type Codec, decodeEnvelope, jsonCodec, outgoingEnvelope } from "../../core/envelope.ts";
import { EnvelopeError, PubSubError } from "../../core/errors.ts";
import { PROTOCOL_VERSION } from "../../core/handshake.ts";
import { parseBoundedJson } from "../../core/json_depth.ts";
import { decodePositioned } from "../../core/stream_position.ts";
import type { StreamPosition } from "../../core/topic_history.ts";
import { describe } from "../../core/topic.ts";
import type { EnvelopeEvent, EventEnvelope } from "../../core/types.ts";
import { IrohProtocolError } from "./errors.ts";

/** The routed protocol's version (core's). */
export const IROH_PROTOCOL_VERSION = PROTOCOL_VERSION;

/**
 * The optional protocol features (core/handshake.ts) the iroh hub and spoke
 * implement: what the spoke asks for in its hello and the hub grants.
 * `"recover"`: positions and resuming subscribes (with the hub's `history`);
 * `"ping"`: the spoke may send `["ping"]`, which the hub answers `["pong"]`.
 */
export const IROH_FEATURES: readonly string[] = ["recover", "ping"];

/** The spoke's liveness check (feature `"ping"`). */
export const PING = '["ping"]';

/** The hub's answer to `["ping"]` (feature `"ping"`). */
export const PONG = '["pong"]';

/** A data frame's body as the codec produced it. */
export type Frame = string | Uint8Array;

const BRACKET = 0x5b; // "["
const utf8 = new TextDecoder("utf-8", { fatal: true });

/** Whether a frame body is a control frame. */
export function isControl(frame: Uint8Array): boolean {
  return frame.length > 0 && frame[0] === BRACKET;
}

/**
 * Parses a control frame into its array.
 *
 * @throws {IrohProtocolError} If it is not UTF-8 JSON holding an array whose first element is a string.
 */
export function parseControl(frame: Uint8Array): unknown[] {
  let message: unknown;
  try {
    message = parseBoundedJson(utf8.decode(frame));
  } catch (cause) {
    throw new IrohProtocolError(`Cannot parse a control frame of ${frame.length} bytes`, { cause });
  }
  if (!Array.isArray(message) || typeof message[0] !== "string") {
    throw new IrohProtocolError(`Unknown control frame ${describe(message)}`);
  }
  return message;
}

/**
 * Encodes an event's envelope as a data frame body, checking that it is an
 * envelope for the event's topic and that the codec did not start it with `[`.
 */
export function encodeData(event: EnvelopeEvent, codec: Codec): Frame {
  const frame = codec.encode(outgoingEnvelope(event.detail, event.type));
  if (typeof frame === "string" ? frame.charCodeAt(0) === BRACKET : frame[0] === BRACKET) {
    throw new TypeError(`The codec produced a frame starting with "[", which is reserved for control frames`);
  }
  return frame;
}

/** The byte size of a frame body (UTF-16 units for a string: a lower bound). */
export function frameLength(frame: Frame): number {
  return typeof frame === "string" ? frame.length : frame.byteLength;
}

/**
 * Decodes a data frame's envelope (every iroh target's receiving side). The
 * frame may be a view of a reused read buffer: a custom codec gets its own
 * copy, in case it keeps the bytes (jsonCodec turns them into a string at once).
 *
 * @throws {EnvelopeError} If the frame is not an envelope.
 */
export function decodeData(frame: Uint8Array, codec: Codec, remoteId: string): EventEnvelope {
  return decodeDataAt(frame, codec, remoteId, false).envelope;
}

/**
 * Decodes a data frame's envelope and, if `positioned` (a spoke granted
 * `"recover"`), the stream position it carries.
 *
 * @throws {EnvelopeError} If the frame is not an envelope.
 */
export function decodeDataAt(
  frame: Uint8Array,
  codec: Codec,
  remoteId: string,
  positioned: boolean,
): { envelope: EventEnvelope; position: StreamPosition | undefined } {
  try {
    const data = codec === jsonCodec ? frame : frame.slice();
    if (positioned) return decodePositioned(data, codec);
    return { envelope: decodeEnvelope(data, codec), position: undefined };
  } catch (error) {
    throw error instanceof PubSubError
      ? error
      : new EnvelopeError(`Cannot decode a frame from ${JSON.stringify(remoteId)}`, { cause: error });
  }
}
