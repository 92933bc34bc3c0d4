import { createComplexityRule } from '@pothos/plugin-complexity'
import { GraphQLError, validate, type ExecutionArgs, type ExecutionResult } from 'graphql'
import type { Plugin } from 'graphql-yoga'
import { LIMIT_ERROR_CODE } from './codes.ts'

/**
 * The cost limit, `GRAPHQL_MAX_COST` (issue #12, item 2). Costs are the schema's own
 * (src/api/graphql/complexity.ts, Pothos's complexity plugin): a connection multiplies what is
 * selected below it by the page asked for, a `first` or `last` given as a variable counted at its
 * value, so nesting and aliases multiply the cost as they multiply the rows read.
 *
 * Measured when the operation is about to run, with its variables, rather than as a validation
 * rule: yoga caches validation by document, and a document's cost depends on its variables. It
 * runs before the rate limit, so a refused query costs no statement at all. The answer is
 * QUERY_TOO_COSTLY, HTTP 400; variables that do not fit the operation are left to execution to report.
 */
export function useQueryCost (maxCost: number): Plugin {
  const refusal = (args: ExecutionArgs): ExecutionResult | undefined => {
    let cost = 0
    validate(args.schema, args.document, [createComplexityRule({
      context: (args.contextValue ?? {}) as object,
      variableValues: args.variableValues ?? {},
      operationName: args.operationName,
      validate: (result) => { cost = Math.max(cost, result.complexity) }
    })])
    if (cost <= maxCost) return undefined
    return {
      errors: [new GraphQLError(`query cost ${cost} is over the limit of ${maxCost} (GRAPHQL_MAX_COST): ask for smaller pages (first/last), fewer nested lists or fewer aliases`, {
        extensions: { code: LIMIT_ERROR_CODE.QUERY_TOO_COSTLY, cost, maxCost, http: { status: 400 } }
      })]
    }
  }
  return {
    onExecute ({ args, setResultAndStopExecution }) {
      const refused = refusal(args)
      if (refused !== undefined) setResultAndStopExecution(refused)
    },
    onSubscribe ({ args, setResultAndStopExecution }) {
      const refused = refusal(args)
      if (refused !== undefined) setResultAndStopExecution(refused)
    }
  }
}
