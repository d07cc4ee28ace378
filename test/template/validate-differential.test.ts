/**
 * Differential test of `kiln validate` against the real `packer validate` 1.6.6.
 *
 * The corpus lives in test/template/differential/cases (see run-cases.ts for the
 * layout). The whole corpus runs once in beforeAll, a few processes at a time;
 * each case then gets its own test asserting on the collected results:
 * - Packer gives the verdict the case's folder records (valid = exit 0, invalid = exit 1);
 * - Kiln gives the same verdict (or the opposite, for a case marked kilnDiffers);
 * - when Kiln rejects, it prints something, names the template file, and prints no stack trace.
 *
 * Packer is required: without it the suite fails (it does not skip).
 */
import {
  CaseResult,
  describeResult,
  discoverCases,
  expectedKilnVerdict,
  expectedPackerVerdict,
  problemsOf,
  requirePacker,
  runCorpus,
} from './differential/run-cases';

const cases = discoverCases();
const results = new Map<string, CaseResult>();

beforeAll(async () => {
  const packer = requirePacker();
  for (const r of await runCorpus(cases, { packer })) {
    results.set(r.case.id, r);
  }
}, 10 * 60_000);

test('the corpus has at least 45 valid and 45 invalid cases, and at least 8 YAML twins', () => {
  const valid = cases.filter((c) => c.kind === 'valid');
  const invalid = cases.filter((c) => c.kind === 'invalid');
  const twins = cases.filter((c) => c.kilnTemplate !== 'template.json');
  expect(valid.length).toBeGreaterThanOrEqual(45);
  expect(invalid.length).toBeGreaterThanOrEqual(45);
  expect(twins.length).toBeGreaterThanOrEqual(8);
  expect(twins.some((c) => c.kind === 'valid')).toBe(true);
  expect(twins.some((c) => c.kind === 'invalid')).toBe(true);
});

const packerVerdicts = { accept: 'accepts', reject: 'rejects' } as const;

function testName(id: string, packerVerdict: 'accept' | 'reject', kilnVerdict: 'accept' | 'reject', differs?: string): string {
  if (!differs) {
    return `${id}: kiln and packer both ${packerVerdict}`;
  }
  return `${id}: kiln ${kilnVerdict}s where packer 1.6.6 ${packerVerdicts[packerVerdict]} (packer bug: ${differs})`;
}

for (const c of cases) {
  test(testName(c.id, expectedPackerVerdict(c), expectedKilnVerdict(c), c.meta.kilnDiffers), () => {
    const result = results.get(c.id);
    if (!result) {
      throw new Error(`${c.id}: no result was collected (did beforeAll fail?)`);
    }
    const problems = problemsOf(result);
    if (problems.length > 0) {
      throw new Error(`${problems.join('\n')}\n\n${describeResult(result)}`);
    }
  });
}
