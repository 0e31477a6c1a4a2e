// Lint rules that protect the architecture: the package and layer boundaries below, promises awaited,
// type-only imports marked, and no import cycles. tests/unit/architecture/lint-boundaries.test.ts
// proves each boundary fails on a violation.
//
// Boundaries (relative imports by `import/no-restricted-paths`, package names by `no-restricted-imports`):
// - orchestrator/ never imports agent-image/, agent-image/ never imports orchestrator/, kernel/ neither;
// - domain/ (any package) imports neither ports/, adapters/ nor services/; services/ never import adapters/
//   (the composition roots, main.ts and orchestrator.ts outside services/, wire adapters into services);
// - vendor SDKs only in adapters/; express (and its middleware) only in http/ and orchestrator/src/portal/.
// tests/ (emulators, benches, helpers) and scripts/ are exempt: they exercise every layer from outside.
import { readFileSync } from 'node:fs';
import tseslint from 'typescript-eslint';
import importPlugin from 'eslint-plugin-import';

const sdkPackages = [
  'dockerode',
  'node-vault',
  'pg',
  '@electric-sql/pglite',
  'googleapis',
  'google-auth-library',
  // Verifying Google's signed push tokens is part of speaking to Google.
  'jose',
  '@microsoft/microsoft-graph-client',
  '@azure/msal-node',
  '@anthropic-ai/sdk',
  // MIME, the mail providers' wire format, belongs with the provider adapter that speaks it.
  'nodemailer',
  'mailparser',
];
const httpPackages = ['express', 'express-rate-limit', 'helmet'];

const escape = (text) => text.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&');
/** A package and any of its subpaths (`googleapis/build/src/apis/gmail/v1.js`). */
const packagePattern = (names) => `^(${names.map(escape).join('|')})(/.*)?$`;

// The kernel's exports that are adapters (e.g. the Vault client): a package name hides the path from
// no-restricted-paths, so these are refused by name in domain/ and services/.
const kernelExports = JSON.parse(
  readFileSync(new URL('./kernel/package.json', import.meta.url), 'utf8'),
).exports;
const kernelAdapters = Object.entries(kernelExports)
  .filter(([, target]) => target.includes('/adapters/'))
  .map(([subpath]) => `@agent-fleet/kernel/${subpath.replace(/^\.\//, '')}`);

const restrictions = {
  sdk: { regex: packagePattern(sdkPackages), message: 'SDKs are imported only inside adapters/.' },
  http: {
    regex: packagePattern(httpPackages),
    message: 'express and its middleware are imported only inside http/ (and orchestrator/src/portal/).',
  },
  agent: {
    regex: '^@agent-fleet/agent(/.*)?$',
    message: 'Only the agent imports the agent: shared code lives in @agent-fleet/kernel.',
  },
  orchestrator: {
    regex: '^@agent-fleet/orchestrator(/.*)?$',
    message: 'Only the orchestrator imports the orchestrator: shared code lives in @agent-fleet/kernel.',
  },
  kernelAdapters: {
    regex: kernelAdapters.length === 0 ? '^$' : `^(${kernelAdapters.map(escape).join('|')})$`,
    message:
      "domain/ and services/ never import adapters, the kernel's included: take the port in through a constructor.",
  },
};
const restrict = (...names) => ['error', { patterns: names.map((name) => restrictions[name]) }];

// Each block states the whole rule for its files (a later flat-config block replaces a rule's options).
const packageBlocks = Object.entries({
  kernel: ['agent', 'orchestrator'],
  'agent-image': ['orchestrator'],
  orchestrator: ['agent'],
}).flatMap(([dir, otherPackages]) => [
  {
    files: [`${dir}/**/*.ts`],
    rules: { 'no-restricted-imports': restrict('sdk', 'http', ...otherPackages) },
  },
  {
    files: [`${dir}/src/adapters/**/*.ts`],
    rules: { 'no-restricted-imports': restrict('http', ...otherPackages) },
  },
  {
    files: [
      `${dir}/src/http/**/*.ts`,
      ...(dir === 'orchestrator' ? ['orchestrator/src/portal/**/*.ts'] : []),
    ],
    rules: { 'no-restricted-imports': restrict('sdk', ...otherPackages) },
  },
  {
    files: [`${dir}/src/domain/**/*.ts`, `${dir}/src/services/**/*.ts`],
    rules: { 'no-restricted-imports': restrict('sdk', 'http', 'kernelAdapters', ...otherPackages) },
  },
]);

const boundaryZones = [
  {
    target: './orchestrator',
    from: './agent-image',
    message: 'The orchestrator never imports the agent: shared code lives in kernel/.',
  },
  {
    target: './agent-image',
    from: './orchestrator',
    message: 'The agent never imports the orchestrator: shared code lives in kernel/.',
  },
  {
    target: './kernel',
    from: ['./agent-image', './orchestrator'],
    message: 'kernel/ imports neither the agent nor the orchestrator.',
  },
  {
    target: './*/src/domain/**',
    from: ['./*/src/ports/**', './*/src/adapters/**', './*/src/services/**'],
    message:
      'domain/ is pure: it imports neither ports/, adapters/ nor services/ (move the type into domain/).',
  },
  {
    target: './*/src/services/**',
    from: './*/src/adapters/**',
    message: 'services/ depend on ports/, never on adapters/: the composition root wires adapters in.',
  },
];

export default tseslint.config(
  { ignores: ['node_modules/**', '.build/**', 'charts/**', 'deploy/**', 'eslint.config.js'] },
  ...tseslint.configs.recommended,
  {
    files: ['**/*.ts'],
    languageOptions: {
      parserOptions: { projectService: true, tsconfigRootDir: import.meta.dirname },
    },
    plugins: { import: importPlugin },
    settings: { 'import/resolver': { node: { extensions: ['.ts', '.js'] } } },
    rules: {
      '@typescript-eslint/no-floating-promises': [
        'error',
        {
          allowForKnownSafeCalls: [
            {
              from: 'package',
              package: 'node:test',
              name: ['describe', 'it', 'test', 'suite', 'before', 'after', 'beforeEach', 'afterEach'],
            },
          ],
        },
      ],
      '@typescript-eslint/consistent-type-imports': 'error',
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_' }],
      'import/no-cycle': 'error',
      'import/no-restricted-paths': ['error', { basePath: import.meta.dirname, zones: boundaryZones }],
    },
  },
  ...packageBlocks,
);
