/**
 * The options of `createIrohHub`: admission, authorization, limits, and
 * the context `authorize` sees.
 *
 * @module
 */

import type { Authorize, AuthorizeLimits } from "../../core/hub_authorize.ts";
import type { HubHistoryOptions } from "../../core/hub_history.ts";
import type { HubSchemaOptions } from "../../core/payload_validation.ts";
import {
  DEFAULT_HUB_INBOUND_LIMITS,
  inboundLimitsWithDefaults,
  InboundRateLimiter,
  type InboundRateLimits,
} from "../../core/inbound_rate_limit.ts";
import { StrikeWindow } from "../../core/strike_window.ts";
import type { EnvelopeEvent, TypedEventTarget } from "../../core/types.ts";
import type { IrohEventTargetOptions } from "./options.ts";

/**
 * What `authorize` sees as a connection's context: the spoke's verified
 * EndpointId, plus the keys of the objects `allow` and `authenticate`
 * returned (if they returned objects; `authenticate`'s win). `endpointId` is
 * always the verified one.
 *
 * @typeParam TAuth What `allow`/`authenticate` return.
 *
 * @example
 * ```ts
 * import type { IrohHubContext } from "@alkdev/pubsub/iroh";
 *
 * const context: IrohHubContext<{ role: string }> = { endpointId: "b48dda4b…", role: "sensor" };
 * ```
 */
export type IrohHubContext<TAuth = Record<string, unknown>> = Partial<TAuth> & { endpointId: string };

/**
 * Options for {@linkcode createIrohHub}.
 *
 * @typeParam TAuth What `allow`/`authenticate` return for a connection.
 *
 * @example Known spokes; each reads only its own topics
 * ```ts
 * import type { IrohHubOptions } from "@alkdev/pubsub/iroh";
 *
 * const names = new Map([["b48dda4bbae76b048f15de93f1f5f4203ca7fe834cee0bd04a05a4293cc3a44a", "sensor-1"]]);
 * const options: IrohHubOptions<{ name: string }> = {
 *   allow: (endpointId) => names.has(endpointId) ? { name: names.get(endpointId)! } : false,
 *   authorize: ({ action, id, context }) => action === "publish" || id === context?.name,
 * };
 * ```
 */
export interface IrohHubOptions<TAuth = Record<string, unknown>>
  extends IrohEventTargetOptions, AuthorizeLimits, HubSchemaOptions {
  /**
   * Decides, before the stream is accepted, whether the spoke's EndpointId
   * (verified by the QUIC handshake) may connect. `true`, or an object whose
   * keys join the connection's context, accepts; anything else, a throw or a
   * rejection closes the connection with code 3 (`refused`), which stops the
   * spoke's retries.
   *
   * @default {every endpoint is allowed}
   */
  allow?: (endpointId: string) => boolean | Partial<TAuth> | Promise<boolean | Partial<TAuth>>;
  /**
   * Decides on the credentials of the spoke's hello, `["hello", 2, credentials]`
   * (`undefined` when it has none). `true`, or an object whose keys join the
   * context, accepts; anything else, a throw or a rejection closes with code 3.
   *
   * @default {every hello is accepted}
   */
  authenticate?: (
    credentials: unknown,
    endpointId: string,
  ) => boolean | Partial<TAuth> | Promise<boolean | Partial<TAuth>>;
  /**
   * Decides each subscribe and each publish of a connection. A refused
   * subscribe is answered `["subrefused", …]` and sends nothing for the
   * topic; a refused publish is dropped and answered `["pubrefused", …]`;
   * the connection stays open. A throw refuses and is reported to `onError`.
   *
   * @default {everything is allowed}
   */
  authorize?: Authorize<IrohHubContext<TAuth>>;
  /**
   * A shared target the hub publishes to and listens on (a Redis target, or
   * the same in-process target as a WebSocket hub's `upstream`), so several
   * hubs act as one. The hub never closes it.
   *
   * @default {none: the hub delivers within itself}
   */
  upstream?: TypedEventTarget<EnvelopeEvent>;
  /**
   * The most topics one connection may hold; one more is refused with
   * `"too-many-subscriptions"`.
   *
   * @default {4096}
   */
  maxSubscriptionsPerConnection?: number;
  /**
   * The longest topic a connection may subscribe to, in UTF-16 code units.
   *
   * @default {1024}
   */
  maxTopicLength?: number;
  /**
   * Keep a bounded history per topic and let spokes that reconnect recover
   * what they missed (the `"recover"` feature): as the WebSocket hub's
   * `history`, see docs/architecture/hub.md#delivery-guarantees. `{}` turns it
   * on with the defaults (100 events and 2 minutes per topic, at most 10,000
   * topics and 32 MiB).
   *
   * @default {undefined: no history, at most once across drops}
   */
  history?: HubHistoryOptions;
  /**
   * Inbound rate limits per connection once its handshake is done, as token
   * buckets (frames and bytes, 4-byte prefixes included); past either, the
   * hub reports an `IrohConnectionError` and closes the connection with code
   * 8 (`rateLimited`); the spoke reconnects after its backoff. `false` turns
   * them off. A rate given without its burst gets a burst of twice the rate.
   *
   * @default {{ framesPerSecond: 25000, frameBurst: 100000, bytesPerSecond: 8388608, byteBurst: 16777216 }}
   */
  inboundLimits?: InboundRateLimits | false;
  /**
   * Invalid frames (not an envelope, not a known control frame) within
   * `invalidFrameWindow` ms that close the connection with code 8. Each one
   * before that is dropped and reported.
   *
   * @default {20}
   */
  maxInvalidFrames?: number;
  /**
   * The window of `maxInvalidFrames`, in ms.
   *
   * @default {10000}
   */
  invalidFrameWindow?: number;
}

/** The limits each connection applies, resolved once per hub. */
export interface PeerLimits {
  inbound: InboundRateLimits | undefined;
  maxInvalidFrames: number;
  invalidFrameWindow: number;
}

/** Resolves and validates the inbound limits and the invalid-frame window of `options`. */
export function resolveLimits(options: IrohHubOptions<never>, maxFrameBytes: number): PeerLimits {
  let inbound: InboundRateLimits | undefined;
  const given = options.inboundLimits;
  if (given !== false) {
    inbound = inboundLimitsWithDefaults(given, DEFAULT_HUB_INBOUND_LIMITS);
    // Validates the rates and bursts now, not on the first connection.
    new InboundRateLimiter(inbound, maxFrameBytes + 4);
  }
  const maxInvalidFrames = options.maxInvalidFrames ?? 20;
  const invalidFrameWindow = options.invalidFrameWindow ?? 10_000;
  new StrikeWindow(maxInvalidFrames, invalidFrameWindow); // validates
  return { inbound, maxInvalidFrames, invalidFrameWindow };
}
