import { order } from './orders.ts'

/**
 * placeOrdersFromFile: `size` orders as one JSONL upload (the GraphQL multipart request spec), which
 * the gateway reads as it streams. The body is built before the request is sent. Answers the bulk's uuid.
 */
export async function uploadOrders (endpoint: string, token: string, size: number, from = 0): Promise<string> {
  const body = new FormData()
  body.set('operations', JSON.stringify({
    query: 'mutation ($file: Upload!) { placeOrdersFromFile(file: $file, description: "bench") { bulkUuid errors } }',
    variables: { file: null }
  }))
  body.set('map', JSON.stringify({ 0: ['variables.file'] }))
  body.set('0', new Blob([Array.from({ length: size }, (_, i) => JSON.stringify(order(from + i))).join('\n')]), 'orders.jsonl')
  const response = await fetch(endpoint, { method: 'POST', body, headers: { 'graphql-require-preflight': '1', authorization: `Bearer ${token}` } })
  const result = await response.json() as { data?: { placeOrdersFromFile: { bulkUuid: string, errors: boolean } }, errors?: unknown }
  if (!result.data || result.data.placeOrdersFromFile.errors) throw new Error(`upload failed: ${JSON.stringify(result.errors)}`)
  return result.data.placeOrdersFromFile.bulkUuid
}
