import { EnvelopArmor } from '@escape.tech/graphql-armor'
import { getNamedType, GraphQLError, isIntrospectionType, type ValidationContext, type ValidationRule } from 'graphql'
import type { Plugin } from 'graphql-yoga'
import type { LimitsConfig } from './options.ts'
import { LIMIT_ERROR_CODE, type LimitErrorCode } from './codes.ts'

/**
 * Armor reports a rejection as a plain error prefixed "Syntax Error:" (also for depth or cost);
 * this reports it with our code instead. Validation rules report into the validation context, as
 * any other validation error; the token limit counts while parsing, where there is no context
 * (null), so it throws and the parse fails.
 */
function rejectWith (code: LimitErrorCode): { propagateOnRejection: false, onReject: Array<(context: ValidationContext | null, error: GraphQLError) => void> } {
  return {
    propagateOnRejection: false,
    onReject: [(context, error) => {
      const coded = new GraphQLError(error.message.replace(/^Syntax Error: /, ''), { extensions: { code } })
      if (context === null) throw coded
      context.reportError(coded)
    }]
  }
}

/** GraphQL Armor's envelop plugins with the configured limits, each refusal with its own code. */
export function armorPlugins (limits: LimitsConfig): Plugin[] {
  const armor = new EnvelopArmor({
    maxDepth: { n: limits.maxDepth, ...rejectWith(LIMIT_ERROR_CODE.QUERY_TOO_DEEP) },
    maxAliases: { n: limits.maxAliases, ...rejectWith(LIMIT_ERROR_CODE.TOO_MANY_ALIASES) },
    maxDirectives: { n: limits.maxDirectives, ...rejectWith(LIMIT_ERROR_CODE.TOO_MANY_DIRECTIVES) },
    maxTokens: { n: limits.maxTokens, ...rejectWith(LIMIT_ERROR_CODE.TOO_MANY_TOKENS) },
    // The cost is the schema's, counted with the variables' page sizes: src/api/security/queryCost.ts.
    costLimit: { enabled: false },
    // "Did you mean …" would tell the schema to someone not allowed to introspect it.
    blockFieldSuggestion: { enabled: !limits.introspection }
  })
  return armor.protect().plugins as Plugin[]
}

/**
 * graphql-js's NoSchemaIntrospectionCustomRule with our code, reporting each way into introspection
 * (`__schema`, `__type`) once rather than every field below it. A validation rule rather than
 * `@graphql-yoga/plugin-disable-introspection`, which keys on the HTTP request and so would let
 * introspection through over WebSocket, where operations have none.
 */
const noIntrospection: ValidationRule = (context) => ({
  Field (node) {
    const type = getNamedType(context.getType())
    const parent = context.getParentType()
    if (type !== undefined && isIntrospectionType(type) && !(parent != null && isIntrospectionType(parent))) {
      context.reportError(new GraphQLError(`introspection is off on this gateway (GRAPHQL_INTROSPECTION): cannot query "${node.name.value}"`, {
        nodes: node, extensions: { code: LIMIT_ERROR_CODE.INTROSPECTION_DISABLED }
      }))
    }
  }
})

export function useIntrospectionOff (): Plugin {
  return { onValidate ({ addValidationRule }) { addValidationRule(noIntrospection) } }
}

function withCode (error: GraphQLError, code: string): GraphQLError {
  return new GraphQLError(error.message, {
    nodes: error.nodes,
    source: error.source,
    positions: error.positions,
    path: error.path,
    originalError: error.originalError,
    extensions: { ...error.extensions, code }
  })
}

/**
 * A stable `extensions.code` on the errors graphql-js reports without one: a query that does not
 * parse, and one that does not validate. Errors that have a code keep it.
 */
export function useParseAndValidationCodes (): Plugin {
  return {
    onParse: () => ({ result, replaceParseResult }) => {
      if (result instanceof GraphQLError && result.extensions.code === undefined) {
        replaceParseResult(withCode(result, LIMIT_ERROR_CODE.PARSE_FAILED))
      }
    },
    onValidate: () => ({ valid, result, setResult }) => {
      if (!valid) setResult(result.map(error => error.extensions.code === undefined ? withCode(error, LIMIT_ERROR_CODE.VALIDATION_FAILED) : error))
    }
  }
}
