import { ConfigError } from '../configError.ts'

/**
 * The topics a worker consumes (WORKER_TOPICS): every topic when no pattern is given; else those
 * whose queue name equals a pattern or starts with a pattern's prefix (`order.step.*`). A pattern
 * that matches no topic is a mistake worth stopping for, with the topics there are.
 */
export function selectTopics<T extends { readonly queue: string }> (topics: readonly T[], patterns: readonly string[] | undefined): T[] {
  if (patterns === undefined) return [...topics]
  const matches = (pattern: string, queue: string): boolean =>
    pattern.endsWith('*') ? queue.startsWith(pattern.slice(0, -1)) : queue === pattern
  const unmatched = patterns.find(pattern => !topics.some(topic => matches(pattern, topic.queue)))
  if (unmatched !== undefined) {
    throw new ConfigError(`WORKER_TOPICS: "${unmatched}" matches no topic; the topics are ${topics.map(topic => topic.queue).join(', ')}`)
  }
  return topics.filter(topic => patterns.some(pattern => matches(pattern, topic.queue)))
}
