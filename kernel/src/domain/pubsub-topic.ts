/** A Cloud Pub/Sub topic name, `projects/<project-id>/topics/<topic>`, as Google defines both parts. */
export const PUBSUB_TOPIC_RULE = /^projects\/[a-z][a-z0-9-]{4,28}[a-z0-9]\/topics\/[A-Za-z][A-Za-z0-9._~+%-]{2,254}$/;

/** True for a topic Gmail can publish to (Google reserves topic names starting with "goog"). */
export function isPubSubTopicName(name: string): boolean {
  return PUBSUB_TOPIC_RULE.test(name) && !name.split('/')[3]?.startsWith('goog');
}
