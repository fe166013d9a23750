import eslint from '@eslint/js';
import tseslint from 'typescript-eslint';

export default tseslint.config(
  { ignores: ['src/generated/**', 'node_modules/**', '.data/**', 'bench/results/**', '.build/**', 'dist/**'] },
  eslint.configs.recommended,
  ...tseslint.configs.recommended,
  // scripts/build.mjs is JavaScript type-checked by tsc (checkJs), which knows Node's globals; ESLint does not.
  { files: ['**/*.mjs'], rules: { 'no-undef': 'off' } },
  {
    rules: {
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_' }],
    },
  },
);
