/**
 * The house's layers (docs/architecture.md), checked by `npm run lint`:
 *   wiring (main, app, services, topics, cli, config) → api → features → platform,
 *   and among the features: orders → inventory → operations → access.
 * A domain folder (pure decide/evolve) depends on no other code but domain folders.
 */
const FEATURES = '(access|operations|inventory|orders)'
const WIRING = '^src/(main|app|services|topics)\\.ts$'

/** @type {import('dependency-cruiser').IConfiguration} */
module.exports = {
  forbidden: [
    {
      name: 'no-circular',
      severity: 'error',
      comment: 'A cycle makes every file in it load, and change, with every other.',
      from: {},
      to: { circular: true }
    },
    {
      name: 'domain-is-pure',
      severity: 'error',
      comment: 'domain/ holds pure logic: commands, events, decide, evolve. No pg, pg-boss, graphql or platform.',
      from: { path: '^src/[^/]+/domain/' },
      to: { pathNot: ['^src/[^/]+/domain/', '^node:', '^(crypto|util)$'], dependencyTypesNot: ['type-only'] }
    },
    {
      name: 'domain-types-are-pure',
      severity: 'error',
      comment: 'Not even the types of pg, pg-boss or graphql in a domain folder.',
      from: { path: '^src/[^/]+/domain/' },
      to: { path: ['node_modules/(pg|pg-boss|graphql|graphql-yoga|@pothos)/', '^src/(platform|api)/'] }
    },
    {
      name: 'platform-imports-no-feature',
      severity: 'error',
      comment: 'platform/ is what every feature stands on; it knows none of them.',
      from: { path: '^src/platform/' },
      to: { path: '^src/', pathNot: '^src/platform/' }
    },
    {
      name: 'adapters-import-no-feature',
      severity: 'error',
      comment: 'Outside systems sit behind ports; they know the platform, not the features.',
      from: { path: '^src/adapters/' },
      to: { path: ['^src/' + FEATURES + '/', '^src/api/'] }
    },
    {
      name: 'features-import-no-api',
      severity: 'error',
      comment: 'The api is the edge: it calls the features, never the other way round.',
      from: { path: '^src/' + FEATURES + '/' },
      to: { path: '^src/api/' }
    },
    {
      name: 'feature-order',
      severity: 'error',
      comment: 'orders may use inventory, operations and access; inventory may use operations and access; operations may use access.',
      from: { path: '^src/(access|operations|inventory)/' },
      to: { path: '^src/orders/' }
    },
    {
      name: 'feature-order-inventory',
      severity: 'error',
      from: { path: '^src/(access|operations)/' },
      to: { path: '^src/inventory/' }
    },
    {
      name: 'feature-order-operations',
      severity: 'error',
      from: { path: '^src/access/' },
      to: { path: '^src/operations/' }
    },
    {
      name: 'wiring-is-on-top',
      severity: 'error',
      comment: 'Only the entry points use the composition root, its registry and the configuration loader.',
      from: { path: '^src/', pathNot: ['^src/cli/', WIRING, '^src/config/'] },
      to: { path: [WIRING, '^src/config/', '^src/cli/'] }
    },
    {
      name: 'no-orphans',
      severity: 'error',
      comment: 'A module nothing imports is dead code (entry points excepted).',
      from: { orphan: true, pathNot: ['^src/main\\.ts$', '^src/cli/', '\\.d\\.ts$', '^src/api/dashboard/public/'] },
      to: {}
    }
  ],
  options: {
    doNotFollow: { path: 'node_modules' },
    tsPreCompilationDeps: true,
    tsConfig: { fileName: 'tsconfig.json' },
    enhancedResolveOptions: { exportsFields: ['exports'], conditionNames: ['import', 'require', 'node', 'default', 'types'] }
  }
}
