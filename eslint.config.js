// Lint rules that guard data safety first: an un-awaited promise is a write that may be lost.
import tseslint from 'typescript-eslint';

export default tseslint.config(
  { ignores: ['dist/**', 'node_modules/**', 'build/**', 'bench/**'] },
  ...tseslint.configs.recommendedTypeChecked,
  {
    languageOptions: {
      parserOptions: { projectService: true, tsconfigRootDir: import.meta.dirname },
    },
    rules: {
      '@typescript-eslint/no-floating-promises': 'error',
      '@typescript-eslint/no-misused-promises': 'error',
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_' }],
      'no-restricted-syntax': [
        'error',
        { selector: 'ExportDefaultDeclaration', message: 'Use named exports only.' },
      ],
    },
  },
  {
    // Only the CLI and server adapters may touch the process; everything below takes inputs.
    files: ['src/**/*.ts'],
    ignores: ['src/cli/**', 'src/server/**', 'src/**/*.test.ts', 'src/testing/**'],
    rules: {
      'no-restricted-properties': [
        'error',
        { object: 'process', property: 'exit', message: 'Only cli/ ends the process.' },
        { object: 'process', property: 'argv', message: 'Only cli/ reads argv.' },
        { object: 'process', property: 'env', message: 'Only cli/ reads the environment.' },
        { object: 'console', property: 'log', message: 'Only cli/ writes to the console.' },
        { object: 'console', property: 'error', message: 'Only cli/ writes to the console.' },
      ],
    },
  },
);
