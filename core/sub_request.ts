/**
 * Subscribe requests and their answers in the routed protocol (version 2),
 * shared by the WebSocket and iroh hubs and spokes. A `sub` may carry a
 * request id, echoed in its answer so a spoke can tell the answer to its
 * latest request from a stale one:
 *
 * - spoke → hub: `["sub", topic]` or `["sub", topic, rid]`, `["unsub", topic]`;
 *   on a connection granted `"recover"` also `["sub", topic, rid, since]`
 *   (`rid` a request id or `null`, `since` a stream position or `null`);
 * - hub → spoke: `["suback", topic]` / `["suback", topic, rid]`,
 *   `["subrefused", topic, reason, message]` / `["subrefused", topic, reason, message, rid]`,
 *   `["pubrefused", topic, reason, message]`; with `"recover"` also
 *   `["suback", topic, rid, info]` (`info` the stream position and any loss)
 *   and `["sent", topic, position]` (the position of the spoke's own event).
 *
 * `rid` is a non-negative safe integer. Not exported from the package; the
 * wire format is in docs/architecture/websocket.md and iroh.md.
 *
 * @module
 */

import { isRefusalReason, type RefusalReason } from "./errors.ts";
import type { SubscribedInfo } from "./hub_history.ts";
import type { HubAction } from "./hub_authorize.ts";
import { parsePosition, parseSubscribedInfo } from "./stream_position.ts";
import type { StreamPosition } from "./topic_history.ts";

/** Whether `value` is a request id: a non-negative safe integer. */
export function isRequestId(value: unknown): value is number {
  return typeof value === "number" && Number.isSafeInteger(value) && value >= 0;
}

/** A spoke's `sub` or `unsub`, parsed. */
export interface InterestRequest {
  tag: "sub" | "unsub";
  topic: string;
  /** The `sub`'s request id, if it had one. */
  rid: number | undefined;
  /** A resuming `sub`'s position (`"recover"` connections only): replay what came after it. */
  since?: StreamPosition;
}

/**
 * Parses `["sub", topic]`, `["sub", topic, rid]` or `["unsub", topic]`, and
 * with `recover` also `["sub", topic, rid|null, since|null]`; `undefined`
 * for anything else.
 */
export function parseInterestRequest(message: readonly unknown[], recover = false): InterestRequest | undefined {
  const [tag, topic, rid, since] = message;
  if (typeof topic !== "string") return undefined;
  if (message.length === 2 && (tag === "sub" || tag === "unsub")) return { tag, topic, rid: undefined };
  if (message.length === 3 && tag === "sub" && isRequestId(rid)) return { tag, topic, rid };
  if (recover && message.length === 4 && tag === "sub" && (rid === null || isRequestId(rid))) {
    if (since === null) return { tag, topic, rid: rid ?? undefined };
    const position = parsePosition(since);
    return position === undefined ? undefined : { tag, topic, rid: rid ?? undefined, since: position };
  }
  return undefined;
}

/** Encodes a `sub`, with `rid` when given, and as a resuming `sub` when `since` is given. */
export function encodeSub(topic: string, rid?: number, since?: StreamPosition): string {
  if (since !== undefined) return JSON.stringify(["sub", topic, rid ?? null, since]);
  return JSON.stringify(rid === undefined ? ["sub", topic] : ["sub", topic, rid]);
}

/** A hub's answer, parsed. */
export type HubAnswer =
  | {
    tag: "suback";
    topic: string;
    rid: number | undefined;
    /** The stream position and any loss (`"recover"` connections, topics with history). */
    info?: SubscribedInfo;
  }
  | { tag: "sent"; topic: string; position: StreamPosition }
  | {
    tag: "refused";
    action: HubAction;
    topic: string;
    reason: RefusalReason;
    message: string;
    /** For a refused subscribe, the request id of the `sub`, if it had one. */
    rid: number | undefined;
  };

/**
 * Parses a `suback`, `subrefused` or `pubrefused` in any of its forms, and
 * with `recover` also the positioned `suback` and `sent`; `undefined` for
 * anything else.
 */
export function parseHubAnswer(frame: readonly unknown[], recover = false): HubAnswer | undefined {
  const [tag, topic, reason, message, rid] = frame;
  if (typeof topic !== "string") return undefined;
  if (tag === "suback") {
    if (frame.length === 2) return { tag, topic, rid: undefined };
    if (frame.length === 3 && isRequestId(reason)) return { tag, topic, rid: reason };
    if (recover && frame.length === 4 && (reason === null || isRequestId(reason))) {
      const info = parseSubscribedInfo(message);
      return info === undefined ? undefined : { tag, topic, rid: reason ?? undefined, info };
    }
    return undefined;
  }
  if (tag === "sent") {
    const position = recover && frame.length === 3 ? parsePosition(reason) : undefined;
    return position === undefined ? undefined : { tag, topic, position };
  }
  if (tag !== "subrefused" && tag !== "pubrefused") return undefined;
  if (!isRefusalReason(reason) || typeof message !== "string") return undefined;
  const action: HubAction = tag === "subrefused" ? "subscribe" : "publish";
  if (frame.length === 4) return { tag: "refused", action, topic, reason, message, rid: undefined };
  if (frame.length === 5 && tag === "subrefused" && isRequestId(rid)) {
    return { tag: "refused", action, topic, reason, message, rid };
  }
  return undefined;
}

/**
 * A hub connection's outstanding `sub` request ids, by topic: the hub
 * router answers by topic, and the answer carries the id of the latest `sub`
 * for it. At most one entry per topic the connection asked for and has not
 * been answered or withdrawn.
 */
export class SubRequests {
  #ids: Map<string, number> | undefined;

  /** A `sub` (or `unsub`) arrived for `topic`. */
  note(request: InterestRequest): void {
    if (request.rid !== undefined) (this.#ids ??= new Map()).set(request.topic, request.rid);
    else this.#ids?.delete(request.topic);
  }

  /** The answer for `topic` is going out: `["suback", topic, rid?]`, or with `info` `["suback", topic, rid|null, info]`. */
  suback(topic: string, info?: SubscribedInfo): string {
    const rid = this.#take(topic);
    if (info !== undefined) return JSON.stringify(["suback", topic, rid ?? null, info]);
    return JSON.stringify(rid === undefined ? ["suback", topic] : ["suback", topic, rid]);
  }

  /** A refusal is going out: `["subrefused" | "pubrefused", topic, reason, message, rid?]`. */
  refusal(action: HubAction, topic: string, reason: RefusalReason, message: string): string {
    if (action === "publish") return JSON.stringify(["pubrefused", topic, reason, message]);
    const rid = this.#take(topic);
    return JSON.stringify(
      rid === undefined ? ["subrefused", topic, reason, message] : ["subrefused", topic, reason, message, rid],
    );
  }

  #take(topic: string): number | undefined {
    const ids = this.#ids;
    if (ids === undefined) return undefined;
    const rid = ids.get(topic);
    if (rid !== undefined) ids.delete(topic);
    return rid;
  }
}
