import { z } from 'zod'
import type { RestParameter, RestRoute } from './route.ts'
import { ErrorSchema } from './schemas.ts'

/** A zod schema as an OpenAPI 3.1 schema object (JSON Schema 2020-12, without its `$schema`). */
function schemaOf (schema: z.ZodType, io: 'input' | 'output'): Record<string, unknown> {
  const { $schema: _, ...json } = z.toJSONSchema(schema, { io, unrepresentable: 'any' }) as Record<string, unknown>
  return json
}

function parameterOf (parameter: RestParameter): Record<string, unknown> {
  return {
    name: parameter.name,
    in: parameter.in,
    required: parameter.in === 'path',
    description: parameter.description,
    schema: schemaOf(parameter.schema, 'input'),
    // searchCriteria[filter_groups][0][filters][0][field]=status
    ...(parameter.in === 'query' ? { style: 'deepObject', explode: true } : {})
  }
}

const refusal = (description: string): Record<string, unknown> => ({
  description,
  content: { 'application/json': { schema: { $ref: '#/components/schemas/Error' } } }
})

function operationOf (route: RestRoute): Record<string, unknown> {
  const reads = route.method === 'GET'
  return {
    operationId: route.operationId,
    summary: route.summary,
    description: route.description,
    tags: [route.tag],
    parameters: route.parameters.map(parameterOf),
    ...(route.body !== undefined
      ? { requestBody: { required: true, content: { 'application/json': { schema: schemaOf(route.body, 'input') } } } }
      : {}),
    responses: {
      [route.answer.status]: { description: route.answer.description, content: { 'application/json': { schema: schemaOf(route.answer.schema, 'output') } } },
      400: refusal(reads ? 'A malformed parameter.' : 'A body that is not JSON, not of the route\'s form, too many items, or a bad Idempotency-Key.'),
      401: refusal('No valid credentials.'),
      ...(route.adminOnly === true ? { 403: refusal('Not an admin.') } : {}),
      ...(reads && route.path.includes('{bulkUuid}') ? { 404: refusal("No such bulk, or another owner's.") } : {}),
      ...(reads ? {} : { 409: refusal('The Idempotency-Key was used for a different request.'), 413: refusal('A body over MAX_BODY_BYTES.') }),
      429: refusal('Over the rate limit; Retry-After says when to try again.'),
      500: refusal('An unexpected error; its details are in the gateway log.')
    }
  }
}

/**
 * The OpenAPI 3.1 description of the REST routes, generated from the route table and the zod
 * schemas that validate their input (served at /rest/openapi.json): a client generator can use it.
 */
export function openApiDocument (routes: readonly RestRoute[]): Record<string, unknown> {
  const paths: Record<string, Record<string, unknown>> = {}
  for (const route of routes) (paths[route.path] ??= {})[route.method.toLowerCase()] = operationOf(route)
  return {
    openapi: '3.1.0',
    info: {
      title: 'order-ops-gateway: Magento asynchronous and bulk REST API',
      version: '1',
      description: "Magento's asynchronous web endpoints, bulk endpoints and bulk status endpoints for orders and stock (docs/magento-rest.md)."
    },
    servers: [
      { url: '/rest', description: 'The default store.' },
      { url: '/rest/{store}', description: 'A store code, as Magento takes it: accepted and ignored (the gateway has one store).', variables: { store: { default: 'default' } } }
    ],
    security: [{ bearer: [] }],
    tags: [
      { name: 'async', description: 'Accepted at once, carried out by the workers.' },
      { name: 'bulk status', description: 'What became of a bulk and its operations.' }
    ],
    paths,
    components: {
      securitySchemes: { bearer: { type: 'http', scheme: 'bearer', description: 'An API token or a JWT, as for GraphQL.' } },
      schemas: { Error: schemaOf(ErrorSchema, 'output') }
    }
  }
}
