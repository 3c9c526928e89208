/**
 * Unit tests of kernelStatus.ts (death detection, progress text, CUDA badge)
 * and of the model's `kernelDied` signal on a fake REST layer.
 */
import { GPUKernelsAPI, IImage, IKernelRow, IStartingKernel } from '../src/api';
import {
  bytesProgress,
  cudaBadge,
  cudaWarning,
  DeathWatcher,
  deathMessage,
  startingText
} from '../src/kernelStatus';
import { GPUKernelsModel } from '../src/model';

const row = (over: Partial<IKernelRow> = {}): IKernelRow => ({
  kernel_id: 'k1',
  container: 'abc',
  host: 'local',
  image: 'python:3.12',
  environment: 'small',
  gpus: '',
  notebook: 'work/analysis.ipynb',
  session_id: null,
  started: '',
  state: 'running',
  server: 's',
  this_server: true,
  ...over
});

const death = (at: string) => ({
  reason: 'container OOM-killed at its 200 MiB memory limit',
  exit_code: 137,
  oom_killed: true,
  memory_limit: 209715200,
  at
});

const LOADED = Date.parse('2025-01-01T10:00:00Z');

describe('DeathWatcher', () => {
  it('fires once per new `at`, never for an unchanged one', () => {
    const w = new DeathWatcher(LOADED);
    expect(w.update([row()])).toEqual([]);
    const first = row({ last_death: death('2025-01-01T10:05:00Z') });
    expect(w.update([first])).toEqual([first]);
    expect(w.update([first])).toEqual([]);
    expect(w.update([{ ...first }])).toEqual([]);
    const second = row({ last_death: death('2025-01-01T10:09:00Z') });
    expect(w.update([second])).toEqual([second]);
    expect(w.update([second])).toEqual([]);
  });

  it('does not repeat a death from before the page was loaded', () => {
    const w = new DeathWatcher(LOADED);
    const old = row({ last_death: death('2025-01-01T09:00:00Z') });
    expect(w.update([old])).toEqual([]);
    const next = row({ last_death: death('2025-01-01T09:30:00Z') });
    expect(w.update([next])).toEqual([next]); // new since we looked: news
  });

  it("ignores other servers' kernels", () => {
    const w = new DeathWatcher(LOADED);
    const other = row({
      this_server: false,
      last_death: death('2025-01-01T10:05:00Z')
    });
    expect(w.update([other])).toEqual([]);
  });
});

describe('deathMessage', () => {
  it('names the notebook and the reason', () => {
    expect(
      deathMessage(row({ last_death: death('2025-01-01T10:05:00Z') }))
    ).toBe(
      'kernel of analysis.ipynb OOM-killed at its 200 MiB memory limit; restarted'
    );
  });
  it('says when the restart failed', () => {
    const dead = row({
      state: 'dead',
      error: 'no free GPU on host local',
      last_death: death('2025-01-01T10:05:00Z')
    });
    expect(deathMessage(dead)).toContain(
      'its restart failed: no free GPU on host local'
    );
  });
});

describe('progress text', () => {
  const s: IStartingKernel = {
    kernel_id: 'k',
    host: 'local',
    image: 'big:1',
    environment: '',
    notebook: '',
    phase: 'pulling',
    bytes_done: 117e6,
    bytes_total: 260e6,
    layers_done: 3,
    layers_total: 7
  };
  it('formats bytes and layers', () => {
    expect(startingText(s)).toBe('pulling image 45% (117/260 MB, 3/7 layers)');
  });
  it('has no numbers before the daemon reports bytes', () => {
    const none = { ...s, bytes_done: null, bytes_total: null };
    expect(startingText(none)).toBe('pulling image');
    expect(bytesProgress({ ...none, bytes_done: 0 })).toBe('');
  });
  it('has no percentage while a layer size is unknown', () => {
    expect(startingText({ ...s, bytes_total: null })).toBe(
      'pulling image 117 MB so far, 3/7 layers'
    );
  });
  it('names the later phases', () => {
    expect(startingText({ ...s, phase: 'creating' })).toBe(
      'creating container'
    );
    expect(startingText({ ...s, phase: 'starting' })).toBe('starting kernel');
    expect(startingText({ ...s, phase: 'preparing ipykernel' })).toBe(
      'adding ipykernel to the image (first use)'
    );
    expect(startingText({ ...s, phase: 'preparing' })).toBe('preparing image');
  });
  it('never goes over 100%', () => {
    expect(bytesProgress({ ...s, bytes_done: 300e6 })).toMatch(/^100% /);
  });
});

describe('CUDA badge', () => {
  const image = (over: Partial<IImage>): IImage => ({
    id: 'sha256:1',
    tags: ['cuda-app:1'],
    digests: [],
    size: 1,
    created: null,
    has_ipykernel: true,
    ipykernel_version: null,
    allowed: true,
    ...over
  });
  it('is absent without a requirement', () => {
    expect(cudaBadge(image({}))).toBeNull();
  });
  it('warns only when the driver cannot meet it', () => {
    const msg = "needs CUDA >= 99.0; fakegpu's driver supports 12.4";
    const bad = image({
      cuda_requirement: 'cuda>=99.0',
      cuda_ok: false,
      cuda_message: msg
    });
    expect(cudaBadge(bad)).toEqual({
      text: 'needs CUDA >=99.0',
      warn: true,
      title: msg
    });
    expect(cudaWarning([bad], ' cuda-app:1 ')).toBe(msg);
    const ok = image({ cuda_requirement: 'cuda>=11.0', cuda_ok: true });
    expect(cudaBadge(ok)?.warn).toBe(false);
    expect(cudaWarning([ok], 'cuda-app:1')).toBeNull();
    const unknown = image({ cuda_requirement: 'cuda>=11.0', cuda_ok: null });
    expect(cudaBadge(unknown)?.warn).toBe(false);
  });
});

describe('GPUKernelsModel.kernelDied', () => {
  it('fires once per death across polls', async () => {
    let rows: IKernelRow[] = [row()];
    const api = {
      kernels: async () => rows,
      starting: async () => [],
      orphans: async () => []
    };
    const model = new GPUKernelsModel({
      api: api as unknown as GPUKernelsAPI
    });
    const died: string[] = [];
    model.kernelDied.connect((_, r) => died.push(r.last_death?.at ?? ''));
    await model.refreshKernels();
    const at = new Date(Date.now() + 1000).toISOString();
    rows = [row({ last_death: death(at) })];
    await model.refreshKernels();
    await model.refreshKernels();
    expect(died).toEqual([at]);
    model.dispose();
  });
});
