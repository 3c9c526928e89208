/**
 * The GPU-spec table the server is tested against too
 * (jupyter_gpu_kernels/specs/gpu_spec_cases.json, tests/test_gpu_spec_cases.py):
 * the sidebar reads each spec as the server does and names it the same way.
 */
import * as fs from 'fs';
import * as path from 'path';

import { describeGpuRequest } from '../src/format';
import { gpuModeOf } from '../src/formState';
import { parseGpuSpec } from '../src/gpuSpec';

interface ICase {
  spec: string | null;
  kind: string;
  count?: number;
  devices?: string[];
  label?: string;
  form?: string;
}

const TABLE = path.join(
  __dirname,
  '..',
  '..',
  'jupyter_gpu_kernels',
  'specs',
  'gpu_spec_cases.json'
);
const CASES: ICase[] = JSON.parse(fs.readFileSync(TABLE, 'utf-8')).cases;

describe('GPU specs (gpu_spec_cases.json)', () => {
  it('has cases of every kind', () => {
    expect(new Set(CASES.map(c => c.kind))).toEqual(
      new Set(['none', 'all', 'count', 'devices', 'cdi', 'invalid'])
    );
  });

  it.each(CASES.map(c => [JSON.stringify(c.spec), c] as [string, ICase]))(
    'reads %s as the server does',
    (_name, c) => {
      const spec = c.spec ?? undefined;
      const parsed = parseGpuSpec(spec);
      if (c.kind === 'invalid') {
        expect(parsed).toBeNull();
        return;
      }
      expect(parsed).toEqual({
        kind: c.kind,
        count: c.count ?? 0,
        devices: c.devices ?? []
      });
      expect(describeGpuRequest(spec)).toBe(c.label);
      expect(gpuModeOf(spec)).toBe(c.form);
    }
  );
});
