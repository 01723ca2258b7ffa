// ts-jest over test/**/*.test.ts, type-checked with test/tsconfig.json (which extends the root one
// and adds jest's types). The timeout is generous: the CPU suites run large inputs and the GPU
// suites pay for CUDA context creation in their first test.
/** @type {import('jest').Config} */
module.exports = {
  testEnvironment: 'node',
  roots: ['<rootDir>/test'],
  testMatch: ['<rootDir>/test/**/*.test.ts'],
  testTimeout: 60_000,
  transform: { '^.+\\.ts$': ['ts-jest', { tsconfig: '<rootDir>/test/tsconfig.json' }] },
};
