// Lint rules that protect the architecture: SDKs stay inside adapters, promises are awaited,
// type-only imports are marked, and there are no import cycles.
import tseslint from 'typescript-eslint';
import importPlugin from 'eslint-plugin-import';

const sdkPackages = [
  'dockerode',
  'node-vault',
  'pg',
  '@electric-sql/pglite',
  'googleapis',
  '@microsoft/microsoft-graph-client',
  '@azure/msal-node',
  '@anthropic-ai/sdk',
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
      'no-restricted-imports': [
        'error',
        { paths: sdkPackages.map((name) => ({ name, message: 'SDKs are imported only inside adapters/.' })) },
      ],
    },
  },
  {
    files: ['**/adapters/**/*.ts', 'tests/**/*.ts', 'scripts/**/*.ts'],
    rules: { 'no-restricted-imports': 'off' },
  },
);
