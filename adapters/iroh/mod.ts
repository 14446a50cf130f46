/**
 * The iroh transport: publish/subscribe between two endpoints over one
 * bidirectional QUIC stream per connection, reachable by Ed25519 EndpointId
 * even behind NAT, with both sides' identities verified by the handshake.
 *
 * The adapter imports no iroh binding. Bring your own connection, for example
 * from `@number0/iroh` (installed with npm; under Deno it needs `--allow-ffi`),
 * which satisfies {@linkcode IrohConnectionLike} as is.
 *
 * Wire format: frames of a 4-byte big-endian length and the encoded envelope
 * (JSON by default); a zero-length frame is the hello each side sends first.
 * See `docs/architecture/iroh.md` for limits, close codes and failure
 * behaviour.
 *
 * ```ts ignore
 * import { createPubSub } from "@alkdev/pubsub";
 * import { createHubIrohEventTarget, createSpokeIrohEventTarget } from "@alkdev/pubsub/iroh";
 *
 * // Spoke: conn = await endpoint.connect(hubAddr, alpn)
 * const spoke = createPubSub<{ ping: number }>({ eventTarget: await createSpokeIrohEventTarget(conn) });
 * spoke.publish("ping", "1", 1); // reaches the hub's subscribers and the spoke's own
 *
 * // Hub: conn = await (await (await endpoint.acceptNext()).accept()).connect()
 * const hub = createPubSub<{ ping: number }>({
 *   eventTarget: await createHubIrohEventTarget(conn, { allow: (id) => knownSpokes.has(id) }),
 * });
 * for await (const n of hub.subscribe("ping", "1")) console.log(n);
 * ```
 *
 * @module
 */

export * from "./types.ts";
export * from "./errors.ts";
export type { IrohCloseInfo, IrohEventTargetOptions } from "./options.ts";
export * from "./iroh_event_target.ts";
export * from "./hub.ts";
export * from "./spoke.ts";
