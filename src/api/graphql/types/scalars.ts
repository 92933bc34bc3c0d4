import { GraphQLError, Kind } from 'graphql'
import { DateTimeResolver, JSONResolver, SafeIntResolver } from 'graphql-scalars'
import { DECIMAL, MAX_DECIMAL_LENGTH } from '../../../orders/domain/placeOrder.ts'
import { builder } from '../builder.ts'

builder.addScalarType('DateTime', DateTimeResolver)
builder.addScalarType('JSON', JSONResolver)
builder.addScalarType('SafeInt', SafeIntResolver)

function parseDecimal (value: unknown): string {
  if (typeof value !== 'string' || value.length > MAX_DECIMAL_LENGTH || !DECIMAL.test(value)) {
    throw new GraphQLError(`Decimal must be a string of digits with an optional fraction, such as "19.99"; got ${JSON.stringify(value)}`)
  }
  return value
}

builder.scalarType('Decimal', {
  description: 'An exact decimal number written as a string, such as "19.99". Never a float, so no cent is lost.',
  serialize: (value) => String(value),
  parseValue: parseDecimal,
  parseLiteral: (ast) => {
    if (ast.kind !== Kind.STRING) throw new GraphQLError('Decimal must be written as a string, such as "19.99"')
    return parseDecimal(ast.value)
  }
})

builder.scalarType('Upload', {
  description: 'A file sent with the GraphQL multipart request spec (multipart/form-data with `operations` and `map`).',
  serialize: () => { throw new GraphQLError('Upload is an input-only scalar') },
  parseValue: (value) => {
    if (typeof value === 'object' && value !== null && typeof (value as File).stream === 'function') return value as File
    throw new GraphQLError('Upload must be a file sent as a multipart request (GraphQL multipart request spec)')
  }
})
