/**
 * The GPU-spec syntax (`docker run --gpus`: none | all | N | device=0,2 |
 * device=GPU-… | nvidia.com/gpu=0), read as the server reads it
 * (jupyter_gpu_kernels/specs/gpus.py). Both are tested against one table,
 * jupyter_gpu_kernels/specs/gpu_spec_cases.json (test/gpuSpecCases.spec.ts and
 * tests/test_gpu_spec_cases.py), so they cannot disagree. Pure: used by
 * format.ts (the words) and formState.ts (the form's GPU choice).
 */

/** What a spec asks for; `kind` as the server's GPURequest.kind. */
export interface IGpuSpec {
  kind: 'none' | 'all' | 'count' | 'devices' | 'cdi';
  count: number;
  devices: string[];
}

const COUNT = /^[0-9]+$/;
const INDEX = /^[0-9]{1,3}$/;
const UUID = /^(GPU|MIG)-[0-9A-Za-z][0-9A-Za-z/-]*$/;
const CDI =
  /^[a-z0-9][a-z0-9.-]*\.[a-z]{2,}\/[a-zA-Z0-9][a-zA-Z0-9_.-]*=[a-zA-Z0-9_.:-]+$/;
const MAX_COUNT = 256;

/** The spec's meaning, or null for one the server refuses. */
export function parseGpuSpec(spec: string | null | undefined): IGpuSpec | null {
  let text = (spec ?? '').trim();
  if (text.length >= 2 && text.startsWith('"') && text.endsWith('"')) {
    text = text.slice(1, -1).trim();
  }
  const low = text.toLowerCase();
  const of = (
    kind: IGpuSpec['kind'],
    count = 0,
    devices: string[] = []
  ): IGpuSpec => ({ kind, count, devices });
  if (low === '' || low === 'none' || low === '0') {
    return of('none');
  }
  if (low === 'all') {
    return of('all');
  }
  if (COUNT.test(text)) {
    const n = Number(text);
    return n > MAX_COUNT ? null : of('count', n);
  }
  if (low.startsWith('count=')) {
    return parseGpuSpec(text.slice('count='.length));
  }
  if (low.startsWith('device=')) {
    const ids = text
      .slice('device='.length)
      .split(',')
      .map(p => p.trim());
    const valid = ids.every(p => INDEX.test(p) || UUID.test(p));
    return valid && new Set(ids).size === ids.length
      ? of('devices', 0, ids)
      : null;
  }
  if (text.includes('/') && text.includes('=')) {
    const names = text.split(',').map(p => p.trim());
    return names.every(p => CDI.test(p)) ? of('cdi', 0, names) : null;
  }
  return null;
}
