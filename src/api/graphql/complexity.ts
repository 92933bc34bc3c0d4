/**
 * What a query costs (src/api/security/queryCost.ts refuses one over GRAPHQL_MAX_COST): Pothos's
 * complexity plugin adds each field's cost, 1 by default, and multiplies what is selected below a
 * field by its multiplier: 10 for a plain list, and for a connection the page asked for. The page
 * is counted at its real value, a `first` given as a variable included, so nesting connections
 * (an operation's bulk's operations …) or repeating them under aliases multiplies the cost as it
 * multiplies the rows read.
 */

/** A connection's page: what `first`/`last` default to, and the most either may ask for. */
export interface PageSize {
  readonly defaultSize: number
  readonly maxSize: number
}

export const OPERATIONS_PAGE: PageSize = Object.freeze({ defaultSize: 50, maxSize: 1000 })
export const BULKS_PAGE: PageSize = Object.freeze({ defaultSize: 20, maxSize: 100 })
export const ORDERS_PAGE: PageSize = Object.freeze({ defaultSize: 20, maxSize: 100 })

/**
 * A field that reads the database once for each parent it is selected on (an operation's bulk, an
 * order's events): ten times a field read from a row already loaded.
 */
export const READ_COST = 10

/** A connection's cost: its selection once per item of the page asked for (the larger of `first` and `last`), at most the largest page. */
export function pageCost (page: PageSize) {
  return (args: { readonly first?: number | null, readonly last?: number | null }): { field: number, multiplier: number } => {
    const asked = [args.first, args.last].filter((size): size is number => typeof size === 'number')
    const size = asked.length === 0 ? page.defaultSize : Math.max(...asked)
    return { field: READ_COST, multiplier: Math.max(0, Math.min(size, page.maxSize)) }
  }
}
