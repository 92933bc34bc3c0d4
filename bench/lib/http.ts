/** GraphQL over HTTP from the bench process: plain fetch, as any client would. */
export interface GraphQLClient {
  request<T = any> (query: string, variables?: object): Promise<T>
}

export function graphqlClient (endpoint: string, token: string): GraphQLClient {
  const headers = { 'content-type': 'application/json', authorization: `Bearer ${token}` }
  return {
    async request (query, variables) {
      const response = await fetch(endpoint, { method: 'POST', headers, body: JSON.stringify({ query, variables }) })
      const body = await response.json() as { data?: any, errors?: Array<{ message: string }> }
      if (body.errors?.length || !body.data) throw new Error(`GraphQL error (HTTP ${response.status}): ${JSON.stringify(body.errors)}`)
      return body.data
    }
  }
}
