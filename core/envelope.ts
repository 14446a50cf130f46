/**
 * Envelope encoding and validation, shared by every transport: data from a
 * boundary becomes an {@linkcode EventEnvelope} here or raises an
 * {@linkcode EnvelopeError}; nothing else reaches listeners.
 *
 * @module
 */

import { EnvelopeError } from "./errors.ts";
import { parseBoundedJson } from "./json_depth.ts";
import { describe, topicFor } from "./topic.ts";
import { isWellFormed, NOT_WELL_FORMED } from "./well_formed.ts";
import type { EventEnvelope } from "./types.ts";

/**
 * Turns envelopes into wire data and back. `decode` may return anything; the
 * result is validated by {@linkcode decodeEnvelope} before use, so a codec need
 * not check shapes itself.
 *
 * @example A codec that wraps JSON in a version tag
 * ```ts
 * import type { Codec } from "@alkdev/pubsub";
 *
 * const tagged: Codec = {
 *   encode: (envelope) => "v1" + JSON.stringify(envelope),
 *   decode: (data) => JSON.parse(String(data).slice(2)),
 * };
 * ```
 */
export interface Codec {
  /** Encodes an envelope as a string or bytes. */
  encode(envelope: EventEnvelope): string | Uint8Array;
  /** Decodes wire data; may throw on malformed input. */
  decode(data: string | Uint8Array): unknown;
}

const decoder = new TextDecoder("utf-8");
const strictDecoder = new TextDecoder("utf-8", { fatal: true });

/**
 * UTF-8 bytes to text, refusing invalid UTF-8. A replacing decode is several
 * times faster than a fatal one, and yields U+FFFD wherever the input is
 * invalid; only then (or for a real U+FFFD) does the fatal decoder look again.
 */
function utf8(data: Uint8Array): string {
  const text = decoder.decode(data);
  return text.indexOf("\uFFFD") === -1 ? text : strictDecoder.decode(data);
}

/**
 * The default codec: JSON text. `undefined` payloads survive (a missing
 * `payload` key decodes as `undefined`); values JSON cannot represent do not
 * (`Date` becomes a string, `Map` becomes `{}`, `undefined` inside objects is
 * dropped, `bigint` throws at encode). Decoding rejects any `__proto__` key,
 * and text nested deeper than `MAX_JSON_DEPTH` (64) arrays and
 * objects, before parsing it.
 *
 * @example
 * ```ts
 * import { jsonCodec } from "@alkdev/pubsub";
 *
 * const text = jsonCodec.encode({ type: "ping", id: "1", payload: 0 });
 * console.log(text, jsonCodec.decode(text)); // {"type":"ping","id":"1","payload":0} {...}
 * ```
 */
export const jsonCodec: Codec = {
  encode(envelope: EventEnvelope): string {
    return JSON.stringify(envelope);
  },
  decode(data: string | Uint8Array): unknown {
    const text = typeof data === "string" ? data : utf8(data);
    // `__proto__` may hide behind a \u escape, so either marker takes the slow path.
    if (text.indexOf("__proto__") === -1 && text.indexOf("\\u") === -1) return parseBoundedJson(text);
    return parseBoundedJson(text, rejectProto);
  },
};

function rejectProto(key: string, value: unknown): unknown {
  if (key === "__proto__") throw new EnvelopeError('Envelope data holds a "__proto__" key');
  return value;
}

/**
 * Checks that `value` is an envelope and returns a fresh one holding only
 * `type`, `id` and `payload`.
 *
 * @param value The candidate.
 * @returns The envelope.
 * @throws {EnvelopeError} If `value` is not a plain object with a non-empty
 * string `type` and a string `id`, both well-formed UTF-16.
 *
 * @example
 * ```ts
 * import { toEnvelope } from "@alkdev/pubsub";
 *
 * console.log(toEnvelope({ type: "ping", id: "1" })); // { type: "ping", id: "1", payload: undefined }
 * ```
 */
export function toEnvelope(value: unknown): EventEnvelope {
  if (value === null || typeof value !== "object" || Array.isArray(value)) {
    throw new EnvelopeError(`Expected an envelope object, got ${describe(value)}`);
  }
  const { type, id, payload } = value as Record<string, unknown>;
  if (typeof type !== "string" || type.length === 0) {
    throw new EnvelopeError(`Expected the envelope's type to be a non-empty string, got ${describe(type)}`);
  }
  if (typeof id !== "string") {
    throw new EnvelopeError(`Expected the envelope's id to be a string, got ${describe(id)}`);
  }
  if (type !== checkedType) {
    if (!isWellFormed(type)) throw new EnvelopeError(`The envelope's type ${describe(type)} ${NOT_WELL_FORMED}`);
    checkedType = type;
  }
  if (id !== checkedId) {
    if (!isWellFormed(id)) throw new EnvelopeError(`The envelope's id ${describe(id)} ${NOT_WELL_FORMED}`);
    checkedId = id;
  }
  return { type, id, payload };
}

