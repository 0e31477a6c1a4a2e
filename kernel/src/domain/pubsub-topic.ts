/**
 * A Cloud Pub/Sub topic name, `projects/<project-id>/topics/<topic>`, as Google defines both parts. A topic
 * may not start with "goog" (Google reserves those): Gmail's watch would refuse it on every renewal, so a
 * config naming one is refused up front.
 */
export const PUBSUB_TOPIC_RULE = /^projects\/[a-z][a-z0-9-]{4,28}[a-z0-9]\/topics\/(?!goog)[A-Za-z][A-Za-z0-9._~+%-]{2,254}$/;

/** True for a topic Gmail can publish to. */
export function isPubSubTopicName(name: string): boolean {
  return PUBSUB_TOPIC_RULE.test(name);
}
