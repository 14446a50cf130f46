/**
 * Topic naming: one string per `(type, id)` pair, and never one string for two
 * pairs.
 *
 * The topic is the event type with `%` and `:` percent-encoded, then `:`, then
 * the id unchanged. Since the encoded type holds no `:`, the first `:` always
 * splits the two parts, so `("a:b", "c")` is `a%3Ab:c` while `("a", "b:c")`
 * is `a:b:c`. Types without `%` or `:` read as themselves: `user.updated:42`.
 *
 * @module
 */

import { isWellFormed, NOT_WELL_FORMED } from "./well_formed.ts";

/**
 * Returns the topic for an event type and id. Different pairs never share a
 * topic; see the module docs for the rule.
 *
 * Both must be well-formed UTF-16 (no lone surrogate such as `"\ud800"`): a
 * UTF-8 transport would turn a lone surrogate into U+FFFD, so the topic on the
 * wire would differ from the one subscribed to and the event would be lost.
 *
 * @param type The event type; a non-empty, well-formed string.
 * @param id The id that scopes it; any well-formed string, empty included.
 * @returns The topic.
 * @throws {TypeError} If `type` is not a non-empty string or `id` is not a
 * string, or either holds a lone surrogate.
 *
 * @example Topics that naive `${type}:${id}` would confuse
 * ```ts
 * import { topicFor } from "@alkdev/pubsub";
 * import assert from "node:assert/strict";
 *
 * console.log(topicFor("user.updated", "42")); // "user.updated:42"
 * assert.notEqual(topicFor("a:b", "c"), topicFor("a", "b:c"));
 * ```
 */
export function topicFor(type: string, id: string): string {
  if (typeof type !== "string" || type.length === 0) {
    throw new TypeError(`Cannot build a topic: the event type must be a non-empty string, got ${describe(type)}`);
  }
  if (typeof id !== "string") {
    throw new TypeError(`Cannot build a topic: the id must be a string, got ${describe(id)}`);
  }
  if (!isWellFormed(type)) {
    throw new TypeError(`Cannot build a topic: the event type ${describe(type)} ${NOT_WELL_FORMED}`);
  }
  if (!isWellFormed(id)) throw new TypeError(`Cannot build a topic: the id ${describe(id)} ${NOT_WELL_FORMED}`);
  return encodeType(type) + ":" + id;
}

/**
 * Splits a topic made by {@linkcode topicFor} back into its type and id.
 *
 * @param topic The topic.
 * @returns The type and id, or `undefined` if `topic` is not a valid topic.
 *
 * @example Round trip
 * ```ts
 * import { parseTopic, topicFor } from "@alkdev/pubsub";
 *
 * console.log(parseTopic(topicFor("a:b", "c"))); // { type: "a:b", id: "c" }
 * ```
 */
export function parseTopic(topic: string): { type: string; id: string } | undefined {
  const colon = topic.indexOf(":");
  if (colon <= 0) return undefined;
  const encoded = topic.slice(0, colon);
  if (encoded.indexOf("%") !== -1 && !/^(?:[^%]|%25|%3A)+$/.test(encoded)) return undefined;
  return { type: decodeType(encoded), id: topic.slice(colon + 1) };
}

function encodeType(type: string): string {
  // Fast path: most event types hold neither character.
  if (type.indexOf("%") === -1 && type.indexOf(":") === -1) return type;
  return type.replaceAll("%", "%25").replaceAll(":", "%3A");
}

function decodeType(encoded: string): string {
  if (encoded.indexOf("%") === -1) return encoded;
  return encoded.replaceAll("%3A", ":").replaceAll("%25", "%");
}

/** Quotes a value for an error message. @internal */
export function describe(value: unknown): string {
  if (typeof value === "string") return JSON.stringify(value.length > 80 ? value.slice(0, 80) + "…" : value);
  if (typeof value === "bigint") return `${value}n`;
  if (typeof value === "function") return "a function";
  if (value === null || typeof value !== "object") return String(value);
  if (Array.isArray(value)) return "an array";
  return "an object";
}
