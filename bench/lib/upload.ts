import { order } from './orders.ts'

/** `size` bench orders as a JSONL file (one PlaceOrderInput a line), built before any clock starts. */
export function ordersFile (size: number, from = 0): Blob {
  return new Blob([Array.from({ length: size }, (_, i) => JSON.stringify(order(from + i))).join('\n')])
}

/**
 * placeOrdersFromFile: a JSONL file sent with the GraphQL multipart request spec, which the gateway
 * reads as it streams. Answers the bulk's uuid.
 */
export async function uploadOrders (endpoint: string, token: string, file: Blob): Promise<string> {
  const body = new FormData()
  body.set('operations', JSON.stringify({
    query: 'mutation ($file: Upload!) { placeOrdersFromFile(file: $file, description: "bench") { bulkUuid errors } }',
    variables: { file: null }
  }))
  body.set('map', JSON.stringify({ 0: ['variables.file'] }))
  body.set('0', file, 'orders.jsonl')
  const response = await fetch(endpoint, { method: 'POST', body, headers: { 'graphql-require-preflight': '1', authorization: `Bearer ${token}` } })
  const result = await response.json() as { data?: { placeOrdersFromFile: { bulkUuid: string, errors: boolean } }, errors?: unknown }
  if (!result.data || result.data.placeOrdersFromFile.errors) throw new Error(`upload failed: ${JSON.stringify(result.errors)}`)
  return result.data.placeOrdersFromFile.bulkUuid
}
