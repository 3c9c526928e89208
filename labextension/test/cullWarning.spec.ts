/**
 * Unit tests of cullWarning.ts: the idle-cull warning is notified once per
 * kernel and `cull_at`, only for this server's kernels, and its text.
 */
import { IKernelRow } from '../src/api';
import { cullMessage, cullTime, CullWatcher } from '../src/cullWarning';

const row = (over: Partial<IKernelRow> = {}): IKernelRow => ({
  kernel_id: 'k1',
  container: 'abc',
  host: 'local',
  image: 'torch:2',
  environment: 'torch',
  gpus: '0',
  notebook: 'work/train.ipynb',
  session_id: null,
  started: '',
  state: 'running',
  server: 's',
  this_server: true,
  ...over
});

describe('CullWatcher', () => {
  const at = '2030-01-02T10:42:00+00:00';
  it('notifies a warned kernel once per cull_at', () => {
    const w = new CullWatcher();
    expect(w.update([row()])).toEqual([]);
    expect(w.update([row({ cull_at: at })]).map(r => r.kernel_id)).toEqual([
      'k1'
    ]);
    expect(w.update([row({ cull_at: at })])).toEqual([]);
    expect(w.update([row({ cull_at: at }), row({ kernel_id: 'k2' })])).toEqual(
      []
    );
  });
  it('notifies again after the kernel was used and warned anew', () => {
    const w = new CullWatcher();
    w.update([row({ cull_at: at })]);
    expect(w.update([row({ cull_at: null })])).toEqual([]);
    expect(w.update([row({ cull_at: at })])).toHaveLength(1);
    const later = '2030-01-02T11:30:00+00:00';
    expect(w.update([row({ cull_at: later })])).toHaveLength(1);
  });
  it("ignores other servers' kernels", () => {
    const w = new CullWatcher();
    expect(w.update([row({ cull_at: at, this_server: false })])).toEqual([]);
  });
});

describe('cull text', () => {
  it('names the notebook, the local time and the GPU', () => {
    const at = new Date(2030, 0, 2, 10, 42).toISOString();
    expect(cullTime(at)).toBe('10:42');
    expect(cullMessage(row({ cull_at: at }))).toBe(
      'GPU kernel of train.ipynb has been idle; it will be shut down at 10:42 to free its GPU — run a cell to keep it'
    );
    expect(cullMessage(row({ cull_at: at, gpus: '' }))).toMatch(
      /^Kernel of train.ipynb has been idle; it will be shut down at 10:42 —/
    );
    expect(cullTime('soon')).toBe('soon');
  });
});
