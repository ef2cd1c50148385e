import nx from '@nx/eslint-plugin';
import tseslint from 'typescript-eslint';

// The layering of the architecture, enforced: services never import each other; platform libraries
// never import services; contracts import nothing of ours; test helpers only in tests. The service
// catalog (which the test harness and tools use) reads the services' manifests; tools and benchmarks
// use the services' public entry points. Nx forbids importing an application, so those imports are
// allowed by name, for those projects only.
const depConstraints = [
  { sourceTag: 'type:service', onlyDependOnLibsWithTags: ['type:platform', 'type:contracts'] },
  { sourceTag: 'type:platform', onlyDependOnLibsWithTags: ['type:platform', 'type:contracts'] },
  { sourceTag: 'type:contracts', onlyDependOnLibsWithTags: [] },
  {
    sourceTag: 'type:testing',
    onlyDependOnLibsWithTags: ['type:platform', 'type:contracts', 'type:catalog'],
  },
  { sourceTag: 'type:catalog', onlyDependOnLibsWithTags: ['type:platform', 'type:contracts'] },
  ...['type:tool', 'type:bench'].map((sourceTag) => ({
    sourceTag,
    onlyDependOnLibsWithTags: ['type:platform', 'type:contracts', 'type:testing', 'type:catalog'],
  })),
];
const moduleBoundaries = (allow = []) => [
  'error',
  { enforceBuildableLibDependency: false, allow, depConstraints },
];
/** `@veil/<service>/manifest`. */
const SERVICE_MANIFESTS = '^@veil/[a-z-]+/manifest$';
/** A service's public entry points are its aliases in tsconfig.base.json: `@veil/<service>/<entry>`. */
const SERVICE_ENTRY_POINTS = '^@veil/(?!platform/|contracts/)[a-z-]+/[a-z-]+$';
const LIBRARY_INTERNALS = {
  group: ['@veil/*/src/*', '@veil/platform/*/src/*'],
  message: 'Import the library entry point, not its internals.',
};

export default [
  {
    ignores: ['**/node_modules', '**/dist', '**/coverage', '.veil', '.veil-cache', '.nx', 'bench/results'],
  },
  ...nx.configs['flat/base'],
  ...nx.configs['flat/typescript'],
  {
    files: ['**/*.ts'],
    languageOptions: {
      parserOptions: { projectService: true, tsconfigRootDir: import.meta.dirname },
    },
    rules: {
      '@nx/enforce-module-boundaries': moduleBoundaries(),
      '@typescript-eslint/no-explicit-any': 'error',
      // noUncheckedIndexedAccess is on; a checked `!` is clearer than a redundant branch.
      '@typescript-eslint/no-non-null-assertion': 'off',
      '@typescript-eslint/no-floating-promises': 'error',
      '@typescript-eslint/no-misused-promises': ['error', { checksVoidReturn: { arguments: false } }],
      '@typescript-eslint/await-thenable': 'error',
      '@typescript-eslint/no-unused-vars': [
        'error',
        { argsIgnorePattern: '^_', varsIgnorePattern: '^_', destructuredArrayIgnorePattern: '^_' },
      ],
      'no-restricted-imports': ['error', { patterns: [LIBRARY_INTERNALS] }],
    },
  },
  {
    files: ['libs/service-catalog/**/*.ts'],
    rules: { '@nx/enforce-module-boundaries': moduleBoundaries([SERVICE_MANIFESTS]) },
  },
  {
    // Operator tools and benchmarks: what a service exports for them, never its internals.
    files: ['tools/**/*.ts', 'bench/**/*.ts'],
    rules: {
      '@nx/enforce-module-boundaries': moduleBoundaries([SERVICE_ENTRY_POINTS]),
      'no-restricted-imports': [
        'error',
        {
          patterns: [
            LIBRARY_INTERNALS,
            {
              group: ['**/services/*/src/**', '**/libs/**/src/**'],
              message:
                "Import a service's public entry point (@veil/<service>/<entry>, see tsconfig.base.json) or a library's, not its internals.",
            },
          ],
        },
      ],
    },
  },
  {
    // Integration tests and their fixtures may use the test harness.
    files: ['**/test/**/*.ts', '**/*.spec.ts'],
    rules: {
      '@nx/enforce-module-boundaries': [
        'error',
        {
          enforceBuildableLibDependency: false,
          depConstraints: [{ sourceTag: '*', onlyDependOnLibsWithTags: ['*'] }],
        },
      ],
    },
  },
  {
    // contracts stay framework-free: they are shared with upstream producers and docs generation.
    files: ['libs/contracts/**/*.ts'],
    rules: {
      'no-restricted-imports': [
        'error',
        {
          patterns: [
            {
              group: ['@nestjs/*', 'typeorm', 'kafkajs', '@aws-sdk/*', 'pg'],
              message: 'contracts import no framework, client or driver.',
            },
          ],
        },
      ],
    },
  },
  { ...tseslint.configs.disableTypeChecked, files: ['**/*.js', '**/*.mjs', '**/*.cjs'] },
];
