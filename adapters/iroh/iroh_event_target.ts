/**
 * The per-connection iroh targets: one event target over one connection,
 * both sides equal (protocol version 1: a zero-length hello, then data frames
 * only). For many connections with routing, see `createIrohHub` and
 * `connectIrohEventTarget`.
 *
 * @module
 */

import { outgoingEnvelope } from "../../core/envelope.ts";
import { PubSubClosedError, type PubSubError } from "../../core/errors.ts";
import { topicFor } from "../../core/topic.ts";
import { TransportEventTarget } from "../../core/transport_event_target.ts";
import type { EnvelopeEvent, EventEnvelope, TypedEventTarget } from "../../core/types.ts";
import { IROH_CLOSE_CODES, IrohConnectionError, IrohOutboxFullError } from "./errors.ts";
import { decodeData, isControl } from "./protocol.ts";
import { checkAllow, deferred, IrohLink } from "./link.ts";
import {
  type IrohCloseInfo,
  type IrohEventTargetOptions,
  type ResolvedIrohOptions,
  resolveIrohOptions,
} from "./options.ts";
import type { IrohConnectionLike } from "./types.ts";

const EMPTY = new Uint8Array(0);

/**
 * Options for {@linkcode createHubIrohEventTarget}.
 *
 * @example Only known spokes
 * ```ts
 * import type { HubIrohEventTargetOptions } from "@alkdev/pubsub/iroh";
 *
 * const known = new Set(["b48dda4bbae76b048f15de93f1f5f4203ca7fe834cee0bd04a05a4293cc3a44a"]);
 * const options: HubIrohEventTargetOptions = { allow: (remoteId) => known.has(remoteId) };
 * ```
 */
export interface HubIrohEventTargetOptions extends IrohEventTargetOptions {
  /**
   * Decides, before the stream is accepted, whether the spoke's EndpointId (as
   * `String(conn.remoteId())`) may connect. Returning `false`, throwing or
   * rejecting closes the connection with code 3 (`refused`), and the factory
   * rejects with {@linkcode IrohPeerRefusedError}.
   *
   * @default {undefined} (every endpoint is allowed)
   */
  allow?: (remoteId: string) => boolean | Promise<boolean>;
}

/**
 * An event target over one iroh connection. Publishing delivers to local
 * listeners and sends to the peer; envelopes from the peer are delivered to
 * local listeners. Reserved event: `"close"` (detail: {@linkcode IrohCloseInfo}),
 * dispatched once, locally, when the connection ends.
 *
 * @example
 * ```ts ignore
 * import { createPubSub } from "@alkdev/pubsub";
 * import { createSpokeIrohEventTarget, type IrohEventTarget } from "@alkdev/pubsub/iroh";
 *
 * const target: IrohEventTarget = await createSpokeIrohEventTarget(conn);
 * const pubsub = createPubSub<{ ping: number }>({ eventTarget: target });
 * pubsub.publish("ping", "1", 1);
 * await target.close();
 * ```
 */
export interface IrohEventTarget extends TypedEventTarget<EnvelopeEvent> {
  /** The peer's verified EndpointId, as a string. */
  readonly remoteId: string;
  /** Which side opened the stream. */
  readonly role: "hub" | "spoke";
  /** `"open"` until a close starts, `"closing"` while it drains, then `"closed"`. */
  readonly state: "open" | "closing" | "closed";
  /** Bytes queued or being written, not yet handed to QUIC. */
  readonly bufferedBytes: number;
  /** Resolves (never rejects) once the connection has ended. */
  readonly closed: Promise<IrohCloseInfo>;
  /**
   * Resolves once every frame queued so far has been handed to QUIC; rejects
   * with the closing error if the connection ends first with frames unsent.
   */
  flush(): Promise<void>;
  /**
   * Graceful close: refuses new events, writes everything queued, finishes the
   * stream, waits (up to `closeTimeoutMs`) for the peer to finish its side,
   * then closes the connection with code 0. Never rejects; idempotent.
   */
  close(): Promise<void>;
  /** Counts local listeners, for one topic or all of them. */
  listenerCount(topic?: string): number;
}

