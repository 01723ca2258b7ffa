// Which GPUs a binary's architecture list covers (lib/archs.ts), as `nsa-topk info` reports it.
import { coverage, describeArchs, parseCudaArchs } from '../lib/archs';

describe('parseCudaArchs', () => {
  test('CMake entries: plain (SASS + PTX), -real (SASS), -virtual (PTX); either separator', () => {
    expect(parseCudaArchs('90')).toEqual([{ arch: 90, sass: true, ptx: true }]);
    expect(parseCudaArchs('90-real;100-real;120')).toEqual([
      { arch: 90, sass: true, ptx: false }, { arch: 100, sass: true, ptx: false }, { arch: 120, sass: true, ptx: true },
    ]);
    expect(parseCudaArchs('80,90a-virtual')).toEqual([{ arch: 80, sass: true, ptx: true }, { arch: 90, sass: false, ptx: true }]);
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
  test('describeArchs says what each entry carries', () => {
    expect(describeArchs(parseCudaArchs('90;120-real;100-virtual'))).toBe('sm_90 (SASS + PTX), sm_120 (SASS), sm_100 (PTX)');
  });
});
