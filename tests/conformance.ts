/**
 * The conformance suite lives in the public kit, `testing/` (`@alkdev/pubsub/testing`).
 * This file only keeps `nextWithin` importable from its old path for the WebSocket tests.
 */
export { nextWithin } from "../testing/mod.ts";
