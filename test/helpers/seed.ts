// The seed of a seeded suite: NSA_TOPK_TEST_SEED when set (to replay a run whose summary printed
// it), else the suite's own.
export function testSeed(fallback: number): number {
  const s = process.env.NSA_TOPK_TEST_SEED;
  return s === undefined || s === '' ? fallback : Number(s);
}
