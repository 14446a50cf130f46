/**
 * Options shared by every iroh target: the per-connection targets, the hub
 * and the reconnecting spoke.
 *
 * @module
 */

import type { Codec } from "../../core/envelope.ts";
import { jsonCodec } from "../../core/envelope.ts";
import type { PubSubError } from "../../core/errors.ts";
import { DEFAULT_MAX_FRAME_BYTES } from "../../core/framing.ts";
import type { TypedEvent } from "../../core/types.ts";
import { describe } from "../../core/topic.ts";
import type { IrohLinkConfig } from "./link.ts";

export type { IrohCloseInfo } from "./types.ts";

/**
 * Options for {@linkcode createSpokeIrohEventTarget} and
 * {@linkcode createHubIrohEventTarget}.
 *
 * @example
 * ```ts
 * import type { IrohEventTargetOptions } from "@alkdev/pubsub/iroh";
 *
 * const options: IrohEventTargetOptions = {
 *   maxFrameBytes: 64 * 1024,
 *   onError: (error) => console.warn(error.code, error.message),
 * };
 * ```
 */
export interface IrohEventTargetOptions {
  /**
   * Encodes envelopes into frame bodies and back. Both sides must use the same.
   *
   * @default {jsonCodec}
   */
  codec?: Codec;
  /**
   * The largest frame body, in bytes, in either direction. A larger incoming
   * length prefix closes the connection with code 1 (`frameTooLarge`) before
   * anything is allocated; a larger outgoing envelope makes `dispatchEvent`
   * throw {@linkcode FrameTooLargeError}.
   *
   * @default {1048576}
   */
  maxFrameBytes?: number;
  /**
   * The most bytes queued for the stream and not yet written. While the outbox
   * holds this much or more, `dispatchEvent` (so `publish`) throws
   * {@linkcode IrohOutboxFullError} and neither sends nor delivers the event;
   * memory stays under `maxOutboxBytes + maxFrameBytes`.
   *
   * @default {8388608}
   */
  maxOutboxBytes?: number;
  /**
   * The most bytes asked of the binding per `read` call.
   *
   * @default {65536}
   */
  readChunkBytes?: number;
  /**
   * How long opening (or accepting) the stream and the hello exchange may take.
   * On expiry the connection is closed with code 4 (`timeout`) and the factory
   * rejects.
   *
   * @default {10000}
   */
  handshakeTimeoutMs?: number;
  /**
   * How long a graceful close waits for the peer to finish its side. On expiry
   * the connection is closed with code 4 (`timeout`).
   *
   * @default {5000}
   */
  closeTimeoutMs?: number;
  /**
   * The error channel: bad frames from the peer ({@linkcode EnvelopeError}, the
   * connection stays open), and failures that close the connection
   * ({@linkcode FrameTooLargeError}, {@linkcode TruncatedFrameError},
   * {@linkcode IrohConnectionError}, {@linkcode IrohPeerRefusedError}).
   * Failures while opening reject the factory instead.
   *
   * @default {(error) => console.error("[@alkdev/pubsub/iroh]", error)}
   */
  onError?: (error: PubSubError) => void;
  /**
   * Called when a local listener throws; delivery to the other listeners goes on.
   *
   * @default {console.error}
   */
  onListenerError?: (error: unknown, event: TypedEvent) => void;
}

/** Resolved common options. @internal */
export interface ResolvedIrohOptions extends IrohLinkConfig {
  codec: Codec;
  maxOutboxBytes: number;
  onError: (error: PubSubError) => void;
}

/** Validates and fills in the common options. @internal */
export function resolveIrohOptions(
  options: IrohEventTargetOptions,
  prefix = "[@alkdev/pubsub/iroh]",
): ResolvedIrohOptions {
  const onError = options.onError ?? ((error: PubSubError) => console.error(prefix, error));
  const maxFrameBytes = options.maxFrameBytes ?? DEFAULT_MAX_FRAME_BYTES;
  return {
    codec: options.codec ?? jsonCodec,
    maxFrameBytes,
    maxOutboxBytes: positiveInt("maxOutboxBytes", options.maxOutboxBytes, 8 * 1024 * 1024),
    readChunkBytes: positiveInt("readChunkBytes", options.readChunkBytes, 64 * 1024),
    handshakeTimeoutMs: positiveInt("handshakeTimeoutMs", options.handshakeTimeoutMs, 10_000),
    closeTimeoutMs: positiveInt("closeTimeoutMs", options.closeTimeoutMs, 5_000),
    onError,
    report: (error) => {
      try {
        onError(error);
      } catch (thrown) {
        console.error(prefix, "onError threw:", thrown);
      }
    },
  };
}

/** Checks an optional positive integer option. */
export function positiveInt(name: string, value: number | undefined, fallback: number): number {
  if (value === undefined) return fallback;
  if (!Number.isInteger(value) || value <= 0) {
    throw new RangeError(`${name} must be a positive integer, got ${describe(value)}`);
  }
  return value;
}
