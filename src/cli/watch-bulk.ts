import { createClient } from 'graphql-ws'
import WebSocket from 'ws'

/**
 * `GATEWAY_TOKEN=<token> npm run -s watch -- <bulk-uuid> [ws://localhost:4000/graphql]`: a graphql-ws
 * client that prints each state of a bulk as one JSON line, and exits when the bulk has finished.
 * The token travels in connection_init.
 */
const [uuid, url = 'ws://localhost:4000/graphql'] = process.argv.slice(2)
if (!uuid) {
  process.stderr.write('usage: GATEWAY_TOKEN=<token> npm run -s watch -- <bulk-uuid> [ws://host:port/graphql]\n')
  process.exit(2)
}

const token = process.env.GATEWAY_TOKEN ?? ''
const client = createClient({ url, webSocketImpl: WebSocket, retryAttempts: 0, connectionParams: { authorization: `Bearer ${token}` } })
const query = `subscription ($uuid: ID!) {
  bulkStatus(uuid: $uuid) { uuid status progress counts { open complete retriablyFailed notRetriablyFailed rejected } finishedAt }
}`
try {
  for await (const result of client.iterate({ query, variables: { uuid } })) {
    if (result.errors) throw new Error(result.errors.map(error => error.message).join('; '))
    process.stdout.write(JSON.stringify(result.data?.bulkStatus) + '\n')
  }
} catch (error) {
  const message = error instanceof Error ? error.message : (error as { reason?: string }).reason ?? JSON.stringify(error)
  process.stderr.write(`watch: ${message}\n`)
  process.exitCode = 1
} finally {
  await client.dispose()
}
