/**
 * The core contract: types, topics, envelopes, errors, subscriptions and
 * `createPubSub`. Imports nothing but `@repeaterjs/repeater`.
 *
 * @module
 */

export * from "./types.ts";
export * from "./topic.ts";
export * from "./errors.ts";
export * from "./envelope.ts";
export * from "./json_depth.ts";
export * from "./framing.ts";
export * from "./subscription.ts";
export * from "./in_process_event_target.ts";
export * from "./transport_event_target.ts";
export * from "./hub_router.ts";
export type { Authorize, AuthorizeLimits, AuthorizeRequest, HubAction } from "./hub_authorize.ts";
export * from "./topic_history.ts";
export * from "./hub_history.ts";
export * from "./subscription_gap.ts";
export * from "./stream_position.ts";
export * from "./hub_event_target.ts";
export * from "./remote_interest.ts";
export * from "./hub_stats.ts";
export * from "./create_pubsub.ts";
export * from "./standard_schema.ts";
export {
  type HubSchemaOptions,
  MAX_ISSUE_MESSAGE,
  MAX_PAYLOAD_ISSUES,
  MAX_PAYLOAD_PREVIEW,
  type PayloadIssue,
  PayloadValidationError,
  type PubSubSchemas,
  type SchemaEventMap,
  type SchemasFor,
} from "./payload_validation.ts";
export * from "./token_bucket.ts";
export * from "./inbound_rate_limit.ts";
export * from "./send_budget.ts";
export * from "./strike_window.ts";
export * from "./fair_scheduler.ts";
export * from "./ordered_results.ts";
export * from "./decision_cache.ts";
export * from "./send_pacer.ts";
export * from "./backoff.ts";
export * from "./heartbeat.ts";
