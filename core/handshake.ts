/**
 * The handshake of the routed protocol (version 2), shared by the WebSocket
 * and iroh hubs and spokes. Not exported from the package; the wire format is
 * in docs/architecture/websocket.md ("Handshake") and iroh.md.
 *
 * - spoke → hub: `["hello", 2]`, `["hello", 2, credentials]`, or
 *   `["hello", 2, credentials, options]` where `options` is an object whose
 *   `features` lists the optional behaviours the spoke understands (in this
 *   form `credentials` `null` means none);
 * - hub → spoke: `["welcome", 2]` answers the first two forms, byte for byte
 *   as before; `["welcome", 2, info]` answers the third, `info.features`
 *   listing the features the hub grants, beside any per-feature fields.
 *
 * @module
 */

/** The routed protocol's version. */
export const PROTOCOL_VERSION = 2;

/** A hello, parsed: what the hub needs to decide and answer. */
export type ParsedHello =
  | {
    kind: "hello";
    /** The credentials, `undefined` for none. */
    credentials: unknown;
    /**
     * The features the spoke asked for, or `undefined` for a hello without
     * options (answered with the bare `["welcome", 2]`).
     */
    features: readonly string[] | undefined;
  }
  | { kind: "version"; version: number }
  | { kind: "malformed"; reason: string };

/** The most features a hello may name; more makes it malformed. */
export const MAX_HELLO_FEATURES = 64;

/**
 * Parses a hello control frame (already a JSON array). A hello for another
 * version gives `kind: "version"`; every other shape `kind: "malformed"`.
 */
export function parseHello(message: readonly unknown[]): ParsedHello {
  const [tag, version, credentials, options] = message;
  if (tag !== "hello") return { kind: "malformed", reason: `Expected a hello, got ${describeTag(tag)}` };
  if (typeof version !== "number" || message.length > 4) {
    return { kind: "malformed", reason: 'Malformed hello: expected ["hello", 2, credentials?, options?]' };
  }
  if (version !== PROTOCOL_VERSION) return { kind: "version", version };
  if (message.length < 4) {
    return { kind: "hello", credentials: message.length === 3 ? credentials : undefined, features: undefined };
  }
  if (options === null || typeof options !== "object" || Array.isArray(options)) {
    return { kind: "malformed", reason: "Malformed hello: its options must be an object" };
  }
  const features = (options as { features?: unknown }).features;
  if (
    features !== undefined &&
    (!Array.isArray(features) || features.length > MAX_HELLO_FEATURES ||
      !features.every((feature) => typeof feature === "string"))
  ) {
    return {
      kind: "malformed",
      reason: `Malformed hello: its features must be an array of at most ${MAX_HELLO_FEATURES} strings`,
    };
  }
  return { kind: "hello", credentials: credentials === null ? undefined : credentials, features: features ?? [] };
}

/**
 * Encodes a hello. Without `features` it is the bare form
 * (`["hello", 2]` or `["hello", 2, credentials]`); with them, the options form.
 */
export function encodeHello(credentials: unknown, features?: readonly string[]): string {
  if (features === undefined) {
    return JSON.stringify(
      credentials === undefined ? ["hello", PROTOCOL_VERSION] : ["hello", PROTOCOL_VERSION, credentials],
    );
  }
  return JSON.stringify(["hello", PROTOCOL_VERSION, credentials ?? null, { features }]);
}

/** The features of `requested` that `supported` has, in `requested`'s order, each once. */
export function grantFeatures(requested: readonly string[], supported: readonly string[]): string[] {
  const granted: string[] = [];
  for (const feature of requested) {
    if (supported.includes(feature) && !granted.includes(feature)) granted.push(feature);
  }
  return granted;
}

/**
 * Encodes the welcome answering a hello: the bare `["welcome", 2]` when the
 * hello had no options (`granted` undefined), else
 * `["welcome", 2, { features: granted, ...extra }]`.
 */
export function encodeWelcome(
  granted: readonly string[] | undefined,
  extra?: Readonly<Record<string, unknown>>,
): string {
  if (granted === undefined) return `["welcome",${PROTOCOL_VERSION}]`;
  return JSON.stringify(["welcome", PROTOCOL_VERSION, { ...extra, features: granted }]);
}

/** What a welcome with info carries: the granted features and any per-feature fields. */
export interface WelcomeInfo {
  /** The features the hub granted. */
  readonly features: readonly string[];
  /** Per-feature fields (e.g. `limits`). */
  readonly [field: string]: unknown;
}

/** A welcome, parsed. */
export type ParsedWelcome =
  | { kind: "welcome"; info: WelcomeInfo | undefined }
  | { kind: "version"; version: number }
  | { kind: "malformed" };

/**
 * Parses a welcome control frame (already a JSON array). A welcome whose info
 * has no `features` array grants none; any other info shape is malformed.
 */
export function parseWelcome(message: readonly unknown[]): ParsedWelcome {
  const [tag, version, info] = message;
  if (tag !== "welcome" || typeof version !== "number" || message.length < 2 || message.length > 3) {
    return { kind: "malformed" };
  }
  if (version !== PROTOCOL_VERSION) return { kind: "version", version };
  if (message.length === 2) return { kind: "welcome", info: undefined };
  if (info === null || typeof info !== "object" || Array.isArray(info)) return { kind: "malformed" };
  const features = (info as { features?: unknown }).features;
  const list = Array.isArray(features) ? features.filter((feature) => typeof feature === "string") : [];
  return { kind: "welcome", info: { ...info, features: list } };
}

function describeTag(tag: unknown): string {
  const text = JSON.stringify(tag) ?? String(tag);
  return text.length > 40 ? `${text.slice(0, 40)}…` : text;
}
