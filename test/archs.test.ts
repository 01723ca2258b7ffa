// Which GPUs a binary's architecture list covers (lib/archs.ts), as `nsa-topk info` reports it.
import { Coverage, coverage, describeArchs, parseCudaArchs } from '../lib/archs';
import { PREBUILD_CUDA_ARCHS } from '../scripts/binaries';

describe('parseCudaArchs', () => {
  test('CMake entries: plain (SASS + PTX), -real (SASS), -virtual (PTX); either separator', () => {
    expect(parseCudaArchs('90')).toEqual([{ arch: 90, sass: true, ptx: true }]);
    expect(parseCudaArchs('90-real;100-real;120')).toEqual([
      { arch: 90, sass: true, ptx: false }, { arch: 100, sass: true, ptx: false }, { arch: 120, sass: true, ptx: true },
    ]);
    expect(parseCudaArchs('80,90a-virtual')).toEqual([{ arch: 80, sass: true, ptx: true }, { arch: 90, sass: false, ptx: true, suffix: 'a' }]);
    expect(parseCudaArchs('')).toEqual([]);
  });
});

describe('coverage', () => {
  const built = parseCudaArchs('90-real;100-real;120');
  test('SASS runs on its major version at the same or a higher minor', () => {
    expect(coverage(built, '9.0')).toEqual({ how: 'sass', by: 'sm_90' });
    expect(coverage(built, '10.3')).toEqual({ how: 'sass', by: 'sm_100' });
    expect(coverage(parseCudaArchs('80-real'), '8.9')).toEqual({ how: 'sass', by: 'sm_80' });
  });
  test('PTX covers newer GPUs with no SASS of their major', () => {
    expect(coverage(built, '12.1')).toEqual({ how: 'sass', by: 'sm_120' });
    expect(coverage(built, '13.0')).toEqual({ how: 'ptx', by: 'compute_120' });
    expect(coverage(parseCudaArchs('90'), '10.0')).toEqual({ how: 'ptx', by: 'compute_90' });
  });
  test('older GPUs, and newer ones without PTX, are not covered', () => {
    expect(coverage(built, '8.6')).toEqual({ how: 'none' });
    expect(coverage(parseCudaArchs('90-real'), '10.0')).toEqual({ how: 'none' });
    expect(coverage(parseCudaArchs('90-real'), '8.9')).toEqual({ how: 'none' });
  });
  test('the prebuild\'s list: SASS for each class, PTX of the newest for later GPUs', () => {
    const prebuild = parseCudaArchs(PREBUILD_CUDA_ARCHS);
    const cases: [string, Coverage][] = [
      ['8.0', { how: 'sass', by: 'sm_80' }],
      ['8.6', { how: 'sass', by: 'sm_86' }],
      ['8.7', { how: 'sass', by: 'sm_86' }],
      ['8.9', { how: 'sass', by: 'sm_89' }],
      ['9.0', { how: 'sass', by: 'sm_90' }],
      ['10.0', { how: 'sass', by: 'sm_100' }],
      ['10.3', { how: 'sass', by: 'sm_100' }],
      ['11.0', { how: 'none' }],  // below compute_120, with no SASS of its major
      ['12.0', { how: 'sass', by: 'sm_120' }],
      ['12.1', { how: 'sass', by: 'sm_120' }],
      ['13.0', { how: 'ptx', by: 'compute_120' }],
      ['7.5', { how: 'none' }],
    ];
    for (const [cc, want] of cases) expect([cc, coverage(prebuild, cc)]).toEqual([cc, want]);
  });
  test('architecture-specific entries run on their own GPU only, family ones within their major', () => {
    expect(coverage(parseCudaArchs('90a'), '9.0')).toEqual({ how: 'sass', by: 'sm_90a' });
    expect(coverage(parseCudaArchs('90a'), '10.0')).toEqual({ how: 'none' });
    expect(coverage(parseCudaArchs('100f-virtual'), '10.3')).toEqual({ how: 'ptx', by: 'compute_100f' });
    expect(coverage(parseCudaArchs('100f'), '12.0')).toEqual({ how: 'none' });
  });
  test('describeArchs lists the machine code, then the PTX, each once', () => {
    expect(describeArchs(parseCudaArchs('90;120-real;100-virtual'))).toBe('sm_90, sm_120 (SASS); compute_90, compute_100 (PTX)');
    expect(describeArchs(parseCudaArchs(PREBUILD_CUDA_ARCHS)))
      .toBe('sm_80, sm_86, sm_89, sm_90, sm_100, sm_120 (SASS); compute_120 (PTX)');
    expect(describeArchs(parseCudaArchs('90-real'))).toBe('sm_90 (SASS)');
  });
});