/**
 * Decodes wire data into a validated envelope. With `topic`, also checks that
 * the envelope belongs on that topic, so a message can never be delivered to
 * another topic's listeners.
 *
 * @param data The wire data.
 * @param codec The codec. @default {jsonCodec}
 * @param topic The topic the data arrived on, if the transport has one.
 * @returns The envelope.
 * @throws {EnvelopeError} If the data does not decode, is not an envelope, or
 * does not match `topic`. The codec's error is the `cause`.
 *
 * @example
 * ```ts
 * import { decodeEnvelope } from "@alkdev/pubsub";
 *
 * const envelope = decodeEnvelope('{"type":"ping","id":"1","payload":null}', undefined, "ping:1");
 * console.log(envelope.payload); // null
 * ```
 */
export function decodeEnvelope(data: string | Uint8Array, codec: Codec = jsonCodec, topic?: string): EventEnvelope {
  let decoded: unknown;
  try {
    decoded = codec.decode(data);
  } catch (error) {
    if (error instanceof EnvelopeError) throw error;
    throw new EnvelopeError(`Cannot decode envelope data ${describe(preview(data))}`, { cause: error });
  }
  const envelope = toEnvelope(decoded);
  if (topic !== undefined) {
    const actual = topicFor(envelope.type, envelope.id);
    if (actual !== topic) {
      throw new EnvelopeError(`Envelope for topic ${JSON.stringify(actual)} arrived on topic ${JSON.stringify(topic)}`);
    }
  }
  return envelope;
}

function preview(data: string | Uint8Array): string {
  if (typeof data === "string") return data;
  return `<${data.byteLength} bytes>`;
}

/**
 * Checks an outgoing event's `detail` before a transport sends it: it must be
 * an envelope (non-empty string `type`, string `id`) and, given `topic`, belong
 * on that topic. Returns `detail` itself (no copy: this runs on every publish);
 * keys other than `type`, `id` and `payload` may travel, and the receiver's
 * {@linkcode decodeEnvelope} drops them.
 *
 * @param detail The event's `detail`.
 * @param topic The event's `type`, when the envelope must match it.
 * @returns The envelope.
 * @throws {EnvelopeError} If `detail` is not an envelope, or not one for `topic`.
 *
 * @example
 * ```ts
 * import { outgoingEnvelope } from "@alkdev/pubsub";
 *
 * const envelope = outgoingEnvelope({ type: "ping", id: "1", payload: 0 }, "ping:1");
 * console.log(envelope.payload); // 0
 * ```
 */
export function outgoingEnvelope(detail: unknown, topic?: string): EventEnvelope {
  const candidate = detail as Partial<EventEnvelope> | null | undefined;
  // Fast path for what createPubSub dispatches; toEnvelope names the problem otherwise.
  const envelope = candidate !== null && typeof candidate === "object" && typeof candidate.type === "string" &&
      candidate.type.length > 0 && typeof candidate.id === "string"
    ? candidate as EventEnvelope
    : toEnvelope(detail);
  if (topic !== undefined && !onTopic(envelope, topic)) {
    const actual = topicFor(envelope.type, envelope.id);
    if (actual !== topic) {
      throw new EnvelopeError(
        `Envelope for topic ${JSON.stringify(actual)} was dispatched on topic ${JSON.stringify(topic)}`,
      );
    }
  }
  return envelope;
}

/**
 * Whether `topic` is `topicFor(envelope.type, envelope.id)` and well-formed, for a type that needs no escaping,
 * without building the topic (this runs on every publish). `false` means "check the slow way", which also names
 * the problem. A well-formed topic split at its `:` has well-formed halves, so one check covers type and id.
 */
function onTopic(envelope: EventEnvelope, topic: string): boolean {
  const { type, id } = envelope;
  if (topic === onTopicLast[0] && type === onTopicLast[1] && id === onTopicLast[2]) return true;
  const colon = type.length;
  const on = topic.length === colon + 1 + id.length && topic.charCodeAt(colon) === COLON && topic.startsWith(type) &&
    topic.endsWith(id) && type.indexOf(":") === -1 && type.indexOf("%") === -1 && isWellFormed(topic);
  if (on) onTopicLast = [topic, type, id];
  return on;
}

/** The last (topic, type, id) {@linkcode onTopic} confirmed: a publisher repeating one topic is checked once. */
let onTopicLast: readonly [string, string, string] = ["", "", ""];
/** The last type and id {@linkcode toEnvelope} found well-formed (a stream of events on one topic checks them once). */
let checkedType = "";
let checkedId = "";

const COLON = 58; // ":"