class IrohStreamEventTarget extends TransportEventTarget implements IrohEventTarget {
  readonly role: "hub" | "spoke";
  #options: ResolvedIrohOptions;
  #link: IrohLink;
  #hello = deferred<void>();
  #helloSeen = false;

  constructor(conn: IrohConnectionLike, role: "hub" | "spoke", options: IrohEventTargetOptions) {
    super(options);
    this.#options = resolveIrohOptions(options);
    this.role = role;
    this.#link = new IrohLink(conn, this.#options, {
      onFrame: this.#onFrame,
      afterChunk: () => this.remoteBacklog(),
      onClose: (info) => this.emitClose(info),
    });
    this.#hello.promise.catch(() => {});
  }

  get remoteId(): string {
    return this.#link.remoteId;
  }

  get state(): "open" | "closing" | "closed" {
    const state = this.#link.state;
    return state === "opening" ? "closing" : state;
  }

  get bufferedBytes(): number {
    return this.#link.bufferedBytes;
  }

  get closed(): Promise<IrohCloseInfo> {
    return this.#link.closed;
  }

  // ---- opening ----

  openAsSpoke(): Promise<void> {
    const link = this.#link;
    return link.open(async () => {
      link.write(EMPTY); // hello: lets the hub's acceptBi resolve
      await link.openStream();
      // The hub answers with its hello frame once it has accepted the stream.
      await link.wait(this.#hello.promise, this.#options.handshakeTimeoutMs, "waiting for the hub's hello");
    });
  }

  openAsHub(allow: ((remoteId: string) => boolean | Promise<boolean>) | undefined): Promise<void> {
    const link = this.#link;
    return link.open(async () => {
      if (allow !== undefined) await checkAllow(link, allow, this.#options.handshakeTimeoutMs);
      link.write(EMPTY); // hello: tells the spoke it was accepted
      await link.acceptStream();
    });
  }

  // ---- EventTarget ----

  dispatchEvent(event: EnvelopeEvent): boolean {
    if (this.#link.state !== "open") {
      throw new PubSubClosedError(
        `Cannot send ${JSON.stringify(event.type)}: the iroh connection to ${
          JSON.stringify(this.remoteId)
        } is ${this.state}`,
      );
    }
    const detail = outgoingEnvelope(event.detail, event.type);
    const buffered = this.bufferedBytes;
    if (buffered >= this.#options.maxOutboxBytes) throw new IrohOutboxFullError(buffered, this.#options.maxOutboxBytes);
    // Any extra keys on the detail travel too; the receiver's decodeEnvelope drops them.
    this.#link.write(this.#options.codec.encode(detail));
    return this.dispatchLocal(event);
  }

  flush(): Promise<void> {
    return this.#link.flush();
  }

  // ---- reading ----

  #onFrame = (frame: Uint8Array): void => {
    if (!this.#helloSeen) {
      if (frame.length !== 0) {
        // Every peer of this protocol sends the empty hello first: anything else is not one. A routed (version 2)
        // spoke's hello gets code 6, which stops its retries; anything else code 2.
        if (isControl(frame)) {
          throw new IrohConnectionError(
            `${JSON.stringify(this.remoteId)} speaks the routed protocol (version 2); this target speaks version 1`,
            IROH_CLOSE_CODES.unsupportedProtocol,
          );
        }
        throw new IrohConnectionError(
          `${JSON.stringify(this.remoteId)} sent a ${frame.length}-byte frame before its hello (an empty frame)`,
          IROH_CLOSE_CODES.protocol,
        );
      }
      this.#helloSeen = true;
      this.#hello.resolve();
    }
    if (frame.length === 0) return; // hello / keep-alive
    let envelope: EventEnvelope;
    try {
      envelope = decodeData(frame, this.#options.codec, this.remoteId);
    } catch (error) {
      this.#options.report(error as PubSubError);
      return;
    }
    this.deliverRemote(new CustomEvent(topicFor(envelope.type, envelope.id), { detail: envelope }) as EnvelopeEvent);
  };

  // ---- closing ----

  close(): Promise<void> {
    return this.#link.close();
  }
}

/**
 * Creates the spoke side: opens the bidirectional stream on `conn`, sends the
 * hello frame and resolves once the hub has answered with its own, so events
 * published afterwards reach a hub that is listening. The target owns `conn`
 * from now on and closes it when it closes.
 *
 * @param conn An established connection, for example from `@number0/iroh`'s
 * `endpoint.connect(addr, alpn)`.
 * @param options Codec, limits, timeouts and the error channel.
 * @returns The open target.
 * @throws {IrohPeerRefusedError} (rejects) If the hub refused this endpoint.
 * @throws {IrohConnectionError} (rejects) If the connection failed or timed out during the handshake.
 * @throws {RangeError} (rejects) If an option is invalid.
 *
 * @example A spoke publishing to a hub
 * ```ts ignore
 * import { createRequire } from "node:module";
 * import { createPubSub } from "@alkdev/pubsub";
 * import { createSpokeIrohEventTarget } from "@alkdev/pubsub/iroh";
 *
 * const { Endpoint, EndpointAddr, EndpointId, presetMinimal } = createRequire(import.meta.url)("@number0/iroh");
 * const alpn = Array.from(new TextEncoder().encode("my-app/pubsub/1"));
 * const builder = Endpoint.builder();
 * presetMinimal(builder);
 * const endpoint = await builder.bind();
 * const conn = await endpoint.connect(new EndpointAddr(EndpointId.fromString(hubId), null, hubAddrs), alpn);
 * const target = await createSpokeIrohEventTarget(conn);
 * const pubsub = createPubSub<{ ping: number }>({ eventTarget: target });
 * pubsub.publish("ping", "1", 1);
 * await target.close(); // delivers everything published before close()
 * await endpoint.close();
 * ```
 */
export async function createSpokeIrohEventTarget(
  conn: IrohConnectionLike,
  options: IrohEventTargetOptions = {},
): Promise<IrohEventTarget> {
  const target = new IrohStreamEventTarget(conn, "spoke", options);
  await target.openAsSpoke();
  return target;
}

/**
 * Creates the hub side for one accepted connection: checks `allow(remoteId)`,
 * accepts the spoke's bidirectional stream and answers with a hello frame. Call
 * it once per connection. The target owns `conn` from now on and closes it
 * when it closes.
 *
 * @param conn An accepted connection, for example from
 * `await (await (await endpoint.acceptNext()).accept()).connect()`.
 * @param options `allow`, codec, limits, timeouts and the error channel.
 * @returns The open target.
 * @throws {IrohPeerRefusedError} (rejects) If `allow` refused the spoke; the connection is closed with code 3.
 * @throws {IrohConnectionError} (rejects) If the connection failed or timed out before the stream arrived.
 * @throws {RangeError} (rejects) If an option is invalid.
 *
 * @example A hub that accepts known spokes
 * ```ts ignore
 * import { createPubSub } from "@alkdev/pubsub";
 * import { createHubIrohEventTarget } from "@alkdev/pubsub/iroh";
 *
 * const allowed = new Set([spokeId]);
 * for (let incoming = await endpoint.acceptNext(); incoming; incoming = await endpoint.acceptNext()) {
 *   const conn = await (await incoming.accept()).connect();
 *   const target = await createHubIrohEventTarget(conn, { allow: (id) => allowed.has(id) });
 *   const pubsub = createPubSub<{ ping: number }>({ eventTarget: target });
 *   pubsub.subscribe("ping", "1");
 * }
 * ```
 */
export async function createHubIrohEventTarget(
  conn: IrohConnectionLike,
  options: HubIrohEventTargetOptions = {},
): Promise<IrohEventTarget> {
  const target = new IrohStreamEventTarget(conn, "hub", options);
  await target.openAsHub(options.allow);
  return target;
}
