// ESLint for src/, plugins/ and test/: neostandard (standard's rules for
// TypeScript, the style of the fastify ecosystem). Run by `npm run lint`,
// which names this file: the project's top level holds only what the
// layout card lists.
import neostandard from 'neostandard'

export default [
  { basePath: '../..' },
  ...neostandard({ ts: true, ignores: ['dist/**', 'node_modules/**'] }),
  {
    rules: {
      // `void promise` marks a promise left unawaited on purpose (its
      // failure is handled inside, or logged); typescript-eslint's
      // no-floating-promises convention.
      'no-void': ['error', { allowAsStatement: true }],
    },
  },
]
